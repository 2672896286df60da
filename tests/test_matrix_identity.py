"""The training matrix keeps its values: against a recorded fingerprint, whatever the dtypes and the path.

`data/matrix_identity/` holds the stored form of a small simulated city (400 cases, 210 days, a little
messiness; pseudonymised, as the store keeps it) and `expected.json` the fingerprint of its training
matrix with the six families of issue 2-6, computed by the code before the issue-8 speed-ups. Any change
of a feature's value, dtype, row or column order fails here. After an intended change of values,
regenerate with `python -m tests.test_matrix_identity` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from contracts.vocabulary import RecordKind
from features import case_history, case_profile, context, hotline_activity, sources, text_cues, text_terms
from features.matrix import training_matrix
from features.sources import Sources
from pipelines.runtime import load_sources
from tests.builders import STORE_BACKENDS, empty_postgres
from warehouse import tables
from warehouse.store import Warehouse, append

DATA = Path(__file__).parent / "data" / "matrix_identity"
RECORDED = (case_profile, case_history, hotline_activity, text_cues, text_terms, context)
DATES = [date(2025, 1, 29) + timedelta(days=7 * k) for k in range(25)]
ESCALATIONS = ("violence", "group_incident", "litigation")
KINDS = {"cases": RecordKind.CASES, "events": RecordKind.CASE_EVENTS, "hotline": RecordKind.HOTLINE}


def stored() -> dict[str, pd.DataFrame]:
    """The fixture's stored tables, in file order."""
    return {name: pd.read_parquet(DATA / f"{name}.parquet") for name in KINDS}


def fingerprint(matrix: pd.DataFrame) -> dict[str, object]:
    """Rows, columns, dtypes and a digest of every column's values (pandas' value hashes)."""
    return {
        "rows": len(matrix),
        "columns": list(matrix.columns),
        "dtypes": [str(t) for t in matrix.dtypes],
        "digests": {
            name: hashlib.sha256(
                pd.util.hash_pandas_object(matrix[name], index=False).to_numpy().tobytes()
            ).hexdigest()[:16]
            for name in matrix.columns
        },
    }


def recorded_matrix(sources_: Sources) -> pd.DataFrame:
    """The matrix of the recorded families over the fixture's dates."""
    return training_matrix(sources_, DATES, 30, ESCALATIONS, RECORDED)


@pytest.mark.slow
def test_the_matrix_has_the_recorded_values() -> None:
    expected = json.loads((DATA / "expected.json").read_text())
    actual = fingerprint(recorded_matrix(Sources.ordered(**stored())))
    assert actual["rows"] == expected["rows"]
    assert actual["columns"] == expected["columns"]
    assert actual["dtypes"] == expected["dtypes"]
    changed = [name for name, digest in actual["digests"].items() if expected["digests"][name] != digest]
    assert changed == []


@pytest.mark.parametrize("share", [sources.CATEGORICAL_MAX_SHARE, 1.0])
def test_compact_dtypes_and_file_order_change_no_value(share: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Categoricals (as the store is loaded; with share 1.0 every listed column is one) and unordered
    tables give exactly the matrix of plain, ordered tables, with every family."""
    monkeypatch.setattr(sources, "CATEGORICAL_MAX_SHARE", share)
    tables_ = stored()
    compacted = Sources.compacted(**tables_)
    assert isinstance(compacted.events["event_type"].dtype, pd.CategoricalDtype)
    assert isinstance(compacted.hotline["text"].dtype, pd.CategoricalDtype) == (share == 1.0)
    dates = DATES[2::10]
    plain = training_matrix(Sources.ordered(**tables_), dates, 30, ESCALATIONS)
    pd.testing.assert_frame_equal(training_matrix(compacted, dates, 30, ESCALATIONS), plain, check_exact=True)
    shuffled = {name: frame.sample(frac=1.0, random_state=3) for name, frame in tables_.items()}
    unordered = training_matrix(Sources(**shuffled), dates[-2:], 30, ESCALATIONS, RECORDED)
    pd.testing.assert_frame_equal(
        unordered, plain[plain["as_of"] >= dates[-2]].reset_index(drop=True)[unordered.columns]
    )


def _store(url: str) -> Warehouse:
    """A store holding the fixture."""
    warehouse = Warehouse(url)
    with warehouse.transaction() as connection:
        for name, frame in stored().items():
            append(connection, tables.INPUT_TABLES[KINDS[name]], frame)
    return warehouse


@pytest.mark.slow
@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_the_loaded_store_gives_the_same_matrix(backend: str, tmp_path: Path) -> None:
    """Through the store (only the columns read, fetched in chunks, compacted) the matrix is unchanged."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if backend == "sqlite" else empty_postgres()
    warehouse = _store(url)
    loaded = load_sources(warehouse)
    assert "row_hash" in loaded.hotline.columns and "recorded_at" not in loaded.hotline.columns
    for kind in KINDS.values():
        whole = warehouse.read_records(kind)
        chunked = warehouse.read_records(kind, chunk_rows=500)
        pd.testing.assert_frame_equal(chunked, whole)
    dates = DATES[2::10]
    pd.testing.assert_frame_equal(
        training_matrix(loaded, dates, 30, ESCALATIONS),
        training_matrix(Sources.ordered(**stored()), dates, 30, ESCALATIONS),
        check_exact=True,
    )


if __name__ == "__main__":
    (DATA / "expected.json").write_text(
        json.dumps(fingerprint(recorded_matrix(Sources.ordered(**stored()))), indent=1) + "\n"
    )
