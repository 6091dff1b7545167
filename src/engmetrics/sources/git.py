"""The git source: reads a repository's history and tags with the `git` CLI into the store.

One streaming pass of ``git log -z --numstat -M`` over every local branch, tag, remote-tracking branch
and HEAD; rows go in with ``executemany``, one transaction per batch of commits, and the cursor (the ref
tips seen) is written in the last batch's transaction, so a crash mid-sync leaves the store consistent
and the next sync completes it. A sync whose refs did not move runs ``git for-each-ref`` and nothing else.

Merge commits are stored without file changes (like plain ``git log --numstat``). Binary files have
NULL additions/deletions and count 0 in the commit's totals. Times are Unix seconds (UTC).

Git never touches the network: lazy fetches of partial clones are disabled (``GIT_NO_LAZY_FETCH``,
and ``GIT_ALLOW_PROTOCOL`` set to no protocol for older git); a partial clone is read without line
counts (paths only) and says so in ``skipped``. Nothing is ever printed to stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from engmetrics.errors import DataError
from engmetrics.store.db import Store

log = logging.getLogger(__name__)

SOURCE = "git"
BATCH_SIZE = 5000
_READ_CHUNK = 1 << 20  # pipe size asked for
_PARSE_CHUNK = 1 << 18  # bytes gathered before parsing: a few wake-ups per MB instead of one per git write
_HEADER_FIELDS = 9  # sha, parents, author name, email, time, committer name, email, time, message
LOG_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x00"
_REF_FORMAT = (
    "%(refname)%1f%(objectname)%1f%(objecttype)%1f%(*objectname)%1f%(*objecttype)"
    "%1f%(taggerdate:unix)%1f%(*committerdate:unix)%1f%(committerdate:unix)%1f%(symref)"
)
# Environment variables that would point git at another repository than the one asked for.
_REPO_ENV = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_QUARANTINE_PATH",
)
_CONFIG = (
    "core.quotepath=off",
    "log.showSignature=false",
    "log.showRoot=true",
    "i18n.logOutputEncoding=UTF-8",
    "core.pager=cat",
    "color.ui=never",
)


@dataclass
class GitSyncResult:
    """What one git sync changed."""

    new_commits: int
    new_tags: int  # tags added or moved
    walked_history: bool  # False when refs did not change (no history walk at all)
    skipped: list[str] = field(default_factory=list)  # human-readable notes of what could not be read
    default_branch: str | None = None


# ---------------------------------------------------------------------------------------------------
# Running git


def git_env() -> dict[str, str]:
    """The environment git runs in: C locale, no prompts, pager or network, no variable redirecting it to
    another repository."""
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env.update(
        LC_ALL="C",
        LANG="C",
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_NO_LAZY_FETCH="1",  # git >= 2.44: never fetch missing objects from a promisor remote
        GIT_ALLOW_PROTOCOL="engmetrics-no-network",  # older git: no transport is allowed at all
        GIT_OPTIONAL_LOCKS="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
    )
    env.pop("GIT_TRACE", None)
    return env


def git_command(path: str, *args: str) -> list[str]:
    """The argv for ``git -C path <args>`` with engmetrics' fixed config (no pager, colour or quoted paths)."""
    cmd = ["git", "--no-pager", "-C", path]
    for c in _CONFIG:
        cmd += ["-c", c]
    return [*cmd, *args]


