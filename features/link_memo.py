"""The call linker's memo: the decisions of recent batches by the digest of their inputs (`MEMO`), so
that a day's calls are decided once per process, and `remember`, which gives stored decisions back to
it."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pandas as pd

from contracts.timeparse import as_of_instant
from features.link_arrays import as_us


class Memo:
    """The decisions of recent batches by digest (least recently used first out, at most `max_links`
    links in all), so that a day's calls are decided once for all the as-of dates whose window holds it."""

    def __init__(self, max_links: int) -> None:
        self.max_links = max_links
        self.links = 0
        self.entries: OrderedDict[bytes, pd.DataFrame] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: bytes) -> pd.DataFrame | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: bytes, links: pd.DataFrame) -> None:
        with self.lock:
            if key in self.entries or len(links) > self.max_links:
                return
            self.entries[key] = links
            self.links += len(links)
            while self.links > self.max_links:
                _, dropped = self.entries.popitem(last=False)
                self.links -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.links = 0


MEMO = Memo(max_links=1_000_000)


def remember(stored: pd.DataFrame, hotline: pd.DataFrame) -> int:
    """Gives stored decisions (rows of `day_links`, any number of days) to this process's memo, so that
    features decide again only the batches (a district's calls of a day) whose inputs changed since (or
    that are not stored: a batch without any link has no rows). `hotline`: the stored hotline rows (for
    each call's received_at and phone). Returns the number of batches remembered."""
    if stored.empty:
        return 0
    position = pd.Index(hotline["call_id"].astype("string")).get_indexer(stored["call_id"].astype("string"))
    found = position >= 0
    stored, rows = stored[found], position[found]
    days = pd.Series(stored["as_of"].to_numpy(dtype=object))
    instant = {day: as_of_instant(pd.Timestamp(day).date()).to_datetime64() for day in days.unique()}
    links = pd.DataFrame(
        {
            "call_id": stored["call_id"].astype(object).to_numpy(),
            "case_id": stored["case_id"].astype(object).to_numpy(),
            "confidence": stored["confidence"].to_numpy(dtype=float),
            "evidence": stored["evidence"].astype(object).to_numpy(),
            "received_at": as_us(hotline["received_at"].iloc[rows]),
            "caller_phone_pid": hotline["caller_phone_pid"].iloc[rows].astype(object).to_numpy(),
            "decided_at": days.map(instant).to_numpy(dtype="datetime64[us]"),
        }
    )
    codes, digests = pd.factorize(stored["digest"].astype(object).to_numpy())
    order = np.argsort(codes, kind="stable")  # each batch's rows together, in their stored order
    bounds = np.searchsorted(codes[order], np.arange(len(digests) + 1))
    for code, digest in enumerate(digests):  # each batch its own arrays (the memo's bound is in links)
        batch = links.take(order[bounds[code] : bounds[code + 1]]).reset_index(drop=True)
        MEMO.put(bytes.fromhex(str(digest)), batch)
    return len(digests)
