"""Change risk's step of a repository's sync: say how far its fix labels reach. Sync itself labels nothing: SZZ
runs when risk is first scored or evaluated, and labels only what is new or was not reached before."""

from __future__ import annotations

from engmetrics.areas.risk import queries
from engmetrics.areas.risk.labelling import fix_pattern
from engmetrics.areas.risk.metrics.fixes import sync_fix_labels_of
from engmetrics.config import Settings
from engmetrics.areas.repos.models import FixLabels
from engmetrics.store.db import Store


def sync_fix_labels(store: Store, repo_id: int, settings: Settings | None = None) -> FixLabels:
    """The repository's label coverage now, with a note saying when pending fixes are traced (`fix_labels` of
    `SyncedRepo`)."""
    return sync_fix_labels_of(queries.label_coverage(store.read(), repo_id, fix_pattern(settings)))