def run_git(path: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git to completion; stdout and stderr are captured (never inherited)."""
    return subprocess.run(
        git_command(path, *args), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=None if input is not None else subprocess.DEVNULL, env=git_env(), check=False,
    )


def decode_text(b: bytes) -> str:
    """git output as text (UTF-8; undecodable bytes become U+FFFD)."""
    return b.decode("utf-8", errors="replace")


def _git_error(stderr: bytes) -> str:
    lines = [ln.strip() for ln in decode_text(stderr).splitlines() if ln.strip() and not ln.startswith("hint:")]
    return lines[-1] if lines else "no message"


# ---------------------------------------------------------------------------------------------------
# Repository discovery


def check_repository(path: str) -> str:
    """The absolute top-level path of the work tree (or of the bare repository) containing ``path``.

    Raises `DataError` saying what to do when the path does not exist, git is missing, or it is not a
    git repository.
    """
    from engmetrics.validation import path_exists, path_is

    p = Path(path).expanduser()
    if not path_exists(p):
        raise DataError(f"The path {str(p)!r} does not exist. Give the path of a git repository (a clone).", param="repo")
    if not path_is(p, "dir"):
        raise DataError(f"The path {str(p)!r} is a file, not a folder. Give the folder of a git repository.", param="repo")
    try:
        proc = run_git(str(p), "rev-parse", "--is-bare-repository", "--absolute-git-dir")
    except FileNotFoundError:
        raise DataError("The `git` command was not found. Install git and make sure it is on PATH.") from None
    if proc.returncode != 0:
        reason = _git_error(proc.stderr)
        if "dubious ownership" in reason or "safe.directory" in decode_text(proc.stderr):
            raise DataError(
                f"git refuses to read {str(p.resolve())!r} because another user owns it. Run "
                f"`git config --global --add safe.directory {p.resolve()}` and retry.",
                param="repo",
            )
        raise DataError(
            f"{str(p.resolve())!r} is not a git repository ({reason}). Give the folder of a clone "
            "(where `git status` works), or clone the repository first.",
            param="repo",
        )
    bare, git_dir = decode_text(proc.stdout).splitlines()[:2]
    if bare.strip() == "true":
        return str(Path(git_dir.strip()).resolve())
    top = run_git(str(p), "rev-parse", "--show-toplevel")
    if top.returncode != 0 or not top.stdout.strip():
        # Inside the .git folder of a non-bare repository: its work tree is the parent.
        return str(Path(git_dir.strip()).resolve().parent)
    return str(Path(decode_text(top.stdout).strip()).resolve())


def current_branch(path: str) -> str | None:
    """The checked-out branch's short name (also for an unborn branch); None when HEAD is detached."""
    proc = run_git(path, "symbolic-ref", "-q", "--short", "HEAD")
    name = decode_text(proc.stdout).strip()
    return name if proc.returncode == 0 and name else None


def default_branch(path: str) -> str | None:
    """origin/HEAD's branch, else the first of main/master/trunk that exists, else the current branch."""
    return _default_branch(_read_refs(path), path)


def _default_branch(refs: list[_Ref], path: str) -> str | None:
    by_name = {r.name: r for r in refs}
    origin_head = by_name.get("refs/remotes/origin/HEAD")
    if origin_head is not None and origin_head.symref.startswith("refs/remotes/origin/"):
        return origin_head.symref.removeprefix("refs/remotes/origin/")
    for name in ("main", "master", "trunk"):
        if f"refs/heads/{name}" in by_name or f"refs/remotes/origin/{name}" in by_name:
            return name
    return current_branch(path)


# ---------------------------------------------------------------------------------------------------
# Refs and tags


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str
    oid: str
    type: str
    peeled_oid: str
    peeled_type: str
    tagger_time: str
    peeled_commit_time: str
    commit_time: str
    symref: str

    @property
    def commit(self) -> str | None:
        """The commit this ref ends at, when known without another lookup."""
        if self.type == "commit":
            return self.oid
        if self.type == "tag" and self.peeled_type == "commit":
            return self.peeled_oid
        return None


def _read_refs(path: str, skipped: list[str] | None = None) -> list[_Ref]:
    """Every branch, tag and remote-tracking ref, in one `git for-each-ref`.

    When that fails (a ref's object is missing or corrupt) the refs are read again object by object
    with `git cat-file --batch`, leaving out the unreadable ones (noted in ``skipped``).
    """
    proc = run_git(path, "for-each-ref", f"--format={_REF_FORMAT}", "refs/heads", "refs/tags", "refs/remotes")
    if proc.returncode == 0:
        refs = []
        for line in proc.stdout.split(b"\n"):
            parts = line.split(b"\x1f")
            if len(parts) == 9:
                refs.append(_Ref(*(decode_text(x) for x in parts)))
        return refs
    log.warning("git for-each-ref failed in %s: %s", path, _git_error(proc.stderr))
    return _read_refs_slowly(path, skipped if skipped is not None else [])


def _cat_file(path: str, oids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """oid → (type, content) for the readable objects among ``oids``, in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    proc = run_git(path, "cat-file", "--batch", input="".join(f"{o}\n" for o in wanted).encode())
    out: dict[str, tuple[str, bytes]] = {}
    data, pos = proc.stdout, 0
    while pos < len(data):
        eol = data.find(b"\n", pos)
        if eol < 0:
            break
        head = data[pos:eol].split()
        pos = eol + 1
        if len(head) != 3:  # "<oid> missing" / "ambiguous"
            continue
        size = int(head[2])
        out[decode_text(head[0])] = (decode_text(head[1]), data[pos : pos + size])
        pos += size + 1
    return out


def _header_time(content: bytes, key: bytes) -> str:
    """Unix seconds of the ``committer``/``tagger`` header line of a commit or tag object, or ''."""
    for line in content.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(key + b" "):
            parts = line.rsplit(b" ", 2)
            return decode_text(parts[1]) if len(parts) == 3 and parts[1].isdigit() else ""
    return ""


def _tag_target(content: bytes) -> tuple[str, str]:
    oid = kind = ""
    for line in content.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"object "):
            oid = decode_text(line[7:]).strip()
        elif line.startswith(b"type "):
            kind = decode_text(line[5:]).strip()
    return oid, kind


def _read_refs_slowly(path: str, skipped: list[str]) -> list[_Ref]:
    proc = run_git(path, "for-each-ref", "--format=%(refname)%1f%(objectname)%1f%(symref)", "refs/heads", "refs/tags", "refs/remotes")
    if proc.returncode != 0:
        raise DataError(f"Cannot list the refs of {path!r} ({_git_error(proc.stderr)}). Run `git fsck` there.")
    rows = [[decode_text(x) for x in line.split(b"\x1f")] for line in proc.stdout.split(b"\n") if line.count(b"\x1f") == 2]
    objects = _cat_file(path, (oid for _, oid, _ in rows))
    targets = _cat_file(path, (_tag_target(o[1])[0] for o in objects.values() if o[0] == "tag"))
    refs, unreadable = [], []
    for name, oid, symref in rows:
        if oid not in objects:
            unreadable.append(name)
            continue
        kind, content = objects[oid]
        if kind == "tag":
            target, target_kind = _tag_target(content)
            target_time = _header_time(targets[target][1], b"committer") if target in targets and target_kind == "commit" else ""
            if target not in targets:
                target_kind = "missing"
            refs.append(_Ref(name, oid, kind, target, target_kind, _header_time(content, b"tagger"), target_time, "", symref))
        else:
            commit_time = _header_time(content, b"committer") if kind == "commit" else ""
            refs.append(_Ref(name, oid, kind, "", "", "", "", commit_time, symref))
    if unreadable:
        skipped.append(f"{len(unreadable)} ref(s) point to missing objects and were ignored: {', '.join(unreadable[:5])}")
    return refs


def _head_commit(path: str) -> str | None:
    proc = run_git(path, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    sha = decode_text(proc.stdout).strip()
    return sha if proc.returncode == 0 and sha else None


def _peel(path: str, oids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """oid → (fully peeled oid, its type) for tags of tags, in one `git cat-file --batch-check`."""
    oids = list(oids)
    if not oids:
        return {}
    proc = run_git(path, "cat-file", "--batch-check", input="".join(f"{o}^{{}}\n" for o in oids).encode())
    out: dict[str, tuple[str, str]] = {}
    for oid, line in zip(oids, decode_text(proc.stdout).splitlines(), strict=False):
        parts = line.split()
        if len(parts) >= 2 and parts[1] != "missing":
            out[oid] = (parts[0], parts[1])
    return out


@dataclass(slots=True)
class _TagRow:
    name: str
    sha: str
    time: int | None
    annotated: bool


def _tags(path: str, refs: list[_Ref], skipped: list[str]) -> list[_TagRow]:
    """The tags that end at a commit, with their time (None: look it up in the store)."""
    tags: list[_TagRow] = []
    nested: list[_Ref] = []
    non_commit = 0
    for r in refs:
        if not r.name.startswith("refs/tags/"):
            continue
        if r.type == "tag" and r.peeled_type == "tag":
            nested.append(r)
            continue
        sha = r.commit
        if sha is None:
            non_commit += 1
            continue
        name = r.name.removeprefix("refs/tags/")
        if r.type == "tag":
            t = r.tagger_time or r.peeled_commit_time
            tags.append(_TagRow(name, sha, int(t) if t else None, True))
        else:
            tags.append(_TagRow(name, sha, int(r.commit_time) if r.commit_time else None, False))
    peeled = _peel(path, (r.oid for r in nested))
    for r in nested:
        target = peeled.get(r.oid)
        if target is None or target[1] != "commit":
            non_commit += 1
            continue
        tags.append(_TagRow(r.name.removeprefix("refs/tags/"), target[0], int(r.tagger_time) if r.tagger_time else None, True))
    if non_commit:
        skipped.append(f"{non_commit} tag(s) point to a tree, a blob or a missing object, not a commit; ignored")
    return tags


def _tips(refs: list[_Ref], head: str | None, path: str) -> dict[str, str]:
    """ref name → the commit it ends at (HEAD included as 'HEAD'); refs ending at non-commits are left out."""
    tips: dict[str, str] = {}
    nested = [r for r in refs if r.type == "tag" and r.peeled_type == "tag"]
    peeled = _peel(path, (r.oid for r in nested))
    for r in refs:
        sha = r.commit
        if sha is None and r.oid in peeled and peeled[r.oid][1] == "commit":
            sha = peeled[r.oid][0]
        if sha is not None:
            tips[r.name] = sha
    if head is not None:
        tips["HEAD"] = head
    return tips


# ---------------------------------------------------------------------------------------------------
# Commit messages


_TRAILER_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")


def _separator(line: str) -> int:
    """Index of the ':' of a 'Token: value' line as `git interpret-trailers` sees it, else -1."""
    whitespace = False
    for i, c in enumerate(line):
        if c == ":":
            return i
        if not whitespace and (c.isascii() and c.isalnum() or c == "-"):
            continue
        if i and c in " \t":
            whitespace = True
            continue
        break
    return -1


def parse_trailers(message: str) -> list[tuple[str, str]]:
    """The trailers ('Key: value' lines of the last paragraph) of a commit message, as git finds them.

    Follows `git interpret-trailers --parse --no-divider` (and ``%(trailers)``): the subject paragraph
    never holds trailers; the last paragraph is a trailer block when all its lines are trailers, or at
    least 25% are and one starts with a git-generated prefix (``Signed-off-by: ``); indented lines
    continue the previous trailer (unfolded with one space); comment lines ('#') are ignored.
    """
    first_break = message.find("\n")
    if first_break < 0 or ":" not in message[first_break:]:
        return []  # fast path: a trailer needs a ':' after the title line
    lines = message.split("\n")
    while lines and (not lines[-1].strip() or lines[-1].startswith("#")):
        lines.pop()
    # The first paragraph is the title and cannot hold trailers.
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or lines[i].strip()):
        i += 1
    end_of_title = i
    only_spaces, recognized, trailer_lines, non_trailer, continuation = True, False, 0, 0, 0
    start = None
    for j in range(len(lines) - 1, end_of_title - 1, -1):
        line = lines[j]
        if line.startswith("#"):
            non_trailer += continuation
            continuation = 0
            continue
        if not line.strip():
            if only_spaces:
                continue
            non_trailer += continuation
            if (recognized and trailer_lines * 3 >= non_trailer) or (trailer_lines and not non_trailer):
                start = j + 1
            break
        only_spaces = False
        if line.startswith(_TRAILER_PREFIXES):
            trailer_lines += 1
            continuation = 0
            recognized = True
            continue
        if _separator(line) >= 1 and not line[0].isspace():
            trailer_lines += 1
            continuation = 0
        elif line[0].isspace():
            continuation += 1
        else:
            non_trailer += 1 + continuation
            continuation = 0
    if start is None:
        return []
    items: list[list[str]] = []  # [token, value] or [line] for non-trailer lines
    for line in lines[start:]:
        if line.startswith("#"):
            continue
        if items and line[:1].isspace():
            items[-1][-1] += "\n" + line
            continue
        items.append([line])
    out: list[tuple[str, str]] = []
    for item in items:
        text = item[0]
        pos = _separator(text)
        if pos < 1:
            continue
        value = " ".join(part.strip() for part in text[pos + 1 :].split("\n"))
        out.append((text[:pos].strip(), " ".join(value.split(" ")).strip()))
    return out


def _split_message(message: str) -> tuple[str, str]:
    """(subject, body) as git's %s and %b: the first paragraph joined with spaces, and the rest."""
    nl = message.find("\n")
    if nl > 0 and not message[0].isspace() and not message[nl - 1].isspace():
        # Fast path for the usual shapes: "title\n" and "title\n\nbody…" (a one-line first paragraph).
        rest = message[nl + 1 :]
        if not rest.strip():
            return message[:nl], ""
        if rest[0] == "\n" and len(rest) > 1 and not rest[1].isspace():
            return message[:nl], rest[1:].rstrip()
    lines = message.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    subject_lines = []
    while i < len(lines) and lines[i].strip():
        subject_lines.append(lines[i].strip())
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return " ".join(subject_lines), "\n".join(lines[i:]).rstrip()


# ---------------------------------------------------------------------------------------------------
# The streaming log parser


_NUMSTAT, _RAW, _NO_DIFF = "numstat", "raw", "none"
_DIFF_ARGS = {
    _NUMSTAT: ("--numstat", "-M", "--no-textconv", "--no-ext-diff"),
    _RAW: ("--raw", "--no-renames", "--no-abbrev"),
    _NO_DIFF: (),
}
_CommitRow = tuple  # (sha, an, ae, at, cn, ce, ct, parents, subject, body, trailers, add, del, files)
_FileRow = tuple  # (path, old_path, additions, deletions)


class LogParser:
    """Turns the NUL-separated tokens of ``git log -z --format=… --numstat|--raw`` into commits.

    A commit is complete only when the next one starts or the stream ends cleanly (`finish`).
    """

    def __init__(self, mode: str, emit: Callable[[list, list[_FileRow]], None]) -> None:
        self.mode = mode
        self.emit = emit
        self.header: list[bytes] | None = None
        self.cur: list | None = None
        self.files: list[_FileRow] = []
        self.paths_needed = 0
        self.pending: list = []  # a numstat/raw entry waiting for its path tokens
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
        if self.header is not None and len(self.header) == _HEADER_FIELDS:
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
        numstat = self.mode == _NUMSTAT
        for tok in tokens:
            if header is not None:
                header.append(tok)
                if len(header) == _HEADER_FIELDS:
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


class _RecordParser:
    """A faster parser for ``--numstat`` and no-diff streams (the sync's hot path); same output as `LogParser`.

    The stream is cut into commit records at ``NUL RS`` (each record starts with ``%x1e`` after the
    previous record's NUL) and each record is decoded once and split on NUL. A cut that does not start
    with a full commit id followed by NUL (a message or name that itself begins with RS) is glued back
    onto the record before it. A record is complete only when the next one starts or the stream ends
    cleanly (`finish`), so a stream cut off mid-commit never yields a truncated commit.
    """

    def __init__(self, mode: str, emit: Callable[[list, list[_FileRow]], None]) -> None:
        assert mode in (_NUMSTAT, _NO_DIFF)
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
        if n < _HEADER_FIELDS:
            return
        files: list[_FileRow] = []
        i = _HEADER_FIELDS
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
        del toks[_HEADER_FIELDS:]
        self.emit(toks, files)


def _commit_row(h: list[str], files: list[_FileRow]) -> _CommitRow:
    sha, parents, an, ae, at, cn, ce, ct, message = h
    subject, body = _split_message(message)
    trailers = parse_trailers(message)
    adds = dels = 0
    for f in files:
        if f[2] is not None:
            adds += f[2]
        if f[3] is not None:
            dels += f[3]
    return (
        sha, an, ae, int(at or 0), cn, ce, int(ct or 0), parents.strip(), subject, body,
        json.dumps([list(t) for t in trailers], ensure_ascii=False) if trailers else "[]",
        adds, dels, len(files),
    )


# ---------------------------------------------------------------------------------------------------
# Writing


_COMMIT_INSERT = (
    "INSERT INTO commits(repo_id, sha, author_name, author_email, author_time, committer_name, committer_email, "
    "committer_time, parents, subject, body, trailers, additions, deletions, files_changed) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_FILE_INSERT = "INSERT INTO file_changes(repo_id, sha, path, old_path, additions, deletions) VALUES (?,?,?,?,?,?)"
# Secondary indexes of the history tables that a first bulk load into empty tables builds once at the end
# instead of row by row. Their SQL is read from the schema and kept in `kv` under _DEFERRED_KEY while they
# are absent, so a sync that dies in between (even killed) has them rebuilt by the next sync.
_DEFERRABLE_INDEXES = ("commits_by_time", "commits_by_author", "file_changes_by_commit", "file_changes_by_path")
_DEFERRED_KEY = "git:deferred_indexes"
DEFER_INDEXES_MIN = 2000  # commits in the first batch of a first load for the index build to be deferred


def restore_deferred_indexes(conn, key: str = _DEFERRED_KEY) -> bool:
    """Recreate the indexes a bulk load dropped under ``key`` (no-op when none are pending); True if any were."""
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    if row is None:
        return False
    for sql in json.loads(row[0]):
        conn.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    conn.execute("DELETE FROM kv WHERE key = ?", (key,))
    return True


def defer_indexes(conn, names: Iterable[str] = _DEFERRABLE_INDEXES, key: str = _DEFERRED_KEY) -> bool:
    """Drop the named indexes for a bulk load, keeping their SQL in `kv` under ``key`` (same transaction).

    `restore_deferred_indexes(conn, key)` rebuilds them; whoever defers must also call it at the start of
    its next run, so that indexes dropped by a killed process come back. True if any were dropped.
    """
    names = tuple(names)
    marks = ",".join("?" * len(names))
    found = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks}) AND sql IS NOT NULL", names,
    ).fetchall()
    if not found:
        return False
    pending = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    sqls = (json.loads(pending[0]) if pending else []) + [r[1] for r in found]
    conn.execute(
        "INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(sqls)),
    )
    for name, _ in found:
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return True


