"""A deterministic, offline demo workspace: two git repositories, deployment events and incidents.

``build_demo(root)`` writes:

- ``root/repos/webapp``: about two years and ~1,500 commits of a TypeScript web shop. Six people (one
  of them with a work and a personal e-mail) plus dependabot; feature branches merged with merge
  commits, squash merges ("… (#456)"), conventional, plain and gitmoji subjects; annotated release tags
  ``vMAJOR.MINOR.PATCH`` every one to two weeks (weekly or faster in the last quarter), pre-release tags
  (``v2.0.0-rc.1``, ``v2.3.0-rc.1``) that are not releases, reverted commits (git's standard
  ``Revert "…"`` message) shipped in the next release, and a hotfix release ``v2.4.1`` made only of
  ``fix:`` commits within 72 hours of ``v2.4.0``. Deployments of this repository come from its tags.
- ``root/repos/payments-api``: about a year and ~600 commits of a Python service by three people (one
  shared with webapp). Its deployments are the explicit events in ``deployments.json``.
- ``root/deployments.json``: a JSON list of deployment events (``id``, ``repo``, ``sha``,
  ``environment``, ``status``, ``deployed_at``, ``service``), several per week, each after its commit.
- ``root/incidents.json``: a JSON list of incidents (``id``, ``title``, ``severity``, ``started_at``,
  ``resolved_at`` or null while open, ``repo``, ``deployment_id`` or null, ``sha`` or null).
- ``root/README.txt``: what the workspace holds.

Every timestamp falls before 00:00 UTC on ``as_of`` (default: today, UTC), so windows such as
"last_30_days" always hold data and nothing lies in the future. The same ``as_of`` and ``seed`` give
byte-identical repositories (same commit shas) and JSON files: all names, dates, messages and file
contents come from ``random.Random(seed)``, and git runs with no user or system configuration.

History is written with one ``git fast-import`` process per repository; nothing is downloaded and
nothing is printed.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import os
import random
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

__all__ = ["DemoWorkspace", "build_demo"]

HOUR = 3600
DAY = 86400
ORG = "acme"
_MARKER = "engmetrics-demo"


@dataclass
class DemoWorkspace:
    """What ``build_demo`` wrote: the workspace root, its repositories and its two event files."""

    root: Path
    repos: list[Path]  # git repositories created
    deployments_file: Path  # JSON list of deployment events (for repos that use explicit deploys)
    incidents_file: Path  # JSON list of incidents


# --------------------------------------------------------------------------------------------- people


@dataclass(frozen=True)
class _Person:
    name: str
    email: str
    tz_minutes: int  # fixed UTC offset of the person's working hours
    style: str  # "conventional" | "gitmoji" | "plain" | "mixed"
    weight: float = 1.0
    active: tuple[float, float] = (0.0, 1.0)  # share of the repository's timeline the person works in
    alt_email: str | None = None  # a second address (personal) used now and then


PRIYA = _Person("Priya Raman", "priya.raman@acme.io", 0, "conventional", 1.4,
                alt_email="priya.raman.dev@gmail.com")
MARCUS = _Person("Marcus Chen", "marcus.chen@acme.io", -480, "mixed", 1.2)
SOFIA = _Person("Sofía Álvarez", "sofia.alvarez@acme.io", 60, "gitmoji", 1.0)
JONAS = _Person("Jonas Weber", "jonas.weber@acme.io", 60, "plain", 0.9, active=(0.0, 0.82))
AISHA = _Person("Aisha Okafor", "aisha.okafor@acme.io", 0, "conventional", 1.0, active=(0.12, 1.0))
DANIEL = _Person("Daniel Kim", "daniel.kim@acme.io", -300, "conventional", 0.9, active=(0.35, 1.0))
ELENA = _Person("Elena Petrova", "elena.petrova@acme.io", 120, "conventional", 1.3)
RAVI = _Person("Ravi Patel", "ravi.patel@acme.io", 330, "mixed", 1.0, active=(0.08, 1.0))
DEPENDABOT = _Person("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", 0, "bot", 0.0)
GITHUB = _Person("GitHub", "noreply@github.com", 0, "bot", 0.0)


def _ident(person: _Person, ts: int, *, alt: bool = False) -> str:
    email = person.alt_email if alt and person.alt_email else person.email
    off = person.tz_minutes
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return f"{person.name} <{email}> {ts} {sign}{off // 60:02d}{off % 60:02d}"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------- contents

VERBS = ["fetch", "load", "update", "validate", "format", "compute", "render", "parse", "sync", "normalize",
         "build", "resolve", "apply", "track", "merge", "cancel", "refresh", "export"]
NOUNS = ["Order", "Invoice", "Cart", "User", "Refund", "Session", "Price", "Address", "Product", "Payment",
         "Coupon", "Shipment", "Receipt", "Account", "Token", "Charge", "Webhook", "Ledger"]
FIELDS = ["amount", "total", "quantity", "createdAt", "status", "currency", "discount", "tax", "weight"]
WORDS = ("the service retries failed calls with exponential backoff and records each attempt so that "
         "on-call engineers can follow a request from the edge to the database while totals are always "
         "computed in minor units to avoid rounding errors and every handler validates its input before "
         "touching shared state").split()


TS_STATEMENTS = [
    ["const {var} = await api.get(`/{low}s/${{id}}`);"],
    ["if (!{var}) {{", "  throw new NotFoundError('{noun}');", "}}"],
    ["const total = items.reduce((sum, i) => sum + i.{fld}, 0);"],
    ["logger.debug('{verb} {low}', {{ id }});"],
    ["return {{ ...{var}, updatedAt: new Date().toISOString() }};"],
    ["const {fld} = Number({var}?.{fld} ?? {n});"],
    ["await cache.set(`{low}:${{id}}`, {var}, {{ ttl: {ttl} }});"],
    ["metrics.increment('{low}.{verb}');"],
    ["for (const item of {var}.items ?? []) {{", "  item.{fld} = round(item.{fld}, 2);", "}}"],
]
PY_STATEMENTS = [
    ["{v} = await repo.get_{v}(session, {v}_id)"],
    ["if {v} is None:", '    raise NotFoundError("{noun} not found")'],
    ["total = sum(item.{f} for item in items)"],
    ['log.info("{verb} {v}", extra={{"id": {v}_id}})'],
    ["return {noun}Out.model_validate({v})"],
    ['{f} = Decimal(payload.get("{f}", "{n}"))'],
    ['await cache.set(f"{v}:{{{v}_id}}", {v}, ttl={ttl})'],
    ['metrics.incr("{v}.{verb}")'],
    ["for item in {v}.items:", "    item.{f} = round(item.{f}, 2)"],
]


def _plural(s: str) -> str:
    return s + "es" if s.endswith("s") else s + "s"


def _snake(s: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in s).lstrip("_")


class _Text:
    """Generators of plausible source lines for one language."""

    def __init__(self, rng: random.Random, lang: str):
        self.rng = rng
        self.lang = lang

    def _name(self) -> tuple[str, str]:
        return self.rng.choice(VERBS), self.rng.choice(NOUNS)

    def statement(self, indent: str) -> list[str]:
        r = self.rng
        noun = r.choice(NOUNS)
        fld = r.choice(FIELDS)
        values = {"noun": noun, "var": noun[0].lower() + noun[1:], "low": noun.lower(), "fld": fld,
                  "v": _snake(noun), "f": _snake(fld), "verb": r.choice(VERBS), "n": r.randint(0, 100),
                  "ttl": r.choice((30, 60, 300, 900))}
        template = r.choice(TS_STATEMENTS if self.lang == "ts" else PY_STATEMENTS)
        return [indent + line.format(**values) for line in template]

    def function(self) -> list[str]:
        r = self.rng
        verb, noun = self._name()
        body: list[str] = []
        for _ in range(r.randint(2, 6)):
            body += self.statement("  " if self.lang == "ts" else "    ")
        if self.lang == "ts":
            asy = "async " if r.random() < 0.6 else ""
            head = f"export {asy}function {verb}{noun}(id: string, opts: {noun}Options = {{}}): Promise<{noun}> {{"
            return [head, *body, "}", ""]
        asy = "async " if r.random() < 0.7 else ""
        head = f"{asy}def {verb}_{_snake(noun)}({_snake(noun)}_id: str, *, session: Session) -> {noun}Out:"
        doc = f'    """{verb.capitalize()} one {_snake(noun).replace("_", " ")}."""'
        return [head, doc, *body, "", ""]

    def header(self, path: str) -> list[str]:
        if self.lang == "ts":
            mods = self.rng.sample(["../lib/api", "../lib/logger", "../lib/cache", "../lib/metrics", "./types"], 3)
            return [f"import {{ {m.rsplit('/', 1)[-1]} }} from '{m}';" for m in mods] + [""]
        return ["from __future__ import annotations", "", "import logging", "from decimal import Decimal", "",
                "from app.db import Session, repo", "from app.errors import NotFoundError", "",
                "log = logging.getLogger(__name__)", "", ""]

    def source_file(self, path: str) -> list[str]:
        lines = self.header(path)
        for _ in range(self.rng.randint(2, 4)):
            lines += self.function()
        return lines

    def sentence(self) -> str:
        n = self.rng.randint(8, 18)
        start = self.rng.randrange(len(WORDS) - n)
        return " ".join(WORDS[start:start + n]).capitalize() + "."

    def markdown(self, title: str) -> list[str]:
        lines = [f"# {title}", ""]
        for _ in range(self.rng.randint(2, 4)):
            lines += [f"## {self.rng.choice(VERBS).capitalize()} {self.rng.choice(NOUNS).lower()}s", "",
                      self.sentence(), self.sentence(), ""]
        return lines

    def migration(self, number: int, noun: str) -> list[str]:
        t = _plural(_snake(noun))
        if number == 1 or self.rng.random() < 0.4:
            return [f"-- {number:04d}: create {t}", f"CREATE TABLE {t} (",
                    "    id UUID PRIMARY KEY,", "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),",
                    f"    {self.rng.choice(FIELDS).lower()} NUMERIC(12, 2) NOT NULL", ");", ""]
        col = self.rng.choice(FIELDS).lower()
        return [f"-- {number:04d}: {t}.{col}", f"ALTER TABLE {t} ADD COLUMN {col}_v2 TEXT;",
                f"CREATE INDEX idx_{t}_{col} ON {t} ({col}_v2);", ""]

    def edit(self, lines: list[str], *, max_lines: int = 160) -> list[str]:
        """A changed copy of ``lines``: a function added, a few body lines rewritten or a block removed."""
        r = self.rng
        out = list(lines)

        def body_line() -> int | None:
            n = len(out)
            if not n:
                return None
            start = r.randrange(n)
            for k in range(n):
                i = (start + k) % n
                s = out[i]
                if s.startswith("  ") and not s.startswith('    """'):
                    return i
            return None

        op = r.random()
        if len(out) > max_lines and op < 0.8:
            op = 0.95
        if op < 0.3:
            out += self.function()
        elif op < 0.85:
            for _ in range(r.randint(1, 3)):
                i = body_line()
                if i is None:
                    out += self.function()
                    break
                indent = out[i][: len(out[i]) - len(out[i].lstrip())]
                k = r.randint(0, 2)
                out[i:i + k] = self.statement(indent[:4])
        else:
            starts = [i for i, s in enumerate(out) if s.startswith(("export ", "def ", "async def "))]
            if len(starts) > 2:
                j = r.randrange(len(starts) - 1)
                del out[starts[j]:starts[j + 1]]
            else:
                out += self.function()
        return out


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A valid PNG with random pixels, built with stored deflate blocks so the bytes never depend on zlib."""
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height))
    blocks = []
    for i in range(0, len(raw), 65535):
        chunk = raw[i:i + 65535]
        final = 1 if i + 65535 >= len(raw) else 0
        blocks.append(struct.pack("<BHH", final, len(chunk), 0xFFFF ^ len(chunk)) + chunk)
    idat = b"\x78\x01" + b"".join(blocks) + struct.pack(">I", zlib.adler32(raw))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------- fast-import


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "engmetrics demo", "GIT_AUTHOR_EMAIL": "demo@engmetrics.invalid",
        "GIT_COMMITTER_NAME": "engmetrics demo", "GIT_COMMITTER_EMAIL": "demo@engmetrics.invalid",
        "LC_ALL": "C",
    })
    return env


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=_git_env(), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class _FastImport:
    """One ``git fast-import`` process fed a generated stream; marks are handed out here."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.marks_file = repo / ".git" / "demo-marks"
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["git", "-c", "core.compression=1", "fast-import", "--quiet", "--done",
             f"--export-marks={self.marks_file}"],
            cwd=repo, env=_git_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        assert self.proc.stdin is not None
        self.out = self.proc.stdin
        self.next_mark = 1
        self.out.write(b"feature done\n")

    def _data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def commit(self, ref: str, author: str, committer: str, message: str, parents: list[int],
               changes: dict[str, bytes | None]) -> int:
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


