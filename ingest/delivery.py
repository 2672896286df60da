"""What one delivery (a file, across its chunks) has stored so far, so that the last row of a key wins.

Per chunk it keeps, for each key's kept row, a 64-bit hash of the key, the row number and its status:
17 bytes a row, far less than the chunk itself, so memory stays bounded by the chunk for any file that
fits a store. Rows that the previous delivery of the same file found superseded wait (`pending`) until
the end of the file, when it is known whether a later row of their key came again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STATUS_CODES = ("accepted", "updated", "duplicate")
NOT_SEEN = -1
# A remembered part: sorted key hashes, their row numbers and status codes.
Part = tuple[np.ndarray, np.ndarray, np.ndarray]


def key_hashes(keys: pd.Series) -> np.ndarray:
    """A 64-bit hash per record key (collisions among a file's keys are negligible at 2^-64 a pair)."""
    text = keys.to_numpy(dtype=object) if isinstance(keys.dtype, pd.StringDtype) else keys.astype(str)
    # What pd.util.hash_pandas_object gives for the keys, without its factorizing first (keys are unique).
    return pd.util.hash_array(np.asarray(text, dtype=object), categorize=False)


@dataclass
class Delivery:
    """The kept rows of one file's chunks so far, and the rows held back until its end."""

    name: str
    superseded_before: frozenset[int] = frozenset()
    pending: list[pd.DataFrame] = field(default_factory=list)
    _chunks: list[Part] = field(default_factory=list)

    def remember(
        self, keys: pd.Series, rows: pd.Series, statuses: pd.Series, hashes: np.ndarray | None = None
    ) -> None:
        """Record each key's kept row of a chunk (keys unique) and its status (`hashes`: the keys'
        `key_hashes`, if known)."""
        if len(keys) == 0:
            return
        hashes = key_hashes(keys) if hashes is None else hashes
        order = np.argsort(hashes, kind="stable")
        codes = pd.Index(STATUS_CODES).get_indexer(statuses).astype("int8")
        self._chunks.append((hashes[order], rows.to_numpy(dtype="int64")[order], codes[order]))
        # Merged while the older part is at most twice the newer: a few sorted parts to search, not one
        # per chunk, for any length of file.
        while len(self._chunks) > 1 and self._chunks[-2][0].size <= 2 * self._chunks[-1][0].size:
            newer = self._chunks.pop()
            self._chunks[-1] = _merged(self._chunks[-1], newer)

    def earlier(self, keys: pd.Series, hashes: np.ndarray | None = None) -> tuple[np.ndarray, pd.Series]:
        """Per key, the row number of its latest remembered row (NOT_SEEN if none) and that row's status
        (`hashes`: the keys' `key_hashes`, if known)."""
        hashes = key_hashes(keys) if hashes is None else hashes
        rows = np.full(len(hashes), NOT_SEEN, dtype="int64")
        codes = np.full(len(hashes), NOT_SEEN, dtype="int8")
        for known, known_rows, known_codes in reversed(self._chunks):
            todo = np.flatnonzero(rows == NOT_SEEN)
            if todo.size == 0:
                break
            at = np.searchsorted(known, hashes[todo]).clip(max=known.size - 1)
            hit = known[at] == hashes[todo]
            rows[todo[hit]] = known_rows[at[hit]]
            codes[todo[hit]] = known_codes[at[hit]]
        names = np.array([*STATUS_CODES, ""], dtype=object)  # NOT_SEEN (-1) picks the last, ''
        return rows, pd.Series(names[codes], index=keys.index, dtype=object)


def _merged(older: Part, newer: Part) -> Part:
    """Two remembered parts as one sorted part; a key in both keeps the newer row."""
    hashes = np.concatenate([older[0], newer[0]])
    order = np.argsort(hashes, kind="stable")  # equal hashes: the older first
    hashes = hashes[order]
    last = np.append(hashes[1:] != hashes[:-1], True)
    kept = order[last]
    return (
        hashes[last],
        np.concatenate([older[1], newer[1]])[kept],
        np.concatenate([older[2], newer[2]])[kept],
    )
