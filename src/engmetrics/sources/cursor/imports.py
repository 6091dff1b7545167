"""`engmetrics import ai-commits FILE` and `engmetrics import ai-changes FILE`: Cursor's tracking data from a file.

A file is CSV (the columns of Cursor's CSV downloads: ``commit_hash``, ``user_email``, ``tab_lines_added``…;
camelCase headers are read too) or JSON: a list of ``AiCommitMetric``/``AiCodeChangeMetric`` objects, one API
response page (``{"items": [...], "totalCount": …}``), or a list of such pages; ``.jsonl``/``.ndjson`` hold one object
or page per line. Every good row lands, each bad row is reported with its line (CSV, JSON lines) or record number
(JSON), and importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from engmetrics.errors import DataError, InvalidInput
from engmetrics.sources.cursor.storage import match_unmatched, write_row
from engmetrics.sources.events import ImportOutcome
from engmetrics.store.db import Store

Kind = Literal["commits", "changes"]
Row = tuple[str, Mapping[str, Any] | str]
"""(where it is, e.g. 'line 3' or 'record 2'; the record, or what is wrong with it)."""
NOT_OBJECT = "not an object (a tracking record)"


def _items(value: Any) -> list[Any]:
    """The records of one JSON value: a page's ``items``/``data``, a list (of records or pages), or one record."""
    if isinstance(value, dict):
        for key in ("items", "data"):
            if isinstance(value.get(key), list):
                return list(value[key])
        return [value]
    if isinstance(value, list):
        out: list[Any] = []
        for v in value:
            out += _items(v) if isinstance(v, dict) and isinstance(v.get("items", v.get("data")), list) else [v]
        return out
    return [value]


def read_rows(path: Path) -> list[Row]:
    """The rows of a tracking file, by extension (.csv/.tsv, .json, .jsonl/.ndjson); `DataError` when unreadable."""
    if not path.is_file():
        raise DataError(f"File {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read {path}: {exc}. Save it as UTF-8 CSV or JSON.") from None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        if not reader.fieldnames:
            raise DataError(f"{path} has no header row.")
        return [(f"line {reader.line_num}", {k.strip(): v for k, v in row.items() if k}) for row in reader]
    if suffix in (".jsonl", ".ndjson"):
        rows: list[Row] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((f"line {number}", f"not valid JSON ({exc.msg})"))
                continue
            rows += [(f"line {number}", v if isinstance(v, dict) else NOT_OBJECT) for v in _items(value)]
        return rows
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        return [(f"record {i}", v if isinstance(v, dict) else NOT_OBJECT) for i, v in enumerate(_items(data), start=1)]
    raise DataError(f"{path}: unknown file type {suffix or '(none)'}; use .csv, .json or .jsonl.")


def import_tracking(store: Store, path: Path, kind: Kind) -> ImportOutcome:
    """Import tracking commits or changes from ``path`` in one transaction (a bad row is rolled back alone), then
    match the commits to stored ones; each bad row is in ``errors`` as 'line N: reason' / 'record N: reason'."""
    rows = read_rows(path)
    outcome = ImportOutcome()
    with store.tx() as conn:
        for where, raw in rows:
            if isinstance(raw, str):
                outcome.errors.append(f"{where}: {raw}")
                continue
            try:
                changed = write_row(conn, kind, raw, "import")
            except InvalidInput as exc:
                outcome.errors.append(f"{where}: {exc.message}")
                continue
            if changed:
                outcome.imported += 1
            else:
                outcome.unchanged += 1
        if kind == "commits":
            match_unmatched(conn)
    return outcome
