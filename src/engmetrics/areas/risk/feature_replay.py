"""The features of a repository's stored changes, replayed in order with no look-ahead (`metrics.features`), with
the CODEOWNERS versions read from git and the SZZ labels from the store: the dataset a model is trained on, and
the feature state before a change that is scored. Times are Unix seconds."""

from __future__ import annotations

from typing import NamedTuple

from engmetrics.areas.risk import queries
from engmetrics.areas.risk.codeowners_history import load_timeline
from engmetrics.areas.risk.metrics.codeowners import People, Timeline
from engmetrics.areas.risk.metrics.features import Floats, History, replay
from engmetrics.areas.risk.metrics.fit import training_rows
from engmetrics.config import Settings
from engmetrics.store.db import Store


class LabelledDataset(NamedTuple):
    """The stored changes a model learns from, oldest first (see `metrics.fit.training_rows`): shas, Unix times,
    features (rows of `FEATURES`), each change's first fix time (``inf``: never fixed), and the feature state
    after every stored change (bots' and non-product changes included)."""

    shas: list[str]
    times: Floats
    X: Floats
    fixed_at: Floats
    history: History


def labelled_dataset(store: Store, repo_id: int, pattern: str, path: str | None = None,
                     settings: Settings | None = None) -> LabelledDataset:
    """The repository's `LabelledDataset`, its fixes found by ``pattern``.

    ``path``: the repository's working copy, to read its CODEOWNERS history (without it the CODEOWNERS
    features are 0); owners map to people through the teams configuration of ``settings`` (default: the
    environment's `Settings`).
    """
    changes = queries.stored_changes(store.read(), repo_id)
    timeline: Timeline | None = None
    people: People | None = None
    if path is not None:
        timeline = load_timeline(path)
        settings = settings or Settings()
        if settings.teams or settings.people:
            people = People.from_config(settings.teams, settings.people)
    history, shas, X = replay(changes, fix_pattern=pattern, codeowners=timeline, people=people)
    rows = training_rows(changes, shas, X, queries.inducing_times(store.read(), repo_id))
    return LabelledDataset(rows.shas, rows.times, rows.X, rows.fixed_at, history)


def history_before(store: Store, repo_id: int, latest: History, first: tuple[int, str], own: set[str]) -> History:
    """The feature state before ``first`` (time, sha), the commits ``own`` (those scored) left out: ``latest``
    (the state after every stored change) when every stored change is older, else a replay up to ``first``."""
    if (latest.last_time, latest.last_sha) < first:
        return latest
    changes = queries.stored_changes(store.read(), repo_id)
    return replay(changes, fix_pattern=latest.fix_pattern, until=first, skip=frozenset(own),
                  codeowners=latest.codeowners, people=latest.people)[0]
