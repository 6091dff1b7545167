"""The payments-api repository's year: ordinary changes by three people, a pull request now and then, and
dependabot bumps every few weeks (times in Unix seconds). It has no tags: its deployments are explicit."""

from __future__ import annotations

import random
from pathlib import Path

from engmetrics.demo.clock import DAY, HOUR
from engmetrics.demo.git_writer import FastImport
from engmetrics.demo.history import BuiltRepo, History
from engmetrics.demo.people import ELENA, Person, ident
from engmetrics.demo.profiles import PAYMENTS


def build_payments(repo: Path, rng: random.Random, start: int, end: int) -> BuiltRepo:
    """Write payments-api's history from ``start`` to ``end`` into the empty repository ``repo``."""
    with FastImport(repo) as fi:
        h = History(PAYMENTS, rng, start, end, fi)
        h.commit_main(start + HOUR, ident(ELENA, start + HOUR), ident(ELENA, start + HOUR),
                      "Initial commit\n", h.tree.initial_tree())
        events: list[tuple[int, int, Person | None]] = [  # (time, order, author; None: a dependabot bump)
            (t, i, person) for i, (t, person) in enumerate(h.time.change_times([], per_change=1.25))]
        bump_t = start + 20 * DAY
        while bump_t < end - 3 * DAY:
            events.append((bump_t, -len(events), None))
            bump_t += int(rng.uniform(18, 35) * DAY)
        events.sort(key=lambda e: (e[0], e[1]))
        for t, _, person in events:
            if person is None:
                h.merge_pr(t, bot_bump=True)
            elif rng.random() < 1 / 8:
                h.merge_pr(t, person=person)
            else:
                h.direct(t, person=person)
        return h.finish()