# ------------------------------------------------------------------------------------------ histories


@dataclass
class _MainCommit:
    time: int
    mark: int
    subject: str
    is_merge: bool
    members: list[int] = field(default_factory=list)  # marks this commit brings to main (itself + branch)


@dataclass
class _Profile:
    name: str
    lang: str  # "ts" | "py"
    days: int
    target_commits: int
    people: list[_Person]
    lead: _Person
    areas: dict[str, str]  # scope → directory of its sources
    ext: str
    test_dir: str


WEBAPP = _Profile("webapp", "ts", 730, 1500, [PRIYA, MARCUS, SOFIA, JONAS, AISHA, DANIEL], PRIYA,
                  {"api": "src/api", "ui": "src/ui", "payments": "src/payments", "utils": "src/utils"},
                  ".ts", "tests")
PAYMENTS = _Profile("payments-api", "py", 365, 600, [ELENA, MARCUS, RAVI], ELENA,
                    {"charges": "app/charges", "refunds": "app/refunds", "webhooks": "app/webhooks",
                     "ledger": "app/ledger"}, ".py", "tests")

TOPICS = {
    "api": ["pagination for /api/orders", "rate limiting on login", "order search endpoint", "ETag caching",
            "bulk user import", "webhook retries", "request ids in logs", "API versioning header"],
    "ui": ["dark mode toggle", "saved carts", "checkout progress bar", "product quick view", "skeleton loaders",
           "address autocomplete", "keyboard navigation in menus", "cart badge count"],
    "payments": ["multi-currency totals", "3-D Secure challenge flow", "refund reasons", "Apple Pay button",
                 "invoice PDF download", "partial captures", "tax rounding", "payment retry banner"],
    "utils": ["date formatting helpers", "money formatter", "retry helper", "feature flag client"],
    "charges": ["idempotency keys", "partial captures", "charge metadata", "currency conversion",
                "charge search", "capture timeouts"],
    "refunds": ["partial refunds", "refund reasons", "refund webhooks", "refund reconciliation"],
    "webhooks": ["signature verification", "webhook replay", "dead-letter queue", "event deduplication"],
    "ledger": ["double-entry postings", "daily settlement report", "ledger snapshots", "balance checks"],
}
FIX_PHRASES = ["handle null {t}", "prevent double submit in {t}", "race condition in {t}", "wrong rounding in {t}",
               "crash when {t} is empty", "off-by-one in {t}", "stale cache for {t}", "timeout in {t}"]