class _Writer:
    """Collects commits and writes them in batches, skipping those already stored.

    Each batch is tried as plain inserts inside a savepoint (the usual case: every commit is new, so
    no lookup is needed); when one is already stored (a rerun after a crash) the savepoint is rolled
    back and the batch is written without the stored ones. A first load into empty history tables drops
    the secondary indexes in its first batch and rebuilds them in the final transaction.
    """

    def __init__(self, store: Store, repo_id: int, batch_size: int,
                 progress: Callable[[int, int | None], None] | None, total: Callable[[], int | None],
                 defer_min: int = DEFER_INDEXES_MIN) -> None:
        self.store, self.repo_id, self.batch_size = store, repo_id, batch_size
        self.progress, self.total = progress, total
        self.commits: list[_CommitRow] = []
        self.files: dict[str, list[_FileRow]] = {}
        self.new = 0
        self.shallow: frozenset[str] = frozenset()
        self.seen: set[str] = set()
        self.defer_min = defer_min
        self.batches = 0
        self.deferred = False

    @property
    def done(self) -> int:
        """Commits parsed so far in this sync (stored now or before)."""
        return len(self.seen)

    def add(self, header: list, files: list[_FileRow]) -> None:
        sha = header[0]
        if sha in self.seen:
            return
        self.seen.add(sha)
        if sha in self.shallow:
            files = []  # a grafted boundary: its diff against "nothing" would count its whole tree
        self.commits.append(_commit_row(header, files))
        if files:
            self.files[sha] = files
        if len(self.commits) >= self.batch_size:
            self.flush()

    def _insert(self, conn, commits: list[_CommitRow], files: dict[str, list[_FileRow]]) -> int:
        rid = self.repo_id
        commits.sort()  # key order: the commits b-tree is filled left to right
        conn.execute("SAVEPOINT batch")
        try:
            conn.executemany(_COMMIT_INSERT, [(rid, *c) for c in commits])
            rows = [(rid, sha, *f) for sha, fs in files.items() for f in fs]
        except sqlite3.IntegrityError:  # some are stored already (a rerun): write only the others
            conn.execute("ROLLBACK TO batch")
            present = {
                r[0] for r in conn.execute(
                    "SELECT sha FROM commits WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))",
                    (rid, json.dumps([c[0] for c in commits])),
                )
            }
            commits = [c for c in commits if c[0] not in present]
            conn.executemany(_COMMIT_INSERT, [(rid, *c) for c in commits])
            rows = [(rid, c[0], *f) for c in commits for f in files.get(c[0], ())]
        conn.execute("RELEASE batch")
        conn.executemany(_FILE_INSERT, rows)
        return len(commits)

    def flush(self, final: Callable[[object], None] | None = None) -> None:
        """Write the pending batch; ``final(conn)`` runs in the same transaction (cursor, tags)."""
        commits, files = self.commits, self.files
        self.commits, self.files = [], {}
        if commits or final is not None:
            with self.store.tx() as conn:
                if commits:
                    if (
                        self.batches == 0 and len(commits) >= self.defer_min
                        and conn.execute("SELECT 1 FROM commits LIMIT 1").fetchone() is None
                        and conn.execute("SELECT 1 FROM file_changes LIMIT 1").fetchone() is None
                    ):
                        self.deferred = defer_indexes(conn)
                    self.batches += 1
                    self.new += self._insert(conn, commits, files)
                if final is not None:
                    final(conn)
                    if self.deferred:
                        restore_deferred_indexes(conn)
                        self.deferred = False
        if self.progress is not None and (commits or final is not None):
            self.progress(self.done, self.total())


