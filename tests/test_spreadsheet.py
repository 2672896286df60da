"""Cells a spreadsheet would run as formulas get a leading apostrophe, whatever the column's dtype."""

from __future__ import annotations

import pandas as pd

from contracts.spreadsheet import neutralised

RISKY = ["=1+1", "+1", "-2+3", "@A1", "\t=1", "\r=1", "ok", None]
SAFE = ["'=1+1", "'+1", "'-2+3", "'@A1", "'\t=1", "'\r=1", "ok", None]


def _cells(values: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in values.astype(object)]


def test_text_columns_of_every_dtype_are_neutralised_and_keep_their_dtype() -> None:
    frame = pd.DataFrame(
        {
            "object": pd.Series(RISKY, dtype=object),
            "str": pd.Series(RISKY, dtype="str"),
            "category": pd.Series(RISKY, dtype="category"),
        }
    )
    out = neutralised(frame)
    for column in frame.columns:
        assert _cells(out[column]) == SAFE, column
        assert out[column].dtype.name == frame[column].dtype.name


def test_numbers_dates_and_non_text_cells_stay_as_they_are() -> None:
    frame = pd.DataFrame(
        {"n": [-1.5, 2.0], "i": [-3, 4], "d": pd.to_datetime(["2026-01-01", "2026-01-02"]), "o": [-7, "=x"]}
    )
    out = neutralised(frame)
    assert out["n"].tolist() == [-1.5, 2.0] and out["i"].tolist() == [-3, 4]
    assert out["d"].equals(frame["d"])
    assert out["o"].tolist() == [-7, "'=x"]


def test_headings_are_neutralised_too() -> None:
    assert list(neutralised(pd.DataFrame({"=cmd": [1], "name": [2]})).columns) == ["'=cmd", "name"]