PLAIN = ["WIP", "address review comments", "tweak styles", "cleanup", "more tests", "small fixes",
         "update copy", "fix lint"]
GITMOJI = {"feat": "✨", "fix": "🐛", "refactor": "♻️", "perf": "⚡️", "docs": "📝", "test": "✅", "chore": "🔧",
           "ci": "👷"}
GITMOJI_CODES = {"feat": "sparkles", "fix": "bug", "refactor": "recycle", "perf": "zap", "docs": "memo",
                 "test": "white_check_mark", "chore": "wrench", "ci": "construction_worker"}
DEPS_TS = {"lodash": "4.17.20", "axios": "1.6.2", "react": "18.2.0", "react-dom": "18.2.0", "zod": "3.22.2",
           "date-fns": "2.30.0", "express": "4.18.2", "jest": "29.6.4", "typescript": "5.2.2"}
DEPS_PY = {"fastapi": "0.110.0", "pydantic": "2.6.1", "sqlalchemy": "2.0.27", "httpx": "0.26.0",
           "stripe": "8.2.0", "uvicorn": "0.27.1", "pytest": "8.0.1"}


class _History:
    """Builds one repository's history through fast-import, in time order."""

    def __init__(self, profile: _Profile, rng: random.Random, start: int, end: int, fi: _FastImport):
        self.p = profile
        self.rng = rng
        self.start = start
        self.end = end
        self.fi = fi
        self.text = _Text(rng, profile.lang)
        self.files: dict[str, bytes] = {}
        self.lines: dict[str, list[str]] = {}
        self._paths: list[str] | None = None  # text paths in insertion order (cache of list(self.lines))
        self.modified: dict[str, int] = {}  # path → last time main changed it
        self.locked: set[str] = set()
        self.main: list[_MainCommit] = []
        self.main_times: list[int] = []
        self.pr = 11
        self.migration_no = 1
        self.deps = dict(DEPS_TS if profile.lang == "ts" else DEPS_PY)
        self.subjects: dict[int, str] = {}
        self.authors: dict[int, int] = {}  # mark → author time

    # ---------------------------------------------------------------- helpers
    def frac(self, t: int) -> float:
        return (t - self.start) / (self.end - self.start)

    def active(self, t: int) -> list[_Person]:
        f = self.frac(t)
        return [p for p in self.p.people if p.active[0] <= f <= p.active[1]]

    def pick_author(self, t: int, exclude: _Person | None = None) -> _Person:
        people = [p for p in self.active(t) if p is not exclude] or self.active(t)
        return self.rng.choices(people, [p.weight for p in people])[0]

    def work_time(self, person: _Person, lo: float, hi: float) -> int:
        """A time in [lo, hi], preferably on a weekday within the person's local working hours."""
        r = self.rng
        for _ in range(12):
            t = int(r.uniform(lo, hi))
            local = datetime.fromtimestamp(t + person.tz_minutes * 60, UTC)
            if (local.weekday() < 5 and 8.5 <= local.hour + local.minute / 60 <= 20) or r.random() < 0.03:
                return t
        return int(r.uniform(lo, hi))

    def next_pr(self) -> int:
        self.pr += self.rng.randint(1, 3)
        return self.pr

    def _set(self, changes: dict[str, bytes | None], path: str, lines: list[str]) -> None:
        changes[path] = "\n".join(lines).encode() + b"\n"

    def get_lines(self, path: str, overlay: dict[str, bytes | None]) -> list[str]:
        if path in overlay:
            data = overlay[path]
            return [] if data is None else data.decode().splitlines()
        return list(self.lines.get(path, []))

    def author_of(self, person: _Person, ts: int) -> str:
        dt = datetime.fromtimestamp(ts + person.tz_minutes * 60, UTC)
        alt = person.alt_email is not None and (dt.weekday() >= 5 or dt.hour >= 20 or self.rng.random() < 0.08)
        return _ident(person, ts, alt=alt)

    # ---------------------------------------------------------------- the tree
    def manifest(self) -> dict[str, list[str]]:
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

    def initial_tree(self) -> dict[str, bytes | None]:
        ch: dict[str, bytes | None] = {}
        for scope, d in self.p.areas.items():
            for noun in self.rng.sample(NOUNS, 3):
                name = (noun[0].lower() + noun[1:]) if self.p.lang == "ts" else _snake(noun)
                self._set(ch, f"{d}/{name}{self.p.ext}", self.text.source_file(f"{d}/{name}"))
                self._set(ch, f"{self.p.test_dir}/{scope}/{name}.test.ts" if self.p.lang == "ts"
                          else f"{self.p.test_dir}/{scope}/test_{name}.py", self.text.source_file("test"))
        for path, lines in self.manifest().items():
            self._set(ch, path, lines)
        owners = ["# Code owners", f"* @{ORG}/platform"] + [
            f"/{d}/ @{ORG}/{scope}-team" for scope, d in self.p.areas.items()]
        self._set(ch, ".github/CODEOWNERS", owners)
        runner = "npm ci && npm test" if self.p.lang == "ts" else "pip install -r requirements.txt && pytest"
        ci = ["name: CI", "on:", "  push:", "    branches: [main]", "  pull_request:", "jobs:", "  test:",
              "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/checkout@v3",
              f"      - run: {runner}"]
        self._set(ch, ".github/workflows/ci.yml" if self.p.lang == "ts" else ".github/workflows/deploy.yml", ci)
        self._set(ch, "docs/architecture.md", self.text.markdown("Architecture"))
        self._set(ch, "docs/runbook.md", self.text.markdown("Runbook"))
        self._set(ch, "README.md", self.text.markdown(self.p.name))
        self._set(ch, ".gitignore", ["node_modules/", "dist/", ".env"] if self.p.lang == "ts"
                  else ["__pycache__/", ".venv/", ".env"])
        self._set(ch, "migrations/0001_init.sql", self.text.migration(1, "Order"))
        if self.p.lang == "ts":
            ch["public/logo.png"] = _png(self.rng, 24, 24)
            ch["public/favicon.png"] = _png(self.rng, 16, 16)
        else:
            self._set(ch, "Dockerfile", ["FROM python:3.12-slim", "WORKDIR /app", "COPY . .",
                                         "RUN pip install -r requirements.txt",
                                         'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]'])
        return ch

    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = list(self.lines)
        return self._paths

    def apply(self, changes: dict[str, bytes | None], t: int) -> None:
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

    # ---------------------------------------------------------------- subjects
    def subject(self, person: _Person, kind: str, scope: str, topic: str) -> str:
        r = self.rng
        if kind == "fix":
            desc = r.choice(FIX_PHRASES).format(t=topic)
        elif kind == "feat":
            desc = f"{r.choice(['add', 'support', 'introduce'])} {topic}"
        elif kind == "refactor":
            desc = f"{r.choice(['extract', 'simplify', 'split up', 'rename'])} {topic} {r.choice(['logic', 'module', 'helpers'])}"
        elif kind == "perf":
            desc = f"{r.choice(['cache', 'memoize', 'batch queries for'])} {topic}"
        elif kind == "docs":
            desc = f"document {topic}"
        elif kind == "test":
            desc = f"cover {topic}"
        elif kind == "ci":
            desc = r.choice(["cache dependencies in CI", "run tests on pull requests", "split lint job"])
        else:
            desc = r.choice(["tidy config", "update .gitignore", "bump tooling", "remove dead code"])
        style = person.style
        if style == "mixed":
            style = r.choice(["conventional", "conventional", "plain", "gitmoji"])
        if style == "conventional" or kind == "fix" and style != "plain" and r.random() < 0.5:
            scoped = r.random() < 0.75 and kind not in ("ci", "chore")
            return f"{kind}({scope}): {desc}" if scoped else f"{kind}: {desc}"
        if style == "gitmoji":
            if r.random() < 0.25:
                return f":{GITMOJI_CODES.get(kind, 'wrench')}: {desc}"
            return f"{GITMOJI.get(kind, '🔧')} {desc}"
        if r.random() < 0.08:
            return r.choice(PLAIN)
        return desc[0].upper() + desc[1:]

    def pick_kind(self, t: int) -> str:
        f = self.frac(t)
        p_fix = 0.22 if f < 0.4 else 0.32 if f < 0.75 else 0.14
        kinds = ["fix", "feat", "refactor", "perf", "docs", "test", "chore", "ci"]
        rest = 1.0 - p_fix
        weights = [p_fix] + [rest * w for w in (0.45, 0.15, 0.06, 0.1, 0.12, 0.09, 0.03)]
        return self.rng.choices(kinds, weights)[0]

    def content_change(self, kind: str, scope: str, t: int, overlay: dict[str, bytes | None],
                       avoid: set[str], since: int | None = None) -> dict[str, bytes | None]:
        """Edits for one commit of ``kind`` in ``scope``, on top of ``overlay``; never touches ``avoid``."""
        r = self.rng
        ch: dict[str, bytes | None] = {}
        d = self.p.areas[scope]

        def usable(path: str) -> bool:
            if path in avoid or path in self.locked:
                return False
            return since is None or path in overlay or self.modified.get(path, 0) <= since

        def edit(path: str) -> None:
            self._set(ch, path, self.text.edit(self.get_lines(path, {**overlay, **ch})))

        paths = self.paths()
        sources = [p for p in paths if p.startswith(d + "/") and usable(p)]
        tests = [p for p in paths if p.startswith(f"{self.p.test_dir}/{scope}/") and usable(p)]
        if kind == "docs":
            docs = [p for p in paths if (p.startswith("docs/") or p == "README.md") and usable(p)]
            if docs:
                path = r.choice(docs)
                lines = self.get_lines(path, overlay)
                lines += [f"## {r.choice(VERBS).capitalize()} {r.choice(NOUNS).lower()}s", "", self.text.sentence(), ""]
                self._set(ch, path, lines)
        elif kind == "ci":
            ci = ".github/workflows/ci.yml" if self.p.lang == "ts" else ".github/workflows/deploy.yml"
            if usable(ci):
                lines = self.get_lines(ci, overlay)
                lines += [f"      - run: {r.choice(['npm run lint', 'npm run build', 'make check', 'echo ok'])}"]
                self._set(ch, ci, lines)
        elif kind == "chore":
            if usable(".gitignore"):
                self._set(ch, ".gitignore", self.get_lines(".gitignore", overlay) + [r.choice(
                    ["coverage/", "*.log", ".DS_Store", ".idea/", "tmp/", ".cache/"])])
        if kind == "feat" and r.random() < 0.25:
            noun = r.choice(NOUNS)
            name = (noun[0].lower() + noun[1:]) if self.p.lang == "ts" else _snake(noun)
            path = f"{d}/{name}{r.choice(['Service', 'Store', 'View', 'Client'])}{self.p.ext}" \
                if self.p.lang == "ts" else f"{d}/{name}_{r.choice(['service', 'store', 'client'])}{self.p.ext}"
            if path not in self.lines and path not in overlay and usable(path):
                self._set(ch, path, self.text.source_file(path))
        if kind == "feat" and r.random() < 0.08 and since is None:
            self.migration_no += 1
            noun = r.choice(NOUNS)
            self._set(ch, f"migrations/{self.migration_no:04d}_{_plural(_snake(noun))}.sql",
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

    # ---------------------------------------------------------------- commits on main
    def commit_main(self, t: int, author: str, committer: str, message: str,
                    changes: dict[str, bytes | None], *, merge_parent: int | None = None,
                    members: list[int] | None = None, author_time: int | None = None) -> int:
        parents = [self.main[-1].mark] if self.main else []
        if merge_parent is not None:
            parents.append(merge_parent)
        mark = self.fi.commit("refs/heads/main", author, committer, message, parents, changes)
        self.apply(changes, t)
        subject = message.split("\n", 1)[0]
        self.main.append(_MainCommit(t, mark, subject, merge_parent is not None, [mark, *(members or [])]))
        self.main_times.append(t)
        self.subjects[mark] = subject
        self.authors[mark] = author_time if author_time is not None else t
        return mark

    def tip_at(self, t: int) -> _MainCommit:
        i = bisect.bisect_right(self.main_times, t) - 1
        return self.main[max(i, 0)]

    def direct(self, t: int, *, kind: str | None = None, person: _Person | None = None,
               squash: bool | None = None, message: str | None = None,
               changes: dict[str, bytes | None] | None = None, scope: str | None = None) -> int:
        r = self.rng
        person = person or self.pick_author(t)
        kind = kind or self.pick_kind(t)
        scope = scope or r.choice(list(self.p.areas))
        if message is None:
            subject = self.subject(person, kind, scope, r.choice(TOPICS[scope]))
            squash = r.random() < 0.35 if squash is None else squash
            if squash:
                subject += f" (#{self.next_pr()})"
            message = subject + "\n"
            if r.random() < 0.2:
                message += f"\n{self.text.sentence()}\n"
            if r.random() < 0.05:
                other = self.pick_author(t, exclude=person)
                message += f"\nCo-authored-by: {other.name} <{other.email}>\n"
        if changes is None:
            changes = self.content_change(kind, scope, t, {}, set())
        f = self.frac(t)
        if squash:
            at = self.work_time(person, t - (3 if f < 0.75 else 1) * DAY, t - 2 * HOUR)
            return self.commit_main(t, self.author_of(person, at), _ident(GITHUB, t), message, changes,
                                    author_time=at)
        return self.commit_main(t, self.author_of(person, t), self.author_of(person, t), message, changes)

    def merge_pr(self, t: int, *, bot_bump: bool = False, person: _Person | None = None) -> int:
        """A pull request: commits on a branch forked earlier, merged into main with a merge commit."""
        r = self.rng
        f = self.frac(t)
        person = person or self.pick_author(t)
        scope = r.choice(list(self.p.areas))
        topic = r.choice(TOPICS[scope])
        if bot_bump:
            life = int(r.uniform(6 * HOUR, 4 * DAY))
        elif f < 0.75:
            life = int(r.uniform(1 * DAY, 6 * DAY))
        else:
            life = int(r.uniform(3 * HOUR, 1.5 * DAY))
        fork_t = max(t - life, self.main_times[0] + 60)
        fork = self.tip_at(fork_t)
        overlay: dict[str, bytes | None] = {}
        n = 1 if bot_bump else r.randint(1, 4)
        times = sorted(self.work_time(person, fork_t, t - 600) for _ in range(n))
        parent = fork.mark
        members: list[int] = []
        pr = self.next_pr()
        if bot_bump:
            dep = r.choice(sorted(self.deps))
            if self.deps.get("lodash") == "4.17.20":  # the classic security bump comes first
                dep = "lodash"
            old = self.deps[dep]
            major, minor, patch = (int(x) for x in old.split("."))
            new = f"{major}.{minor}.{patch + 1}" if r.random() < 0.7 else f"{major}.{minor + 1}.0"
            if dep == "lodash" and old == "4.17.20":
                new = "4.17.21"
            manifests = self.manifest()
            if any(not (p not in self.locked and self.modified.get(p, 0) <= fork_t) for p in manifests):
                return self.direct(t, person=person)
            self.deps[dep] = new
            for path, lines in self.manifest().items():
                self._set(overlay, path, lines)
            title = f"Bump {dep} from {old} to {new}"
            eco = "npm_and_yarn" if self.p.lang == "ts" else "pip"
            branch = f"dependabot/{eco}/{dep}-{new}"
            msg = (f"{title}\n\nBumps [{dep}](https://github.com/{dep}/{dep}) from {old} to {new}.\n\n"
                   f"Signed-off-by: {DEPENDABOT.name} <support@github.com>\n")
            parent = self.fi.commit("refs/demo/pr", _ident(DEPENDABOT, times[0]), _ident(GITHUB, times[0]),
                                    msg, [parent], dict(overlay))
            members.append(parent)
            self.subjects[parent] = title
            self.authors[parent] = times[0]
        else:
            kind = r.choice(["feat", "feat", "feat", "fix", "refactor", "perf"])
            title = self.subject(person, kind, scope, topic)
            branch = f"{'feature' if kind != 'fix' else 'fix'}/{topic.lower().replace(' ', '-').replace('/', '')}"
            branch = "".join(c for c in branch if c.isalnum() or c in "/-.")
            for i, ct in enumerate(times):
                ckind = kind if i == 0 else r.choice([kind, "test", "fix", "refactor"])
                ch = self.content_change(ckind, scope, ct, overlay, set(), since=fork_t)
                if not ch:
                    continue
                msg = (title if i == 0 else self.subject(person, ckind, scope, topic)) + "\n"
                if i > 0 and r.random() < 0.25:
                    msg = r.choice(PLAIN) + "\n"
                who = self.author_of(person, ct)
                parent = self.fi.commit("refs/demo/pr", who, who, msg, [parent], ch)
                overlay.update(ch)
                members.append(parent)
                self.subjects[parent] = msg.strip()
                self.authors[parent] = ct
        if not members:
            return self.direct(t, person=person)
        merger = person if not bot_bump and r.random() < 0.7 else self.pick_author(t)
        message = f"Merge pull request #{pr} from {ORG}/{branch}\n\n{title}\n"
        return self.commit_main(t, self.author_of(merger, t), _ident(GITHUB, t), message, overlay,
                                merge_parent=parent, members=members)

    # ---------------------------------------------------------------- schedule
    def change_times(self, exclude: list[tuple[int, int]], per_change: float) -> list[tuple[int, _Person]]:
        """Times of ordinary changes on main: weekdays in working hours, rate varying over the timeline."""
        r = self.rng
        first_day = self.start // DAY + 1
        last_day = self.end // DAY
        weights = []
        for day in range(first_day, last_day):
            d = date.fromordinal(date(1970, 1, 1).toordinal() + day)
            w = 1.0 if d.weekday() < 5 else 0.07
            if (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 3):
                w *= 0.3
            f = (day * DAY - self.start) / (self.end - self.start)
            w *= 0.75 + 0.6 * math.sin(math.pi * min(f, 0.7) / 0.7 * 0.5) - (0.1 if f > 0.8 else 0.0)
            weights.append((day, w))
        total_w = sum(w for _, w in weights)
        base = self.p.target_commits / per_change / total_w
        out = []
        for day, w in weights:
            lam = base * w
            n, p, limit = 0, 1.0, math.exp(-lam)
            while True:
                p *= r.random()
                if p <= limit:
                    break
                n += 1
            for _ in range(n):
                person = self.pick_author(day * DAY)
                local = r.uniform(9, 19.5) if r.random() < 0.93 else r.uniform(19.5, 23.5)
                t = int(day * DAY + local * HOUR - person.tz_minutes * 60)
                if self.start + 2 * HOUR < t < self.end - 1800 and not any(a <= t <= b for a, b in exclude):
                    out.append((t, person))
        out.sort(key=lambda x: x[0])
        return out


# ---------------------------------------------------------------------------------------------- webapp


@dataclass
class _Release:
    time: int
    version: str
    rc: list[tuple[str, int]] = field(default_factory=list)
    hotfix: bool = False


def _plan_releases(rng: random.Random, start: int, end: int) -> list[_Release]:
    """Release times and versions: 1.x, then 2.x; v2.4.1 is a hotfix within 72 h of v2.4.0."""
    span = end - start
    t = start + 21 * DAY
    times = []
    while True:
        f = (t - start) / span
        step = rng.uniform(10, 15) if f < 0.5 else rng.uniform(7, 12) if f < 0.75 else rng.uniform(3.5, 7)
        t += int(step * DAY)
        d = datetime.fromtimestamp(t, UTC)
        while d.weekday() >= 5:
            d += timedelta(days=1)
        t = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) + int(rng.uniform(14, 17.5) * HOUR)
        if t > end - 12 * HOUR:
            break
        times.append(t)
    n = len(times)
    major_at = round(0.4 * n)
    releases: list[_Release] = []
    major, minor, patch = 1, 0, 0
    post = 0
    i = 0
    while i < len(times):
        t = times[i]
        if i == 0:
            pass
        elif i == major_at:
            major, minor, patch = 2, 0, 0
        elif major == 2:
            post += 1
            if rng.random() < 0.4 or (minor < 4 and post % 3 == 0):
                minor, patch = minor + 1, 0
            else:
                patch += 1
        elif rng.random() < 0.35:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        rel = _Release(t, f"v{major}.{minor}.{patch}")
        prev_t = releases[-1].time if releases else start
        if rel.version in ("v2.0.0", "v2.3.0"):
            count = 2 if rel.version == "v2.0.0" else 1
            for k in range(count):
                rt = t - int((t - prev_t) * (0.55 - 0.2 * k)) if t - prev_t < 6 * DAY else \
                    t - int(rng.uniform(2.5, 3.5) * DAY) + k * DAY
                releases_rc = (f"{rel.version}-rc.{k + 1}", rt)
                rel.rc.append(releases_rc)
        releases.append(rel)
        if rel.version == "v2.4.0":
            hot = _Release(t + int(rng.uniform(28, 44) * HOUR), "v2.4.1", hotfix=True)
            releases.append(hot)
            patch = 1
            while i + 1 < len(times) and times[i + 1] < hot.time + 2 * DAY:
                i += 1
        i += 1
    return releases


