"""server.json (the MCP registry manifest) stays true to the code: name, version, and every env var read."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engmetrics import __version__
from engmetrics.config import Settings

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "server.json").read_text())


def manifest_env() -> set[str]:
    return {v["name"] for p in MANIFEST["packages"] for v in p.get("environmentVariables", [])}


def test_identity_and_transport() -> None:
    assert MANIFEST["$schema"].endswith("/2025-12-11/server.schema.json")
    assert MANIFEST["name"] == "io.github.engmetrics/engmetrics"
    assert MANIFEST["version"] == __version__
    assert len(MANIFEST["description"]) <= 100
    pkg = MANIFEST["packages"][0]
    assert pkg["registryType"] == "pypi" and pkg["identifier"] == "engmetrics" and pkg["version"] == __version__
    assert pkg["transport"] == {"type": "stdio"}
    assert "mcp-name: io.github.engmetrics/engmetrics" in (ROOT / "README.md").read_text()


def test_every_setting_is_declared_with_secrets_marked() -> None:
    declared = manifest_env()
    for name, field in Settings.model_fields.items():
        env = (field.validation_alias if isinstance(field.validation_alias, str) else None) or f"ENGMETRICS_{name.upper()}"
        assert env in declared, f"server.json lacks {env}"
    secrets = {v["name"] for p in MANIFEST["packages"] for v in p["environmentVariables"] if v.get("isSecret")}
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            env = (field.validation_alias if isinstance(field.validation_alias, str) else None) or f"ENGMETRICS_{name.upper()}"
            assert env in secrets, f"{env} must be marked isSecret"


def test_every_env_var_read_in_code_is_declared() -> None:
    read = set()
    for path in (ROOT / "src" / "engmetrics").rglob("*.py"):
        read |= set(re.findall(r"environ(?:\.get)?\(\s*[\"']((?:ENGMETRICS|GITHUB)_[A-Z_]+)", path.read_text()))
        read |= set(re.findall(r"environ\[\s*[\"']((?:ENGMETRICS|GITHUB)_[A-Z_]+)", path.read_text()))
    missing = read - manifest_env()
    assert not missing, f"server.json lacks {sorted(missing)}"


def test_each_setting_is_declared_once_per_package() -> None:
    for package in MANIFEST["packages"]:
        names = [v["name"] for v in package.get("environmentVariables", [])]
        twice = sorted({n for n in names if names.count(n) > 1})
        assert not twice, f"declared more than once in server.json: {twice}"
