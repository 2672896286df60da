"""The columnar copy of the loaded store: frames kept and read back exactly under their stamp, taken only
while the store holds the record versions it was made of, remade after any change, removed when turned off
or when the pseudonymisation key is rotated."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.settings import Settings
from features.sources import STORE_COLUMNS, Sources
from pipelines import store_mirror
from pipelines.runtime import load_sources, open_warehouse, stored_sources
from tests.builders import (
    STORE_BACKENDS,
    backend_store,
    call_row,
    case_row,
    event_row,
    make_sources,
    store_sources,
)
from warehouse import mirror
from warehouse.day_window import stored_fingerprint
from warehouse.fingerprints import records_fingerprint
from warehouse.store import Warehouse


def _frame() -> pd.DataFrame:
    """Every column type a loaded store holds, with missing values."""
    return pd.DataFrame(
        {
            "text": pd.Series(["a", None, "c", "d", "e"], dtype="str"),
            "kind": pd.Categorical(["x", "y", None, "x", "y"], categories=["x", "y"]),
            "none": pd.Series([None] * 5, dtype="str").astype("category"),  # no category at all
            "count": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "amount": [1.5, np.nan, 3.0, 4.0, 5.0],
            "at": pd.to_datetime(["2025-01-01", None, "2025-01-03", "2025-01-04", "2025-01-05"]).astype(
                "datetime64[us]"
            ),
        }
    )


def test_frames_come_back_exactly_under_their_stamp_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written a batch of two rows at a time and read back: the same frames (types, categories, missing
    values; an empty frame too); another stamp, a missing or a damaged file give None; private files."""
    monkeypatch.setattr(mirror, "BATCH_ROWS", 2)
    folder = tmp_path / "cache" / "store"
    frames = {"full": _frame(), "empty": _frame().iloc[:0]}
    mirror.write_frames(folder, frames, "stamp-1")
    read = mirror.read_frames(folder, ["full", "empty"], "stamp-1")
    assert read is not None
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(read[name], frame.reset_index(drop=True), check_exact=True)
    assert mirror.read_frames(folder, ["full"], "stamp-2") is None
    assert mirror.read_frames(folder, ["full", "other"], "stamp-1") is None
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    mirror.frame_path(folder, "full").write_bytes(b"not arrow")
    assert mirror.read_frames(folder, ["full"], "stamp-1") is None
    mirror.remove_frames(folder)
    assert list(folder.iterdir()) == []


def _city() -> Sources:
    return make_sources(
        [case_row("K1", "2025-01-10"), case_row("K2", "2025-02-02")],
        [event_row("K1", "2025-02-20", "visit")],
        [call_row("C1", "2025-03-02", case_id="K1"), call_row("C2", "2025-03-06")],
    )


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    return backend_store(request.param, tmp_path)


def test_the_store_s_fingerprint_from_its_row_hashes_is_a_full_read_s(warehouse: Warehouse) -> None:
    """Read from the row hashes alone, the fingerprint of every stored record is the one of a full read."""
    store_sources(warehouse, _city())
    full = load_sources(warehouse)
    assert stored_fingerprint(warehouse) == records_fingerprint((full.cases, full.events, full.hotline))


def _reads(warehouse: Warehouse, counted: list[int]) -> Sources:
    counted.append(1)
    return load_sources(warehouse)


def test_the_copy_is_taken_while_the_store_is_unchanged_and_remade_after_a_change(tmp_path: Path) -> None:
    """The first load reads the store and keeps a copy; the second takes the copy (no read) and is the
    same; a record added makes the next load read again and keep the new records."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    store_sources(warehouse, _city())
    folder, counted = tmp_path / "copy", []
    first = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    second = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    assert counted == [1]
    for name in store_mirror.NAMES:
        pd.testing.assert_frame_equal(getattr(second, name), getattr(first, name), check_exact=True)
    assert second.known_before(pd.Timestamp("2025-03-03")).hotline["call_id"].tolist() == ["C1"]
    store_sources(warehouse, make_sources([], [], [call_row("C3", "2025-03-08")]))
    third = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    fourth = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    assert counted == [1, 1]
    assert third.hotline["call_id"].tolist() == fourth.hotline["call_id"].tolist() == ["C1", "C2", "C3"]


def test_a_copy_that_cannot_be_written_costs_only_the_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder that cannot be made (a file in its way): the records are read and returned, with a warning."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    store_sources(warehouse, _city())
    (tmp_path / "blocked").write_text("a file, not a folder")
    loaded = store_mirror.mirrored_sources(
        warehouse, tmp_path / "blocked" / "store", STORE_COLUMNS, lambda: load_sources(warehouse)
    )
    assert loaded.hotline["call_id"].tolist() == ["C1", "C2"]
    assert "could not keep a columnar copy" in caplog.text


def test_the_copy_is_stamped_with_the_columns_read(tmp_path: Path) -> None:
    """Another set of columns is another layout: a copy made for one is not taken for the other."""
    narrower = {name: columns[:-1] for name, columns in STORE_COLUMNS.items()}
    assert store_mirror.stamp(STORE_COLUMNS, "r") != store_mirror.stamp(narrower, "r")
    assert store_mirror.stamp(STORE_COLUMNS, "r") != store_mirror.stamp(STORE_COLUMNS, "s")


def test_the_settings_keep_a_copy_in_the_home_s_cache_or_none(settings: Settings) -> None:
    """On (the default), a load keeps the copy in the home's cache; off, a load deletes the copy."""
    store_sources(open_warehouse(settings), _city())
    stored_sources(settings)
    names = sorted(p.name for p in settings.store_mirror_dir.iterdir())
    assert names == ["cases.arrow", "events.arrow", "hotline.arrow"]
    loaded = stored_sources(settings.model_copy(update={"store_mirror": False}))
    assert loaded.cases["case_id"].tolist() == ["K1", "K2"]
    assert list(settings.store_mirror_dir.iterdir()) == []


def test_a_copy_whose_rows_are_not_its_stamp_s_is_not_taken(tmp_path: Path) -> None:
    """A copy that parses but holds other rows than its stamp names (damaged, or written by a faulty
    process) is read again from the store and replaced."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    store_sources(warehouse, _city())
    folder, counted = tmp_path / "copy", []
    first = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    frames = {name: getattr(first, name) for name in store_mirror.NAMES}
    frames["hotline"] = frames["hotline"].iloc[:1]
    mirror.write_frames(folder, frames, store_mirror.stamp(STORE_COLUMNS, stored_fingerprint(warehouse)))
    again = store_mirror.mirrored_sources(
        warehouse, folder, STORE_COLUMNS, lambda: _reads(warehouse, counted)
    )
    assert counted == [1, 1] and again.hotline["call_id"].tolist() == ["C1", "C2"]


def test_the_stamp_names_the_loading_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies made by other code than this (reading, typing, compaction) are not taken."""
    before = store_mirror.stamp(STORE_COLUMNS, "r")
    monkeypatch.setattr(store_mirror, "loading_code", lambda: "other code")
    assert store_mirror.stamp(STORE_COLUMNS, "r") != before


def test_a_copy_that_cannot_be_deleted_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_: Path) -> None:
        raise PermissionError("another account's folder")

    monkeypatch.setattr(store_mirror, "remove_frames", refuse)
    store_mirror.forget_copy(tmp_path)
    assert "could not delete the store's columnar copy" in caplog.text
