"""Duration histograms that add up: how the KPI rollup keeps the time per stage of each day
so that the median and the 90th percentile of any range of days come from adding the days'
histograms, without reading the orders again.

Buckets grow by ``RATIO`` (4 %): bucket 0 holds durations under a second (and the negative
ones a clock may produce), bucket ``b >= 1`` holds ``[RATIO ** (b - 1), RATIO ** b)``
seconds. A day's stage times of a few thousand orders fill a few hundred buckets at most,
whatever the number of orders, and a percentile read from the buckets is within half a
bucket, 2 %, of the exact one.

A histogram is a ``dict`` from the bucket number (a string, as JSON keeps it) to the count.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

RATIO = 1.04
_LOG_RATIO = math.log(RATIO)

Histogram = dict[str, int]


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return 1 + math.floor(math.log(seconds) / _LOG_RATIO)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The seconds ``[low, high)`` that the bucket holds."""
    if bucket <= 0:
        return 0.0, 1.0
    return RATIO ** (bucket - 1), RATIO**bucket


def histogram_of(seconds: Iterable[float]) -> Histogram:
    counts = Counter(bucket_of(s) for s in seconds)
    return {str(bucket): n for bucket, n in sorted(counts.items())}


def histograms_add(histograms: Iterable[Mapping[str, int]]) -> Counter[int]:
    """The sum of the histograms, by bucket number."""
    total: Counter[str] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return Counter({int(bucket): n for bucket, n in total.items()})


def histogram_percentiles(counts: Mapping[int, int], fractions: Iterable[float]) -> list[float | None]:
    """The percentiles (as ``percentile_cont`` defines them: interpolated between the two
    nearest ranks) of the durations counted, in seconds; None for an empty histogram.

    A rank's value is estimated by spreading the bucket's durations evenly over it: the
    ``i``-th of ``n`` in ``[low, high)`` is taken at ``low + (high - low) * (i + 0.5) / n``.
    """
    buckets = sorted((b, n) for b, n in counts.items() if n > 0)
    total = sum(n for _b, n in buckets)
    if not total:
        return [None for _f in fractions]

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, n in buckets:
            if rank < seen + n:
                low, high = bucket_bounds(bucket)
                return low + (high - low) * (rank - seen + 0.5) / n
            seen += n
        raise AssertionError("rank past the last bucket")  # pragma: no cover: rank < total

    results: list[float | None] = []
    for fraction in fractions:
        position = fraction * (total - 1)
        low_rank, high_rank = math.floor(position), math.ceil(position)
        low = value_at(low_rank)
        high = low if high_rank == low_rank else value_at(high_rank)
        results.append(low + (high - low) * (position - low_rank))
    return results
