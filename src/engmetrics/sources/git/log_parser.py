"""Parsers of the ``git log -z --format=LOG_FORMAT`` stream: NUL-separated tokens into commits and their files.

`LogParser` reads every diff mode (``--numstat``, ``--raw``, none); `RecordParser` is the faster one for
``--numstat`` and no diff (the sync's hot path), with the same output. Each emits a commit as its
`HEADER_FIELDS` header fields (text; times are Unix seconds as text) and its `FileRow`s, only once the
commit is complete (the next one started, or the stream ended cleanly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from engmetrics.sources.git.run import decode_text

HEADER_FIELDS = 9  # sha, parents, author name, email, time, committer name, email, time, message
LOG_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x00"
DiffMode = Literal["numstat", "raw", "none"]
NUMSTAT: DiffMode = "numstat"
RAW: DiffMode = "raw"
NO_DIFF: DiffMode = "none"
DIFF_ARGS: dict[DiffMode, tuple[str, ...]] = {
    NUMSTAT: ("--numstat", "-M", "--no-textconv", "--no-ext-diff"),
    RAW: ("--raw", "--no-renames", "--no-abbrev"),
    NO_DIFF: (),
}
"""The ``git log`` arguments of each diff mode."""
FileRow = tuple[str, str | None, int | None, int | None]
"""A file a commit changed: (path, old path of a rename or copy, additions, deletions); no counts for binary
files (numstat) or in raw mode."""
EmitFn = Callable[[list[str], list[FileRow]], None]
"""Receives each complete commit: its header fields and its files."""


class LogParser:
    """Turns the NUL-separated tokens of ``git log -z --format=… --numstat|--raw`` into commits.

    A commit is complete only when the next one starts or the stream ends cleanly (`finish`).
    """

    def __init__(self, mode: DiffMode, emit: EmitFn) -> None:
        self.mode = mode
        self.emit = emit
        self.header: list[bytes] | None = None
        self.cur: list[str] | None = None
        self.files: list[FileRow] = []
        self.paths_needed = 0
        self.pending: list[bytes] = []  # a numstat/raw entry waiting for its path tokens
        self.rest = b""

    def feed(self, chunk: bytes) -> None:
        tokens = (self.rest + chunk).split(b"\0")
        self.rest = tokens.pop()
        self._tokens(tokens)

    def finish(self) -> None:
        """The stream ended cleanly: the last commit is complete."""
        if self.rest:
            self._tokens([self.rest])
            self.rest = b""
        if self.header is not None and len(self.header) == HEADER_FIELDS:
            self._start()
        self._emit()

    def _emit(self) -> None:
        if self.cur is not None:
            self.emit(self.cur, self.files)
        self.cur, self.files = None, []

    def _start(self) -> None:
        h = self.header
        assert h is not None
        self.header = None
        self._emit()
        self.cur = b"\0".join(h).decode("utf-8", errors="replace").split("\0")
        self.files = []

    def _tokens(self, tokens: list[bytes]) -> None:
        header = self.header
        numstat = self.mode == NUMSTAT
        for tok in tokens:
            if header is not None:
                header.append(tok)
                if len(header) == HEADER_FIELDS:
                    self._start()
                    header = None
                continue
            if self.paths_needed:
                self.pending.append(tok)
                self.paths_needed -= 1
                if not self.paths_needed:
                    self._file(self.pending)
                continue
            if not tok:
                continue
            first = tok[0]
            if first == 0x1E:
                header = self.header = [tok[1:]]
                continue
            if first == 0x0A:
                tok = tok.lstrip(b"\n")
                if not tok:
                    continue
            if numstat:
                parts = tok.split(b"\t", 2)
                if len(parts) != 3:
                    continue
                add, dele, name = parts
                if not name:  # a rename or copy: old and new path follow as two tokens
                    self.pending = [add, dele]
                    self.paths_needed = 2
                elif self.cur is not None:
                    self.files.append((
                        name.decode("utf-8", errors="replace"), None,
                        None if add == b"-" else int(add), None if dele == b"-" else int(dele),
                    ))
            elif tok[0] == 0x3A:  # ':' raw entry; status R/C carries two paths
                status = tok.rsplit(b" ", 1)[-1][:1]
                self.pending = [b"-", b"-"]
                self.paths_needed = 2 if status in (b"R", b"C") else 1
        self.header = header

    def _file(self, entry: list[bytes]) -> None:
        self.pending = []
        if self.cur is None:
            return
        add, dele = entry[0], entry[1]
        if len(entry) == 4:
            old, new = decode_text(entry[2]), decode_text(entry[3])
        else:
            old, new = None, decode_text(entry[2])
        self.files.append((new, old, int(add) if add != b"-" else None, int(dele) if dele != b"-" else None))


class RecordParser:
    """A faster parser for ``--numstat`` and no-diff streams (the sync's hot path); same output as `LogParser`.

    The stream is cut into commit records at ``NUL RS`` (each record starts with ``%x1e`` after the
    previous record's NUL) and each record is decoded once and split on NUL. A cut that does not start
    with a full commit id followed by NUL (a message or name that itself begins with RS) is glued back
    onto the record before it. A record is complete only when the next one starts or the stream ends
    cleanly (`finish`), so a stream cut off mid-commit never yields a truncated commit.
    """

    def __init__(self, mode: DiffMode, emit: EmitFn) -> None:
        assert mode in (NUMSTAT, NO_DIFF)
        self.emit = emit
        self.parts: list[bytes] = []  # pieces of the trailing, possibly incomplete record
        self.cur: bytes | None = None  # the last record seen whole; emitted when the next one starts
        self.started = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.parts and 0x1E not in chunk:  # no record boundary in (or at the start of) this chunk
            self.parts.append(chunk)
        else:
            buf = b"".join(self.parts) + chunk if self.parts else chunk
            pieces = buf.split(b"\0\x1e")
            self.parts = [pieces.pop()]
            self._records(pieces)
        if self.cur is not None and self.started:
            # The record held back is complete as soon as the next one has visibly started.
            head = self.parts[0] if len(self.parts[0]) >= 66 else b"".join(self.parts)[:66]
            if head.find(b"\0", 0, 66) in (40, 64):
                cur, self.cur = self.cur, None
                self._record(cur)

    def finish(self) -> None:
        """The stream ended cleanly: the last commit is complete."""
        if self.parts:
            last = b"".join(self.parts)
            self.parts = []
            self._records([last])
        if self.cur is not None:
            cur, self.cur = self.cur, None
            self._record(cur)

    def _records(self, pieces: list[bytes]) -> None:
        if not self.started and pieces:
            if pieces[0][:1] == b"\x1e":
                pieces[0] = pieces[0][1:]
            self.started = True
        cur = self.cur
        for rec in pieces:
            if rec.find(b"\0", 0, 66) in (40, 64):  # starts with a commit id: a new record
                if cur is not None:
                    self._record(cur)
                cur = rec
            elif cur is not None:  # a field that began with RS: not a record boundary
                cur += b"\0\x1e" + rec
        self.cur = cur

    def _record(self, rec: bytes) -> None:
        toks = rec.decode("utf-8", errors="replace").split("\0")
        n = len(toks)
        if n < HEADER_FIELDS:
            return
        files: list[FileRow] = []
        i = HEADER_FIELDS
        while i < n:
            tok = toks[i]
            i += 1
            if not tok:
                continue
            if tok[0] == "\n":
                tok = tok.lstrip("\n")
                if not tok:
                    continue
            parts = tok.split("\t", 2)
            if len(parts) != 3:
                continue
            add, dele, name = parts
            if name:
                files.append((name, None, None if add == "-" else int(add), None if dele == "-" else int(dele)))
            elif i + 1 < n:  # a rename or copy: old and new path follow as two tokens
                files.append((toks[i + 1], toks[i], None if add == "-" else int(add), None if dele == "-" else int(dele)))
                i += 2
            else:
                break
        del toks[HEADER_FIELDS:]
        self.emit(toks, files)
