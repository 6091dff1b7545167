"""A demo repository's files on main (bytes and lines, when each was last changed, which are locked), and
the changes a commit makes to them: the initial tree, dependency manifests, and per-kind content edits."""

from __future__ import annotations

import random

from engmetrics.demo.contents import NOUNS, VERBS, ContentGenerator, plural, snake
from engmetrics.demo.git_writer import Changes
from engmetrics.demo.people import ORG
from engmetrics.demo.png import random_png
from engmetrics.demo.profiles import RepoProfile


def put_lines(changes: Changes, path: str, lines: list[str]) -> None:
    """Set ``path`` in ``changes`` to ``lines`` (newline-terminated UTF-8)."""
    changes[path] = "\n".join(lines).encode() + b"\n"


class RepoTree:
    """The files on a repository's main branch, and the changes one commit makes to them."""

    def __init__(self, profile: RepoProfile, rng: random.Random, text: ContentGenerator):
        self.p = profile
        self.rng = rng
        self.text = text
        self.files: dict[str, bytes] = {}
        self.lines: dict[str, list[str]] = {}
        self._paths: list[str] | None = None  # text paths in insertion order (cache of list(self.lines))
        self.modified: dict[str, int] = {}  # path → last time (Unix seconds) main changed it
        self.locked: set[str] = set()  # paths no commit may touch (a change waiting for its revert)
        self.migration_no = 1
        self.deps = dict(profile.deps)

    def get_lines(self, path: str, overlay: Changes) -> list[str]:
        """The lines of ``path`` as ``overlay`` (changes not yet on main) or else main has them."""
        if path in overlay:
            data = overlay[path]
            return [] if data is None else data.decode().splitlines()
        return list(self.lines.get(path, []))

    def manifest(self) -> dict[str, list[str]]:
        """The dependency manifests for the current pins: package.json and its lock, or requirements.txt
        and pyproject.toml."""
        if self.p.lang == "ts":
            deps = self.deps
            pkg = ["{", f'  "name": "{self.p.name}",', '  "version": "1.0.0",', '  "private": true,',
                   '  "scripts": {', '    "build": "tsc -p .",', '    "test": "jest",', '    "lint": "eslint src"',
                   "  },", '  "dependencies": {']
            names = sorted(deps)
            pkg += [f'    "{n}": "^{deps[n]}"' + ("," if i < len(names) - 1 else "") for i, n in enumerate(names)]
            pkg += ["  }", "}"]
            lock = ["{", f'  "name": "{self.p.name}",', '  "lockfileVersion": 3,', '  "packages": {']
            for i, n in enumerate(names):
                digest = random.Random(f"{n}@{deps[n]}").randbytes(48).hex()
                lock += [f'    "node_modules/{n}": {{', f'      "version": "{deps[n]}",',
                         f'      "resolved": "https://registry.npmjs.org/{n}/-/{n}-{deps[n]}.tgz",',
                         f'      "integrity": "sha512-{digest}"',
                         "    }" + ("," if i < len(names) - 1 else "")]
            lock += ["  }", "}"]
            return {"package.json": pkg, "package-lock.json": lock}
        req = [f"{n}=={v}" for n, v in sorted(self.deps.items())]
        pyproject = ["[project]", f'name = "{self.p.name}"', 'version = "0.1.0"', 'requires-python = ">=3.11"', "",
                     "[tool.pytest.ini_options]", 'testpaths = ["tests"]']
        return {"requirements.txt": req, "pyproject.toml": pyproject}

    def initial_tree(self) -> Changes:
        """Every file of the initial commit: sources and tests per scope, manifests, CI, docs, a migration."""
        ch: Changes = {}
        for scope, d in self.p.areas.items():
            for noun in self.rng.sample(NOUNS, 3):
                name = (noun[0].lower() + noun[1:]) if self.p.lang == "ts" else snake(noun)
                put_lines(ch, f"{d}/{name}{self.p.ext}", self.text.source_file(f"{d}/{name}"))
                put_lines(ch, f"{self.p.test_dir}/{scope}/{name}.test.ts" if self.p.lang == "ts"
                          else f"{self.p.test_dir}/{scope}/test_{name}.py", self.text.source_file("test"))
        for path, lines in self.manifest().items():
            put_lines(ch, path, lines)
        owners = ["# Code owners", f"* @{ORG}/platform"] + [
            f"/{d}/ @{ORG}/{scope}-team" for scope, d in self.p.areas.items()]
        put_lines(ch, ".github/CODEOWNERS", owners)
        runner = "npm ci && npm test" if self.p.lang == "ts" else "pip install -r requirements.txt && pytest"
        ci = ["name: CI", "on:", "  push:", "    branches: [main]", "  pull_request:", "jobs:", "  test:",
              "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/checkout@v3",
              f"      - run: {runner}"]
        put_lines(ch, ".github/workflows/ci.yml" if self.p.lang == "ts" else ".github/workflows/deploy.yml", ci)
        put_lines(ch, "docs/architecture.md", self.text.markdown("Architecture"))
        put_lines(ch, "docs/runbook.md", self.text.markdown("Runbook"))
        put_lines(ch, "README.md", self.text.markdown(self.p.name))
        put_lines(ch, ".gitignore", ["node_modules/", "dist/", ".env"] if self.p.lang == "ts"
                  else ["__pycache__/", ".venv/", ".env"])
        put_lines(ch, "migrations/0001_init.sql", self.text.migration(1, "Order"))
        if self.p.lang == "ts":
            ch["public/logo.png"] = random_png(self.rng, 24, 24)
            ch["public/favicon.png"] = random_png(self.rng, 16, 16)
        else:
            put_lines(ch, "Dockerfile", ["FROM python:3.12-slim", "WORKDIR /app", "COPY . .",
                                         "RUN pip install -r requirements.txt",
                                         'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]'])
        return ch

    def paths(self) -> list[str]:
        """The text files on main, in the order they were first added."""
        if self._paths is None:
            self._paths = list(self.lines)
        return self._paths

    def apply(self, changes: Changes, t: int) -> None:
        """Record that main took ``changes`` at ``t`` (Unix seconds)."""
        for path, data in changes.items():
            if (data is None) == (path in self.lines):
                self._paths = None
            self.modified[path] = t
            if data is None:
                self.files.pop(path, None)
                self.lines.pop(path, None)
            else:
                self.files[path] = data
                if not path.endswith(".png"):
                    self.lines[path] = data.decode().splitlines()

    def content_change(self, kind: str, scope: str, t: int, overlay: Changes,
                       avoid: set[str], since: int | None = None) -> Changes:
        """Edits for one commit of ``kind`` in ``scope`` at ``t``, on top of ``overlay``; never touches ``avoid``
        or a locked path, and with ``since`` (a branch's fork time) only paths main left alone after it."""
        r = self.rng
        ch: Changes = {}
        d = self.p.areas[scope]

        def usable(path: str) -> bool:
            if path in avoid or path in self.locked:
                return False
            return since is None or path in overlay or self.modified.get(path, 0) <= since

        def edit(path: str) -> None:
            put_lines(ch, path, self.text.edit(self.get_lines(path, {**overlay, **ch})))

        paths = self.paths()
        sources = [p for p in paths if p.startswith(d + "/") and usable(p)]
        tests = [p for p in paths if p.startswith(f"{self.p.test_dir}/{scope}/") and usable(p)]
        if kind == "docs":
            docs = [p for p in paths if (p.startswith("docs/") or p == "README.md") and usable(p)]
            if docs:
                path = r.choice(docs)
                lines = self.get_lines(path, overlay)
                lines += [f"## {r.choice(VERBS).capitalize()} {r.choice(NOUNS).lower()}s", "", self.text.sentence(), ""]
                put_lines(ch, path, lines)
        elif kind == "ci":
            ci = ".github/workflows/ci.yml" if self.p.lang == "ts" else ".github/workflows/deploy.yml"
            if usable(ci):
                lines = self.get_lines(ci, overlay)
                lines += [f"      - run: {r.choice(['npm run lint', 'npm run build', 'make check', 'echo ok'])}"]
                put_lines(ch, ci, lines)
        elif kind == "chore":
            if usable(".gitignore"):
                put_lines(ch, ".gitignore", self.get_lines(".gitignore", overlay) + [r.choice(
                    ["coverage/", "*.log", ".DS_Store", ".idea/", "tmp/", ".cache/"])])
        if kind == "feat" and r.random() < 0.25:
            noun = r.choice(NOUNS)
            name = (noun[0].lower() + noun[1:]) if self.p.lang == "ts" else snake(noun)
            path = f"{d}/{name}{r.choice(['Service', 'Store', 'View', 'Client'])}{self.p.ext}" \
                if self.p.lang == "ts" else f"{d}/{name}_{r.choice(['service', 'store', 'client'])}{self.p.ext}"
            if path not in self.lines and path not in overlay and usable(path):
                put_lines(ch, path, self.text.source_file(path))
        if kind == "feat" and r.random() < 0.08 and since is None:
            self.migration_no += 1
            noun = r.choice(NOUNS)
            put_lines(ch, f"migrations/{self.migration_no:04d}_{plural(snake(noun))}.sql",
                      self.text.migration(self.migration_no, noun))
        if kind in ("feat", "fix", "refactor", "perf", "test") or not ch:
            n = {"feat": r.randint(1, 3), "refactor": r.randint(2, 4)}.get(kind, r.randint(1, 2))
            pool = tests if kind == "test" else sources
            for path in r.sample(pool, min(n, len(pool))):
                edit(path)
            if kind in ("feat", "fix") and tests and r.random() < 0.6:
                edit(r.choice(tests))
        spare = [s for s in sources if s not in ch]
        if kind == "refactor" and r.random() < 0.1 and len(spare) > 3:
            ch[r.choice(spare)] = None
        if not ch and sources:
            edit(r.choice(sources))
        return ch