def _build_webapp(repo: Path, rng: random.Random, start: int, end: int) -> dict:
    fi = _FastImport(repo)
    try:
        return _webapp_history(fi, rng, start, end)
    except BaseException:
        fi.abort()
        raise


def _webapp_history(fi: _FastImport, rng: random.Random, start: int, end: int) -> dict:
    h = _History(WEBAPP, rng, start, end, fi)
    releases = _plan_releases(rng, start, end)
    hot = next(i for i, r in enumerate(releases) if r.hotfix)
    hot_window = (releases[hot - 1].time, releases[hot].time)
    bug_t = hot_window[0] - int(rng.uniform(1.0, 2.5) * DAY)
    n = len(releases)
    revert_idx = [i for i in (round(0.3 * n), round(0.83 * n)) if abs(i - hot) > 2 and i + 1 < n]

    events: list[tuple[int, int, str, object]] = []
    seq = 0

    def push(t: int, kind: str, data: object = None) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, data))

    for rel in releases:
        push(rel.time, "release", rel)
        for name, rt in rel.rc:
            push(rt, "rc", name)
    fixes = sorted(int(hot_window[0] + (hot_window[1] - hot_window[0]) * x) for x in (0.3, 0.72))
    for ft in fixes:
        push(ft, "hotfix_fix")
    push(bug_t, "bug")
    for i in revert_idx:
        lo, hi = releases[i - 1].time, releases[i].time
        push(lo + int((hi - lo) * rng.uniform(0.5, 0.8)), "revert_target", i)
    for t, person in h.change_times([(hot_window[0] - 3600, hot_window[1] + 600)], per_change=1.42):
        push(t, "change", person)
    bump_t = start + 30 * DAY
    while bump_t < end - 3 * DAY:
        if not (hot_window[0] - DAY <= bump_t <= hot_window[1] + 600):
            push(bump_t, "bump")
        bump_t += int(rng.uniform(14, 28) * DAY)

    # the initial commit
    h.commit_main(start + HOUR, _ident(PRIYA, start + HOUR), _ident(PRIYA, start + HOUR),
                  "Initial commit\n", h.initial_tree())
    tags: list[dict] = []
    special: dict[str, object] = {"reverts": [], "bug": None}
    logo_updated = False
    last_release_mark = None
    while events:
        t, _, kind, data = heapq.heappop(events)
        if kind == "release" or kind == "rc":
            rel = data if kind == "release" else None
            name = rel.version if rel else str(data)
            tip = h.main[-1]
            tagger = PRIYA if rng.random() < 0.6 or h.frac(t) > 0.82 else AISHA if h.frac(t) > 0.12 else MARCUS
            tt = t + rng.randint(60, 900)
            if rel:
                notes = [s.subject for s in h.main if last_release_mark is None or s.mark > last_release_mark]
                last_release_mark = tip.mark
                body = "\n".join(f"- {s}" for s in notes[-12:])
                msg = f"Release {name}\n\n{body}\n" if body else f"Release {name}\n"
            else:
                msg = f"Pre-release {name}\n"
            fi.tag(name, tip.mark, _ident(tagger, tt), msg)
            tags.append({"name": name, "mark": tip.mark, "time": tt, "prerelease": rel is None})
        elif kind == "hotfix_fix":
            person = PRIYA if len(special.get("fixes", [])) == 0 else DANIEL
            scope = "payments" if person is PRIYA else "ui"
            subj = ("fix(payments): handle null currency in cart totals" if person is PRIYA
                    else "fix(ui): restore cart badge count after refresh")
            changes = h.content_change("fix", scope, t, {}, set())
            at = t - int(rng.uniform(0.3, 1.5) * HOUR)  # squash-merged: written shortly before the merge
            mark = h.commit_main(t, h.author_of(person, at), _ident(GITHUB, t), subj + f" (#{h.next_pr()})\n",
                                 changes, author_time=at)
            special.setdefault("fixes", []).append(mark)
        elif kind == "bug":
            changes = h.content_change("feat", "payments", t, {}, set())
            mark = h.direct(t, person=MARCUS, message=f"feat(payments): multi-currency totals in cart (#{h.next_pr()})\n",
                            changes=changes, squash=False)
            special["bug"] = mark
        elif kind == "revert_target":
            person = h.pick_author(t)
            noun = rng.choice(NOUNS)
            path = f"src/ui/{noun[0].lower() + noun[1:]}CheckoutFlow.tsx"
            before = {}
            ch: dict[str, bytes | None] = {}
            h._set(ch, path, h.text.source_file(path))
            existing = rng.choice([p for p in h.lines if p.startswith("src/ui/") and p not in h.locked])
            before[existing] = h.files[existing]
            before[path] = None
            h._set(ch, existing, h.text.edit(h.lines[existing]))
            subject = ("feat(ui): new one-page checkout flow" if not special["reverts"]
                       else "feat(ui): inline address autocomplete in checkout")
            mark = h.direct(t, person=person, message=subject + "\n", changes=ch, squash=False)
            h.locked.update(before)
            i = int(data)  # type: ignore[arg-type]
            lo, hi = releases[i].time, releases[i + 1].time
            push(lo + int((hi - lo) * rng.uniform(0.2, 0.5)), "revert", (mark, before, subject, person))
        elif kind == "revert":
            mark, before, subject, author = data  # type: ignore[misc]
            person = h.pick_author(t, exclude=author)
            sha = fi.sha(mark)
            msg = f'Revert "{subject}"\n\nThis reverts commit {sha}.\n'
            rmark = h.direct(t, person=person, message=msg, changes=dict(before), squash=False)
            h.locked.difference_update(before)
            special["reverts"].append({"reverted": mark, "revert": rmark, "reverted_subject": subject})  # type: ignore[union-attr]
        elif kind == "bump":
            h.merge_pr(t, bot_bump=True)
        else:
            f = h.frac(t)
            x = rng.random()
            if not logo_updated and f > 0.55:
                logo_updated = True
                h.direct(t, person=SOFIA, message="🎨 refresh logo and favicon\n",
                         changes={"public/logo.png": _png(rng, 32, 32), "public/favicon.png": _png(rng, 16, 16)},
                         squash=False)
            elif x < 1 / 8:
                h.merge_pr(t, person=data)  # type: ignore[arg-type]
            else:
                h.direct(t, person=data)  # type: ignore[arg-type]
    fi.reset("refs/demo/pr")
    marks = fi.finish()
    return {"history": h, "marks": marks, "tags": tags, "special": special, "releases": releases}


