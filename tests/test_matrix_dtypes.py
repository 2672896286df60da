"""Compact dtypes of the training matrix (models.matrix_dtypes): same values, same model."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from models.matrix_dtypes import compact_matrix
from models.train import LABEL, train
from tests.test_training_sampling import LOGISTIC, NAMES, PLAN, weekly


def test_only_columns_float32_holds_exactly_are_narrowed() -> None:
    frame = pd.DataFrame(
        {
            "count": [0.0, 3.0, np.nan, 16_777_216.0],
            "rate": [0.1, 0.2, 0.3, np.nan],
            "half": [0.5, 0.25, -2.0, 2.0**100],
            "big": [0.0, 1.0, 2.0, 16_777_217.0],  # past float32's whole numbers
            "name": ["a", "b", "c", "d"],
            LABEL: [0, 1, 0, 1],
        }
    )
    compact = compact_matrix(frame)
    assert compact.dtypes.astype(str).to_dict() == {
        "count": "float32",
        "rate": "float64",
        "half": "float32",
        "big": "float64",
        "name": str(frame["name"].dtype),
        LABEL: "int64",
    }
    pd.testing.assert_frame_equal(compact.astype(frame.dtypes.to_dict()), frame)
    assert frame["count"].dtype == np.float64  # the input is left as it was


def test_a_model_trained_on_the_compact_matrix_is_the_same_model() -> None:
    matrix = weekly().assign(share=lambda f: f["hotline_linked_calls_7d"] / 7)  # a column kept in float64
    compact = compact_matrix(matrix)
    assert compact["hotline_linked_calls_7d"].dtype == np.float32 and compact["share"].dtype == np.float64
    wide, narrow = train(matrix, [LOGISTIC], PLAN), train(compact, [LOGISTIC], PLAN)
    assert pickle.dumps(narrow.model) == pickle.dumps(wide.model)
    np.testing.assert_array_equal(
        narrow.model.predict_proba(compact[NAMES]), wide.model.predict_proba(matrix[NAMES])
    )
