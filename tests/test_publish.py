"""Publishing: atomic file replacement, deterministic bytes, the store's list, the manifest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from contracts.settings import Settings
from features.grievances import empty_clusters
from pipelines import publish as publishing
from pipelines.publish import input_fingerprint, manifest, publish_list, table_bytes, write_atomic
from pipelines.score_flow import list_audit, published_grievances
from tests.conftest import make_sources
from warehouse import tables
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
    stored = warehouse.read_list(AS_OF)
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

    monkeypatch.setattr(publishing.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new list, half written")
    assert target.read_bytes() == b"old complete list"
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


def test_fingerprint_changes_with_any_record_version() -> None:
    base = make_sources(
        [{"case_id": "A", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他"}], [], []
    )
    changed = make_sources(
        [{"case_id": "A", "opened_at": "2025-01-01", "district": "东湖区", "category": "婚姻家庭"}], [], []
    )
    assert input_fingerprint(base) == input_fingerprint(base)
    assert input_fingerprint(base) != input_fingerprint(changed)