# --------------------------------------------------------------------------------------- payments-api


def _build_payments(repo: Path, rng: random.Random, start: int, end: int) -> dict:
    fi = _FastImport(repo)
    try:
        return _payments_history(fi, rng, start, end)
    except BaseException:
        fi.abort()
        raise


def _payments_history(fi: _FastImport, rng: random.Random, start: int, end: int) -> dict:
    h = _History(PAYMENTS, rng, start, end, fi)
    h.commit_main(start + HOUR, _ident(ELENA, start + HOUR), _ident(ELENA, start + HOUR),
                  "Initial commit\n", h.initial_tree())
    events: list[tuple[int, int, _Person | None]] = [
        (t, i, person) for i, (t, person) in enumerate(h.change_times([], per_change=1.25))]
    bump_t = start + 20 * DAY
    while bump_t < end - 3 * DAY:
        events.append((bump_t, -len(events), None))
        bump_t += int(rng.uniform(18, 35) * DAY)
    events.sort(key=lambda e: (e[0], e[1]))
    for t, _, person in events:
        if person is None:
            h.merge_pr(t, bot_bump=True)
        elif rng.random() < 1 / 8:
            h.merge_pr(t, person=person)
        else:
            h.direct(t, person=person)
    fi.reset("refs/demo/pr")
    marks = fi.finish()
    return {"history": h, "marks": marks}