def _grow_pipe(fd: int) -> None:
    """Let git write ahead up to 1 MB while a batch is being written to SQLite (Linux; best effort)."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setpipe is None:
        return
    for size in (_READ_CHUNK, 1 << 18):
        try:
            fcntl.fcntl(fd, setpipe, size)
            return
        except OSError:
            continue


def _stream_log(path: str, mode: str, revs: bytes, writer: _Writer) -> tuple[bool, str]:
    """Run one ``git log`` over ``revs`` (stdin lines), feeding the writer; returns (ok, git's error)."""
    args = git_command(
        path, "log", "--stdin", "--ignore-missing", "-z", f"--format={LOG_FORMAT}", "--encoding=UTF-8",
        "--diff-merges=off", "--no-color", "--no-use-mailmap", *_DIFF_ARGS[mode],
    )
    parser = LogParser(mode, writer.add) if mode == _RAW else _RecordParser(mode, writer.add)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=git_env())
        assert proc.stdin is not None and proc.stdout is not None
        try:
            fd = proc.stdout.fileno()
            _grow_pipe(fd)
            try:
                proc.stdin.write(revs)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            read = proc.stdout.read  # buffered: blocks until _PARSE_CHUNK bytes (or the end) arrived
            while chunk := read(_PARSE_CHUNK):
                parser.feed(chunk)
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if code == 0:
            parser.finish()
            return True, ""
        err.seek(0)
        return False, _git_error(err.read())


