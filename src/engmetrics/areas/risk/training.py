"""A repository's risk model, trained on its SZZ-labelled history and cached in the store.

Before training, new fixes are labelled (`labelling`) and new commits' source lines counted (`source_lines`).
The model is rebuilt when the repository's history or labels change (a fingerprint of commit count, last
commit time, labelled fixes, links, counted source lines, the fix pattern and the feature and label
definitions' versions). Its rows — what it learns from, what scores are percentiles of, what
`list_risky_changes` lists — are the changes that can be labelled bug-inducing, and the fit leaves out the most
recent ones, whose labels are not known yet (`metrics.fit`). The model's AUC is measured by the rolling
evaluation (`metrics.evaluation`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from engmetrics.areas.risk import queries
from engmetrics.areas.risk.feature_replay import labelled_dataset
from engmetrics.areas.risk.labelling import ensure_labels, fix_pattern
from engmetrics.areas.risk.metrics.features import FEATURE_VERSION, FEATURES, Floats, History
from engmetrics.areas.risk.metrics.fit import fit_repository
from engmetrics.areas.risk.metrics.fixes import LABEL_VERSION
from engmetrics.areas.risk.metrics.model import RiskModel
from engmetrics.areas.risk.source_lines import ensure_sloc
from engmetrics.config import Settings
from engmetrics.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class Trained:
    """A repository's model with the features of its stored changes (``X`` rows match ``shas``/``times``)."""

    model: RiskModel
    shas: list[str]
    times: Floats
    X: Floats
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
    """What the cached model depends on, hashed: the stored history's counts (`queries.ModelInputs`), the fix
    pattern, and the feature and label definitions' versions."""
    m = queries.model_inputs(store.read(), repo_id)
    raw = (f"{m.commits}|{m.last_commit_time}|{m.fixes}|{m.labelled_fixes}|{m.links}|{m.sloc_rows}|{m.sloc_total}|"
           f"{pattern}|{FEATURE_VERSION}|{LABEL_VERSION}|{','.join(FEATURES)}")
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


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
    cached = queries.cached_model(store.read(), repo_id)
    if cached is not None and cached.fingerprint == fp:
        data = np.load(io.BytesIO(cached.matrix), allow_pickle=False)
        return Trained(RiskModel.from_json(cached.model_json), data["shas"].tolist(), data["times"], data["X"],
                       cached.state)
    started = time.perf_counter()
    shas, times, X, fixed_at, history = labelled_dataset(store, repo_id, pattern, path, settings)
    model = fit_repository(times, X, fixed_at)
    model.fingerprint = fp
    buf = io.BytesIO()
    np.savez(buf, shas=np.array(shas, dtype="U40"), times=times, X=X)
    state = history.dumps()
    with store.tx() as conn:
        queries.save_model(conn, repo_id, queries.CachedModel(fp, model.to_json(), buf.getvalue(), state),
                           int(time.time()))
    log.info("risk model for repository %d trained on %d changes in %.1fs", repo_id, len(shas),
             time.perf_counter() - started)
    return Trained(model, shas, times, X, state)
