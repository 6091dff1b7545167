"""``git log`` streamed into a parser while it runs, and the ``git rev-list --count`` of the same revisions
beside it (for progress).

Revisions are given on stdin (``<sha>`` to walk from, ``^<sha>`` to stop at). Git may write ahead up to
1 MB (the pipe is grown on Linux) while the caller writes a batch to SQLite.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from engmetrics.sources.git.log_parser import DIFF_ARGS, LOG_FORMAT, RAW, DiffMode, EmitFn, LogParser, RecordParser
from engmetrics.sources.git.run import git_command, git_env, git_error

if sys.platform != "win32":
    import fcntl

_READ_CHUNK = 1 << 20  # pipe size asked for
_PARSE_CHUNK = 1 << 18  # bytes gathered before parsing: a few wake-ups per MB instead of one per git write


def _grow_pipe(fd: int) -> None:
    """Let git write ahead up to 1 MB while a batch is being written to SQLite (Linux; best effort)."""
    if sys.platform != "linux":
        return
    for size in (_READ_CHUNK, 1 << 18):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
            return
        except OSError:
            continue


def stream_log(path: str, mode: DiffMode, revs: bytes, emit: EmitFn) -> tuple[bool, str]:
    """Run one ``git log`` over ``revs`` (stdin lines), giving each commit to ``emit``; returns (ok, git's error)."""
    args = git_command(
        path, "log", "--stdin", "--ignore-missing", "-z", f"--format={LOG_FORMAT}", "--encoding=UTF-8",
        "--diff-merges=off", "--no-color", "--no-use-mailmap", *DIFF_ARGS[mode],
    )
    parser: LogParser | RecordParser = LogParser(mode, emit) if mode == RAW else RecordParser(mode, emit)
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
        return False, git_error(err.read())


class CommitCounter:
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
        """Stop the count if it still runs."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
