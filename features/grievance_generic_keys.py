"""Keys in common use, learned from the calls: never an emerging grievance's key.

`generic_keys`: a key whose callers are spread over the districts and over the
hotline categories about as widely as all named things' callers are, and who seldom name it in more
than one window, is a word in common use, not a thing.

Pure functions on DataFrames."""

from __future__ import annotations

import pandas as pd


def _effective_number(counts: pd.Series, level: str) -> pd.Series:
    """Per value of `level` of a (level, other) count series: the inverse Simpson index of the other."""
    shares = counts / counts.groupby(level=level).transform("sum")
    return 1.0 / (shares**2).groupby(level=level).sum()


def _spread(pairs: pd.DataFrame, column: str) -> tuple[pd.Series, float]:
    """Per key: the effective number of `column` values its callers are spread over; and the same over
    all keys' callers together."""
    pairs = pairs[pairs[column] != ""]
    per_key = pairs.drop_duplicates(["key", "caller", column]).groupby(["key", column]).size()
    overall = pairs.drop_duplicates(["key", "caller", column])[column].value_counts()
    everyone = float(1.0 / ((overall / overall.sum()) ** 2).sum()) if len(overall) else 0.0
    return _effective_number(per_key, "key"), everyone


def generic_keys(mentions: pd.DataFrame, min_callers: int, spread: float, max_repeat: float) -> pd.Index:
    """The keys that are words in common use: named by at least `min_callers` distinct callers, whose
    callers are spread over at least max(2, `spread` x that of all named things' callers) districts and
    as many hotline categories (effective numbers: inverse Simpson indices), and of whose callers at
    most `max_repeat` named it in more than one window. `mentions`: key, district, category ('' when
    none), caller (None when unknown) and block (the window) of every call's mention."""
    known = mentions[mentions["caller"].notna()]
    if known.empty:
        return pd.Index([], dtype=object)
    callers = known.groupby("key")["caller"].nunique()
    windows = known.drop_duplicates(["key", "caller", "block"]).groupby(["key", "caller"]).size()
    repeat = (windows > 1).groupby(level="key").mean()
    districts, all_districts = _spread(known, "district")
    categories, all_categories = _spread(known, "category")
    frame = pd.DataFrame({"callers": callers, "repeat": repeat})
    frame["districts"] = districts.reindex(frame.index).fillna(0.0)
    frame["categories"] = categories.reindex(frame.index).fillna(0.0)
    generic = (
        (frame["callers"] >= min_callers)
        & (frame["districts"] >= max(2.0, spread * all_districts))
        & (frame["categories"] >= max(2.0, spread * all_categories))
        & (frame["repeat"] <= max_repeat)
    )
    return frame.index[generic.to_numpy()]
