"""Cells a spreadsheet will show, never run: OWASP's rule against CSV and formula injection."""

from __future__ import annotations

import pandas as pd

# A cell starting with one of these is read as a formula (or a command) by Excel, LibreOffice and WPS.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def neutralise_cell(value: object) -> object:
    """A text cell that would start a formula, prefixed with an apostrophe; any other value as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return ESCAPE + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that would start a formula neutralised; numbers, dates and missing
    values unchanged. Call it on what goes to a CSV or Excel file a person opens."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):  # its categories are the cells' texts
            out[column] = values.cat.rename_categories([neutralise_cell(c) for c in values.cat.categories])
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(neutralise_cell, na_action="ignore").astype(values.dtype)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out
