"""A messy Chinese-headed export (Excel, GB18030 CSV, JSON Lines) ingested through the shipped column map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cities.demo import SimulatedCity, SimulationConfig, simulate_city
from contracts.timeparse import parse_datetimes
from contracts.vocabulary import RecordKind
from ingest.mapping import ColumnMapping, load_mapping
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.store import Warehouse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mappings" / "chinese-export.toml"


def as_export(frame: pd.DataFrame, kind: RecordKind, mapping: ColumnMapping) -> pd.DataFrame:
    """A contract frame dressed as the Chinese export the mapping describes (first heading and code)."""
    section = mapping.kinds[kind]
    headings = {target: source for source, target in reversed(list(section.columns.items()))}
    out = frame.copy()
    for column, codes in section.values.items():
        if column in out and column != "party_count":
            inverse = {target: source for source, target in reversed(list(codes.items())) if target}
            out[column] = out[column].map(lambda v, inv=inverse: inv.get(v, v) if isinstance(v, str) else v)
    return out.rename(columns=headings)


@pytest.fixture(scope="module")
def city() -> SimulatedCity:
    return simulate_city(SimulationConfig(seed=11, n_cases=300, days=120, messiness=0.03))


@pytest.mark.slow
def test_messy_export_loses_no_good_record(tmp_path: Path, city: SimulatedCity) -> None:
    mapping = load_mapping(EXAMPLE)
    cases = as_export(city.cases, RecordKind.CASES, mapping)
    events = as_export(city.case_events, RecordKind.CASE_EVENTS, mapping)
    calls = as_export(city.hotline, RecordKind.HOTLINE, mapping)
    cases.to_excel(tmp_path / "案件登记2025.xlsx", index=False)
    events.to_csv(tmp_path / "案件流转.csv", index=False, encoding="gb18030")
    calls.to_json(tmp_path / "12345工单.jsonl", orient="records", lines=True, force_ascii=False)
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")

    report = ingest_paths([tmp_path], warehouse, TEST_KEY, mapping=mapping, chunk_rows=500)

    assert report.failed == {}
    accounting = report.accounting.set_index("source_file")
    parts = accounting[["accepted", "updated", "duplicates", "quarantined"]].sum(axis=1)
    assert (accounting["read"] == parts).all()
    assert accounting["read"].to_dict() == {
        "案件登记2025.xlsx": len(cases),
        "案件流转.csv": len(events),
        "12345工单.jsonl": len(calls),
    }
    quarantine = warehouse.read_table(tables.quarantine)
    where = {
        "cases.csv": "案件登记2025.xlsx",
        "case_events.csv": "案件流转.csv",
        "hotline.csv": "12345工单.jsonl",
    }
    found = set(zip(quarantine["source_file"], quarantine["row"], strict=True))
    broken = city.truth_corruptions[city.truth_corruptions["kind_of_corruption"] != "duplicate"]
    assert [
        (f, r) for f, r in zip(broken["file"], broken["row"], strict=True) if (where[f], r) not in found
    ] == []

    corrupted_case_rows = set(broken.loc[broken["file"] == "cases.csv", "row"])
    good_ids = {
        cid for row, cid in enumerate(city.cases["case_id"], start=1) if row not in corrupted_case_rows
    }
    stored = warehouse.read_records(RecordKind.CASES)
    assert set(stored["case_id"]) == good_ids
    good_calls = {
        cid
        for row, cid in enumerate(city.hotline["call_id"], start=1)
        if row not in set(broken.loc[broken["file"] == "hotline.csv", "row"])
    }
    assert set(warehouse.read_records(RecordKind.HOTLINE)["call_id"]) == good_calls
    bad_event_rows = set(broken.loc[broken["file"] == "case_events.csv", "row"])
    clean = city.case_events[[row not in bad_event_rows for row in range(1, len(city.case_events) + 1)]]
    when = parse_datetimes(clean["event_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    clean_keys = set(clean["case_id"] + "|" + when + "|" + clean["event_type"])
    kept = set(warehouse.read_records(RecordKind.CASE_EVENTS)["record_key"])
    held = set(warehouse.read_table(tables.held_events)["record_key"])
    assert clean_keys <= kept | held
    assert kept.isdisjoint(held)
