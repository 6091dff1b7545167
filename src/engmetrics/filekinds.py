"""What kind of file a repository path is: source, docs, tests, CI, metadata, generated, vendored, config, data.

One classification shared by DORA (a *product change* touches a file that is not docs, tests, CI or
metadata), change risk (*source lines* are lines of source files only) and changelogs (a docs-only commit
is Documentation). The file type comes from `identify` (pre-commit's file-type library, by name and
extension); the repository roles (tests, CI, metadata, generated, vendored) from the path.

Kinds, checked in this order (the first that applies wins):

- ``vendored``: under ``vendor/``, ``vendored/``, ``_vendor/``, ``third_party/``, ``third-party/``,
  ``node_modules/``, ``bower_components/``.
- ``generated``: lock files (``*.lock``, ``package-lock.json``, ``pnpm-lock.yaml``, ``go.sum``…), minified
  assets (``*.min.js``/``*.min.css``), protobuf/gRPC outputs (``*_pb2.py``, ``*.pb.go``…), ``*.map``, and
  anything under a ``generated/``, ``__generated__/`` or ``gen/`` folder.
- ``ci``: ``.github/workflows/``, ``.gitlab-ci.yml``, ``.circleci/``, ``.travis.yml``, ``Jenkinsfile``,
  ``azure-pipelines.yml``, ``.buildkite/``, ``appveyor.yml``, ``.pre-commit-config.yaml``, ``codecov.yml``,
  ``.readthedocs.yaml``, ``noxfile.py``, ``tox.ini``.
- ``metadata``: LICENSE/COPYING/NOTICE, CHANGELOG/CHANGES/HISTORY/NEWS/RELEASE_NOTES, AUTHORS/CONTRIBUTORS,
  CODE_OF_CONDUCT, CONTRIBUTING, SECURITY, CODEOWNERS, FUNDING, ``.mailmap``, ``.gitignore``,
  ``.gitattributes``, ``.editorconfig``, ``.git-blame-ignore-revs``, and the rest of ``.github/`` (issue
  templates, ``dependabot.yml``) — any extension, anywhere.
- ``tests``: under ``test/``, ``tests/``, ``testing/``, ``spec/``, ``__tests__/``, or named
  ``test_*``, ``*_test.*``, ``*.test.*``, ``*.spec.*``, ``conftest.py``.
- ``docs``: under ``doc/``, ``docs/``, ``documentation/``, or a prose file anywhere (Markdown,
  reStructuredText, AsciiDoc, plain text, ``README*``).
- ``source``: a programming language by `identify` (Python, JavaScript, Go, C, shell, SQL, HTML, CSS…).
- ``config``: configuration and build files (YAML, TOML, INI, JSON, XML, Makefile, Dockerfile…).
- ``data``: anything else (images, binaries, CSV, fonts…).

``product`` = every kind but docs, tests, ci and metadata (DESIGN.md's product change).
"""

from __future__ import annotations

import functools
import posixpath
import re
from typing import Literal

from identify import identify

FileKind = Literal["source", "config", "data", "docs", "tests", "ci", "metadata", "generated", "vendored"]

#: Kinds whose changes are not product changes (DESIGN.md: docs, tests, CI configuration, metadata).
NON_PRODUCT_KINDS: frozenset[str] = frozenset({"docs", "tests", "ci", "metadata"})

