"""Build real git repositories in tests, deterministically.

Every commit, tag, merge and revert gets fixed author/committer dates (``when``; by default one hour
after the previous one, starting 2024-01-01T00:00:00Z), so shas are the same on every run. Global and
system git configuration is ignored.

    repo = GitRepo(tmp_path / "repo")
    a = repo.commit({"app.py": "print(1)\\n"}, "feat: start", when="2024-03-01T10:00:00Z")
    repo.tag("v1.0.0", annotated=True, when="2024-03-02T00:00:00Z")
    repo.branch("fix"); repo.checkout("fix"); repo.commit({"app.py": None}, "fix: remove")
    repo.checkout("main"); repo.merge("fix")
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

Author = tuple[str, str]
When = datetime | str | int | float | None

DEFAULT_AUTHOR: Author = ("Ada Lovelace", "ada@example.com")
START = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=1)


def to_datetime(when: datetime | str | int | float) -> datetime:
    """A UTC datetime from a datetime (naive = UTC), an ISO 8601 string, or Unix seconds."""
    if isinstance(when, (int, float)):
        return datetime.fromtimestamp(when, UTC)
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def unix(when: datetime | str | int | float) -> int:
    """Unix seconds of ``when``."""
    return int(to_datetime(when).timestamp())


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for git that ignores the user's and the system's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_SYSTEM=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        TZ="UTC",
    )
    if extra:
        env.update(extra)
    return env


def run_git(cwd: Path | str, *args: str | bytes, input: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """Run git in ``cwd``; returns stdout bytes; raises with git's stderr on failure."""
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "advice.nestedTag=false", *args],
        cwd=cwd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env(env), check=False,
    )
    if proc.returncode != 0:
        shown = " ".join(a.decode(errors="replace") if isinstance(a, bytes) else a for a in args)
        raise RuntimeError(f"git {shown} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc.stdout


class GitRepo:
    """A git repository on disk with deterministic helpers to add history."""

    def __init__(self, path: Path | str, *, init: bool = True, bare: bool = False, branch: str = "main") -> None:
        self.path = Path(path)
        self._clock = START
        if init:
            self.path.mkdir(parents=True, exist_ok=True)
            run_git(self.path, "init", "-q", f"--initial-branch={branch}", *(["--bare"] if bare else []))

    @classmethod
    def clone(cls, source: GitRepo | Path | str, dest: Path | str, *args: str) -> GitRepo:
        """``git clone [args] file://source dest`` (file:// so --depth and --filter apply)."""
        src = source.path if isinstance(source, GitRepo) else Path(source)
        dest = Path(dest)
        run_git(src, "config", "uploadpack.allowFilter", "true")
        run_git(dest.parent, "clone", "-q", *args, f"file://{src.resolve()}", str(dest))
        return cls(dest, init=False)

    # -- plumbing -------------------------------------------------------------------------------

    def git(self, *args: str | bytes, input: bytes | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run git here; returns stdout as text with the trailing newline removed."""
        return run_git(self.path, *args, input=input, env=env).decode("utf-8", errors="replace").rstrip("\n")

    def _dates(self, when: When) -> dict[str, str]:
        moment = to_datetime(when) if when is not None else self._clock + STEP
        self._clock = max(self._clock, moment)
        stamp = f"@{int(moment.timestamp())} +0000"
        return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    @staticmethod
    def _ident(author: Author, committer: Author | None) -> dict[str, str]:
        committer = committer or author
        return {
            "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1],
        }

    def rev_parse(self, rev: str = "HEAD") -> str:
        """The full sha of ``rev``."""
        return self.git("rev-parse", "--verify", f"{rev}^{{commit}}")

    def head(self) -> str:
        """The sha HEAD points at."""
        return self.rev_parse("HEAD")

    # -- history --------------------------------------------------------------------------------

    def write(self, files: Mapping[str | bytes, str | bytes | None]) -> None:
        """Write (str/bytes content) or delete (None) files in the work tree; keys may be raw bytes."""
        for name, content in files.items():
            target = self.path / (os.fsdecode(name) if isinstance(name, bytes) else name)
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(
        self,
        files: Mapping[str | bytes, str | bytes | None] | None = None,
        message: str | bytes = "change",
        author: Author = DEFAULT_AUTHOR,
        when: When = None,
        *,
        committer: Author | None = None,
        committed: When = None,
        encoding: str | None = None,
    ) -> str:
        """Write ``files``, stage everything and commit; returns the new sha.

        ``when`` is the author date (and the committer date unless ``committed`` is given).
        ``encoding`` (e.g. "latin1") sets i18n.commitEncoding; a bytes message is stored as is.
        """
        self.write(files or {})
        self.git("add", "-A")
        env = {**self._ident(author, committer), **self._dates(when)}
        if committed is not None:
            env["GIT_COMMITTER_DATE"] = f"@{unix(committed)} +0000"
        data = message if isinstance(message, bytes) else message.encode(encoding or "utf-8")
        extra = ["-c", f"i18n.commitEncoding={encoding}"] if encoding else []
        self.git(*extra, "commit", "-q", "--allow-empty", "--allow-empty-message", "--no-verify",
                 "--cleanup=verbatim", "-F", "-", input=data, env=env)
        return self.head()

    def tag(
        self,
        name: str,
        sha: str | None = None,
        annotated: bool = False,
        when: When = None,
        *,
        message: str | None = None,
        tagger: Author = DEFAULT_AUTHOR,
        force: bool = False,
    ) -> str:
        """Create a lightweight or annotated tag (tagger date ``when``) on ``sha`` (default HEAD).

        Returns the sha of the tag ref's object (the tag object for annotated tags).
        """
        args = ["tag", *(["-f"] if force else [])]
        if annotated:
            args += ["-a", "-m", message or name]
        env = {**self._ident(tagger, None), **self._dates(when)} if annotated else None
        self.git(*args, name, sha or "HEAD", env=env)
        return self.git("rev-parse", f"refs/tags/{name}")

    def delete_tag(self, name: str) -> None:
        """Delete a tag."""
        self.git("tag", "-d", name)

    def branch(self, name: str, start: str | None = None) -> None:
        """Create branch ``name`` at ``start`` (default HEAD) without switching."""
        self.git("branch", name, *([start] if start else []))

    def checkout(self, name: str, *, create: bool = False) -> None:
        """Switch to branch (or commit) ``name``; ``create`` makes a new branch at HEAD."""
        self.git("checkout", "-q", *(["-b"] if create else []), name)

    def merge(
        self, branch: str, message: str | None = None, author: Author = DEFAULT_AUTHOR, when: When = None,
        *, ff: bool = False,
    ) -> str:
        """Merge ``branch`` into the current branch (a merge commit unless ``ff``); returns HEAD's sha."""
        env = {**self._ident(author, None), **self._dates(when)}
        self.git("merge", "-q", "--no-ff" if not ff else "--ff", "--no-edit", "-m", message or f"Merge branch '{branch}'",
                 branch, env=env)
        return self.head()

    def revert(self, sha: str, when: When = None, author: Author = DEFAULT_AUTHOR) -> str:
        """Revert ``sha`` with git's standard message ('Revert "…"', 'This reverts commit …'); returns the sha."""
        env = {**self._ident(author, None), **self._dates(when)}
        self.git("revert", "--no-edit", sha, env=env)
        return self.head()

    def log_shas(self, *revs: str) -> Sequence[str]:
        """Shas reachable from ``revs`` (default: every ref and HEAD)."""
        out = self.git("rev-list", *(revs or ("--branches", "--tags", "--remotes", "HEAD")))
        return out.split() if out else []


def synthetic_repo(dest: Path | str, commits: int, *, seed: int = 1, start: int = 1_700_000_000,
                   tag_every: int = 25, files_per_commit: int = 3) -> GitRepo:
    """A linear history of ``commits`` commits written at once with ``git fast-import`` (fast enough for thousands):
    each changes ``files_per_commit`` files under src/ (lines added and removed), one commit an hour from ``start``
    (Unix seconds) by one of five authors; an annotated release tag ``v1.N.0`` every ``tag_every`` commits."""
    import random

    rng = random.Random(seed)
    repo = GitRepo(dest)
    contents: dict[str, list[str]] = {}
    out = bytearray()

    def data(b: bytes) -> None:
        out.extend(b"data %d\n" % len(b) + b + b"\n")

    for n in range(commits):
        who = n % 5
        when = start + n * 3600
        out.extend(b"commit refs/heads/main\nmark :%d\n" % (n + 1))
        out.extend(f"author Dev {who} <dev{who}@example.com> {when} +0000\n"
                   f"committer Dev {who} <dev{who}@example.com> {when} +0000\n".encode())
        data(f"{'fix' if n % 7 == 0 else 'feat'}: change {n}\n".encode())
        for _ in range(files_per_commit):
            path = f"src/m{rng.randrange(40)}.py"
            lines = contents.setdefault(path, [])
            if lines and rng.random() < 0.3:
                lines.pop(rng.randrange(len(lines)))
            lines.extend(f"x{n}_{k} = {rng.random():.5f}" for k in range(rng.randint(1, 4)))
            del lines[:-30]  # files stay small, so the stream grows with the commits only
            out.extend(f"M 100644 inline {path}\n".encode())
            data(("\n".join(lines) + "\n").encode())
        out.extend(b"\n")
        if tag_every and n % tag_every == tag_every - 1:
            out.extend(f"tag v1.{n // tag_every}.0\nfrom :{n + 1}\ntagger Rel <rel@example.com> {when + 600} +0000\n".encode())
            data(b"release\n")
    run_git(repo.path, "fast-import", "--quiet", input=bytes(out))
    run_git(repo.path, "reset", "-q", "--hard", "main")
    return repo
