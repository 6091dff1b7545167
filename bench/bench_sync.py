"""Benchmark the git source against `git log --numstat` on the same repository.

    PYTHONPATH=src python bench/bench_sync.py                 # a synthetic ~30,000-commit repository
    PYTHONPATH=src python bench/bench_sync.py --repo PATH     # any clone
    PYTHONPATH=src python bench/bench_sync.py --commits 5000  # a smaller synthetic one

Measures, in this order and in this run: the reference ``git log --numstat`` (output discarded), a
fresh full sync into a new SQLite store, and a no-op re-sync. Each sync runs in a child process so its
peak RSS (MB: VmHWM, or ``resource.getrusage``) is its own; git's peak is reported beside it. Prints a table and writes
``bench/results/sync.json``. Targets: full sync ≤ 1.5× the reference, no-op < 1 s, peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEAK_RSS = r"""
def peak_rss_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's across exec.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource, sys
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)

def cpu_seconds():
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

def children_peak_rss_mb():
    import resource, sys
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
"""
SYNC_CHILD = PEAK_RSS + r"""
import json, sys, time
from engmetrics.store.open import open_store
from engmetrics.store.repos import add_repository
from engmetrics.sources.git.sync import sync_git
db, repo = sys.argv[1], sys.argv[2]
store = open_store(db)
with store.tx() as c:
    rid = add_repository(c, repo).id
t0, c0 = time.perf_counter(), cpu_seconds()
r = sync_git(store, rid, repo)
seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
rss_mb = peak_rss_mb()
git_rss_mb = children_peak_rss_mb()
n = store.read().execute("SELECT count(*) FROM commits").fetchone()[0]
f = store.read().execute("SELECT count(*) FROM file_changes").fetchone()[0]
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": rss_mb, "git_peak_rss_mb": git_rss_mb, "new_commits": r.new_commits, "new_tags": r.new_tags,
                  "walked_history": r.walked_history, "skipped": r.skipped, "commits": n, "file_changes": f}))
"""
REFERENCE_CHILD = PEAK_RSS + r"""
import json, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(["git", "-C", sys.argv[1], "log", "--numstat", "--branches", "--tags", "--remotes", "HEAD"],
               stdout=subprocess.DEVNULL, check=True)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": cpu_seconds(), "peak_rss_mb": 0.0,
                  "git_peak_rss_mb": children_peak_rss_mb()}))
"""


def build_synthetic(dest: Path, commits: int, seed: int = 7) -> None:
    """A repository of ``commits`` commits (a few files each, some renames, merges, binaries, tags) via fast-import."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "--initial-branch=main", str(dest)], check=True)
    files: dict[str, list[str]] = {}
    names = [f"src/mod{d}/file{i}.py" for d in range(40) for i in range(50)]
    t0 = 1_600_000_000
    out = bytearray()
    mark = 0
    authors = [(f"Dev {i}", f"dev{i}@example.com") for i in range(40)]

    def data(b: bytes) -> None:
        out.extend(b"data %d\n" % len(b))
        out.extend(b)
        out.extend(b"\n")

    feature_mark = None
    for n in range(commits):
        mark += 1
        name, email = rng.choice(authors)
        when = t0 + n * 1800
        branch = "refs/heads/main"
        out.extend(b"commit %s\nmark :%d\n" % (branch.encode(), mark))
        out.extend(f"author {name} <{email}> {when} +0000\ncommitter {name} <{email}> {when} +0000\n".encode())
        msg = f"change {n}: update things\n\nSome body text for change {n}.\n"
        if n % 5 == 0:
            msg += f"\nSigned-off-by: {name} <{email}>\n"
        data(msg.encode())
        if n == 0:
            pass
        elif n % 50 == 0 and feature_mark is not None:
            out.extend(b"merge :%d\n" % feature_mark)
        ops = []
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
            path = rng.choice(names)
            lines = files.get(path)
            if lines is None:
                lines = [f"line {k} of {path}" for k in range(rng.randint(10, 80))]
            else:
                lines = list(lines)
                for _ in range(rng.randint(1, 6)):
                    k = rng.randrange(len(lines) + 1)
                    if rng.random() < 0.3 and lines:
                        lines.pop(min(k, len(lines) - 1))
                    else:
                        lines.insert(k, f"edit {n} {rng.random():.6f}")
            files[path] = lines
            ops.append(path)
        for path in ops:
            out.extend(f"M 100644 inline {path}\n".encode())
            data(("\n".join(files[path]) + "\n").encode())
        if n % 97 == 0 and len(files) > 10:
            old = rng.choice(sorted(files))
            new = old.replace(".py", f"_r{n}.py")
            out.extend(f"R {old} {new}\n".encode())
            files[new] = files.pop(old)
        if n % 500 == 0:
            out.extend(f"M 100644 inline assets/img{n}.bin\n".encode())
            data(bytes(rng.randrange(256) for _ in range(512)) + b"\0")
        out.extend(b"\n")
        if n % 50 == 25:
            feature_mark = mark
        if n % 100 == 99:
            out.extend(f"tag v1.{n // 100}.0\nfrom :{mark}\ntagger Rel <rel@example.com> {when + 60} +0000\n".encode())
            data(b"release\n")
    proc = subprocess.run(["git", "fast-import", "--quiet"], cwd=dest, input=bytes(out), stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode(errors="replace"))
    subprocess.run(["git", "-C", str(dest), "reset", "-q", "--hard", "main"], check=True)