# ---------------------------------------------------------------------------------------------------
# Sync


def _is_partial_clone(path: str) -> bool:
    proc = run_git(path, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor|remote\..*\.partialclonefilter)$")
    for line in decode_text(proc.stdout).splitlines():
        key, _, value = line.partition(" ")
        if key.endswith(".promisor") and value.strip().lower() not in ("true", "yes", "on", "1"):
            continue
        return True
    return False


def _shallow_boundary(path: str) -> frozenset[str]:
    proc = run_git(path, "rev-parse", "--git-path", "shallow")
    name = decode_text(proc.stdout).strip()
    if proc.returncode != 0 or not name:
        return frozenset()
    p = Path(name) if os.path.isabs(name) else Path(path) / name
    try:
        return frozenset(p.read_text(errors="replace").split())
    except OSError:
        return frozenset()


class _Counter:
    """``git rev-list --count`` over the same revisions, run beside the log; its answer once ready."""

    def __init__(self, path: str, revs: bytes) -> None:
        self.value: int | None = None
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                git_command(path, "rev-list", "--count", "--stdin", "--ignore-missing"),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env(),
            )
            assert self.proc.stdin is not None
            self.proc.stdin.write(revs)
            self.proc.stdin.close()
        except OSError:
            self.proc = None

    def __call__(self) -> int | None:
        if self.value is None and self.proc is not None and self.proc.poll() is not None:
            assert self.proc.stdout is not None
            out = self.proc.stdout.read().strip()
            self.proc.stdout.close()
            self.value = int(out) if self.proc.returncode == 0 and out.isdigit() else None
            self.proc = None
        return self.value

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None


