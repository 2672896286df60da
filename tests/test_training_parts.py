"""Training by district parts, each part reading only its own rows from the store, builds the same
training matrix, row for row, and trains the same model as training over the whole store
(docs/design/partitions.md); retraining on the same data keeps the champion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.settings import Settings
from features.link_memo import MEMO
from features.matrix import build_features
from models.matrix_dtypes import compact_matrix
from models.sampling import WEIGHT, rate_of, subsampled
from models.train import LABEL
from pipelines.runtime import load_sources, open_warehouse, registry
from pipelines.train_flow import matrix_as_of, train_flow, training_families
from pipelines.train_parts import read_part, stacked_columns
from tests.builders import TrainedHome

D = date.fromisoformat


def test_a_part_file_reads_back_with_its_dtypes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(["A", "B"], dtype="str"),
            "document": pd.Series(["说明", np.nan], dtype=object),  # text with missing: objects
            "count": np.array([1.0, 2.0], dtype=np.float64),
            "label_any": np.array([0, 1], dtype="int8"),
        }
    )
    frame.to_parquet(tmp_path / "part.parquet", index=False)
    pd.testing.assert_frame_equal(read_part(tmp_path / "part.parquet"), frame)


def test_dates_files_are_stacked_column_by_column_in_compact_dtypes(tmp_path: Path) -> None:
    first = pd.DataFrame(
        {
            "as_of": [D("2025-01-01")] * 2,
            "case_id": pd.Series(["A", "B"], dtype="str"),
            "document": pd.Series(["说明", np.nan], dtype=object),
            "count": [1.0, 2.0],  # float32 holds every value: compact on each date and stacked
            "rate": [0.5, 0.25],
            "label_any": np.array([0, 1], dtype="int8"),
        }
    )
    second = first.assign(as_of=D("2025-01-08"), rate=[0.1, 0.5], count=[3.0, 4.0])  # 0.1 is not a float32
    frames = [compact_matrix(first), compact_matrix(second)]
    for number, frame in enumerate(frames):
        frame.to_parquet(tmp_path / f"{number}.parquet", index=False)
    stacked = stacked_columns([tmp_path / "0.parquet", tmp_path / "1.parquet"])
    pd.testing.assert_frame_equal(stacked, compact_matrix(pd.concat([first, second], ignore_index=True)))
    for at_once in (1, 4):  # the same matrix however many columns are read at once
        files = [tmp_path / "0.parquet", tmp_path / "1.parquet"]
        pd.testing.assert_frame_equal(stacked_columns(files, at_once=at_once), stacked)
    assert (stacked["count"].dtype, stacked["rate"].dtype) == (np.float32, np.float64)
    assert stacked_columns([]).empty


def _whole_store_refused(settings: Settings) -> None:
    raise AssertionError("training by parts read the whole store")


@pytest.mark.slow
def test_parts_build_the_same_matrix_as_the_whole_store(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of, whole = trained_home.report.as_of, trained_home.report.train
    dates, matrix = matrix_as_of(as_of, trained_copy, training_families(trained_copy))
    MEMO.clear()  # the parts decide the links again, from the windows of the store
    monkeypatch.setattr("pipelines.train_flow.load_store", _whole_store_refused)
    by_parts = trained_copy.model_copy(update={"district_parts": 3})
    parted_dates, parted_matrix = matrix_as_of(as_of, by_parts, training_families(by_parts))
    assert parted_dates == dates and len(dates) > 2
    assert matrix["district"].nunique() >= 3 and len(matrix) == whole.n_rows > 1000
    assert (matrix.dtypes == np.float32).sum() > 0  # compact dtypes
    pd.testing.assert_frame_equal(parted_matrix, matrix)  # the same rows in the same order, dtypes, values
    assert not [p for p in trained_copy.home.iterdir() if p.name.startswith("training-parts-")]
    # Above a row limit the parts stack only the rows the whole store's matrix keeps (`matrix_as_of` over
    # the whole store subsamples its matrix so), with the same weights and rate.
    limit = len(matrix) // 2
    sampling = by_parts.model_copy(update={"training_max_rows": limit})
    MEMO.clear()
    _, parted_sample = matrix_as_of(as_of, sampling, training_families(sampling))
    whole_sample = subsampled(matrix, LABEL, limit, sampling.seed)
    assert WEIGHT in parted_sample and len(parted_sample) < 0.7 * len(matrix)
    pd.testing.assert_frame_equal(parted_sample, whole_sample)
    assert parted_sample.attrs == whole_sample.attrs and rate_of(parted_sample) < 1


@pytest.mark.slow
def test_retraining_by_parts_on_dask_trains_the_same_model_and_keeps_the_champion(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One retraining serves two checks (each full training costs minutes of CI): the parts as tasks of a
    local Dask cluster train the model the whole store trained, and retraining on the same data registers
    a version but keeps the champion."""
    as_of, whole = trained_home.report.as_of, trained_home.report.train
    shared = trained_home.settings.mlflow_artifacts_dir
    artifacts_before = sorted(shared.rglob("*"))
    MEMO.clear()
    monkeypatch.setattr("pipelines.train_flow.load_store", _whole_store_refused)
    on_dask = trained_copy.model_copy(update={"district_parts": 3, "task_runner": "dask", "dask_parts": 2})
    parted = train_flow(as_of, on_dask)
    assert (parted.n_snapshots, parted.n_rows, parted.base_rate) == (
        whole.n_snapshots,
        whole.n_rows,
        whole.base_rate,
    )
    assert parted.candidate == whole.candidate
    assert parted.summary == whole.summary
    pd.testing.assert_frame_equal(parted.grid, whole.grid)
    pd.testing.assert_frame_equal(parted.fairness, whole.fairness)

    assert parted.model_version == "fengqiao-escalation/v2"
    assert not parted.promoted, parted.decision
    assert parted.decision.startswith("kept the champion")
    assert parted.champion_version == "fengqiao-escalation/v1"
    place = registry(on_dask)
    versions = place.versions().set_index("version")
    assert versions.loc[1, "aliases"] == "champion"
    assert versions.loc[2, "promoted"] == "False"
    new, old = (place.load(v.rsplit("/v", 1)[1]) for v in (parted.model_version, whole.model_version))
    names = old.metadata["features"]
    assert new.metadata["features"] == names
    day = build_features(load_sources(open_warehouse(on_dask)), as_of, training_families(on_dask))
    assert len(day) > 50
    np.testing.assert_array_equal(new.model.predict_proba(day[names]), old.model.predict_proba(day[names]))
    # The copy trained on its own: the shared home has its one version and its artifacts as they were.
    assert registry(trained_home.settings).versions()["version"].tolist() == [1]
    assert sorted(shared.rglob("*")) == artifacts_before
