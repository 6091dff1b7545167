"""Check `engmetrics dora` against a second, independent computation on real repositories.

    python bench/dora_reference.py --db /tmp/real/store.db /tmp/real/flask /tmp/real/httpx ...

Each repository must already be synced into the store (`engmetrics sync --repo PATH`). For each one and
three windows (the 90 and 365 days up to its newest release, and calendar 2019), this script computes the
DORA figures straight from git with nothing but the standard library — release tags by the default rule,
``git rev-list <this> --not <every earlier deployment>`` for what each deployment shipped, reverts from
"This reverts commit" lines, hotfix releases, product changes by path — following DESIGN.md's definitions,
and compares them with ``engmetrics dora --json`` over the same window. It never imports engmetrics.

Incidents are not read (public repositories have none here), so change failure rate, recovery time and
rework rate come from git signals only, on both sides. Writes ``bench/results/dora_real.json`` and prints
a Markdown table (repository, window, figure, ours, reference).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

RELEASE = re.compile(r"(?:[vV]|release[-_/][vV]?)?(\d+)\.(\d+)(?:\.(\d+))?")
REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,40})", re.I)
FIX_PREFIX = re.compile(r"^\s*(fix|hotfix|bugfix|bug|patch)(\([^)]*\))?!?\s*:", re.I)
FIX_WORD = re.compile(r"\b(fix|fixes|fixed|fixing|hotfix|hotfixes|bugfix|bugfixes|bug|bugs|patch|patched)\b", re.I)
REVERT_SUBJECT = re.compile(r'^\s*(Revert\s+"|revert(\([^)]*\))?!?\s*:)', re.I)
# Not product: documentation, tests, CI configuration, repository metadata (an independent, simpler list).
NOT_PRODUCT = re.compile(
    r"(^|/)(docs?|documentation|tests?|testing)/|\.(md|rst|txt|adoc)$|(^|/)(test_[^/]*|conftest\.py)$|"
    r"^\.github/|^\.ci/|(^|/)(tox\.ini|\.pre-commit-config\.yaml|\.readthedocs\.ya?ml|codecov\.ya?ml|\.travis\.yml)$|"
    r"(^|/)(LICEN[CS]E|COPYING|CHANGES|CHANGELOG|HISTORY|AUTHORS|CONTRIBUTING|CODE_OF_CONDUCT|SECURITY)[^/]*$|"
    r"(^|/)\.(gitignore|gitattributes|mailmap|editorconfig)$",
    re.I,
)
H = 3600.0


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True,
                          check=True, errors="replace").stdout


def commits(repo: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    raw = git(repo, "log", "--all", "--no-renames", "--name-only", "--format=%x1e%H%x1f%at%x1f%P%x1f%s%x1f%b%x1d")
    for rec in raw.split("\x1e")[1:]:
        head, _, files = rec.partition("\x1d")
        sha, at, parents, subject, body = head.split("\x1f", 4)
        paths = [f for f in files.splitlines() if f.strip()]
        out[sha] = {"at": int(at), "merge": len(parents.split()) > 1, "subject": subject, "body": body,
                    "paths": paths}
    return out


def releases(repo: Path) -> list[tuple[int, str, str]]:
    """(time, tag, commit), one per commit (the earliest tag), in time order."""
    fmt = "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00%(taggerdate:unix)%00%(committerdate:unix)"
    best: dict[str, tuple[int, str]] = {}
    for line in git(repo, "for-each-ref", "refs/tags", f"--format={fmt}").splitlines():
        name, kind, target, obj, tagger, committed = line.split("\x00")
        if not RELEASE.fullmatch(name.strip()):
            continue
        sha, at = (target, int(tagger)) if kind == "tag" else (obj, int(committed))
        if not sha:
            continue
        if sha not in best or (at, name) < best[sha]:
            best[sha] = (at, name)
    return sorted((at, name, sha) for sha, (at, name) in best.items())


def version(tag: str) -> tuple[int, int, int]:
    m = RELEASE.fullmatch(tag.strip())
    assert m
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def reference(repo: Path) -> tuple[list[dict], dict[str, dict]]:
    """Every deployment with what it shipped, its lead times and its marks (all time)."""
    info = commits(repo)
    rels = releases(repo)
    deps: list[dict] = []
    shipped_by: dict[str, int] = {}
    earlier: list[str] = []
    for i, (at, tag, sha) in enumerate(rels):
        if sha not in info:
            continue
        mine = git(repo, "rev-list", "--stdin", stdin="\n".join([sha, *("^" + e for e in earlier)]) + "\n").split()
        deps.append({"at": at, "tag": tag, "sha": sha, "changes": mine, "first": not earlier})
        for s in mine:
            shipped_by.setdefault(s, len(deps) - 1)
        earlier.append(sha)
    by_prefix = sorted(info)

    def resolve(prefix: str) -> str | None:
        prefix = prefix.lower()
        hits = [s for s in by_prefix if s.startswith(prefix)] if len(prefix) < 40 else ([prefix] if prefix in info else [])
        return hits[0] if len(hits) == 1 else None

    for d in deps:
        d["leads"] = [] if d["first"] else [(d["at"] - info[s]["at"]) / H for s in d["changes"]]
        d["revert_recovery"] = None
        d["hotfix_recovery"] = None
        d["rework"] = False
    for j, d in enumerate(deps):
        for s in d["changes"]:
            for named in REVERTS.findall(info[s]["body"]):
                target = resolve(named)
                if target is None or target not in shipped_by:
                    continue
                i = shipped_by[target]
                product = info[target]["merge"] or not info[target]["paths"] or any(
                    not NOT_PRODUCT.search(p) for p in info[target]["paths"])
                if i < j and product:
                    d["rework"] = True
                    hours = (d["at"] - deps[i]["at"]) / H
                    cur = deps[i]["revert_recovery"]
                    deps[i]["revert_recovery"] = hours if cur is None else min(cur, hours)
    for j in range(1, len(deps)):
        prev, d = deps[j - 1], deps[j]
        a, b = version(prev["tag"]), version(d["tag"])
        if not (0 <= d["at"] - prev["at"] <= 72 * H and d["changes"] and a[:2] == b[:2] and b[2] > a[2]):
            continue
        ok, seen = True, False
        for s in d["changes"]:
            c = info[s]
            if c["merge"]:
                continue
            targets = [t for n in REVERTS.findall(c["body"]) if (t := resolve(n))]
            if targets and all(shipped_by.get(t, j - 1) != j - 1 for t in targets):
                continue
            if targets or REVERT_SUBJECT.match(c["subject"]) or FIX_PREFIX.match(c["subject"]) or FIX_WORD.search(c["subject"]):
                seen = True
            else:
                ok = False
                break
        if ok and seen:
            d["rework"] = True
            prev["hotfix_recovery"] = (d["at"] - prev["at"]) / H
    for d in deps:
        r, h = d["revert_recovery"], d["hotfix_recovery"]
        d["failed"] = r is not None or h is not None
        d["recovery"] = None if not d["failed"] else (r if h is None or (r is not None and r <= h) else h)
    return deps, info


def figures(deps: list[dict], start: int, end: int) -> dict[str, object]:
    inside = [d for d in deps if start <= d["at"] < end]
    leads = [x for d in inside for x in d["leads"] if x > 0]
    failed = [d for d in inside if d["failed"]]
    rec = [d["recovery"] for d in failed if d["recovery"] is not None]
    n = len(inside)
    return {
        "deployments": n,
        "lead_time_hours": round(statistics.median(leads), 2) if leads else None,
        "lead_time_changes": len(leads),
        "change_failure_rate_percent": round(100 * len(failed) / n, 2) if n else None,
        "recovery_hours": round(statistics.median(rec), 2) if rec else None,
        "rework_rate_percent": round(100 * sum(d["rework"] for d in inside) / n, 2) if n else None,
    }


def ours(db: str, name: str, first: date, last: date) -> dict[str, object]:
    exe = Path(sys.executable).with_name("engmetrics")
    out = subprocess.run([str(exe), "dora", "--json", "--repo", name, "--from", first.isoformat(), "--to", last.isoformat()],
                         capture_output=True, text=True, env={**os.environ, "ENGMETRICS_DB": db}, check=True).stdout
    d = json.loads(out)
    return {
        "deployments": d["deployment_frequency"]["deployments"],
        "lead_time_hours": d["lead_time"]["value"],
        "lead_time_changes": d["lead_time"]["changes"],
        "change_failure_rate_percent": d["change_failure_rate"]["value"],
        "recovery_hours": d["mttr"]["value"],
        "rework_rate_percent": d["rework_rate"]["value"],
        "_by_pull_request": (d["lead_time"].get("by_pull_request") or {}).get("value"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="the engmetrics store the repositories were synced into")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "dora_real.json"))
    ap.add_argument("repos", nargs="+", help="repository paths (their folder names are their engmetrics names)")
    args = ap.parse_args()
    rows = []
    for path in map(Path, args.repos):
        deps, _ = reference(path)
        newest = max(d["at"] for d in deps)
        last = datetime.fromtimestamp(newest, UTC).date()
        windows = [("90 days to newest release", last - timedelta(days=89), last),
                   ("365 days to newest release", last - timedelta(days=364), last),
                   ("2019", date(2019, 1, 1), date(2019, 12, 31))]
        for label, first, end in windows:
            start = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
            stop = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()) + 86400
            ref = figures(deps, start, stop)
            got = ours(args.db, path.name, first, end)
            for key, value in ref.items():
                rows.append({"repo": path.name, "window": f"{first}..{end} ({label})", "figure": key,
                             "ours": got[key], "reference": value, "equal": got[key] == value})
            rows.append({"repo": path.name, "window": f"{first}..{end} ({label})", "figure": "lead_time_by_pull_request_hours",
                         "ours": got["_by_pull_request"], "reference": None, "equal": None})
    Path(args.out).write_text(json.dumps({"generated": datetime.now(UTC).isoformat(timespec="seconds"),
                                          "rows": rows}, indent=1) + "\n")
    print("| repository | window | figure | ours | reference |")
    print("|---|---|---|---|---|")
    for r in rows:
        mark = "" if r["equal"] in (True, None) else " ≠"
        print(f"| {r['repo']} | {r['window']} | {r['figure']} | {r['ours']} | {r['reference']}{mark} |")
    bad = [r for r in rows if r["equal"] is False]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} figures equal" + (f"; {len(bad)} differ" if bad else ""), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
