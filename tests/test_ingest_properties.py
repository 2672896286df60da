"""Property tests: mutated deliveries never crash ingest, bad rows are quarantined with a reason, good rows
are stored exactly once, and read = accepted + updated + duplicates + quarantined."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.vocabulary import RecordKind
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.store import Warehouse

pytestmark = pytest.mark.slow  # many random deliveries, each ingested into a new store

BREAKERS = {
    "empty_id": ("case_id", ""),
    "empty_date": ("opened_at", ""),
    "bad_date": ("opened_at", "2025-13-45"),
    "word_date": ("opened_at", "昨天"),
    "empty_district": ("district", ""),
    "party_word": ("party_count", "three"),
    "party_zero": ("party_count", "0"),
    "party_fraction": ("party_count", "2.5"),
    "amount_word": ("amount", "很多"),
    "amount_negative": ("amount", "-3"),
    "amount_infinite": ("amount", "inf"),
    "party_overflow": ("party_count", "99999999999999999999"),
}

case_rows = st.lists(
    st.fixed_dictionaries(
        {
            "opened_at": st.datetimes(
                min_value=pd.Timestamp("2024-01-01"), max_value=pd.Timestamp("2026-06-30")
            ).map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
            "district": st.sampled_from(["东湖区", "江北区", "青山县"]),
            "category": st.sampled_from(["邻里纠纷", "劳资纠纷", "其他"]),
            "party_count": st.one_of(st.just(""), st.integers(1, 300).map(str)),
            "amount": st.one_of(st.just(""), st.integers(0, 10**7).map(str)),
            "description": st.text(alphabet='欠薪纠纷电话 0123456789,"\n', max_size=30),
        }
    ),
    min_size=1,
    max_size=25,
)


def _ingest(frame: pd.DataFrame, encoding: str, raw: bytes | None = None):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.csv"
        path.write_bytes(raw if raw is not None else frame.to_csv(index=False).encode(encoding))
        warehouse = Warehouse(f"sqlite:///{Path(folder) / 'store.db'}")
        report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=7)
        stored = warehouse.read_records(RecordKind.CASES)
        quarantine = warehouse.read_table(tables.quarantine)
        warehouse.engine.dispose()
    return report, stored, quarantine


def _identity_holds(report) -> bool:
    accounting = report.accounting
    return bool(
        (
            accounting["read"] == accounting[["accepted", "updated", "duplicates", "quarantined"]].sum(axis=1)
        ).all()
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=case_rows,
    mutations=st.lists(st.tuples(st.integers(0, 24), st.sampled_from([*BREAKERS, "duplicate"])), max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_mutated_batches(rows: list[dict[str, str]], mutations: list[tuple[int, str]], encoding: str) -> None:
    frame = pd.DataFrame(rows)
    ids = [f"C{i:03d}" for i in range(len(frame))]
    frame.insert(0, "case_id", ids)
    broken: set[str] = set()
    duplicates = []
    for position, mutation in mutations:
        index = position % len(frame)
        if mutation == "duplicate":
            duplicates.append(index)
            continue
        column, value = BREAKERS[mutation]
        broken.add(ids[index])
        frame.at[index, column] = value
    extra = frame.iloc[[i for i in duplicates if ids[i] not in broken]]
    delivered = pd.concat([frame, extra], ignore_index=True)

    report, stored, quarantine = _ingest(delivered, encoding)

    assert report.failed == {}
    assert _identity_holds(report)
    good = set(ids) - broken
    assert sorted(stored["case_id"]) == sorted(good)
    row_count = report.accounting.iloc[0]
    assert (row_count["accepted"], row_count["duplicates"]) == (len(good), len(extra))
    bad_rows = {i + 1 for i, case_id in enumerate(ids) if case_id in broken}
    assert set(quarantine["row"]) == bad_rows
    assert (quarantine["reason"].str.len() > 10).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=case_rows, cut=st.floats(0.0, 1.0), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_truncated_files_never_crash(rows: list[dict[str, str]], cut: float, encoding: str) -> None:
    frame = pd.DataFrame(rows)
    frame.insert(0, "case_id", [f"C{i:03d}" for i in range(len(frame))])
    raw = frame.to_csv(index=False).encode(encoding)
    report, stored, _ = _ingest(frame, encoding, raw[: int(len(raw) * cut)])
    if report.failed:
        assert stored.empty
    else:
        assert _identity_holds(report)
        assert report.accounting.iloc[0]["read"] <= len(frame)
