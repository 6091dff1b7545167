"""Benchmark change risk: quality on real histories and speed on a large synthetic one.

    PYTHONPATH=src python bench/bench_risk.py quality PATH [PATH ...]   # clones of public repositories
    PYTHONPATH=src python bench/bench_risk.py speed [--commits 30000]

``quality`` syncs each clone into a fresh store, labels it with SZZ and runs the rolling evaluation
(`engmetrics risk evaluate`), writing ``bench/results/risk_quality.json``. ``speed`` builds a synthetic
repository with ``git fast-import`` (bench_sync's generator; one commit in five is renamed "fix: …" so SZZ
has work), then measures: sync (reference), SZZ labelling + training (cold), and scoring a 10-commit branch
that is not synced (warm model; and with the stored feature state parsed again, as in a new process), writing ``bench/results/risk_speed.json``. Targets: training + labelling
< 120 s on 2 cores; scoring < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def quality(paths: list[str]) -> None:
    import anyio

    from engmetrics.areas.risk.models import RiskEvaluationQuery
    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine

    results = []
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            engine = LocalEngine(Settings(db=Path(tmp) / "bench.db"))
            name = engine.register_repository(path).name
            t0 = time.perf_counter()
            anyio.run(lambda: engine.repos.sync(name))
            t1 = time.perf_counter()
            ev = anyio.run(lambda: engine.risk.evaluate_risk(RiskEvaluationQuery(repo=name)))
            t2 = time.perf_counter()
            data = ev.model_dump()
            data.update(sync_seconds=round(t1 - t0, 2), label_and_evaluate_seconds=round(t2 - t1, 2),
                        head=subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip())
            results.append(data)
            engine.store.close()
            aucs = {m["name"]: m["auc"] for m in data["models"]}
            print(f"{name}: {data['changes']} changes, {data['labelled_inducing']} inducing, {aucs}", file=sys.stderr)
    (HERE / "results" / "risk_quality.json").write_text(json.dumps(
        {"repositories": results, "python": platform.python_version(), "cpus": os.cpu_count()}, indent=1) + "\n")


def speed(commits: int) -> None:
    import anyio
    from bench_sync import build_synthetic

    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine
    from engmetrics.areas.risk.models import RiskScoreQuery

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "synthetic"
        build_synthetic(repo, commits)
        # One commit in five says it fixes something: same-length message rewrite through fast-export/import.
        t = time.perf_counter()
        fixed = Path(tmp) / "fixed"
        subprocess.run(["git", "init", "-q", "--initial-branch=main", str(fixed)], check=True)
        export = subprocess.run(["git", "-C", str(repo), "fast-export", "--all"], capture_output=True, check=True).stdout
        import re

        stream = re.sub(rb"^change (\d*[05]): update things$", rb"change \1: fix bug thing", export, flags=re.M)
        subprocess.run(["git", "-C", str(fixed), "fast-import", "--quiet"], input=stream, check=True)
        subprocess.run(["git", "-C", str(fixed), "checkout", "-q", "main"], check=True)
        repo = fixed
        rewrite = time.perf_counter() - t
        engine = LocalEngine(Settings(db=Path(tmp) / "bench.db"))
        name = engine.register_repository(repo).name
        t0 = time.perf_counter()
        anyio.run(lambda: engine.repos.sync(name))
        t1 = time.perf_counter()
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "feature"], check=True)
        for i in range(10):
            (repo / "src" / "mod1").mkdir(parents=True, exist_ok=True)
            (repo / "src" / "mod1" / f"branch{i}.py").write_text("".join(f"x{k} = {i}\n" for k in range(i * 5 + 3)))
            subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
            subprocess.run(["git", "-C", str(repo), "-c", "user.name=B", "-c", "user.email=b@example.com", "commit", "-qm",
                            f"feat: branch change {i}"], check=True)
        q = RiskScoreQuery(repo=name)
        t2 = time.perf_counter()
        cold = anyio.run(engine.risk.score_pr_risk, q)
        t3 = time.perf_counter()
        warm = [0.0] * 3
        for k in range(3):
            s = time.perf_counter()
            anyio.run(engine.risk.score_pr_risk, q)
            warm[k] = time.perf_counter() - s
        from engmetrics.areas.risk import training

        uncached = [0.0] * 3
        for k in range(3):  # as a new process would: the stored feature state parsed again
            training.forget_parsed_states()
            s = time.perf_counter()
            anyio.run(engine.risk.score_pr_risk, q)
            uncached[k] = time.perf_counter() - s
        conn = engine.store.read()
        fixes = conn.execute("SELECT count(*) FROM risk_szz_fixes").fetchone()[0]
        links = conn.execute("SELECT count(*) FROM risk_szz_links").fetchone()[0]
        result = {
            "synthetic_commits": commits, "fixes_labelled": fixes, "links": links,
            "message_rewrite_seconds": round(rewrite, 1), "sync_seconds": round(t1 - t0, 2),
            "label_train_and_first_score_seconds": round(t3 - t2, 2),
            "score_10_commit_branch_seconds_warm": round(min(warm), 3),
            "score_10_commit_branch_seconds_state_not_cached": round(min(uncached), 3),
            "model_kind": cold.model.kind, "risk_score": cold.risk_score, "commits_scored": cold.commits_total,
            "targets": {"label_and_train_seconds_max": 120, "score_seconds_max": 1.0},
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        }
        engine.store.close()
    print(json.dumps(result, indent=1))
    (HERE / "results" / "risk_speed.json").write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("paths", nargs="+")
    s = sub.add_parser("speed")
    s.add_argument("--commits", type=int, default=30000)
    args = ap.parse_args()
    if args.cmd == "quality":
        quality(args.paths)
    else:
        speed(args.commits)


if __name__ == "__main__":
    main()