def _deployments(rng: random.Random, h: _History, marks: dict[int, str], start: int, end: int) -> list[dict]:
    """Staging then production deployments of payments-api's main, several per week."""
    out: list[dict] = []
    last_prod_mark = None
    day = start // DAY + 5
    n = 0
    while day < end // DAY:
        d = date.fromordinal(date(1970, 1, 1).toordinal() + day)
        f = (day * DAY - start) / (end - start)
        per_day = 0.55 if f < 0.5 else 0.7 if f < 0.75 else 1.1
        if d.weekday() < 5:
            k = 1 if rng.random() < min(per_day, 1.0) else 0
            if per_day > 1 and rng.random() < per_day - 1:
                k += 1
            slots = sorted(rng.uniform(13.5, 21.0) for _ in range(k))
            for slot in slots:
                t_stage = int(day * DAY + slot * HOUR)
                tip = h.tip_at(t_stage - 300)
                if tip.mark == last_prod_mark or tip.time >= t_stage:
                    continue
                sha = marks[tip.mark]
                p_fail = 0.07 if f < 0.75 else 0.03
                n += 1
                st_status = "failure" if rng.random() < 0.04 else "success"
                out.append({"id": f"dep-{n:04d}", "repo": "payments-api", "sha": sha, "environment": "staging",
                            "status": st_status, "deployed_at": t_stage, "service": "payments-api"})
                if st_status == "failure":
                    continue
                t_prod = t_stage + int(rng.uniform(0.4, 2.5) * HOUR)
                if t_prod >= end - 60:
                    continue
                status = "failure" if rng.random() < p_fail else "success"
                n += 1
                out.append({"id": f"dep-{n:04d}", "repo": "payments-api", "sha": sha, "environment": "production",
                            "status": status, "deployed_at": t_prod, "service": "payments-api"})
                if status == "failure":
                    t_retry = t_prod + int(rng.uniform(0.5, 1.5) * HOUR)
                    if t_retry < end - 60:
                        n += 1
                        out.append({"id": f"dep-{n:04d}", "repo": "payments-api", "sha": sha,
                                    "environment": "production", "status": "success", "deployed_at": t_retry,
                                    "service": "payments-api"})
                    else:
                        continue
                last_prod_mark = tip.mark
        day += 1
    out.sort(key=lambda e: (e["deployed_at"], e["id"]))
    return out


