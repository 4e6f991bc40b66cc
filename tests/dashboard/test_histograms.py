"""Duration histograms: every duration lands in the bucket that holds it, histograms add
up, and percentiles read from them stay within 2 % of the exact ones."""

from __future__ import annotations

import math
import random

import pytest

from dashboard.histograms import (
    RATIO,
    bucket_bounds,
    bucket_of,
    histogram_of,
    histogram_percentiles,
    histograms_add,
)


def exact_percentile(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear between the two nearest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.mark.parametrize("seconds", [0, 0.4, 1, 1.03, 59, 60, 3600, 86_400 * 3.7, 31_536_000])
def test_each_duration_falls_in_the_bucket_that_holds_it(seconds: float) -> None:
    low, high = bucket_bounds(bucket_of(seconds))

    assert low <= seconds < high
    assert high == pytest.approx(max(low * RATIO, 1))


def test_negative_durations_count_as_under_a_second() -> None:
    assert bucket_of(-5) == bucket_of(0) == 0


def test_histograms_add_up_to_the_histogram_of_all_durations() -> None:
    first, second = [1.0, 60.0, 3600.0], [60.5, 7200.0]

    assert histograms_add([histogram_of(first), histogram_of(second)]) == histograms_add([histogram_of(first + second)])
    assert sum(histograms_add([histogram_of(first), histogram_of(second)]).values()) == 5


def test_an_empty_histogram_has_no_percentiles() -> None:
    assert histogram_percentiles({}, (0.5, 0.9)) == [None, None]


def test_one_duration_is_its_own_percentile_to_within_half_a_bucket() -> None:
    (median,) = histogram_percentiles(histograms_add([histogram_of([5400.0])]), (0.5,))

    assert median == pytest.approx(5400, rel=0.02)


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_of_many_durations_are_within_two_percent_of_the_exact_ones(seed: int) -> None:
    rng = random.Random(seed)
    # Shaped like paid -> shipped: most within a day, a long tail over a weekend and beyond.
    values = [rng.lognormvariate(math.log(6 * 3600), 1.0) for _ in range(2000)]
    days = [histogram_of(values[i : i + 100]) for i in range(0, len(values), 100)]

    estimated = histogram_percentiles(histograms_add(days), (0.1, 0.5, 0.9, 0.99))

    for fraction, value in zip((0.1, 0.5, 0.9, 0.99), estimated, strict=True):
        assert value == pytest.approx(exact_percentile(values, fraction), rel=0.02)
