"""Writing git repositories: git run with no user or system configuration, and one ``git fast-import``
process per repository fed a generated stream of commits, tags and refs (times in Unix seconds)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

Changes = dict[str, bytes | None]  # path → its new bytes, or None to delete it


def git_env() -> dict[str, str]:
    """The environment git runs in: no user or system configuration, a fixed identity and locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "engmetrics demo", "GIT_AUTHOR_EMAIL": "demo@engmetrics.invalid",
        "GIT_COMMITTER_NAME": "engmetrics demo", "GIT_COMMITTER_EMAIL": "demo@engmetrics.invalid",
        "LC_ALL": "C",
    })
    return env


def run_git(repo: Path, *args: str) -> None:
    """Run ``git args…`` in ``repo``; raises CalledProcessError (with git's stderr) when it fails."""
    subprocess.run(["git", *args], cwd=repo, env=git_env(), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class FastImport:
    """One ``git fast-import`` process fed a generated stream; marks are handed out here.

    Use it as a context manager: a failure inside the block stops the process (the repository is left
    incomplete)."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.marks_file = repo / ".git" / "demo-marks"
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["git", "-c", "core.compression=1", "fast-import", "--quiet", "--done",
             f"--export-marks={self.marks_file}"],
            cwd=repo, env=git_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        assert self.proc.stdin is not None
        self.out = self.proc.stdin
        self.next_mark = 1
        self.out.write(b"feature done\n")

    def __enter__(self) -> FastImport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()

    def _data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def commit(self, ref: str, author: str, committer: str, message: str, parents: list[int],
               changes: Changes) -> int:
        """Write one commit; ``changes`` maps a path to its new bytes, or None to delete it. Returns its mark."""
        mark = self.next_mark
        self.next_mark += 1
        w = self.out.write
        w(f"commit {ref}\nmark :{mark}\nauthor {author}\ncommitter {committer}\n".encode())
        self._data(message.encode())
        if parents:
            w(b"from :%d\n" % parents[0])
            for p in parents[1:]:
                w(b"merge :%d\n" % p)
        for path in sorted(changes):
            content = changes[path]
            if content is None:
                w(f"D {path}\n".encode())
            else:
                w(f"M 100644 inline {path}\n".encode())
                self._data(content)
        w(b"\n")
        return mark

    def tag(self, name: str, mark: int, tagger: str, message: str) -> None:
        self.out.write(f"tag {name}\nfrom :{mark}\ntagger {tagger}\n".encode())
        self._data(message.encode())

    def reset(self, ref: str) -> None:
        self.out.write(f"reset {ref}\n\n".encode())

    def sha(self, mark: int) -> str:
        """The full sha of a commit already written (asks the running process)."""
        assert self.proc.stdout is not None
        self.out.write(b"get-mark :%d\n" % mark)
        self.out.flush()
        sha = self.proc.stdout.readline().decode().strip()
        if len(sha) != 40:
            raise RuntimeError(f"git fast-import in {self.repo} gave no sha for mark :{mark}")
        return sha

    def abort(self) -> None:
        """Stop the process after a failure; the repository is left incomplete."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def finish(self) -> dict[int, str]:
        """End the stream, wait for git and return every mark's sha."""
        self.out.write(b"done\n")
        self.out.close()
        rc = self.proc.wait()
        if rc != 0:
            self.err.seek(0)
            raise RuntimeError(f"git fast-import failed in {self.repo}: {self.err.read().decode(errors='replace')}")
        self.err.close()
        marks = {}
        for line in self.marks_file.read_text().splitlines():
            m, sha = line.split()
            marks[int(m[1:])] = sha
        self.marks_file.unlink()
        return marks

