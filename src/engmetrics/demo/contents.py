"""Plausible file contents for the demo repositories, from one ``random.Random``: TypeScript or Python
source, Markdown, SQL migrations, sentences, and the edits a commit makes to a file (lists of lines)."""

from __future__ import annotations

import random
from typing import Literal

Lang = Literal["ts", "py"]  # TypeScript or Python

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


def plural(s: str) -> str:
    """The English plural of a lower-case noun."""
    return s + "es" if s.endswith("s") else s + "s"


def snake(s: str) -> str:
    """``CamelCase`` as ``camel_case``."""
    return "".join("_" + c.lower() if c.isupper() else c for c in s).lstrip("_")


class ContentGenerator:
    """Generators of plausible file lines for one language (TypeScript or Python)."""

    def __init__(self, rng: random.Random, lang: Lang):
        self.rng = rng
        self.lang = lang

    def _name(self) -> tuple[str, str]:
        return self.rng.choice(VERBS), self.rng.choice(NOUNS)

    def statement(self, indent: str) -> list[str]:
        r = self.rng
        noun = r.choice(NOUNS)
        fld = r.choice(FIELDS)
        values = {"noun": noun, "var": noun[0].lower() + noun[1:], "low": noun.lower(), "fld": fld,
                  "v": snake(noun), "f": snake(fld), "verb": r.choice(VERBS), "n": r.randint(0, 100),
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
        head = f"{asy}def {verb}_{snake(noun)}({snake(noun)}_id: str, *, session: Session) -> {noun}Out:"
        doc = f'    """{verb.capitalize()} one {snake(noun).replace("_", " ")}."""'
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
        t = plural(snake(noun))
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