PAY_TITLES = ["Checkout 500s after deploy", "Elevated p99 latency on /api/charges", "Duplicate charges for retried requests",
              "Refund webhooks failing signature check", "Payment intents stuck in processing",
              "Database connection pool exhausted", "Stripe API timeouts causing failed captures",
              "Idempotency key collisions on retries", "Currency rounding errors on invoices",
              "Elevated 4xx rate on /v1/refunds", "Settlement report job failing", "Ledger balance mismatch alert"]
WEB_TITLES = ["Elevated p99 latency on /api/orders", "Blank product page for logged-out users",
              "Login loop after session refresh", "Search returns stale results", "Images missing on product grid",
              "Cart not persisting across devices"]


def _incidents(rng: random.Random, end: int, pay: dict, deployments: list[dict], web: dict) -> list[dict]:
    """Incidents for both repositories: attributed to deployments, releases, reverts and the hotfix."""
    raw: list[dict] = []
    ph: _History = pay["history"]
    pmarks: dict[int, str] = pay["marks"]
    prod = [d for d in deployments if d["environment"] == "production" and d["status"] == "success"]
    index = {m.mark: i for i, m in enumerate(ph.main)}
    sha_to_mark = {s: m for m, s in pmarks.items()}
    recent = [i for i, d in enumerate(prod) if d["deployed_at"] > end - 28 * DAY and i + 1 < len(prod)]
    older = [i for i, d in enumerate(prod) if d["deployed_at"] <= end - 90 * DAY and i > 0 and i + 1 < len(prod)]
    mid = [i for i, d in enumerate(prod) if end - 90 * DAY < d["deployed_at"] <= end - 28 * DAY and i + 1 < len(prod)]
    chosen = sorted(set(rng.sample(older, min(8, len(older))) + rng.sample(mid, min(1, len(mid)))
                        + rng.sample(recent, min(2, len(recent)))))
    titles = rng.sample(PAY_TITLES, len(PAY_TITLES))
    for k, i in enumerate(chosen):
        dep, nxt = prod[i], prod[i + 1]
        gap = nxt["deployed_at"] - dep["deployed_at"]
        started = dep["deployed_at"] + int(min(gap * 0.5, rng.uniform(0.3, 6) * HOUR))
        sev = rng.choices(["sev1", "sev2", "sev3"], [0.15, 0.35, 0.5])[0]
        dur = {"sev1": (0.5, 3), "sev2": (1, 10), "sev3": (3, 60)}[sev]
        resolved: int | None = started + int(rng.uniform(*dur) * HOUR)
        sha = None
        if rng.random() < 0.6 and i > 0:
            lo = index[sha_to_mark[prod[i - 1]["sha"]]]
            hi = index[sha_to_mark[dep["sha"]]]
            shipped = [m for m in ph.main[lo + 1:hi + 1] if not m.is_merge]
            if shipped:
                sha = pmarks[rng.choice(shipped).mark]
        raw.append({"title": titles[k % len(titles)], "severity": sev, "started_at": started,
                    "resolved_at": resolved, "repo": "payments-api",
                    "deployment_id": dep["id"] if rng.random() < 0.7 else None, "sha": sha})
    # webapp: tied to releases
    wh: _History = web["history"]
    wmarks: dict[int, str] = web["marks"]
    rel_tags = [t for t in web["tags"] if not t["prerelease"]]
    by_name = {t["name"]: t for t in rel_tags}
    hot_prev = next(r for r in web["releases"] if r.version == "v2.4.0")
    hot = next(r for r in web["releases"] if r.hotfix)
    t0 = by_name[hot_prev.version]["time"] + int(rng.uniform(2, 6) * HOUR)
    raw.append({"title": "Cart totals show NaN for some currencies", "severity": "sev2", "started_at": t0,
                "resolved_at": by_name[hot.version]["time"] + 900, "repo": "webapp", "deployment_id": None,
                "sha": wmarks[web["special"]["bug"]]})
    for rv in web["special"]["reverts"][:1]:
        rel = next(t for t in rel_tags if t["mark"] >= rv["reverted"])
        raw.append({"title": "Checkout button unresponsive on Safari", "severity": "sev1",
                    "started_at": (st := rel["time"] + int(rng.uniform(1, 4) * HOUR)),
                    "resolved_at": st + int(rng.uniform(2, 5) * HOUR), "repo": "webapp", "deployment_id": None,
                    "sha": wmarks[rv["reverted"]]})
    candidates = [i for i, t in enumerate(rel_tags[:-1]) if t["time"] < end - 100 * DAY and i > 0]
    picks = sorted(rng.sample(candidates, min(4, len(candidates))))
    last = [i for i, t in enumerate(rel_tags[:-1]) if t["time"] > end - 25 * DAY]
    if last:
        picks.append(last[-1])
    for k, i in enumerate(picks):
        tag, nxt = rel_tags[i], rel_tags[i + 1]
        started = tag["time"] + int(min((nxt["time"] - tag["time"]) * 0.5, rng.uniform(1, 20) * HOUR))
        sev = rng.choices(["sev2", "sev3"], [0.4, 0.6])[0]
        resolved = started + int(rng.uniform(1, 30) * HOUR)
        sha = None
        if rng.random() < 0.5:
            shipped = [m for m in wh.main if rel_tags[i - 1]["mark"] < m.mark <= tag["mark"] and not m.is_merge
                       and not m.subject.startswith("Revert")]
            sha = wmarks[rng.choice(shipped).mark] if shipped else None
        raw.append({"title": WEB_TITLES[k % len(WEB_TITLES)], "severity": sev, "started_at": started,
                    "resolved_at": resolved, "repo": "webapp", "deployment_id": None, "sha": sha})
    # one or two still open: the newest incident, and a recent sev3
    raw.sort(key=lambda x: x["started_at"])
    raw[-1]["resolved_at"] = None
    open_sev3 = [x for x in raw[:-1] if x["severity"] == "sev3" and x["started_at"] > end - 40 * DAY]
    if open_sev3:
        open_sev3[-1]["resolved_at"] = None
    out = []
    for k, x in enumerate(raw):
        resolved = x["resolved_at"]
        if resolved is not None and resolved >= end:
            resolved = end - 60
        out.append({"id": f"INC-{101 + k}", "title": x["title"], "severity": x["severity"],
                    "started_at": _iso(x["started_at"]), "resolved_at": _iso(resolved) if resolved else None,
                    "repo": x["repo"], "deployment_id": x["deployment_id"], "sha": x["sha"]})
    return out


