"""The grievance-quality benchmark's judging of clusters, its figures and targets on hand-made tables, and
one tiny city judged end to end (the bench finds the calls of every cluster the product returns)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bench.grievance_quality import (
    JUDGED_COLUMNS,
    active_days,
    cluster_calls,
    evaluation_days,
    false_surges,
    generic_in_top,
    grievance_figures,
    ingested,
    is_generic,
    judged_clusters,
    merged,
    paired_timing,
    product_config,
    render,
    run_city,
    summary,
)
from cities.demo import SimulationConfig
from features.grievances import GrievanceConfig, grievance_clusters

DAY = date(2025, 3, 1)


def clusters(*rows: tuple[str, str, bool], kinds: tuple[str, ...] = ()) -> pd.DataFrame:
    """A day's cluster table (cluster_id, thing, surge; estates unless `kinds` says), in the product's
    order."""
    return pd.DataFrame(
        {
            "cluster_id": [r[0] for r in rows],
            "thing": [r[1] for r in rows],
            "thing_kind": list(kinds) or ["estate"] * len(rows),
            "district": "东湖区",
            "surge": [r[2] for r in rows],
            "distinct_callers": 5,
        }
    )


def judged_row(
    day: date, rank: int, cluster: str, grievance: int, surge: bool, thing: str = "x", kind: str = "estate"
) -> dict:
    return {
        "day": day,
        "rank": rank,
        "cluster_id": cluster,
        "thing": thing,
        "thing_kind": kind,
        "district": "东湖区",
        "surge": surge,
        "distinct_callers": 5,
        "members": 5,
        "grievance": grievance,
        "grievance_share": 1.0 if grievance else 0.0,
        "generic": False,
    }


def test_generic_things_are_told_from_names() -> None:
    things = pd.Series(
        ["导致小区", "停水导致小区", "东湖区自来水公司", "市政工程公司", "锦绣花园", "宏达建筑工程有限公司"]
    )
    assert is_generic(things).tolist() == [True, True, True, True, False, False]


def test_a_cluster_belongs_to_the_grievance_more_than_half_its_calls_come_from() -> None:
    table = clusters(
        ("A", "锦绣花园", True), ("B", "宏达厂", False), ("C", "整个小区", False), ("D", "无", False)
    )
    members = pd.DataFrame(
        {
            "call_id": ["a1", "a2", "a3", "x1", "b1", "b2", "c1", "c2", "x2", "x3"],
            "cluster_id": ["A", "A", "A", "A", "B", "B", "B", "B", "C", "C"],
        }
    )
    grievance_of = pd.Series({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 1, "c1": 2, "c2": 2})
    judged = judged_clusters(table, members, grievance_of)
    assert list(judged.columns) == [c for c in JUDGED_COLUMNS if c != "day"]
    assert judged["rank"].tolist() == [1, 2, 3, 4]
    assert judged["grievance"].tolist() == [1, 0, 0, 0]  # B: half and half, no majority
    assert judged["grievance_share"].tolist() == [0.75, 0.5, 0.0, 0.0]
    assert judged["members"].tolist() == [4, 4, 2, 0]  # D: the bench found none of its calls
    assert judged["generic"].tolist() == [False, False, True, False]


def test_a_topic_s_label_is_never_a_generic_key() -> None:
    """A topic is shown by words said ('实习、强制、电子厂'), not a key naming a thing."""
    table = clusters(("A", "实习、强制、电子厂", True), ("B", "电子厂", False), kinds=("topic", "company"))
    members = pd.DataFrame({"call_id": ["a1", "b1"], "cluster_id": ["A", "B"]})
    judged = judged_clusters(table, members, pd.Series(dtype=int))
    assert judged["generic"].tolist() == [False, True]
    assert judged["thing_kind"].tolist() == ["topic", "company"]


def test_an_empty_day_is_judged_empty() -> None:
    empty = judged_clusters(clusters(), pd.DataFrame({"call_id": [], "cluster_id": []}), pd.Series(dtype=int))
    assert empty.empty


def test_false_surges_are_episodes_of_consecutive_days_of_clusters_of_no_grievance() -> None:
    rows = [judged_row(DAY + timedelta(days=d), 1, "X", 0, True, "导致小区") for d in (0, 1, 2, 4)]
    rows += [judged_row(DAY, 2, "G", 1, True), judged_row(DAY, 3, "Y", 0, False)]
    rows += [judged_row(DAY, 4, "T", 0, True, "停水、水管", "topic")]
    episodes = false_surges(pd.DataFrame(rows))
    assert episodes["days"].tolist() == [1, 3, 1]
    assert episodes["first_day"].tolist() == [DAY, DAY, DAY + timedelta(days=4)]
    assert episodes["thing_kind"].tolist() == ["topic", "estate", "estate"]
    assert false_surges(pd.DataFrame([judged_row(DAY, 1, "G", 1, True)])).empty


def test_generic_keys_in_the_top_10_are_listed_with_their_days() -> None:
    rows = [judged_row(DAY + timedelta(days=d), 3 + d, "X", 0, False, "整个小区") for d in range(10)]
    table = pd.DataFrame(rows).assign(generic=True)
    found = generic_in_top(table)
    assert found[["thing", "days", "best_rank"]].values.tolist() == [["整个小区", 8, 3]]  # ranks 3..10


def grievance_calls_at(days_and_callers: list[tuple[int, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(len(days_and_callers))],
            "grievance": 1,
            "received_at": [pd.Timestamp(DAY) + pd.Timedelta(days=d, hours=10) for d, _ in days_and_callers],
            "caller": [c for _, c in days_and_callers],
        }
    )


def test_active_days_need_enough_distinct_callers_in_the_window() -> None:
    calls = grievance_calls_at([(0, "p1"), (1, "p2"), (1, "p2"), (2, "p3"), (3, None)])
    days = [DAY + timedelta(days=d) for d in range(12)]
    # Window of 7 days before each day's midnight: three callers from day 3 (calls of days 0-2) to day 7.
    assert active_days(calls, days, 7, 3) == [DAY + timedelta(days=d) for d in range(3, 8)]


def test_a_grievance_s_figures() -> None:
    calls = grievance_calls_at([(d, f"p{d}") for d in range(10)])
    days = [DAY + timedelta(days=d) for d in range(14)]
    rows = [judged_row(DAY + timedelta(days=4), 12, "A", 1, False, "锦绣花园")]
    rows += [judged_row(DAY + timedelta(days=d), 2, "A", 1, d >= 6, "锦绣花园") for d in range(5, 12)]
    rows += [judged_row(DAY + timedelta(days=9), 5, "B", 1, False, "锦绣小区")]
    rows += [judged_row(DAY + timedelta(days=10), 6, "T", 1, False, "补偿、安置", "topic")]
    judged = pd.DataFrame(rows)
    members = pd.DataFrame(
        {"call_id": [f"c{i}" for i in range(8)] + ["c8", "c9"], "cluster_id": ["A"] * 8 + ["B", "T"]}
    )
    info = {"grievance": 1, "thing": "锦绣花园", "first_escalation_at": "2025-03-15 10:00:00"}
    config = GrievanceConfig(surge_min_callers=5)
    figures = grievance_figures(info, calls, judged, members, days, config)
    assert figures["calls"] == 10 and figures["first_call"] == "2025-03-01"
    assert (figures["keys"], figures["main_key_share"], figures["clusters"]) == (3, 0.8, 3)
    assert figures["topic_clusters"] == 1
    assert figures["shown_as"] == ["锦绣花园", "补偿、安置", "锦绣小区"]
    assert (figures["days_to_appear"], figures["days_to_flag"], figures["flag_before_escalation"]) == (
        4,
        6,
        8,
    )
    # Active (5 callers in the 7 days before midnight) from day 5 to day 12; in the top 10 on days 5-11.
    assert figures["active_days"] == 8 and figures["top_share"] == pytest.approx(7 / 8)
    assert figures["median_rank"] == 2.0  # rank 2 on days 5-11, absent on day 12
    assert figures["flagged"]


def city(seed: int, grievances: list[dict], generic: list[dict] | None = None) -> dict:
    return {
        "config": {"seed": str(seed)},
        "evaluated_days": 61,
        "grievances": grievances,
        "false_surges": 2,
        "false_surges_per_month": 1.0,
        "false_surge_days": 3,
        "false_surge_things": [{"thing": "导致小区", "district": "东湖区", "episodes": 2}],
        "generic_in_top": generic or [],
        "top_rows": 100,
        "top_rows_of_no_grievance": 40,
        "clusters_without_calls": 0,
    }


def figures_of(g: int, kind: str, clusters_: int, top: float | None, to_flag: int | None) -> dict:
    return {
        "grievance": g,
        "thing": f"thing{g}",
        "thing_kind": kind,
        "district": "东湖区",
        "calls": 50,
        "named_forms": 7,
        "topic_only_share": 0.15,
        "keys": 4,
        "main_key_share": 0.6,
        "clusters": clusters_,
        "shown_as": [f"thing{g}"],
        "days_to_appear": 3,
        "days_to_flag": to_flag,
        "flag_before_escalation": 5,
        "active_days": 10,
        "top_share": top,
        "flagged": to_flag is not None,
    }


def test_the_summary_judges_the_targets() -> None:
    cities = [city(1, [figures_of(1, "company", 1, 0.95, 8), figures_of(2, "school", 2, 0.5, None)])]
    plain = [city(1, [figures_of(1, "company", 1, 1.0, 7), figures_of(2, "company", 1, 1.0, 6)])]
    assert paired_timing(cities, plain) == [
        {"seed": "1", "grievance": 1, "thing": "thing1", "days_to_flag": 8, "reference_days_to_flag": 7}
    ]
    s = summary(cities, plain)
    assert s["one_cluster_share"] == 0.5 and s["min_top_share"] == 0.5
    assert s["false_surges_per_month"] == pytest.approx(2 / (61 / 30.4375))
    assert {name: t["met"] for name, t in s["targets"].items()} == {
        "one_cluster": False,
        "top_10": False,
        "no_generic_key": True,
        "flagged_no_later": False,
    }
    good = [city(1, [figures_of(1, "company", 1, 0.95, 6)])]
    met = summary(good, [city(1, [figures_of(1, "company", 1, 1.0, 7)])])["targets"]
    assert all(t["met"] for t in met.values())
    generic = [
        city(
            1,
            [figures_of(1, "company", 1, 0.95, 6)],
            [{"thing": "整个小区", "district": "东湖区", "days": 3}],
        )
    ]
    without_reference = summary(generic, [])["targets"]
    assert not without_reference["no_generic_key"]["met"]
    assert without_reference["flagged_no_later"]["met"] is None  # all flagged, nothing to compare with
    unflagged = summary([city(1, [figures_of(1, "company", 1, 0.95, None)])], [])["targets"]
    assert unflagged["flagged_no_later"]["met"] is False


def test_the_report_shows_every_target_met_or_not() -> None:
    cities = [city(1, [figures_of(1, "company", 1, 0.95, 8), figures_of(2, "school", 2, 0.5, None)])]
    plain = [city(1, [figures_of(1, "company", 1, 1.0, 7), figures_of(2, "company", 1, 1.0, 6)])]
    figures = {
        "command": "python -m bench.grievance_quality --seeds 1",
        "date": "2026-12-04",
        "code": {"commit": "abc1234", "uncommitted": []},
        "machine": {"cpu_model": "test cpu"},
        "settings": {"cases": 3000, "days": 300, "warmup_days": 56},
        "cities": cities,
        "summary": summary(cities, plain),
    }
    text = render(figures)
    assert "| share shown as exactly one cluster | 0.50 | 1.00 |" in text
    assert "| share flagged (surge) by the end | 0.50 | 1.00 |" in text
    assert "| flag timing | 0/1 no later than the plain reference, all flagged: False |" in text
    assert "| true grievances shown as exactly one cluster | 50% | ≥ 95% | **not met** |" in text
    assert "| days × generic keys in a day's top 10 | 0 | 0 | met |" in text
    assert "| 1 | 2 | school | thing2 (东湖区) | 50 |" in text
    assert "| 60% | 2 (0) | thing2 |" in text  # clusters (of which topics), shown as
    assert "1 city of the demo simulator" in text


def test_runs_of_one_city_each_are_merged_into_one() -> None:
    def run(seed: int, to_flag: int, plain_to_flag: int, fingerprint: str = "f") -> dict:
        cities, plain = (
            [city(seed, [figures_of(1, "company", 1, 1.0, to_flag)])],
            [city(seed, [figures_of(1, "company", 1, 1.0, plain_to_flag)])],
        )
        for made in (*cities, *plain):
            made["config"]["grievances"] = str(seed % 7)
        return {  # a run of one seed records the grievances list it was given, cycled over its seeds
            "command": f"python -m bench.grievance_quality --seeds {seed}",
            "settings": {"seeds": [seed], "grievances": [seed % 7, 9], "cases": 3000, "days": 300},
            "cities": cities,
            "references": plain,
            "summary": summary(cities, plain),
            "code": {"commit": "abc1234", "uncommitted": [], "fingerprint": fingerprint},
        }

    both = merged([run(11, 8, 7), run(23, 6, 6)], note="two processes")
    assert [c["config"]["seed"] for c in both["cities"]] == ["11", "23"]
    assert [c["config"]["seed"] for c in both["references"]] == ["11", "23"]
    assert both["settings"]["seeds"] == [11, 23] and both["settings"]["grievances"] == [4, 2]
    assert both["command"] == "python -m bench.grievance_quality --seeds 11,23 --grievances 4,2"
    assert both["summary"]["targets"]["flagged_no_later"]["value"].startswith("1/2 no later")
    assert both["code"]["note"] == "two processes"
    with pytest.raises(ValueError):
        merged([run(11, 8, 7), run(23, 6, 6, fingerprint="g")])


def test_the_judged_days_run_from_the_warm_up_to_the_morning_after_the_period() -> None:
    days = evaluation_days(SimulationConfig(days=100), 56)
    assert days[0] == date(2025, 2, 26) and days[-1] == date(2025, 4, 11) and len(days) == 45


@pytest.mark.slow
def test_a_tiny_city_is_judged_with_the_calls_of_every_cluster(tmp_path: Path) -> None:
    config = SimulationConfig(seed=5, n_cases=300, days=110, grievances=2)
    sources, truth, settings = ingested(config, tmp_path)
    grievance_config = product_config(settings)
    first = truth[truth["grievance"] == 1].iloc[0]
    escalation = pd.Timestamp(first["first_escalation_at"]).date()
    days = [escalation - timedelta(days=d) for d in (6, 3, 0)]
    for day in days:
        instant = pd.Timestamp(day)
        returned = set(grievance_clusters(sources, instant, grievance_config)["cluster_id"])
        assert returned and returned <= set(cluster_calls(sources, instant, grievance_config)["cluster_id"])
    result = run_city(sources, truth, days, grievance_config)
    assert result["clusters_without_calls"] == 0 and result["evaluated_days"] == 3
    by_number = {g["grievance"]: g for g in result["grievances"]}
    assert by_number[1]["calls"] == (truth[truth["grievance"] == 1]["record_kind"] == "hotline").sum()
    assert by_number[1]["clusters"] >= 1 and by_number[1]["active_days"] == 3