_VENDORED = re.compile(r"(^|/)(vendor|vendored|_vendor|third[_-]party|node_modules|bower_components)/", re.I)
_GENERATED = re.compile(
    r"(^|/)(generated|__generated__|gen)/|\.lock$|(^|/)(package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|"
    r"go\.sum|composer\.lock|Gemfile\.lock|Cargo\.lock|poetry\.lock|uv\.lock|Pipfile\.lock|yarn\.lock)$|"
    r"\.min\.(js|css)$|\.map$|_pb2(_grpc)?\.pyi?$|\.pb\.(go|cc|h)$|\.pb\.gw\.go$|_generated\.\w+$",
    re.I,
)
_CI = re.compile(
    r"^\.github/workflows/|(^|/)\.gitlab-ci\.ya?ml$|^\.circleci/|(^|/)\.travis\.ya?ml$|(^|/)Jenkinsfile$|"
    r"(^|/)azure-pipelines\.ya?ml$|^\.buildkite/|(^|/)\.?appveyor\.ya?ml$|(^|/)\.pre-commit-(config|hooks)\.ya?ml$|"
    r"(^|/)\.?codecov\.ya?ml$|(^|/)\.readthedocs\.ya?ml$|(^|/)noxfile\.py$|(^|/)tox\.ini$|^\.ci/|^\.drone\.ya?ml$",
    re.I,
)
_METADATA_NAME = re.compile(
    r"^(licen[cs]e|copying|notice|changelog|changes|history|news|release[-_]?notes|authors|contributors|"
    r"maintainers|code[-_]of[-_]conduct|contributing|security|codeowners|funding|citation)([.-][^/]*)?$|"
    r"^\.(mailmap|gitignore|gitattributes|gitmodules|editorconfig|git-blame-ignore-revs|dockerignore)$",
    re.I,
)
_TESTS = re.compile(
    r"(^|/)(tests?|testing|specs?|__tests__)/|(^|/)test_[^/]*$|_tests?\.[^/]+$|\.(test|spec)\.[^/]+$|(^|/)conftest\.py$",
    re.I,
)
_REQUIREMENTS = re.compile(r"^(requirements|constraints)[^/]*\.(txt|in)$", re.I)
_DOCS_DIR = re.compile(r"(^|/)(docs?|documentation)/", re.I)
_PROSE_TAGS = frozenset({"markdown", "rst", "asciidoc", "plain-text"})
_CONFIG_TAGS = frozenset({
    "yaml", "toml", "ini", "json", "json5", "xml", "makefile", "dockerfile", "cmake", "properties",
    "plist", "editorconfig", "pyproject", "setup-cfg", "gitignore", "dotenv", "hcl", "terraform", "nix",
})
#: identify tags that name a programming or markup language a person writes code in, with a display name.
_LANGUAGES: dict[str, str] = {
    "python": "Python", "pyi": "Python", "cython": "Cython", "javascript": "JavaScript", "jsx": "JavaScript",
    "ts": "TypeScript", "tsx": "TypeScript", "go": "Go", "rust": "Rust", "java": "Java", "kotlin": "Kotlin",
    "scala": "Scala", "groovy": "Groovy", "c": "C", "c++": "C++", "c#": "C#", "objective-c": "Objective-C",
    "swift": "Swift", "ruby": "Ruby", "php": "PHP", "perl": "Perl", "lua": "Lua", "r": "R", "julia": "Julia",
    "shell": "shell", "bash": "shell", "zsh": "shell", "fish": "shell", "powershell": "PowerShell",
    "sql": "SQL", "html": "HTML", "css": "CSS", "scss": "SCSS", "sass": "Sass", "less": "Less",
    "vue": "Vue", "svelte": "Svelte", "elixir": "Elixir", "erlang": "Erlang", "haskell": "Haskell",
    "clojure": "Clojure", "dart": "Dart", "fortran": "Fortran", "zig": "Zig", "nim": "Nim", "ocaml": "OCaml",
    "elm": "Elm", "coffee": "CoffeeScript", "proto": "Protocol Buffers", "graphql": "GraphQL", "jinja": "Jinja",
    "cuda": "CUDA", "solidity": "Solidity", "asm": "assembly", "vb": "Visual Basic", "fsharp": "F#",
}
_TAG_NAMES: dict[str, str] = {
    "markdown": "Markdown", "rst": "reStructuredText", "asciidoc": "AsciiDoc", "plain-text": "text",
    "yaml": "YAML", "toml": "TOML", "ini": "INI", "json": "JSON", "xml": "XML", "makefile": "Makefile",
    "dockerfile": "Dockerfile", "csv": "CSV", "svg": "SVG", "image": "image", "binary": "binary",
}


@functools.lru_cache(maxsize=65536)
def tags(path: str) -> frozenset[str]:
    """identify's tags for ``path`` by its file name alone (no file system access)."""
    return frozenset(identify.tags_from_filename(posixpath.basename(path)))


@functools.lru_cache(maxsize=65536)
def kind_of(path: str) -> FileKind:
    """The `FileKind` of a repository-relative path (``/``-separated), by the rules in the module docstring."""
    p = path.strip().removeprefix("./")
    name = posixpath.basename(p)
    if _VENDORED.search(p):
        return "vendored"
    if _GENERATED.search(p):
        return "generated"
    if _CI.search(p):
        return "ci"
    if _METADATA_NAME.match(name) or p.lower().startswith(".github/"):
        return "metadata"
    if _TESTS.search(p):
        return "tests"
    t = tags(p)
    if _DOCS_DIR.search(p):
        return "docs"
    if _REQUIREMENTS.match(name) or "cmake" in t:
        return "config"
    if (t & _PROSE_TAGS) or name.lower().startswith("readme"):
        return "docs"
    if any(tag in _LANGUAGES for tag in t):
        return "source"
    if t & _CONFIG_TAGS and "image" not in t:
        return "config"
    return "data"


def is_product(path: str) -> bool:
    """Whether changing ``path`` changes the product (not docs, tests, CI configuration or metadata)."""
    return kind_of(path) not in NON_PRODUCT_KINDS


def is_source(path: str) -> bool:
    """Whether ``path`` holds source code whose lines count as source lines (not tests/docs/generated/vendored)."""
    return kind_of(path) == "source"


def is_test(path: str) -> bool:
    """Whether ``path`` is a test file (by its folder or name)."""
    return kind_of(path) == "tests" or bool(_TESTS.search(path))


@functools.lru_cache(maxsize=65536)
def language_of(path: str) -> str:
    """A short display name for the file's type ("Python", "Markdown", "YAML", "text", "file")."""
    t = tags(path)
    for tag in sorted(t):
        if tag in _LANGUAGES:
            return _LANGUAGES[tag]
    for tag in ("markdown", "rst", "asciidoc", "svg", "yaml", "toml", "ini", "json", "xml", "makefile", "dockerfile",
                "csv", "plain-text", "image", "binary"):
        if tag in t:
            return _TAG_NAMES[tag]
    return "file"


def product_paths(paths: list[str] | tuple[str, ...]) -> list[str]:
    """The paths among ``paths`` whose change is a product change."""
    return [p for p in paths if is_product(p)]