def _load_cursor(store: Store, repo_id: int) -> dict[str, str] | None:
    row = store.read().execute(
        "SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = ?", (repo_id, SOURCE)
    ).fetchone()
    if row is None:
        return None
    try:
        data = json.loads(row[0])
        tips = data.get("tips") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in tips.items()} if isinstance(tips, dict) else None
    except (ValueError, AttributeError):
        return None


def _reconcile_tags(conn, repo_id: int, tags: list[_TagRow], skipped: list[str]) -> int:
    """Make the tags table equal to ``tags``; returns how many were added or moved."""
    existing = {
        r[0]: (r[1], r[2], bool(r[3]))
        for r in conn.execute("SELECT name, sha, tag_time, annotated FROM tags WHERE repo_id = ?", (repo_id,))
    }
    missing_time = [t for t in tags if t.time is None]
    if missing_time:
        times = dict(conn.execute(
            "SELECT sha, committer_time FROM commits WHERE repo_id = ? AND sha IN (SELECT value FROM json_each(?))",
            (repo_id, json.dumps([t.sha for t in missing_time])),
        ).fetchall())
        for t in missing_time:
            t.time = times.get(t.sha)
        unknown = [t.name for t in missing_time if t.time is None]
        if unknown:
            skipped.append(f"{len(unknown)} tag(s) without a readable date ignored: {', '.join(unknown[:5])}")
    wanted = {t.name: (t.sha, t.time, t.annotated) for t in tags if t.time is not None}
    gone = [n for n in existing if n not in wanted]
    if gone:
        conn.executemany("DELETE FROM tags WHERE repo_id = ? AND name = ?", [(repo_id, n) for n in gone])
    changed = [(repo_id, n, *v) for n, v in wanted.items() if existing.get(n) != v]
    conn.executemany(
        "INSERT OR REPLACE INTO tags(repo_id, name, sha, tag_time, annotated) VALUES (?,?,?,?,?)", changed
    )
    return len(changed)


