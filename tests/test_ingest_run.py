"""Ingest runs against a real store: accounting, duplicates and updates with history, held events,
quarantine release, refused files, formats, chunking, and atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ingest import run as ingest_run
from ingest.run import ingest_paths
from tests.builders import STORE_BACKENDS, TEST_KEY, empty_postgres
from warehouse import tables
from warehouse.store import Warehouse

CASES = (
    "case_id,opened_at,district,category,amount\n"
    "A,2025-01-01 09:00,东湖区,邻里纠纷,100\nB,2025-01-02,东湖区,其他,\n"
)
EVENTS = "case_id,event_at,event_type\nA,2025-01-03,visit\nZ,2025-01-04,visit\nA,2025-01-05,phone_call\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """The same store on the embedded default and on a PostgreSQL server (skipped where none runs)."""
    if request.param == "postgresql":
        return Warehouse(empty_postgres())
    return Warehouse(f"sqlite:///{tmp_path / 'store.db'}")


def counts(report: ingest_run.IngestReport) -> dict[str, list[int]]:
    columns = ["read", "accepted", "updated", "duplicates", "quarantined"]
    return {row.source_file: [getattr(row, c) for c in columns] for row in report.accounting.itertuples()}


def snapshot(warehouse: Warehouse) -> dict[str, list[dict[str, object]]]:
    return {
        name: warehouse.read_table(table).astype(str).to_dict("records")
        for name, table in tables.metadata.tables.items()
    }


def test_accounting_duplicates_updates_and_history(tmp_path: Path, warehouse: Warehouse) -> None:
    first = ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    assert counts(first) == {"cases.csv": [2, 2, 0, 0, 0]}
    changed = CASES.replace("邻里纠纷,100", "邻里纠纷,250") + "C,2025-01-03,江北区,其他,\n"
    second = ingest_paths([write(tmp_path, "cases_2.csv", changed)], warehouse, TEST_KEY)
    assert counts(second) == {"cases_2.csv": [3, 1, 1, 1, 0]}
    stored = warehouse.read_records(ingest_run.RecordKind.CASES).set_index("case_id")
    assert stored.loc["A", "amount"] == 250
    history = warehouse.read_table(tables.record_history)
    assert history["record_key"].tolist() == ["A"]
    assert json.loads(history["payload"][0])["amount"] == 100
    again = ingest_paths([tmp_path / "cases_2.csv"], warehouse, TEST_KEY)
    assert counts(again) == {"cases_2.csv": [3, 0, 0, 3, 0]}


def test_events_for_unknown_cases_are_held_then_released(tmp_path: Path, warehouse: Warehouse) -> None:
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    report = ingest_paths([write(tmp_path, "case_events.csv", EVENTS)], warehouse, TEST_KEY)
    assert counts(report) == {"case_events.csv": [3, 1, 0, 0, 2]}
    open_entries = warehouse.read_table(tables.quarantine)
    assert sorted(open_entries["reason"].str[:5]) == ["'phon", "held:"]
    late_case = "case_id,opened_at,district,category\nZ,2025-01-01,东湖区,其他\n"
    released = ingest_paths([write(tmp_path, "cases_late.csv", late_case)], warehouse, TEST_KEY)
    assert released.released_events == 1
    events = warehouse.read_records(ingest_run.RecordKind.CASE_EVENTS)
    assert sorted(events["case_id"]) == ["A", "Z"]
    assert warehouse.read_table(tables.held_events).empty
    still_open = warehouse.read_table(tables.quarantine)
    assert still_open.loc[still_open["released_at"].isna(), "field"].tolist() == ["event_type"]


def test_reingesting_a_corrected_file_releases_its_quarantine(tmp_path: Path, warehouse: Warehouse) -> None:
    broken = write(tmp_path, "cases.csv", CASES.replace("2025-01-02", "2025-13-02"))
    assert counts(ingest_paths([broken], warehouse, TEST_KEY)) == {"cases.csv": [2, 1, 0, 0, 1]}
    fixed = write(tmp_path, "cases.csv", CASES)
    report = ingest_paths([fixed], warehouse, TEST_KEY)
    assert counts(report) == {"cases.csv": [2, 1, 0, 1, 0]}
    assert report.accounting["released"].tolist() == [1]
    assert warehouse.read_table(tables.quarantine)["released_at"].notna().all()


def test_a_refused_file_changes_nothing_and_others_go_on(tmp_path: Path, warehouse: Warehouse) -> None:
    good = write(tmp_path, "cases.csv", CASES)
    bad = write(tmp_path, "hotline.csv", "call_id,district\nh1,东湖区\n")
    report = ingest_paths([good, bad], warehouse, TEST_KEY)
    assert report.failed == {
        "hotline.csv": "hotline.csv: missing required column(s) received_at for hotline; rename them in the "
        "export or map them with a column-mapping file"
    }
    assert report.accounting.set_index("source_file").loc["hotline.csv", "status"] == "failed"
    assert len(warehouse.read_records(ingest_run.RecordKind.CASES)) == 2


def test_a_crash_mid_run_leaves_the_store_as_it_was(
    tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    before = snapshot(warehouse)
    calls = {"n": 0}
    real = ingest_run._store_records

    def crash_on_second_chunk(*args: object) -> pd.Series:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("power cut")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_run, "_store_records", crash_on_second_chunk)
    more = CASES.replace("100", "999") + "C,2025-01-03,江北区,其他,\nD,2025-01-03,江北区,其他,\n"
    with pytest.raises(OSError, match="power cut"):
        ingest_paths([write(tmp_path, "cases_2.csv", more)], warehouse, TEST_KEY, chunk_rows=2)
    assert snapshot(warehouse) == before


@pytest.mark.parametrize("suffix", ["csv-gb18030", "csv-bom", "jsonl", "parquet", "xlsx"])
def test_every_format_ingests_the_same_records(tmp_path: Path, warehouse: Warehouse, suffix: str) -> None:
    frame = pd.read_csv(pd.io.common.StringIO(CASES), dtype=str, keep_default_na=False)
    if suffix == "csv-gb18030":
        path = write(tmp_path, "cases.csv", CASES, "gb18030")
    elif suffix == "csv-bom":
        path = write(tmp_path, "cases.csv", CASES, "utf-8-sig")
    elif suffix == "jsonl":
        path = tmp_path / "cases.jsonl"
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == "parquet":
        path = tmp_path / "cases.parquet"
        typed = frame.assign(
            opened_at=pd.to_datetime(frame["opened_at"], format="ISO8601"),
            amount=pd.to_numeric(frame["amount"]),
        )
        typed.to_parquet(path)
    else:
        path = tmp_path / "cases.xlsx"
        frame.to_excel(path, index=False)
    report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=1)
    assert counts(report) == {path.name: [2, 2, 0, 0, 0]}
    stored = warehouse.read_records(ingest_run.RecordKind.CASES).sort_values("case_id")
    assert stored["opened_at"].astype(str).tolist() == ["2025-01-01 09:00:00", "2025-01-02 00:00:00"]
    assert stored["amount"].tolist()[0] == 100
    assert stored["district"].tolist() == ["东湖区", "东湖区"]


def test_a_file_broken_midway_is_rolled_back_alone(tmp_path: Path, warehouse: Warehouse) -> None:
    good = write(tmp_path, "hotline.csv", "call_id,received_at,district\nh1,2025-01-01,东湖区\n")
    torn = write(tmp_path, "cases.csv", CASES + 'C,2025-01-03,东湖区,"其他\n')
    report = ingest_paths([good, torn], warehouse, TEST_KEY, chunk_rows=1)
    assert report.failed["cases.csv"].startswith("cases.csv: cannot be read as csv (after row 2)")
    assert warehouse.read_records(ingest_run.RecordKind.CASES).empty
    assert len(warehouse.read_records(ingest_run.RecordKind.HOTLINE)) == 1


def test_zone_aware_parquet_times_are_stored_in_shanghai_time(tmp_path: Path, warehouse: Warehouse) -> None:
    path = tmp_path / "hotline.parquet"
    pd.DataFrame(
        {
            "call_id": ["h1"],
            "received_at": pd.to_datetime(["2025-03-01 00:30"]).tz_localize("UTC"),
            "district": ["东湖区"],
        }
    ).to_parquet(path)
    ingest_paths([path], warehouse, TEST_KEY)
    stored = warehouse.read_records(ingest_run.RecordKind.HOTLINE)
    assert str(stored["received_at"][0]) == "2025-03-01 08:30:00"


def test_folders_skip_files_of_no_record_kind_and_empty_files_read_as_nothing(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    write(tmp_path, "cases.csv", CASES)
    (tmp_path / "truth").mkdir()
    write(tmp_path / "truth", "links.csv", "call_id_x,true_case_id\n")
    write(tmp_path, "hotline_empty.csv", "")
    write(tmp_path, "~$cases.xlsx", "lock")
    report = ingest_paths([tmp_path], warehouse, TEST_KEY)
    assert report.failed == {}
    assert dict(zip(report.accounting["source_file"], report.accounting["status"], strict=True)) == {
        "cases.csv": "ingested",
        "hotline_empty.csv": "ingested",
        "links.csv": "skipped",
    }
    assert ingest_run.skipped(report) == ["links.csv"]


def test_redelivery_is_a_duplicate_whatever_else_the_file_holds(tmp_path: Path, warehouse: Warehouse) -> None:
    alone = "case_id,opened_at,district,category,reporter_phone\nA,2025-01-01,东湖区,其他,\n"
    ingest_paths([write(tmp_path, "cases.csv", alone)], warehouse, TEST_KEY)
    together = alone + "B,2025-01-02,东湖区,其他,13812345678\n"
    report = ingest_paths([write(tmp_path, "cases_2.csv", together)], warehouse, TEST_KEY)
    assert counts(report) == {"cases_2.csv": [2, 1, 0, 1, 0]}


def test_broken_or_ambiguous_excel_files_are_refused_alone(tmp_path: Path, warehouse: Warehouse) -> None:
    good = write(tmp_path, "hotline.csv", "call_id,received_at,district\nh1,2025-01-01,东湖区\n")
    torn = write(tmp_path, "cases.xlsx", "not a zip file")
    twice = tmp_path / "cases_twice.xlsx"
    pd.DataFrame(
        [["A", "2025-01-01", "东湖区", "其他"]], columns=["case_id", "opened_at", "district", "district"]
    ).to_excel(twice, index=False)
    report = ingest_paths([good, torn, twice, Path(str(good.resolve()))], warehouse, TEST_KEY)
    assert sorted(report.failed) == ["cases.xlsx", "cases_twice.xlsx"]
    assert "repeated column headings ['district']" in report.failed["cases_twice.xlsx"]
    assert counts(report)["hotline.csv"] == [1, 1, 0, 0, 0]


def test_next_days_export_at_the_same_path_keeps_an_earlier_bad_row_quarantined(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    header = "case_id,opened_at,district,category\n"
    rows = "C1,2025-03-01 08:00,东湖区,其他\nC9,2025-13-01 08:00,东湖区,其他\n"
    day1 = write(inbox, "cases.csv", header + rows)
    ingest_paths([day1], warehouse, TEST_KEY)
    day2 = write(inbox, "cases.csv", header + "C10,2025-03-02 08:00,东湖区,其他\n")
    report = ingest_paths([day2], warehouse, TEST_KEY)
    assert report.accounting["released"].tolist() == [0]
    entries = warehouse.read_table(tables.quarantine).sort_values("id", ignore_index=True)  # in order made
    assert entries[["row", "field", "record_key"]].values.tolist() == [[2, "opened_at", "C9"]]
    assert entries["released_at"].isna().all()


def test_a_later_delivery_of_a_key_replaces_its_entry_good_or_broken(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    header = "case_id,opened_at,district,category\n"
    ingest_paths([write(tmp_path, "cases.csv", header + "C9,2025-13-01,东湖区,其他\n")], warehouse, TEST_KEY)
    again = write(tmp_path, "other.csv", header + "C9,2025-14-01,东湖区,其他\n")  # still broken, other file
    assert ingest_paths([again], warehouse, TEST_KEY).accounting["released"].tolist() == [1]
    entries = warehouse.read_table(tables.quarantine).sort_values("id", ignore_index=True)  # in order made
    assert entries[["source_file", "released_at"]].isna().values.tolist() == [[False, False], [False, True]]
    assert entries.loc[entries["released_at"].isna(), "value"].tolist() == ["2025-14-01"]
    good = write(tmp_path, "cases.csv", header + "C9,2025-01-01,东湖区,其他\n")
    assert ingest_paths([good], warehouse, TEST_KEY).accounting["released"].tolist() == [1]
    assert warehouse.read_table(tables.quarantine)["released_at"].notna().all()


def test_an_event_with_a_broken_field_is_released_by_its_corrected_event(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    broken = "case_id,event_at,event_type,recorded_at\nA,2025-01-03,visit,2025-99-01\n"
    ingest_paths([write(tmp_path, "case_events.csv", broken)], warehouse, TEST_KEY)
    entry = warehouse.read_table(tables.quarantine)
    assert entry[["field", "record_key"]].values.tolist() == [["recorded_at", "A|2025-01-03T00:00:00|visit"]]
    fixed = "case_id,event_at,event_type,recorded_at\nA,2025-01-03,visit,2025-01-04\n"
    report = ingest_paths([write(tmp_path, "events_fixed.csv", fixed)], warehouse, TEST_KEY)
    assert report.accounting["released"].tolist() == [1]
    assert warehouse.read_table(tables.quarantine)["released_at"].notna().all()


def test_a_row_without_a_readable_key_is_released_only_when_its_file_repeats_it(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    header = "case_id,opened_at,district,category\n"
    broken = header + "A,2025-01-01,东湖区,其他\n,2025-01-02,东湖区,其他\n"
    ingest_paths([write(tmp_path, "cases.csv", broken)], warehouse, TEST_KEY)
    other = write(tmp_path, "cases.csv", header + ",2025-01-01,东湖区,其他\n")
    assert ingest_paths([other], warehouse, TEST_KEY).accounting["released"].tolist() == [0]  # row 1, not 2
    again = ingest_paths([write(tmp_path, "cases.csv", broken)], warehouse, TEST_KEY)
    assert again.accounting["released"].tolist() == [1]  # the same entry made again: listed once
    entries = warehouse.read_table(tables.quarantine).sort_values("id", ignore_index=True)  # in order made
    assert entries[["row", "field"]].values.tolist() == [[2, "case_id"], [1, "case_id"], [2, "case_id"]]
    assert entries["released_at"].isna().tolist() == [False, True, True]


def test_an_event_delivered_with_its_case_wins_over_its_held_older_version(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    header = "case_id,event_at,event_type,note\n"
    write(tmp_path / "r1", "case_events.csv", header + "C1,2025-03-02 09:00,mediation_session,old note\n")
    case = "case_id,opened_at,district,category\nC1,2025-03-01 08:00,东湖区,其他\n"
    write(tmp_path / "r2", "cases.csv", case)
    write(tmp_path / "r2", "case_events.csv", header + "C1,2025-03-02 09:00,mediation_session,corrected\n")
    ingest_paths([tmp_path / "r1"], warehouse, TEST_KEY)
    assert len(warehouse.read_table(tables.held_events)) == 1
    report = ingest_paths([tmp_path / "r2"], warehouse, TEST_KEY)
    assert report.released_events == 0
    assert warehouse.read_records(ingest_run.RecordKind.CASE_EVENTS)["note"].tolist() == ["corrected"]
    assert warehouse.read_table(tables.held_events).empty
    assert warehouse.read_table(tables.record_history).empty  # the held version was never stored
    assert warehouse.read_table(tables.quarantine)["released_at"].notna().all()  # the hold is over
