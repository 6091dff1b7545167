"""Teams configuration: parsing, errors, identity merging, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engmetrics.errors import InvalidInput, NotFound
from engmetrics.teams import load_directory


def test_person_identities_merge_and_unknown_ones_stand_alone() -> None:
    d = load_directory({"a": {"people": ["Ada"]}, "b": {"repos": ["api"]}},
                       {"ada": {"emails": ["Ada@Example.com"], "logins": ["ada-l"]}})
    assert d.person_of("ada@example.com") == d.person_of("ADA-L") == "ada"
    assert d.person_of("bob@example.com") == "bob@example.com"
    assert d.members(d.team("A")) == {"ada"}
    with pytest.raises(NotFound, match="teams: a, b"):
        d.team("c")


@pytest.mark.parametrize("teams", [{"x": {}}, {"x": {"repos": "api", "people": [1]}}, {"x": "api"}])
def test_bad_team_config_says_what_to_write(teams) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=r"teams\.x"):
        load_directory(teams, {})


def test_cli_lists_teams_from_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "engmetrics.toml"
    cfg.write_text('[teams.platform]\nrepos = ["api"]\npeople = ["ada"]\n\n[people.ada]\nemails = ["ada@example.com"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env.update(ENGMETRICS_CONFIG=str(cfg), ENGMETRICS_DB=str(tmp_path / "db.sqlite"))
    proc = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "teams", "list", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["teams"][0]["name"] == "platform" and data["teams"][0]["unknown_repos"] == ["api"]
