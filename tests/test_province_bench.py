"""The province benchmark's store: copies of a city that never meet, and the figures the summary keeps."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from bench.features_bench import prepare
from bench.province_bench import copy_of, fill_province
from bench.summary import province, province_note


def test_a_copy_prefixes_identifiers_changes_pseudonyms_and_districts_and_keeps_missing_values() -> None:
    calls = pd.DataFrame(
        {
            "record_key": ["HL1", "HL2"],
            "call_id": ["HL1", "HL2"],
            "case_id": ["FQ2025-000001", None],
            "caller_name_pid": ["abcdef", None],
            "caller_phone_pid": ["123456", "654321"],
            "district": ["临川区", "东乡区"],
            "text": ["欠薪", "噪音"],
        }
    )
    copied = copy_of(calls, "hotline", 11)
    assert copied["record_key"].tolist() == ["S11-HL1", "S11-HL2"]
    assert copied["call_id"].tolist() == ["S11-HL1", "S11-HL2"]
    assert copied["case_id"].iloc[0] == "S11-FQ2025-000001" and pd.isna(copied["case_id"].iloc[1])
    assert copied["caller_name_pid"].iloc[0] == "0bcdef" and pd.isna(copied["caller_name_pid"].iloc[1])
    assert copied["caller_phone_pid"].tolist() == ["0b3456", "0b4321"]
    assert copied["district"].tolist() == ["临川区11", "东乡区11"]
    assert copied["text"].tolist() == ["欠薪", "噪音"] and calls["call_id"].tolist() == ["HL1", "HL2"]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("province") / "city"
    prepare(300, 3_000, 5, 1_000, work, regenerate=True)
    return work


@pytest.mark.slow  # simulates a city
def test_the_province_holds_every_copy_whole_and_apart_and_a_smaller_store_grows(city: Path) -> None:
    store = city.parent / "province.db"
    filled = fill_province(city, store, copies=3, batch_rows=700)
    one = {name: len(pd.read_parquet(city / "stored" / f"{name}.parquet")) for name in ("cases", "hotline")}
    assert filled["rows"]["cases"] == 3 * one["cases"] and filled["rows"]["hotline"] == 3 * one["hotline"]
    with sqlite3.connect(store) as connection:
        cases = pd.read_sql("SELECT case_id, district, reporter_phone_pid FROM cases", connection)
        calls = pd.read_sql("SELECT call_id, district FROM hotline", connection)
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert len(cases) == cases["case_id"].nunique() == 3 * one["cases"]
    assert calls["call_id"].nunique() == 3 * one["hotline"]
    per_copy = cases.groupby(cases["case_id"].str[:4])
    assert sorted(per_copy.groups) == ["S00-", "S01-", "S02-"]
    districts = [set(group["district"]) for _, group in per_copy]
    phones = [set(group["reporter_phone_pid"].dropna()) for _, group in per_copy]
    assert len(districts[0]) >= 2 and not districts[0] & districts[1] and not districts[1] & districts[2]
    assert not phones[0] & phones[1]
    assert any("district" in name for name in indexes)
    again = fill_province(city, store, copies=3)
    assert again["reused"] and again["rows"] == filled["rows"]
    other = fill_province(city, store, copies=2)
    assert not other["reused"] and other["rows"]["cases"] == 2 * one["cases"]
    grown = fill_province(city, store, copies=3, batch_rows=700)
    assert grown["added"] == 1 and grown["rows"] == filled["rows"]
    with sqlite3.connect(store) as connection:
        regrown = pd.read_sql("SELECT case_id, district FROM cases ORDER BY case_id", connection)
    assert regrown.equals(cases.sort_values("case_id").reset_index(drop=True)[["case_id", "district"]])
    assert fill_province(city, store, copies=3)["reused"]
    # the record is the store's own (the JSON beside it only mirrors it) and names the city copied
    store.with_suffix(".json").unlink()
    assert fill_province(city, store, copies=3)["reused"]
    other_city = city.parent / "other-city"
    shutil.copytree(city, other_city)
    meta = other_city / "stored" / "meta.json"
    made = json.loads(meta.read_text())
    meta.write_text(json.dumps({**made, "parameters": {**made["parameters"], "seed": -1}}))
    again = fill_province(other_city, store, copies=3, batch_rows=700)
    assert not again["reused"] and "added" not in again and again["city"]["seed"] == -1


def test_the_summary_keeps_the_province_figures_with_the_city_s_parquet_ingest_rate() -> None:
    results = {
        "ingest": {"summary": {"parquet": {"records_per_second": 62_779}}},
        "province": {
            "command": "python -m bench.province_bench",
            "date": "2026-12-06",
            "parts": 100,
            "province": {
                "cases": 2_000_000,
                "calls": 50_000_000,
                "daily_run_s": 410.0,
                "train_s": 3_100.0,
                "peak_rss_gib": 5.2,
            },
        },
    }
    assert province(results) == {  # type: ignore[arg-type]
        "cases": 2_000_000,
        "calls": 50_000_000,
        "daily_run_s": 410.0,
        "train_s": 3_100.0,
        "peak_rss_gib": 5.2,
        "ingest_records_per_s": 62_779,
    }
    assert "training 3,100 s (≤ 3,600 s)" in province_note(results)  # type: ignore[arg-type]
    assert province({"ingest": None, "province": None}) is None
    assert "Not finished yet" in province_note({"ingest": None, "province": None})
