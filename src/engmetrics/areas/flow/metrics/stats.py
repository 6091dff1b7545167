"""`Stat`: median, 85th percentile and mean of a sample of durations (hours), rounded to 0.01, with its size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Stat:
    """Median, 85th percentile and mean of a sample (hours), with its size."""

    median: float | None
    p85: float | None
    mean: float | None
    count: int


def stat(values: Iterable[float | None]) -> Stat:
    """`Stat` over the non-None values (numpy's linear-interpolation percentile), each rounded to 0.01."""
    arr = np.fromiter((v for v in values if v is not None), dtype=float)
    if not arr.size:
        return Stat(None, None, None, 0)
    return Stat(
        round(float(np.median(arr)), 2), round(float(np.percentile(arr, 85)), 2), round(float(arr.mean()), 2), int(arr.size)
    )