def child(script: str, *args: str | Path) -> dict:
    """Run a measuring script in a fresh Python process; returns the JSON it prints."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode(errors="replace"))
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", help="an existing repository to measure (default: build a synthetic one)")
    ap.add_argument("--commits", type=int, default=30_000, help="size of the synthetic repository")
    ap.add_argument("--out", default=str(HERE / "results" / "sync.json"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="engmetrics-bench-") as tmp:
        tmpd = Path(tmp)
        if args.repo:
            repo = Path(args.repo).resolve()
            build_seconds = None
        else:
            repo = tmpd / "repo"
            t0 = time.perf_counter()
            build_synthetic(repo, args.commits)
            build_seconds = time.perf_counter() - t0
        # Warm the page cache so neither side pays for the first read of the pack.
        subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--count"], stdout=subprocess.DEVNULL, check=True)
        ref = child(REFERENCE_CHILD, repo)
        full = child(SYNC_CHILD, tmpd / "full.sqlite", repo)
        noop = child(SYNC_CHILD, tmpd / "full.sqlite", repo)

    rows = [("git log --numstat (reference)", ref, None), ("full sync", full, full["peak_rss_mb"]),
            ("no-op re-sync", noop, noop["peak_rss_mb"])]
    print(f"repository: {args.repo or f'synthetic ({args.commits} commits, built in {build_seconds:.1f} s)'}")
    print(f"commits stored: {full['commits']}, file changes: {full['file_changes']}, tags: {full['new_tags']}")
    print(f"{'step':<32}{'wall s':>9}{'× ref':>7}{'cpu s':>8}{'× ref':>7}{'python MB':>11}{'git MB':>8}")
    for name, m, rss in rows:
        shown = f"{rss:>11.1f}" if rss is not None else f"{'-':>11}"
        print(f"{name:<32}{m['seconds']:>9.3f}{m['seconds'] / ref['seconds']:>7.2f}{m['cpu_seconds']:>8.2f}"
              f"{m['cpu_seconds'] / ref['cpu_seconds']:>7.2f}{shown}{m['git_peak_rss_mb']:>8.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(wall ratios need idle CPUs: git and Python work in parallel)")
    result = {
        "repository": args.repo or "synthetic",
        "synthetic_commits": None if args.repo else args.commits,
        "commits": full["commits"],
        "file_changes": full["file_changes"],
        "tags": full["new_tags"],
        "reference_seconds": round(ref["seconds"], 3),
        "full_sync_seconds": round(full["seconds"], 3),
        "full_sync_ratio": round(full["seconds"] / ref["seconds"], 3),
        "reference_cpu_seconds": round(ref["cpu_seconds"], 3),
        "full_sync_cpu_seconds": round(full["cpu_seconds"], 3),
        "load_average": round(os.getloadavg()[0], 2),
        "full_sync_peak_rss_mb": round(full["peak_rss_mb"], 1),
        "full_sync_git_peak_rss_mb": round(full["git_peak_rss_mb"], 1),
        "reference_git_peak_rss_mb": round(ref["git_peak_rss_mb"], 1),
        "noop_sync_seconds": round(noop["seconds"], 4),
        "noop_walked_history": noop["walked_history"],
        "skipped": full["skipped"],
        "targets": {"full_sync_ratio_max": 1.5, "noop_seconds_max": 1.0, "peak_rss_mb_max": 300},
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
