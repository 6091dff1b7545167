"""Running the `git` CLI: its environment, its argv, and its output decoded.

Git never touches the network: lazy fetches of partial clones are disabled (``GIT_NO_LAZY_FETCH``, and
``GIT_ALLOW_PROTOCOL`` set to no protocol for older git). Its stdout and stderr are always captured,
never inherited (nothing is printed to stdout).
"""

from __future__ import annotations

import os
import subprocess

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


def git_error(stderr: bytes) -> str:
    """The line of git's stderr that says what went wrong (its last one, hints left out)."""
    lines = [ln.strip() for ln in decode_text(stderr).splitlines() if ln.strip() and not ln.startswith("hint:")]
    return lines[-1] if lines else "no message"
