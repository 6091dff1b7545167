"""Training a repository's risk model on its SZZ-labelled history, cached in the store.

The model is rebuilt when the repository's history or labels change (a fingerprint of commit count, last
commit time, labelled fixes, links, counted source lines, the fix pattern and the feature and label
definitions' versions). Training leaves out the changes within the label horizon at the end of the history
(90 days, at most 20% of its span), whose labels are not known yet. Its rows — what it learns from, what
scores are percentiles of, what `list_risky_changes` lists — are the changes that can be labelled
bug-inducing: not bots' changes (Dependabot, Renovate, pre-commit.ci…), and not changes that touch no product
file (only documentation, tests, CI configuration or repository metadata: SZZ can never trace a bug to
them, see `engmetrics.areas.risk.szz`). Both are still replayed into the history, as they did change the files.
The model's AUC is measured by the rolling evaluation (`evaluate`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engmetrics.areas.risk.metrics.evaluation import evaluate, label_horizon_seconds
from engmetrics.areas.risk.metrics.features import FEATURE_VERSION, FEATURES, History, is_bot_change, is_product_change, replay, stored_changes
from engmetrics.areas.risk.metrics.model import MIN_CHANGES, MIN_INDUCING, RiskModel, prior, train_engmetrics
from engmetrics.areas.risk.source_lines import ensure_sloc
from engmetrics.areas.risk.szz import LABEL_VERSION, ensure_labels, fix_pattern, inducing_times
from engmetrics.store.db import Store

if TYPE_CHECKING:
    from engmetrics.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Trained:
    """A repository's model with the features of its stored changes (``X`` rows match ``shas``/``times``)."""

    model: RiskModel
    shas: list[str]
    times: np.ndarray
    X: np.ndarray
    state: bytes

    def history(self) -> History:
        """The feature state after every stored change (parsed once per state and process; read it, do not add)."""
        key = hashlib.sha256(self.state).digest()
        with _PARSED_LOCK:
            if key in _PARSED:
                _PARSED.move_to_end(key)
                return _PARSED[key]
        parsed = History.loads(self.state)
        with _PARSED_LOCK:
            _PARSED[key] = parsed
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
        return parsed


# Parsed feature states by the SHA-256 of their bytes: a server scoring branch after branch parses a large
# history once, not on every call.
_PARSED: OrderedDict[bytes, History] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 8


def forget_parsed_states() -> None:
    """Drop the parsed feature states kept in this process (the next scoring parses its state again)."""
    with _PARSED_LOCK:
        _PARSED.clear()


def fingerprint(store: Store, repo_id: int, pattern: str) -> str:
    """What the cached model depends on, hashed."""
    conn = store.read()
    c = conn.execute("SELECT count(*), max(committer_time) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()
    f = conn.execute("SELECT count(*), sum(status = 'labelled') FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,)).fetchone()
    n = conn.execute("SELECT count(*) FROM risk_szz_links WHERE repo_id = ?", (repo_id,)).fetchone()
    s = conn.execute("SELECT count(*), sum(added) FROM risk_sloc WHERE repo_id = ?", (repo_id,)).fetchone()
    raw = (f"{c[0]}|{c[1]}|{f[0]}|{f[1]}|{n[0]}|{s[0]}|{s[1]}|{pattern}|{FEATURE_VERSION}|{LABEL_VERSION}|"
           f"{','.join(FEATURES)}")
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def labelled_dataset(store: Store, repo_id: int, pattern: str, path: str | None = None,
                     settings: Settings | None = None) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, History]:
    """(shas, times, features, first-fix time or inf, history after all) of the stored changes, oldest first —
    the rows are the changes that can be labelled: bots' changes and changes that touch no product file
    (documentation, tests, CI or metadata only) are left out of them (the history has them).

    ``path``: the repository's working copy, to read its CODEOWNERS history (without it the CODEOWNERS
    features are 0); owners map to people through the teams configuration of ``settings`` (default: the
    environment's `Settings`).
    """
    changes = stored_changes(store.read(), repo_id)
    timeline, people = None, None
    if path is not None:
        from engmetrics.config import Settings
        from engmetrics.areas.risk.metrics.codeowners import People, load_timeline

        timeline = load_timeline(path)
        settings = settings or Settings()
        if settings.teams or settings.people:
            people = People.from_config(settings.teams, settings.people)
    history, shas, X = replay(changes, fix_pattern=pattern, codeowners=timeline, people=people)
    times = np.array([c.time for c in changes], dtype=np.float64)
    rows = np.array([is_product_change(c) and not is_bot_change(c) for c in changes], dtype=bool)
    if len(changes) and not rows.all():
        shas = [s for s, keep in zip(shas, rows, strict=True) if keep]
        X, times = X[rows], times[rows]
    fixes = inducing_times(store.read(), repo_id)
    fixed_at = np.array([fixes.get(s, np.inf) for s in shas], dtype=np.float64)
    return shas, times, X, fixed_at, history


def fit_repository(shas: list[str], times: np.ndarray, X: np.ndarray, fixed_at: np.ndarray) -> RiskModel:
    """The trained model (or the prior one when the labelled history is too small), with its measured AUC."""
    horizon = label_horizon_seconds(times)
    known = times <= (times.max() - horizon) if len(times) else np.zeros(0, dtype=bool)
    y = np.isfinite(fixed_at[known]).astype(np.float64)
    if known.sum() >= MIN_CHANGES and y.sum() >= MIN_INDUCING and (len(y) - y.sum()) >= MIN_INDUCING:
        model = train_engmetrics(X[known], y)
        ev = evaluate(X, times, fixed_at, bootstrap=0, models=("engmetrics",))
        model.auc = ev.models[0].auc if ev.models else None
    else:
        model = prior(X)
        model.trained_on, model.inducing = int(known.sum()), int(y.sum())
    model.set_reference(X)
    return model


def ensure_model(store: Store, repo_id: int, path: str, *, pattern: str | None = None,
                 settings: Settings | None = None) -> Trained:
    """The repository's model, labelling new fixes (and counting new commits' source lines) and retraining
    first when its history changed.

    ``settings`` (default: the environment's) give the fix pattern when ``pattern`` is None, and the teams.
    """
    pattern = pattern or fix_pattern(settings)
    ensure_labels(store, repo_id, path, pattern)
    ensure_sloc(store, repo_id, path)
    fp = fingerprint(store, repo_id, pattern)
    row = store.read().execute("SELECT fingerprint, model, matrix, state FROM risk_models WHERE repo_id = ?", (repo_id,)).fetchone()
    if row is not None and row[0] == fp:
        data = np.load(io.BytesIO(row[2]), allow_pickle=False)
        return Trained(RiskModel.from_json(row[1]), data["shas"].tolist(), data["times"], data["X"], row[3])
    started = time.perf_counter()
    shas, times, X, fixed_at, history = labelled_dataset(store, repo_id, pattern, path, settings)
    model = fit_repository(shas, times, X, fixed_at)
    model.fingerprint = fp
    buf = io.BytesIO()
    np.savez(buf, shas=np.array(shas, dtype="U40"), times=times, X=X)
    state = history.dumps()
    with store.tx() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO risk_models(repo_id, fingerprint, created_at, model, matrix, state) VALUES (?,?,?,?,?,?)",
            (repo_id, fp, int(time.time()), model.to_json(), buf.getvalue(), state),
        )
    log.info("risk model for repository %d trained on %d changes in %.1fs", repo_id, len(shas), time.perf_counter() - started)
    return Trained(model, shas, times, X, state)
