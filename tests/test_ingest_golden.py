"""The store after a sequence of messy deliveries, value for value, is what the ingest has always written.

A fingerprint per table of every stored value (and its SQLite storage class) in storage order, after
the benchmark's messy export in several chunks, the same export resent, a later export changing some
records and repeating others, and cases with events arriving before their cases. Only what varies from
run to run (run ids, the times a run happened, temporary paths) is left out. Any change to what ingest
stores (a pseudonym, a mask, a row hash, a quarantine reason, an order of rows) changes a fingerprint;
the expected ones were taken from the row-by-row ingest before the bulk paths (issue 20).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cities.bulk_hotline import hotline_table
from cities.bulk_messy import messy_hotline_table
from contracts.timeparse import InstantWindow
from ingest import prefetch
from ingest.run import ingest_paths
from warehouse.store import Warehouse

KEY = b"golden-key-of-at-least-32-bytes!"
# Columns whose values differ from run to run by design.
VOLATILE = {
    "run_id",
    "ingested_at",
    "quarantined_at",
    "released_at",
    "released_by_run",
    "superseded_at",
    "superseded_by_run",
    "finished_at",
    "source_path",
}
TABLES = ("hotline", "cases", "case_events", "held_events", "quarantine", "record_history", "ingest_runs")
# hotline and record_history changed 2026-12-06 (s15-mask): 451 messy-export calls saying "经常打骂家人" kept
# 经常打骂 (the name masker had masked 常打骂 after the cue 经: "经[姓名]家人").
EXPECTED = {
    "hotline": "c418eb94e20c2068",
    "cases": "f25e41b0d29f8a2d",
    "case_events": "91894f4cf6085a33",
    "held_events": "5943ad213b9dbe9f",
    "quarantine": "1e1ede124eb9b2ea",
    "record_history": "f0dde8a4ce93f7ac",
    "ingest_runs": "477cb2f9123c3715",
}
# The plausible window is fixed: its end date is written into quarantine reasons ("outside the plausible
# window 1990-01-01 .. 2026-12-07"), and by default it ends a day after the run's local time.
WINDOW = InstantWindow.ending_after(datetime(2026, 12, 6, 12, 0))
CASES = (
    "case_id,opened_at,district,category,description,reporter_name,reporter_phone,amount,party_count\n"
    "A,2025-01-01 09:00,东湖区,邻里纠纷,张伟说邻居王芳占用楼道，电话13812345678,张伟,13812345678,100,2\n"
    "B,2025-01-02,东湖区,其他,,李娜,+86 139-1234-5678,,\n"
    "C,2025-01-02,东湖区,其他,,100\n"
)
EVENTS = (
    "case_id,event_at,event_type,note\n"
    "A,2025-01-03,visit,回访张伟\nZ,2025-01-04,visit,\nA,2025-01-05,mediation_session,打了13812345678\n"
    "B,2025-01-06,phone_call,\n"
)
LATE_CASE = "case_id,opened_at,district,category\nZ,2025-01-01,东湖区,其他\n"


def fingerprints(database: Path) -> dict[str, str]:
    """Per table, a hash of its rows in storage order: each value with its storage class."""
    found = {}
    with sqlite3.connect(database) as connection:
        for table in TABLES:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if c not in VOLATILE]
            shown = ", ".join(f'typeof("{c}"), "{c}"' for c in kept)
            digest = hashlib.sha256(",".join(kept).encode())
            for row in connection.execute(f'SELECT {shown} FROM "{table}" ORDER BY rowid'):
                digest.update(repr(_steady(table, kept, row)).encode())
            found[table] = digest.hexdigest()[:16]
    return found


def _steady(table: str, columns: list[str], row: tuple[object, ...]) -> tuple[object, ...]:
    """A row without what varies by run: an earlier version's payload less the time it was ingested."""
    if table != "record_history":
        return row
    at = 2 * columns.index("payload") + 1
    payload = json.loads(str(row[at]))
    payload.pop("ingested_at")
    return (*row[:at], json.dumps(payload, ensure_ascii=False, sort_keys=True), *row[at + 1 :])


def deliveries(folder: Path) -> list[list[Path]]:
    """The runs, in order: each a list of files."""
    clean = hotline_table(3_000, seed=7)
    messy, _ = messy_hotline_table(clean, share=0.05, seed=7)
    pq.write_table(messy, folder / "hotline_a.parquet")
    later = clean.slice(2_500, 500)
    edited = pc.binary_join_element_wise(later["text"], "（更正）", "")
    every_third = pa.array([i % 3 == 0 for i in range(later.num_rows)])
    later = later.set_column(
        later.column_names.index("text"), "text", pc.if_else(every_third, edited, later["text"])
    )
    later = pa.concat_tables([later, hotline_table(3_200, seed=7).slice(3_000, 200)])
    pq.write_table(later, folder / "hotline_b.parquet")
    (folder / "cases.csv").write_text(CASES, encoding="utf-8")
    (folder / "case_events.csv").write_text(EVENTS, encoding="utf-8")
    (folder / "cases_late.csv").write_text(LATE_CASE, encoding="utf-8")
    return [
        [folder / "hotline_a.parquet", folder / "cases.csv", folder / "case_events.csv"],
        [folder / "hotline_a.parquet"],
        [folder / "hotline_b.parquet", folder / "cases_late.csv"],
    ]


@pytest.mark.parametrize("helper", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_store_after_messy_deliveries_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helper: bool
) -> None:
    monkeypatch.setattr(prefetch, "worth_a_helper", lambda job: helper)
    database = tmp_path / "store.db"
    warehouse = Warehouse(f"sqlite:///{database}")
    for paths in deliveries(tmp_path):
        report = ingest_paths(paths, warehouse, KEY, chunk_rows=700, window=WINDOW)
        assert not report.failed
    warehouse.engine.dispose()
    assert fingerprints(database) == EXPECTED
