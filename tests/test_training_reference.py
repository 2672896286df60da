"""The drift watch's training reference: every non-text feature and the score, from a wide matrix."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd

from models.drift import reference_profile
from pipelines.train_flow import training_reference


class _Model:
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = (frame["n0"].to_numpy(dtype=float) % 10) / 10
        return np.column_stack([1 - p, p])


def test_the_reference_profiles_each_feature_and_the_score_without_fragmenting_the_matrix() -> None:
    rows = 200
    matrix = pd.DataFrame({"as_of": pd.Timestamp("2025-01-01")}, index=range(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for i in range(120):  # column by column: a frame of many blocks, as wide matrices become
            matrix[f"n{i}"] = np.arange(rows, dtype=float) + i
        matrix["words"] = "欠薪"
    docs = [SimpleNamespace(name=f"n{i}", kind="numeric") for i in range(120)]
    docs.append(SimpleNamespace(name="words", kind="text"))
    result = SimpleNamespace(
        feature_names=tuple(d.name for d in docs), model=_Model(), candidate=SimpleNamespace(docs=tuple(docs))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        reference = training_reference(result, matrix)  # type: ignore[arg-type]
    score = ((matrix["n0"] % 10) / 10).rename("score")
    expected_frame = pd.concat([matrix[[f"n{i}" for i in range(120)]], score], axis=1)
    kinds = {c: "numeric" for c in expected_frame.columns}
    assert reference == reference_profile(expected_frame, kinds)
    assert "words" not in reference["columns"]
