"""The report's timeline labels: placed in rows so none overlaps another (by the layout's own width estimate, from
the definition: a label spans its centre ± characters × 5.6 px / 2, kept inside the chart)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engmetrics.areas.reports.metrics.charts import label_rows

CHAR = 5.6


def spans(centres: list[float], texts: list[str], width: int) -> list[tuple[float, float, int]]:
    placed = label_rows(centres, texts, width)
    return [(x - len(t) * CHAR / 2, x + len(t) * CHAR / 2, row) for (x, row), t in zip(placed, texts, strict=True)]


def test_labels_by_hand() -> None:
    # Two labels 10 px apart, each 20 characters (112 px): the second cannot share the first row.
    assert label_rows([100.0, 110.0], ["a" * 20, "b" * 20], 640) == [(100.0, 0), (110.0, 1)]
    # Far apart: one row. Near the right edge: pulled inside (640 − 56 = 584), still clear of 400 + 56 = 456.
    assert label_rows([100.0, 400.0, 630.0], ["a" * 20, "b" * 20, "c" * 20], 640) == [(100.0, 0), (400.0, 0), (584.0, 0)]
    # The third fits back in the first row once the first is far enough behind.
    assert [row for _, row in label_rows([60.0, 70.0, 300.0], ["a" * 20] * 3, 640)] == [0, 1, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 640), st.integers(1, 40)), min_size=1, max_size=25))
def test_no_two_labels_in_a_row_overlap(labels: list[tuple[float, int]]) -> None:
    labels.sort()
    centres, texts = [c for c, _ in labels], ["x" * n for _, n in labels]
    placed = spans(centres, texts, 640)
    for i, (left, right, row) in enumerate(placed):
        assert -1e-9 <= left and right <= 640 + 1e-9
        for other_left, other_right, other_row in placed[i + 1:]:
            if row == other_row:
                assert right <= other_left or other_right <= left, (placed, i)
