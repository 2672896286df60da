"""Who acts: the routing file (format, default, mistakes named), the assignment it gives a list (never
touching scores or ranks), due dates carried over lists, overdue cases and each unit's work in the report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from contracts.routing import (
    DEFAULT_ROUTING,
    ROUTING_COLUMNS,
    RoutingError,
    assign_units,
    assignment_rows,
    check_routed,
    load_routing,
    parse_routing,
    unit_summary,
    work_status,
)
from contracts.settings import Settings
from pipelines.daily_flow import unit_report
from pipelines.day_list import routing
from tests.builders import case_row, make_sources

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "routing.toml"
AS_OF = date(2025, 3, 10)
EAST, NORTH = "东湖区", "江北区"
SMALL = """
[due_days]
high = 2
medium = 7

[units.grid]
name = "{town}网格"
capacity = 2

[units.centre]
name = "{town}综治中心"
capacity = 1

[units.county]
name = "{district}矛调中心"
capacity = 5

[[rules]]
name = "征地拆迁到县里"
band = "high"
category = ["征地拆迁"]
unit = "county"
due_days = { high = 1 }

[[rules]]
band = ["high"]
unit = "centre"

[[rules]]
district = ["江北区"]
band = ["medium"]
unit = "centre"

[default]
unit = "grid"
"""


def _listed(rows: list[tuple[str, str, str | None, str, str]], as_of: date = AS_OF) -> pd.DataFrame:
    """A contract list of (case, district, town, category, band) rows, best first."""
    frame = pd.DataFrame(rows, columns=["case_id", "district", "town", "category", "band"])
    frame["rank"] = range(1, len(frame) + 1)
    frame["opened_at"] = pd.Timestamp("2025-01-01 09:00")
    frame["score"] = np.linspace(0.6, 0.01, len(frame))
    frame["reasons"] = "近7天关联热线来电3次"
    frame["model_version"] = "m/v1"
    frame["as_of"] = as_of
    frame["town"] = frame["town"].astype(object)
    return frame[list(LIST_COLUMNS)]


LISTED = [
    ("A", EAST, "湖滨街道", "征地拆迁", "high"),
    ("B", EAST, None, "邻里纠纷", "high"),
    ("C", NORTH, "江北街道", "物业纠纷", "medium"),
    ("D", EAST, "湖滨街道", "物业纠纷", "medium"),
    ("E", NORTH, "江北街道", "征地拆迁", "low"),
]


def test_the_shipped_default_is_the_documented_example_and_routes_the_fengqiao_way() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == DEFAULT_ROUTING
    default = load_routing(None)
    assert (default.source, default.sha256) == ("default", load_routing(EXAMPLE).sha256)
    names = {key: unit.name for key, unit in default.table.units.items()}
    assert names == {
        "grid": "{town}网格",
        "village_committee": "{town}村（社区）调委会",
        "justice_office": "{town}司法所",
        "police_station": "{town}派出所",
        "town_centre": "{town}综治中心",
        "county_centre": "{district}矛调中心",
    }
    listed = _listed(
        [
            ("A", EAST, "湖滨街道", "征地拆迁", "high"),
            ("B", EAST, "湖滨街道", "婚姻家庭", "high"),
            ("C", EAST, "湖滨街道", "其他", "high"),
            ("D", EAST, "湖滨街道", "劳资纠纷", "medium"),
            ("E", EAST, "湖滨街道", "邻里纠纷", "medium"),
            ("F", EAST, "湖滨街道", "其他", "medium"),
            ("G", EAST, "湖滨街道", "其他", "low"),
        ]
    )
    routed = assign_units(listed, default.table, AS_OF)
    assert routed["unit"].fillna("").tolist() == [
        "东湖区矛调中心",  # big matters: the county leads
        "湖滨街道派出所",
        "湖滨街道综治中心",
        "湖滨街道司法所",
        "湖滨街道村（社区）调委会",
        "湖滨街道网格",  # small matters: the grid
        "",
    ]
    assert routed["due_date"].tolist()[:6] == [AS_OF + timedelta(days=d) for d in (2, 2, 2, 7, 7, 7)]


def test_the_first_matching_rule_wins_the_default_takes_the_rest_and_low_cases_get_none() -> None:
    table = parse_routing(SMALL, "small.toml").table
    routed = assign_units(_listed(LISTED), table, AS_OF)
    shown = routed[["case_id", *ROUTING_COLUMNS]].astype(object)
    assert shown.where(shown.notna(), None).to_dict("records") == [
        {"case_id": "A", "unit": "东湖区矛调中心", "assigned_on": AS_OF, "due_date": date(2025, 3, 11)},
        {"case_id": "B", "unit": "东湖区综治中心", "assigned_on": AS_OF, "due_date": date(2025, 3, 12)},
        {"case_id": "C", "unit": "江北街道综治中心", "assigned_on": AS_OF, "due_date": date(2025, 3, 17)},
        {"case_id": "D", "unit": "湖滨街道网格", "assigned_on": AS_OF, "due_date": date(2025, 3, 17)},
        {"case_id": "E", "unit": None, "assigned_on": None, "due_date": None},
    ]
    check_routed(routed)
    stored = assignment_rows(routed, table)
    assert stored[["case_id", "unit", "capacity"]].values.tolist() == [
        ["A", "东湖区矛调中心", 5],
        ["B", "东湖区综治中心", 1],
        ["C", "江北街道综治中心", 1],
        ["D", "湖滨街道网格", 2],
    ]


@pytest.mark.parametrize("seed", range(5))
def test_assigning_never_changes_the_list_rows_scores_or_ranks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    listed = _listed(
        list(
            zip(
                [f"K{i:03d}" for i in range(n)],
                rng.choice([EAST, NORTH], n),
                rng.choice(["湖滨街道", "江北街道", None], n),
                rng.choice(["征地拆迁", "邻里纠纷", "物业纠纷", "其他"], n),
                rng.choice(["high", "medium", "low"], n),
                strict=True,
            )
        )
    )
    listed["score"] = np.sort(rng.random(n))[::-1]
    listed.index = rng.permutation(n) + 1000  # any index is kept as it is
    before = listed.copy()
    previous = pd.DataFrame(
        {
            "case_id": listed["case_id"].iloc[::3],
            "unit": "湖滨街道网格",
            "assigned_on": AS_OF - timedelta(days=4),
            "due_date": AS_OF + timedelta(days=3),
        }
    )
    routed = assign_units(listed, parse_routing(SMALL).table, AS_OF, previous)
    pd.testing.assert_frame_equal(listed, before)  # the input is not touched
    pd.testing.assert_frame_equal(routed[list(LIST_COLUMNS)], before)
    assert list(routed.columns) == [*LIST_COLUMNS, *ROUTING_COLUMNS]
    check_list(routed[list(LIST_COLUMNS)])
    check_routed(routed)


def test_a_case_kept_by_the_same_unit_keeps_its_day_and_due_date_unless_its_band_makes_it_sooner() -> None:
    table = parse_routing(SMALL).table
    earlier = AS_OF - timedelta(days=5)
    previous = pd.DataFrame(
        {
            "case_id": ["C", "D", "B", "Z"],
            "unit": ["江北街道综治中心", "湖滨街道网格", "东湖区网格", "湖滨街道网格"],
            "assigned_on": [earlier, earlier, earlier, earlier],
            "due_date": [date(2025, 3, 20), date(2025, 3, 12), date(2025, 3, 12), date(2025, 3, 12)],
        }
    )
    routed = assign_units(_listed(LISTED), table, AS_OF, previous).set_index("case_id")
    assert routed.loc["D", ["assigned_on", "due_date"]].tolist() == [earlier, date(2025, 3, 12)]  # kept
    assert routed.loc["C", ["assigned_on", "due_date"]].tolist() == [earlier, date(2025, 3, 17)]  # sooner
    assert routed.loc["B", ["assigned_on", "due_date"]].tolist() == [AS_OF, date(2025, 3, 12)]  # new unit
    assert routed.loc["A", "assigned_on"] == AS_OF  # not on the previous list


def test_a_wrong_assignment_is_caught() -> None:
    routed = assign_units(_listed(LISTED), parse_routing(SMALL).table, AS_OF)
    with pytest.raises(ValueError, match="list row 5: a low case has no assignment"):
        check_routed(routed.assign(unit=[*routed["unit"][:4], "网格"]))
    with pytest.raises(ValueError, match="list row 2: a high case needs a unit"):
        check_routed(routed.assign(due_date=[routed["due_date"][0], None, *routed["due_date"][2:]]))
    with pytest.raises(ValueError, match="list row 1: assigned after the list's day"):
        check_routed(routed.assign(assigned_on=[AS_OF + timedelta(days=1), *routed["assigned_on"][1:]]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            SMALL.replace('district = ["江北区"]', 'district = ["江北县"]'),
            "rule 3, field district: unknown district '江北县'",
        ),
        (SMALL.replace('district = ["江北区"]', 'district = ["南成区"]'), "(did you mean 南城区?)"),
        (
            SMALL.replace('district = ["江北区"]', 'town = ["湖宾街道"]'),
            "rule 3, field town: unknown town '湖宾街道'",
        ),
        (
            SMALL.replace('unit = "county"', 'unit = "countey"'),
            "rule 1 (征地拆迁到县里), field unit: unknown unit 'countey' (did you mean county?)",
        ),
        (
            SMALL.replace('band = ["medium"]', 'band = ["low"]'),
            "rule 3, field band: Input should be 'high' or 'medium'",
        ),
        (
            SMALL.replace("capacity = 5", "capacity = 0"),
            "unit county, field capacity: Input should be greater than or equal to 1",
        ),
        (
            SMALL.replace("{district}矛调中心", "{village}矛调中心"),
            "unit county, field name: unknown placeholder {village}",
        ),
        (SMALL.replace("medium = 7\n", ""), "field due_days.medium: missing"),
        (SMALL.replace('[default]\nunit = "grid"', ""), "default: missing"),
        (
            SMALL.replace('unit = "centre"\n', 'unit = "centre"\nbands = ["high"]\n', 1),
            "rule 2, field bands: unknown key",
        ),
        (SMALL.replace('band = ["high"]\nunit = "centre"', 'unit = "centre"'), "rule 2 has no condition"),
        ("[due_days\n", "not valid TOML"),
    ],
)
def test_a_mistake_in_the_routing_file_names_the_file_the_rule_and_the_field(text: str, message: str) -> None:
    with pytest.raises(RoutingError) as raised:
        parse_routing(text, "city.toml", districts=[EAST, NORTH, "南城区"], towns=["湖滨街道", "江北街道"])
    assert str(raised.value).startswith("city.toml: ")
    assert message in str(raised.value)


def test_the_configured_file_is_checked_against_the_stored_cases(tmp_path: Path) -> None:
    known = make_sources([case_row("A", "2025-01-01", town="湖滨街道")], [], [])
    path = tmp_path / "routing.toml"
    path.write_text(SMALL, encoding="utf-8")  # names 江北区, where no stored case is
    with pytest.raises(RoutingError, match=rf"^{path}: rule 3, field district: unknown district '江北区'"):
        routing(Settings(home=tmp_path, routing_file=path), known)
    path.write_text(SMALL.replace('district = ["江北区"]', 'district = ["东湖区"]'), encoding="utf-8")
    assert routing(Settings(home=tmp_path, routing_file=path), known).source == str(path)
    assert routing(Settings(home=tmp_path), known).source == "default"
    with pytest.raises(RoutingError, match="cannot read the routing file"):
        load_routing(tmp_path / "missing.toml")


def _status(reference: date) -> pd.DataFrame:
    assigned = pd.DataFrame(
        {
            "case_id": ["A", "B", "C", "D"],
            "unit": ["东湖区矛调中心", "湖滨街道网格", "湖滨街道网格", "湖滨街道网格"],
            "capacity": [5, 1, 1, 1],
            "assigned_on": [date(2025, 3, 1), date(2025, 3, 5), AS_OF, AS_OF],
            "due_date": [date(2025, 3, 3), date(2025, 3, 12), date(2025, 3, 12), date(2025, 3, 17)],
        }
    )
    actions = pd.DataFrame(
        {
            "case_id": ["A", "B", "B", "C"],
            "recorded_at": pd.to_datetime(
                ["2025-02-27 10:00", "2025-03-06 09:00", "2025-03-07 09:00", "2025-03-09 23:59"]
            ),
        }
    )
    return work_status(assigned, actions, reference)


def test_a_case_is_overdue_when_nothing_was_done_since_it_was_assigned_and_its_due_date_passed() -> None:
    status = _status(date(2025, 3, 13))
    assert status["acted"].tolist() == [0, 2, 0, 0]  # A's and C's actions came before they were assigned
    assert status["overdue"].tolist() == [True, False, True, False]
    assert status["days_overdue"].tolist() == [10, 0, 1, 0]
    assert not _status(date(2025, 3, 12))["overdue"].iloc[2]  # due on the 12th: on time that day


def test_each_unit_is_counted_and_more_new_cases_than_its_capacity_is_flagged() -> None:
    summary = unit_summary(_status(date(2025, 3, 13)), AS_OF)
    assert summary.to_dict("records") == [
        {
            "unit": "东湖区矛调中心",
            "capacity": 5,
            "assigned": 1,
            "new": 0,
            "acted": 0,
            "overdue": 1,
            "over_capacity": False,
        },
        {
            "unit": "湖滨街道网格",
            "capacity": 1,
            "assigned": 3,
            "new": 2,
            "acted": 1,
            "overdue": 1,
            "over_capacity": True,
        },
    ]


def test_the_daily_report_counts_each_unit_s_actions_of_the_day_and_its_overdue_cases() -> None:
    day_actions = pd.DataFrame({"unit": ["湖滨街道网格", "湖滨街道网格", "江北街道司法所", None]})
    table = unit_report(_status(date(2025, 3, 13)), day_actions, AS_OF)
    assert table[["unit", "capacity", "assigned", "overdue", "actions"]].to_dict("records") == [
        {"unit": "东湖区矛调中心", "capacity": 5, "assigned": 1, "overdue": 1, "actions": 0},
        {"unit": "江北街道司法所", "capacity": None, "assigned": 0, "overdue": 0, "actions": 1},
        {"unit": "湖滨街道网格", "capacity": 1, "assigned": 3, "overdue": 1, "actions": 2},
    ]
    empty = unit_report(_status(date(2025, 3, 13)).iloc[:0], day_actions.iloc[:0], AS_OF)
    assert empty.empty
