"""Pricing (planner.solve.pricing): the cheapest cover and choice, checked against brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.solve.pricing import cheapest_choice, cheapest_cover

items = st.lists(
    st.tuples(st.integers(-3, 12), st.integers(0, 9), st.integers(0, 4)),  # cost, weight, upper
    min_size=1,
    max_size=4,
)


def brute_force(costs: list[float], weights: list[int], upper: list[int], need: int) -> float | None:
    best = None
    for counts in itertools.product(*(range(u + 1) for u in upper)):
        if sum(w * c for w, c in zip(weights, counts, strict=True)) >= need:
            cost = sum(k * c for k, c in zip(costs, counts, strict=True))
            best = cost if best is None else min(best, cost)
    return best


def covers(weights: list[int], upper: list[int], need: int, counts: tuple[int, ...]) -> bool:
    within = all(0 <= c <= u for c, u in zip(counts, upper, strict=True))
    return within and sum(w * c for w, c in zip(weights, counts, strict=True)) >= need


@settings(max_examples=300, deadline=None)
@given(items=items, need=st.integers(-5, 40))
def test_cover_is_the_cheapest(items: list[tuple[int, int, int]], need: int) -> None:
    costs, weights, upper = ([float(c) for c, _, _ in items], [w for _, w, _ in items], [u for _, _, u in items])
    expected = brute_force(costs, weights, upper, need)
    found = cheapest_cover(costs, weights, upper, need)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert covers(weights, upper, need, found.counts)
    assert found.cost == pytest.approx(sum(k * c for k, c in zip(costs, found.counts, strict=True)))
    assert found.cost == pytest.approx(expected)
    assert found.lower == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(items=items, need=st.integers(1, 40))
def test_a_cut_short_search_still_gives_a_cover_and_a_lower_bound(items: list[tuple[int, int, int]], need: int) -> None:
    costs, weights, upper = ([float(c) for c, _, _ in items], [w for _, w, _ in items], [u for _, _, u in items])
    expected = brute_force(costs, weights, upper, need)
    found = cheapest_cover(costs, weights, upper, need, node_limit=1)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert covers(weights, upper, need, found.counts)
    assert found.lower <= expected + 1e-9 <= found.cost + 2e-9


def test_a_cut_short_search_reports_the_fractional_bound() -> None:
    """Need 10 from items of weight 4 (cost 4) and 3 (cost 3.3): the LP fills at rate 1 → 10."""
    found = cheapest_cover([4.0, 3.3], [4, 3], [5, 5], 10, node_limit=0)
    assert found is not None and found.lower == pytest.approx(10.0)
    assert found.cost >= 10.6 - 1e-9  # 3 of weight 3 (9.9) miss the need; 4+3+3 costs 10.6 at best


def test_negative_costs_sit_at_their_upper_bound() -> None:
    found = cheapest_cover([-1.0, 2.0], [1, 5], [3, 2], 4)
    assert found is not None and found.counts == (3, 1) and found.cost == pytest.approx(-1.0)


def test_no_cover_when_the_upper_bounds_fall_short() -> None:
    assert cheapest_cover([1.0, 1.0], [2, 3], [1, 1], 6) is None


def test_choice_takes_the_cheapest_option() -> None:
    found = cheapest_choice([3.0, -2.0, 5.0])
    assert found is not None and found.counts == (0, 1, 0) and found.cost == -2.0 == found.lower
    assert cheapest_choice([]) is None