# ------------------------------------------------------------------------------------------- the API

README = """engmetrics demo workspace
=========================

Generated by engmetrics.demo.build_demo (seed {seed}, history up to {as_of} 00:00 UTC). Everything here
is synthetic and deterministic: the same seed and date give the same commit shas and the same files.

repos/webapp        ~2 years of a TypeScript web shop: {web_commits} commits by six people (plus dependabot),
                    feature branches merged with merge commits, squash merges, reverts.
                    Deployments come from its annotated release tags (vMAJOR.MINOR.PATCH, {web_releases}
                    releases); pre-release tags such as v2.3.0-rc.1 are not deployments. v2.4.1 is a hotfix
                    released within 72 hours of v2.4.0.
repos/payments-api  ~1 year of a Python payments service: {pay_commits} commits by three people.
                    Deployments are the explicit events in deployments.json.
deployments.json    {deployments} deployment events (id, repo, sha, environment, status, deployed_at, service).
incidents.json      {incidents} incidents (id, title, severity, started_at, resolved_at, repo,
                    deployment_id, sha); resolved_at is null while an incident is open.

Try:  engmetrics serve --demo     and ask "How are our DORA metrics this quarter?"
"""


def _prepare_repo(path: Path, overwrite: bool) -> None:
    if path.exists():
        if overwrite or (path / ".git" / _MARKER).exists():
            shutil.rmtree(path)
        else:
            raise FileExistsError(f"{path} exists and is not a demo repository; choose another root")
    path.mkdir(parents=True)
    _git(path, "init", "-q", "--initial-branch=main")
    (path / ".git" / _MARKER).write_text("built by engmetrics.demo\n")


def build_demo(root: Path, *, as_of: date | None = None, seed: int = 7, overwrite: bool = False) -> DemoWorkspace:
    """Build the demo workspace under ``root`` and return where its parts are.

    ``as_of`` (default: today in UTC) is the first day after the history: every timestamp is before
    00:00 UTC on it. ``seed`` picks the variant; equal ``as_of`` and ``seed`` give identical output.
    A previous demo repository under ``root/repos`` is replaced; any other existing directory there
    raises FileExistsError unless ``overwrite`` is true.
    """
    root = Path(root)
    as_of = as_of or datetime.now(UTC).date()
    end = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp())
    root.mkdir(parents=True, exist_ok=True)
    web_path = root / "repos" / "webapp"
    pay_path = root / "repos" / "payments-api"
    for p in (web_path, pay_path):
        _prepare_repo(p, overwrite)

    web = _build_webapp(web_path, random.Random(f"{seed}:webapp"), end - WEBAPP.days * DAY, end)
    pay = _build_payments(pay_path, random.Random(f"{seed}:payments-api"), end - PAYMENTS.days * DAY, end)
    for p in (web_path, pay_path):
        _git(p, "reset", "-q", "--hard", "main")

    rng = random.Random(f"{seed}:events")
    deployments = _deployments(rng, pay["history"], pay["marks"], end - PAYMENTS.days * DAY, end)
    incidents = _incidents(rng, end, pay, deployments, web)
    for d in deployments:
        d["deployed_at"] = _iso(d["deployed_at"])
    deployments_file = root / "deployments.json"
    incidents_file = root / "incidents.json"
    deployments_file.write_text(json.dumps(deployments, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    incidents_file.write_text(json.dumps(incidents, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (root / "README.txt").write_text(README.format(
        seed=seed, as_of=as_of.isoformat(), web_commits=len(web["marks"]), pay_commits=len(pay["marks"]),
        web_releases=sum(1 for t in web["tags"] if not t["prerelease"]), deployments=len(deployments),
        incidents=len(incidents)), encoding="utf-8")
    return DemoWorkspace(root=root, repos=[web_path, pay_path], deployments_file=deployments_file,
                         incidents_file=incidents_file)
