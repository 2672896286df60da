"""The usual level of a grievance cluster (the mean of its own weeks without its surges, its district's
other things) and what is shown although not unusual: new things, and things the week after a surge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from features.grievance_levels import own_levels, peer_levels, upper_tail
from features.grievances import GrievanceConfig
from tests.test_grievances import calls_naming, clusters, instant

FACTORY = "宏达服装厂拖欠工资"


def weeks_naming(text: str, callers_per_week: dict[int, int], first_phone: int, **fields: str) -> list[dict]:
    """Calls naming a thing `week` weeks before the window of instant(7) (week 2 is the first baseline
    week), from new phones."""
    rows = []
    for week, count in callers_per_week.items():
        rows += calls_naming(text, [count], first_day=1 - 7 * week, first_phone=first_phone, **fields)
        first_phone += count
    return rows


def test_the_own_level_is_the_mean_of_the_baseline_weeks_it_did_not_surge_in() -> None:
    """0 had three weeks of a grievance (9, 12, 20 callers: surges against its median week, 0, floored at
    1) and is 0 in the others; 1 is named by one or two callers most weeks and five once (P(N >= 5 | 1)
    = 0.004: no surge), so its level is its mean, 12 / 8 (its median, 1, would be too low)."""
    per_block = pd.DataFrame({"gid": [0] * 3 + [1] * 7, "block": [2, 3, 4, 2, 3, 4, 5, 7, 8, 9]})
    per_block["n"] = [9, 12, 20, 1, 1, 1, 1, 1, 2, 5]
    levels = own_levels(per_block, pd.Index([0, 1, 2]), GrievanceConfig())
    assert levels.tolist() == [0.0, 1.5, 0.0]


def test_a_grievance_after_its_peak_is_judged_by_its_usual_weeks_not_its_peak() -> None:
    """Three baseline weeks of a grievance (30, 20, 12 callers) and five quiet ones: its usual weeks are
    quiet, so the six callers of the window are still unusual (the mean of all eight weeks, 7.75, would
    hide them)."""
    past = weeks_naming(FACTORY, {2: 12, 3: 20, 4: 30}, first_phone=1000)
    now = calls_naming(FACTORY, [6], first_day=2)
    found = clusters(past + now, instant(7)).iloc[0]
    assert found["usual"] == 1.0 and found["distinct_callers"] == 6
    assert found["p_value"] == pytest.approx(stats.poisson.sf(5, 1.0))


def test_a_thing_named_in_most_weeks_keeps_its_level() -> None:
    past = weeks_naming(FACTORY, {w: 4 for w in range(2, 10)}, first_phone=1000)
    now = calls_naming(FACTORY, [6], first_day=2)
    assert clusters(past + now, instant(7)).empty  # P(N >= 6 | 4) = 0.21
    usual = clusters(past + now, instant(7), config=GrievanceConfig(emerging_p=1.0))["usual"].item()
    assert usual == 4.0


def test_the_peer_level_leaves_the_cluster_itself_out() -> None:
    """A district's other thing of the category was named by one caller in one baseline week: the
    cluster's peers' level is 1/8 (with itself, 3 weeks x 10 callers, it would be 31/16)."""
    mentions = pd.DataFrame(
        {
            "gid": [0] * 30 + [1],
            "block": [2] * 10 + [3] * 10 + [4] * 10 + [5],
            "caller": [f"c{i}" for i in range(31)],
            "district": "东湖区",
            "category": "欠薪",
            "kind": "company",
        }
    )
    frame = pd.DataFrame(
        {"district": "东湖区", "category": "欠薪", "kind": "company"}, index=pd.Index([0, 1, 2])
    )
    levels = peer_levels(mentions, frame, GrievanceConfig())
    assert levels == pytest.approx(np.array([1 / 8, 30 / 8, 31 / 16]))


def test_a_new_thing_is_shown_from_min_callers_and_a_known_one_only_when_unusual() -> None:
    """Three callers of a thing nobody named in the weeks before are shown; three callers of a thing
    one caller named a month ago are not (P(N >= 3 | 1) = 0.08)."""
    new = clusters(calls_naming(FACTORY, [3], first_day=3), instant(7))
    assert len(new) == 1 and not new["surge"].item()
    known = weeks_naming(FACTORY, {4: 1}, first_phone=1000) + calls_naming(FACTORY, [3], first_day=3)
    assert clusters(known, instant(7)).empty
    assert clusters(calls_naming(FACTORY, [2], first_day=3), instant(7)).empty  # below min_callers


def test_a_thing_that_surged_the_week_before_is_followed_while_it_dies_down() -> None:
    """Eight callers in the week before (a surge against the floor level, 1) and three in the window:
    shown though P(N >= 3 | 1) = 0.08, not without the rule; four callers the week before are no surge."""
    past = weeks_naming(FACTORY, {4: 1}, first_phone=1000)  # named once a month ago: not new
    now = calls_naming(FACTORY, [3], first_day=3)
    surge_before = calls_naming(FACTORY, [8], first_day=-3, first_phone=100)
    found = clusters(past + surge_before + now, instant(7))
    assert found[["distinct_callers", "prior_calls", "surge"]].values.tolist() == [[3, 8, False]]
    assert clusters(
        past + surge_before + now, instant(7), config=GrievanceConfig(show_after_surge=False)
    ).empty
    assert clusters(past + calls_naming(FACTORY, [4], first_day=-3, first_phone=100) + now, instant(7)).empty


def test_the_upper_tail_is_the_poisson_tail_and_one_for_no_callers() -> None:
    callers = np.array([0, 1, 1, 3, 5, 12, 40])
    usual = np.array([2.0, 1.0, 0.0, 1.0, 0.2, 7.5, 30.0])
    tail = upper_tail(pd.Series(callers), pd.Series(usual))
    np.testing.assert_array_equal(tail, stats.poisson.sf(callers - 1, usual))
    assert tail[0] == 1.0 and tail[2] == 0.0
    assert tail[1] == pytest.approx(1 - np.exp(-1.0))