def sync_git(
    store: Store,
    repo_id: int,
    path: str,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    defer_indexes_min: int = DEFER_INDEXES_MIN,
) -> GitSyncResult:
    """Bring the store's commits, file changes and tags of ``repo_id`` up to date with the repository.

    Incremental: walks only commits reachable from the refs' new tips and not from those of the last
    sync; when no ref moved, runs `git for-each-ref` only and writes nothing. The repositories row
    (``default_branch``, ``last_synced_at``) is left to the caller.

    ``progress(done_commits, total_or_None)`` is called after each batch of ``batch_size`` commits
    (the total comes from a ``git rev-list --count`` run alongside, None until it answers). An
    exception from it aborts the sync, keeping the batches already written; the next sync completes
    them. Never raises for unreadable objects: what could not be read is listed in ``skipped``.

    A first load into empty history tables whose first batch holds at least ``defer_indexes_min``
    commits builds the secondary indexes once at the end (in the final transaction) rather than row
    by row; if the sync dies in between, the next sync (or the failing one, on its way out) rebuilds them.
    Raises `DataError` for a bad path or a non-repository.
    """
    top = check_repository(path)
    if store.read().execute("SELECT 1 FROM kv WHERE key = ?", (_DEFERRED_KEY,)).fetchone() is not None:
        with store.tx() as conn:  # a bulk load died before rebuilding its indexes: rebuild them now
            restore_deferred_indexes(conn)
    skipped: list[str] = []
    refs = _read_refs(top, skipped)
    head = _head_commit(top)
    tips = _tips(refs, head, top)
    branch = _default_branch(refs, top)
    old = _load_cursor(store, repo_id)
    if old is not None and old == tips:
        return GitSyncResult(0, 0, False, skipped, branch)

    cursor_json = json.dumps({"tips": tips}, sort_keys=True)
    now = int(time.time())
    tags = _tags(top, refs, skipped)
    new_tags = 0

    complete = True  # False when the history walk failed: no cursor, so the next sync walks again

    def final(conn) -> None:
        nonlocal new_tags
        new_tags = _reconcile_tags(conn, repo_id, tags, skipped)
        if complete:
            conn.execute(
                "INSERT INTO sync_cursors(repo_id, source, cursor, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(repo_id, source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                (repo_id, SOURCE, cursor_json, now),
            )

    new_tips = sorted(set(tips.values()))
    if not new_tips:
        skipped.append("the repository has no commits yet")
        writer = _Writer(store, repo_id, batch_size, progress, lambda: 0)
        writer.flush(final)
        return GitSyncResult(0, new_tags, False, skipped, branch)

    old_tips = sorted(set(old.values())) if old else []
    revs = "".join([*(f"{s}\n" for s in new_tips), *(f"^{s}\n" for s in old_tips)]).encode()

    mode = _NUMSTAT
    if _is_partial_clone(top):
        mode = _RAW
        skipped.append(
            "partial clone (file contents are fetched on demand): line counts were not read, to stay off "
            "the network; file paths are recorded with unknown additions/deletions"
        )
    shallow = _shallow_boundary(top)
    if shallow:
        skipped.append(
            f"shallow clone: history before {len(shallow)} boundary commit(s) is not in the repository; "
            "their parents and file changes are not recorded"
        )

    counter = _Counter(top, revs)
    writer = _Writer(store, repo_id, batch_size, progress, counter, defer_indexes_min)
    writer.shallow = shallow
    conn = store.read()
    # No checkpoints (each one an fsync and a second copy of the pages) until the sync is done; the
    # first commit after the setting is restored checkpoints the whole WAL once.
    checkpoint_pages = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        ok, error = _stream_log(top, mode, revs, writer)
        while not ok:
            log.warning("git log (%s) failed in %s: %s", mode, top, error)
            if mode == _NO_DIFF:
                skipped.append(
                    f"history could not be read past {writer.done} commit(s) ({error}); kept what was read, "
                    "and the next sync will try again"
                )
                complete = False
                break
            skipped.append(
                f"git log with file changes stopped after {writer.done} commit(s) ({error}); "
                "the remaining commits are recorded without file changes"
            )
            mode = _NO_DIFF
            ok, error = _stream_log(top, mode, revs, writer)
        writer.flush(final)
    finally:
        counter.close()
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        if writer.deferred:  # stopped by an exception after dropping the indexes: put them back
            try:
                with store.tx() as c:
                    restore_deferred_indexes(c)
            except sqlite3.Error:  # the next sync rebuilds them (their SQL is kept in kv)
                log.warning("could not rebuild the history indexes of %s now; the next sync will", store.path)
    return GitSyncResult(writer.new, new_tags, True, skipped, branch)


__all__ = [
    "LOG_FORMAT",
    "GitSyncResult",
    "LogParser",
    "decode_text",
    "defer_indexes",
    "git_command",
    "git_env",
    "restore_deferred_indexes",
    "run_git",
    "check_repository",
    "current_branch",
    "default_branch",
    "parse_trailers",
    "sync_git",
]
