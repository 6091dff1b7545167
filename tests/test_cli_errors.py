"""Every CLI mistake and data error as a user meets it: a real subprocess, the documented exit code, one line
on stderr that names the command's own options, nothing on stdout, and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, db: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    env["COLUMNS"] = "100"  # narrow on purpose: a message must stay one line however narrow the terminal
    return subprocess.run([sys.executable, "-m", "engmetrics.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


# (arguments, exit code, words the one line must contain)
USAGE = 1
DATA = 2
CASES = [
    (["dora", "--bogus-flag"], USAGE, ["engmetrics dora", "--bogus-flag", "--period", "--benchmark-year"]),
    (["dora", "--perid", "7d"], USAGE, ["did you mean --period?"]),
    (["nosuchcmd"], USAGE, ["no such command 'nosuchcmd'", "dora", "repos"]),
    (["dorra"], USAGE, ["did you mean 'dora'?"]),
    (["dora", "--period"], USAGE, ["engmetrics dora", "--period needs a value"]),
    (["forecast", "delivery", "--items", "abc"], USAGE, ["engmetrics forecast delivery", "--items must be a whole number",
                                                        "got 'abc'"]),
    (["import", "deployments"], USAGE, ["engmetrics import deployments", "missing argument FILE"]),
    (["repos", "extra"], USAGE, ["unexpected argument 'extra'"]),
    (["--bogus"], USAGE, ["no such option --bogus"]),
    (["risk", "score", "--pr", "x"], USAGE, ["--pr must be a whole number"]),
    (["forecast", "delivery", "--holiday"], USAGE, ["--holiday needs a value"]),
    (["dora", "--period", "nope"], DATA, ["Unknown period 'nope'", "--from"]),
    (["dora", "--repo", "nope"], DATA, ["Unknown repository 'nope'", "engmetrics repos"]),
    (["dora", "--from", "2026-10-02", "--to", "2026-10-01"], DATA, ["--from '2026-10-02'", "--to '2026-10-01'"]),
    (["dora", "--benchmark-year", "1999"], DATA, ["--benchmark-year", "2023"]),
    (["forecast", "delivery", "--items", "3", "--levels", "0,200"], DATA, ["--levels"]),
    (["import", "deployments", "/nonexistent/deploys.csv"], DATA, ["/nonexistent/deploys.csv"]),
    (["dora", "--repo", "x" * 5000], DATA, ["5,000 characters"]),
    (["dora", "--repo", "a\x01b"], DATA, ["control character"]),
]


@pytest.mark.parametrize(("args", "code", "words"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_invocation_is_one_line_and_an_exit_code(workspace_copy, args: list[str], code: int, words: list[str]) -> None:
    proc = cli(*args, db=workspace_copy.db)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for word in words:
        assert word in line, (word, line)
    # Errors written for MCP clients are reworded for a shell, and pydantic never speaks.
    for leak in ("list_repositories", "Input should be", "Value error,", "(got str)", "typer", "click"):
        assert leak not in line, (leak, line)


def test_a_group_without_its_command_shows_what_it_offers(workspace_copy) -> None:
    proc = cli("forecast", db=workspace_copy.db)
    assert proc.returncode == USAGE
    shown = proc.stdout + proc.stderr  # typer prints the group's help itself, as for --help
    assert "delivery" in shown and "backlog" in shown and "Traceback" not in shown


def test_help_and_version_exit_0(workspace_copy) -> None:
    helped = cli("dora", "--help", db=workspace_copy.db)
    assert helped.returncode == 0 and "--period" in helped.stdout
    version = cli("--version", db=workspace_copy.db)
    assert version.returncode == 0 and version.stdout.startswith("engmetrics ")


def test_a_corrupt_store_is_a_data_error_that_says_how_to_recover(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not a database\x00" * 400)
    proc = cli("repos", db=db)
    assert proc.returncode == DATA and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "cannot be opened" in line and "--db" in line and "mv " in line


def test_cli_wording_maps_tool_names_and_arguments() -> None:
    from engmetrics.cli.errors import cli_wording

    options = {"--from", "--to", "--benchmark-year", "--levels", "--repo"}
    assert cli_wording("Known repositories: a. Call list_repositories to see them.", "repo", options) == (
        "Known repositories: a. Run `engmetrics repos` to see them.")
    assert cli_wording("from='2025-02-10' is not before to='2025-02-01'", "from", options) == (
        "--from '2025-02-10' is not before --to '2025-02-01'")
    assert cli_wording("`benchmark_year` must be 2023 or 2024", "benchmark_year", options) == (
        "--benchmark-year must be 2023 or 2024")
    assert cli_wording("confidence_levels must be 1–9 percentages", "confidence_levels", options) == (
        "--levels must be 1–9 percentages")
    # Ordinary words stay words: "from" and "to" only become options where they name an argument.
    assert cli_wording("from the store to the repository", None, options) == "from the store to the repository"
