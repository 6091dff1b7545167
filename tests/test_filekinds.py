"""File kinds: the path classification DORA, risk and changelogs share (hand-written table)."""

import pytest

from engmetrics.filekinds import is_product, is_source, kind_of, language_of

TABLE = [
    ("src/flask/app.py", "source", "Python"),
    ("setup.py", "source", "Python"),
    ("web/app.tsx", "source", "TypeScript"),
    ("cmd/main.go", "source", "Go"),
    ("README.md", "docs", "Markdown"),
    ("docs/faqs.md", "docs", "Markdown"),
    ("docs/conf.py", "docs", "Python"),
    ("docs/requirements.txt", "docs", "text"),
    ("LICENSE", "metadata", "text"),
    ("LICENSE.txt", "metadata", "text"),
    ("CHANGES.rst", "metadata", "reStructuredText"),
    ("CHANGELOG.md", "metadata", "Markdown"),
    ("AUTHORS", "metadata", "text"),
    (".gitignore", "metadata", "file"),
    (".github/dependabot.yml", "metadata", "YAML"),
    (".github/workflows/tests.yaml", "ci", "YAML"),
    (".pre-commit-config.yaml", "ci", "YAML"),
    ("tox.ini", "ci", "INI"),
    ("tests/test_app.py", "tests", "Python"),
    ("pkg/server_test.go", "tests", "Go"),
    ("src/components/Button.test.tsx", "tests", "TypeScript"),
    ("testing/conftest.py", "tests", "Python"),
    ("package-lock.json", "generated", "JSON"),
    ("uv.lock", "generated", "TOML"),
    ("static/app.min.js", "generated", "JavaScript"),
    ("api/service_pb2.py", "generated", "Python"),
    ("vendor/github.com/x/y.go", "vendored", "Go"),
    ("src/_vendor/six.py", "vendored", "Python"),
    ("pyproject.toml", "config", "TOML"),
    ("requirements-dev.txt", "config", "text"),
    ("Dockerfile", "config", "Dockerfile"),
    ("artwork/logo.png", "data", "image"),
    ("artwork/logo.svg", "data", "SVG"),
]


@pytest.mark.parametrize(("path", "kind", "language"), TABLE)
def test_kind_and_language(path: str, kind: str, language: str) -> None:
    assert kind_of(path) == kind
    assert language_of(path) == language


def test_product_and_source() -> None:
    assert is_product("src/flask/app.py") and is_source("src/flask/app.py")
    assert is_product("pyproject.toml") and not is_source("pyproject.toml")
    assert is_product("package-lock.json") and not is_source("package-lock.json")
    for path in ("docs/faqs.md", "LICENSE", ".github/workflows/ci.yml", "tests/test_app.py", "CHANGES.rst"):
        assert not is_product(path), path
        assert not is_source(path), path
