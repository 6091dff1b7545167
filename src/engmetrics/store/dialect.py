"""SQLite's SQL, as the queries are written, translated to PostgreSQL's: the one place the two dialects differ.

The store's queries keep one SQL text (written for SQLite, portable where it can be: see CONTRIBUTING, "SQL that
runs on both stores"); `to_postgres` rewrites what PostgreSQL says differently, token by token (string literals,
quoted names and comments are left alone):

- placeholders: ``?`` → ``%s``, ``:name`` → ``%(name)s``; a literal ``%`` → ``%%`` (psycopg's escaping);
- ``INSERT OR IGNORE`` → ``INSERT … ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` → ``INSERT … ON CONFLICT
  (primary key) DO UPDATE SET`` every other column (those the statement does not list go back to their default, as
  SQLite's REPLACE leaves them); the primary key comes from the `Catalog`;
- an ``INSERT`` into a table whose key the database assigns (SQLite's ``INTEGER PRIMARY KEY``) returns that key, so
  the cursor's ``lastrowid`` is set as SQLite sets it;
- functions: ``instr`` → ``strpos``, ``ifnull`` → ``coalesce``, ``max``/``min`` of two or more arguments →
  ``greatest``/``least``, ``group_concat`` → ``string_agg``, ``json_each(?)`` → ``json_array_elements_text``;
- ``LIKE`` → ``ILIKE`` (SQLite's LIKE ignores ASCII case); ``==`` → ``=``;
- numbers with a decimal point are double precision (SQLite's REAL), never ``numeric``, so ``x / 3600.0`` is the
  same float on both stores; type names ``INTEGER`` → ``BIGINT`` (SQLite's integers are 64-bit), ``REAL`` →
  ``DOUBLE PRECISION``, ``BLOB`` → ``BYTEA``;
- in ``CREATE TABLE`` / ``ALTER TABLE``: ``INTEGER PRIMARY KEY`` → an identity column, ``TEXT`` → ``TEXT COLLATE
  "C"`` (byte order, as SQLite compares), ``WITHOUT ROWID`` and ``AUTOINCREMENT`` dropped.

What it cannot translate it refuses (`UntranslatableSql`, saying what to write instead): ``PRAGMA``,
``sqlite_master``, ``GLOB``, ``rowid``, SQLite's date functions (``strftime``, ``julianday``, ``datetime``…: times
are integer Unix seconds), ``iif``, ``total``, ``typeof``, ``printf`` — code that truly needs one asks
`engmetrics.store.connection.dialect_of` and says each dialect's way. The PostgreSQL store names the statement and
CONTRIBUTING's "SQL that runs on both stores" in its error (`engmetrics.store.postgres`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+)
  | (?P<named>(?<!:):[A-Za-z_][A-Za-z0-9_]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>::|==|!=|<>|<=|>=|\|\|)
  | (?P<char>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class UntranslatableSql(ValueError):
    """SQL using a SQLite feature PostgreSQL has no translation for here."""


@dataclass(frozen=True)
class TableInfo:
    """What the translation needs to know of a table: its columns in order, its primary key, its identity column."""

    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    identity: str | None = None


@dataclass
class Catalog:
    """The store's tables (lowercase names), read from the database after its migrations."""

    tables: dict[str, TableInfo] = field(default_factory=dict)

    def table(self, name: str) -> TableInfo | None:
        """The table called ``name`` (any case), or None."""
        return self.tables.get(name.strip('"').lower())


@dataclass(frozen=True)
class Translated:
    """A statement in PostgreSQL's SQL; ``returns_id``: it ends ``RETURNING <identity>`` (its cursor's lastrowid)."""

    sql: str
    returns_id: bool = False


@dataclass
class _Tok:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


def _tokens(sql: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "char", m.group()) for m in _TOKEN.finditer(sql)]


def _significant(toks: list[_Tok], start: int) -> int:
    """Index of the first token at or after ``start`` that is not blank or a comment (len(toks) if none)."""
    i = start
    while i < len(toks) and toks[i].kind in ("ws", "comment"):
        i += 1
    return i


