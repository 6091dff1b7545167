"""Reading test-coverage reports into their totals: coverage.py JSON, Cobertura XML and LCOV.

- coverage.py JSON (``coverage json``): ``totals`` (``num_statements``, ``covered_lines``, ``num_branches``,
  ``covered_branches``), ``files`` and ``meta.timestamp``, validated with pydantic;
- Cobertura XML (``coverage xml``, JaCoCo/Istanbul/gcovr exports…): parsed with ``pycobertura`` (statements and
  hits over the report's files; branch totals from the root's ``branches-valid``/``branches-covered``);
- LCOV (``lcov``, ``coverage lcov``, Istanbul's ``lcov.info``): parsed with ``lcov_cobertura``'s reader
  (``DA`` lines, ``BRDA``/``BRF``/``BRH`` branches, per ``SF`` record).

The format is recognised from the content (a JSON object, an XML document, ``SF:``/``end_of_record`` lines).
Times are Unix seconds (UTC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from engmetrics.errors import InvalidInput

CoverageFormat = Literal["coverage_json", "cobertura", "lcov"]
FORMATS = ("coverage_json", "cobertura", "lcov")
MAX_REPORT_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class CoverageTotals:
    """A report's totals: lines and branches valid (measurable) and covered, files, the report's own time."""

    format: CoverageFormat
    lines_valid: int
    lines_covered: int
    branches_valid: int | None
    branches_covered: int | None
    files: int
    timestamp: int | None


class _JsonTotals(BaseModel):
    num_statements: int
    covered_lines: int
    num_branches: int | None = None
    covered_branches: int | None = None


class _JsonMeta(BaseModel):
    timestamp: str | None = None
    branch_coverage: bool = False


class _CoverageJson(BaseModel):
    meta: _JsonMeta = _JsonMeta()
    totals: _JsonTotals
    files: dict[str, object] = {}


def detect_format(text: str) -> CoverageFormat:
    """The format of a report's text (`InvalidInput` naming the accepted formats when none fits)."""
    head = text.lstrip()[:2000]
    if head.startswith("{"):
        return "coverage_json"
    if head.startswith("<"):
        return "cobertura"
    if any(line.startswith(("SF:", "TN:", "DA:")) for line in head.splitlines()) or "end_of_record" in text:
        return "lcov"
    raise InvalidInput(
        "Not a coverage report engmetrics reads: send coverage.py JSON (`coverage json`), Cobertura XML "
        "(`coverage xml`, most CI tools) or LCOV (`lcov.info`, `coverage lcov`).", param="file"
    )


def _parse_json(text: str) -> CoverageTotals:
    try:
        report = _CoverageJson.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        raise InvalidInput("The JSON is not a coverage.py report: it needs totals.num_statements and "
                           "totals.covered_lines (write it with `coverage json`).", param="file") from None
    t = report.totals
    stamp = None
    if report.meta.timestamp:
        try:
            when = datetime.fromisoformat(report.meta.timestamp)
            stamp = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
        except ValueError:
            stamp = None
    branches = report.meta.branch_coverage and t.num_branches is not None
    return CoverageTotals("coverage_json", t.num_statements, t.covered_lines,
                          t.num_branches if branches else None, t.covered_branches if branches else None,
                          len(report.files), stamp)


def _int_attr(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


def _parse_cobertura(path: Path) -> CoverageTotals:
    from pycobertura import Cobertura  # lazy: pycobertura brings lxml; only imports of coverage need it

    try:
        report = Cobertura(str(path))
        # A line with hits > 0 is covered (Cobertura's lines-covered), a partly taken branch line too (pycobertura
        # calls it "partial" and counts it among the misses).
        statuses = [status for name in report.files() for _, status in report.line_statuses(name)]
        statements, hits = len(statuses), sum(1 for status in statuses if status != "miss")
        files = len(report.files())
    except Exception:  # pycobertura raises its own, lxml's and KeyError for a malformed report
        raise InvalidInput("The XML is not a Cobertura coverage report (a <coverage> root with <packages>, "
                           "<class filename=…> and <line number hits>): write it with `coverage xml` or your "
                           "tool's Cobertura export.", param="file") from None
    root = report.xml
    stamp = _int_attr(root.get("timestamp"))
    if stamp is not None and stamp > 10**11:  # Cobertura writes milliseconds
        stamp //= 1000
    return CoverageTotals("cobertura", statements, hits, _int_attr(root.get("branches-valid")),
                          _int_attr(root.get("branches-covered")), files, stamp)


def _parse_lcov(text: str) -> CoverageTotals:
    from lcov_cobertura import LcovCobertura  # lazy: needed only for LCOV imports

    try:
        data = LcovCobertura(text).parse()
    except (ValueError, IndexError, KeyError):
        raise InvalidInput("The LCOV file is malformed (expected SF:, DA:<line>,<hits>, end_of_record records).",
                           param="file") from None
    summary = data["summary"]
    files = sum(len(p["classes"]) for p in data["packages"].values())
    if not files:
        raise InvalidInput("The LCOV file has no SF: record: it covers no file.", param="file")
    branches = int(summary["branches-total"])
    return CoverageTotals("lcov", int(summary["lines-total"]), int(summary["lines-covered"]),
                          branches if branches else None, int(summary["branches-covered"]) if branches else None,
                          files, None)


def read_coverage(path: Path) -> CoverageTotals:
    """The totals of the coverage report at ``path`` (format recognised from its content)."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_REPORT_BYTES // 2**20} MiB.", param="file")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.", param="file") from None
    fmt = detect_format(text)
    totals = _parse_json(text) if fmt == "coverage_json" else _parse_cobertura(path) if fmt == "cobertura" else _parse_lcov(text)
    if totals.lines_valid < 0 or not 0 <= totals.lines_covered <= max(totals.lines_valid, 0):
        raise InvalidInput(f"{path}: covered lines ({totals.lines_covered}) must be between 0 and the measured "
                           f"lines ({totals.lines_valid}).", param="file")
    return totals
