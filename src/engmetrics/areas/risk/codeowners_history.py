"""Every version of a repository's CODEOWNERS over its history, read from git (`Timeline`: commit time in Unix
seconds, file text)."""

from __future__ import annotations

from engmetrics.areas.risk.metrics.codeowners import LOCATIONS, Timeline
from engmetrics.sources.git.run import decode_text, run_git


def load_timeline(path: str) -> Timeline:
    """Every version of the repository's CODEOWNERS (all three locations; GitHub's precedence per commit)."""
    proc = run_git(path, "log", "--first-parent", "--reverse", "--format=%H %ct", "--", *LOCATIONS)
    if proc.returncode != 0:
        return Timeline()
    versions: list[tuple[int, str]] = []
    for row in decode_text(proc.stdout).splitlines():
        sha, _, when = row.partition(" ")
        text = ""
        for loc in LOCATIONS:
            shown = run_git(path, "show", f"{sha}:{loc}")
            if shown.returncode == 0:
                text = decode_text(shown.stdout)
                break
        versions.append((int(when), text))
    return Timeline(versions)