def _matching(toks: list[_Tok], open_index: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``open_index``."""
    depth = 0
    for i in range(open_index, len(toks)):
        if toks[i].text == "(":
            depth += 1
        elif toks[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    raise UntranslatableSql("unbalanced parentheses")


def _arguments(toks: list[_Tok], open_index: int, close_index: int) -> list[list[_Tok]]:
    """The top-level comma-separated arguments between a ``(`` and its ``)``."""
    args: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks[open_index + 1 : close_index]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            args.append([])
        else:
            args[-1].append(t)
    return args


def _text(toks: list[_Tok]) -> str:
    return "".join(t.text for t in toks)


_TYPE_NAMES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}
_SQLITE_ONLY_FUNCTIONS = {
    "STRFTIME": "keep times as integer Unix seconds and compute calendar parts in Python (engmetrics.periods)",
    "JULIANDAY": "keep times as integer Unix seconds: a difference in days is (b - a) / 86400.0",
    "UNIXEPOCH": "keep times as integer Unix seconds and pass 'now' as a parameter",
    "DATETIME": "keep times as integer Unix seconds and format them in Python",
    "DATE": "keep times as integer Unix seconds and format them in Python",
    "TIME": "keep times as integer Unix seconds and format them in Python",
    "TYPEOF": "store one type per column",
    "PRINTF": "format in Python, or concatenate with ||",
    "FORMAT": "format in Python, or concatenate with ||",
    "IIF": "write CASE WHEN … THEN … ELSE … END",
    "TOTAL": "write coalesce(sum(x), 0)",
    "LAST_INSERT_ROWID": "use the cursor's lastrowid",
    "CHANGES": "use the cursor's rowcount",
}
"""SQLite functions with no translation here, and what to write instead (both stores accept the alternative)."""
_FUNCTIONS = {"INSTR": "strpos", "IFNULL": "coalesce"}
_SCALAR_EXTREMES = {"MAX": "greatest", "MIN": "least"}


def _functions(toks: list[_Tok]) -> list[_Tok]:
    """Functions and operators renamed (see the module docstring), recursively inside arguments."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = _significant(toks, i + 1)
        is_call = t.kind == "word" and nxt < len(toks) and toks[nxt].text == "("
        if is_call and t.upper in _FUNCTIONS:
            out.append(_Tok("word", _FUNCTIONS[t.upper]))
        elif is_call and t.upper in _SCALAR_EXTREMES:
            close = _matching(toks, nxt)
            if len(_arguments(toks, nxt, close)) >= 2:
                out.append(_Tok("word", _SCALAR_EXTREMES[t.upper]))
            else:
                out.append(t)
        elif is_call and t.upper == "GROUP_CONCAT":
            close = _matching(toks, nxt)
            args = _arguments(toks, nxt, close)
            value = _text(_functions(args[0])).strip()
            sep = _text(_functions(args[1])).strip() if len(args) > 1 else "','"
            out.append(_Tok("raw", f"string_agg(CAST({value} AS TEXT), {sep})"))
            i = close + 1
            continue
        elif is_call and t.upper == "JSON_EACH":
            close = _matching(toks, nxt)
            args = _arguments(toks, nxt, close)
            if len(args) != 1:
                raise UntranslatableSql("json_each takes one JSON array here")
            after = _significant(toks, close + 1)
            if after < len(toks) and toks[after].kind == "word" and toks[after].upper not in _CLAUSE_WORDS:
                raise UntranslatableSql("json_each(?) with an alias: write it without one (its column is value)")
            out.append(_Tok("raw", f"json_array_elements_text(CAST({_text(_functions(args[0])).strip()} AS json)) AS json_each(value)"))
            i = close + 1
            continue
        elif t.kind == "word" and t.upper in ("LIKE",):
            out.append(_Tok("word", "ILIKE"))
        elif t.kind == "word" and t.upper == "GLOB":
            raise UntranslatableSql("GLOB has no PostgreSQL translation: use LIKE")
        elif is_call and t.upper in _SQLITE_ONLY_FUNCTIONS:
            raise UntranslatableSql(f"{t.text}() is SQLite's own, with no PostgreSQL translation: "
                                    f"{_SQLITE_ONLY_FUNCTIONS[t.upper]}")
        elif t.kind == "word" and t.upper in ("ROWID", "_ROWID_"):
            raise UntranslatableSql(f"{t.text} is SQLite's hidden row number: give the table a key of its own "
                                    "(INTEGER PRIMARY KEY becomes an identity column on PostgreSQL)")
        elif t.kind == "word" and t.upper in ("PRAGMA", "SQLITE_MASTER", "SQLITE_SCHEMA"):
            raise UntranslatableSql(f"{t.text} is SQLite's own: ask dialect_of(conn) and say PostgreSQL's way")
        elif t.kind == "word" and t.upper in _TYPE_NAMES:
            out.append(_Tok("word", _TYPE_NAMES[t.upper]))
        elif t.kind == "number" and any(c in t.text for c in ".eE"):
            out.append(_Tok("raw", f"CAST({t.text} AS DOUBLE PRECISION)"))
        elif t.kind == "op" and t.text == "==":
            out.append(_Tok("op", "="))
        else:
            out.append(t)
        i += 1
    return out


_CLAUSE_WORDS = {
    "WHERE", "ON", "JOIN", "LEFT", "INNER", "CROSS", "GROUP", "ORDER", "LIMIT", "OFFSET", "UNION", "EXCEPT",
    "INTERSECT", "HAVING", "AND", "OR", "USING", "NATURAL", "FULL", "RIGHT", "WINDOW", "RETURNING",
}


def _ddl(toks: list[_Tok]) -> list[_Tok]:
    """CREATE TABLE / ALTER TABLE column types: identity keys, byte-ordered text, no WITHOUT ROWID."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = _significant(toks, i + 1)
        if t.upper == "INTEGER" and nxt < len(toks) and toks[nxt].upper == "PRIMARY":
            key = _significant(toks, nxt + 1)
            if key < len(toks) and toks[key].upper == "KEY":
                out.append(_Tok("raw", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"))
                i = key + 1
                auto = _significant(toks, i)
                if auto < len(toks) and toks[auto].upper == "AUTOINCREMENT":
                    i = auto + 1
                continue
        if t.upper == "WITHOUT" and nxt < len(toks) and toks[nxt].upper == "ROWID":
            i = nxt + 1
            continue
        if t.upper == "AUTOINCREMENT":
            i += 1
            continue
        if t.upper == "TEXT" and t.kind == "word":
            out.append(_Tok("raw", 'TEXT COLLATE "C"'))
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def _placeholders(toks: list[_Tok]) -> list[_Tok]:
    """``?`` and ``:name`` → psycopg's placeholders (kind ``param``); every literal ``%`` doubled."""
    out: list[_Tok] = []
    for t in toks:
        if t.kind == "char" and t.text == "?":
            out.append(_Tok("param", "%s"))
        elif t.kind == "named":
            out.append(_Tok("param", f"%({t.text[1:]})s"))
        elif "%" in t.text:
            out.append(_Tok(t.kind, t.text.replace("%", "%%")))
        else:
            out.append(t)
    return out


def _insert_conflicts(toks: list[_Tok], catalog: Catalog) -> tuple[list[_Tok], bool]:
    """``INSERT OR IGNORE|REPLACE`` → ``ON CONFLICT``; an INSERT into a table with an identity key returns it."""
    first = _significant(toks, 0)
    if first >= len(toks) or toks[first].upper not in ("INSERT", "REPLACE"):
        return toks, False
    i = _significant(toks, first + 1)
    action = None
    if toks[first].upper == "REPLACE":
        action = "REPLACE"
    elif i < len(toks) and toks[i].upper == "OR":
        j = _significant(toks, i + 1)
        action = toks[j].upper
        if action not in ("IGNORE", "REPLACE"):
            raise UntranslatableSql(f"INSERT OR {toks[j].text} has no PostgreSQL translation")
        i = _significant(toks, j + 1)
    if toks[i].upper != "INTO":
        raise UntranslatableSql("expected INTO after INSERT")
    name_at = _significant(toks, i + 1)
    table_name = toks[name_at].text
    info = catalog.table(table_name)
    after_name = _significant(toks, name_at + 1)
    listed: tuple[str, ...] | None = None
    if after_name < len(toks) and toks[after_name].text == "(":
        close = _matching(toks, after_name)
        listed = tuple(_text(a).strip().strip('"').lower() for a in _arguments(toks, after_name, close))
    head = [_Tok("word", "INSERT"), _Tok("ws", " "), _Tok("word", "INTO"), _Tok("ws", " ")]
    body = toks[name_at:]
    has_returning = any(t.upper == "RETURNING" for t in body)
    already = any(t.upper == "CONFLICT" for t in body)
    tail = ""
    if action == "IGNORE" and not already:
        tail = " ON CONFLICT DO NOTHING"
    elif action == "REPLACE" and not already:
        if info is None or not info.primary_key:
            raise UntranslatableSql(f"INSERT OR REPLACE INTO {table_name}: the table has no primary key known here")
        columns = listed if listed is not None else info.columns
        rest = [c for c in info.columns if c not in info.primary_key]
        sets = [f'"{c}" = EXCLUDED."{c}"' if c in columns else f'"{c}" = DEFAULT' for c in rest]
        conflict = ", ".join(f'"{c}"' for c in info.primary_key)
        tail = f" ON CONFLICT ({conflict}) " + (f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING")
    returns_id = bool(info is not None and info.identity and not has_returning)
    if returns_id:
        assert info is not None and info.identity is not None
        tail += f' RETURNING "{info.identity}"'
    while body and (body[-1].kind in ("ws", "comment") or body[-1].text == ";"):
        body = body[:-1]
    if has_returning and tail:
        at = next(k for k, t in enumerate(body) if t.upper == "RETURNING")
        body = [*body[:at], _Tok("raw", tail.strip() + " "), *body[at:]]
        tail = ""
    return [*head, *body, _Tok("raw", tail)], returns_id


def to_postgres(sql: str, catalog: Catalog) -> Translated:
    """``sql`` (SQLite's dialect, ``?``/``:name`` placeholders) in PostgreSQL's, with psycopg's placeholders."""
    toks = _placeholders(_tokens(sql))
    first = _significant(toks, 0)
    lead = [t.upper for t in toks[first:] if t.kind == "word"][:2]
    if lead in (["CREATE", "TABLE"], ["ALTER", "TABLE"]):
        toks = _ddl(toks)
    toks = _functions(toks)
    toks, returns_id = _insert_conflicts(toks, catalog)
    return Translated(_text(toks), returns_id)
