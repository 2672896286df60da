"""Call-to-case linking: which open case a hotline call without a case number is most likely about. Each
call is decided once, at the midnight after it became known, from the records known before then; the
decisions come with confidence and evidence (docs/design/call-linking.md)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import date

import numpy as np
import pandas as pd

from contracts.timeparse import as_of_instant
from features.known import KnownBefore, cut
from features.link_arrays import as_us, blank
from features.link_candidates import Block, candidate_blocks
from features.link_choices import best_candidates, evidence
from features.link_config import LinkConfig
from features.link_inputs import LinkInputs, decision_instants
from features.link_memo import MEMO
from features.link_signals import SIGNALS, fill_signals, signals_at
from features.sources import Sources

LINK_COLUMNS = ("call_id", "case_id", "confidence", "evidence")
# `window_links`: the links with what the features need about the call and when it was decided.
WINDOW_LINK_COLUMNS = (*LINK_COLUMNS, "received_at", "caller_phone_pid", "decided_at")
# `day_links`: one day's decisions as they are stored (as_of: the list date whose run decided them).
# `digest`: the inputs of the decision's batch, one district's calls of the day (hex); `remember`
# (features.link_memo) gives stored decisions back to a later run whose inputs for that batch are the same.
# `district`: the call's, as stored (a district part reads its own links by it).
STORED_LINK_COLUMNS = (
    "as_of",
    "call_id",
    "case_id",
    "confidence",
    "threshold",
    "evidence",
    "digest",
    "district",
)


def empty_links(columns: tuple[str, ...] = LINK_COLUMNS) -> pd.DataFrame:
    """A links frame without rows."""
    return _empty(columns).copy()


@functools.cache
def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    kinds = {"confidence": float, "threshold": float, "received_at": "datetime64[us]"}
    kinds["decided_at"] = "datetime64[us]"
    return pd.DataFrame({name: pd.Series(dtype=kinds.get(name, object)) for name in columns})


Batch = tuple[int, int, np.datetime64, list[Block]]


def _prepare(linker: LinkInputs) -> list[Batch]:
    """The candidate blocks of every batch of the linker's calls that has any."""
    batches = [
        (first, end, at, candidate_blocks(linker, first, end, at)) for first, end, at in linker.batches()
    ]
    return [batch for batch in batches if batch[3]]


def _fill(linker: LinkInputs, batches: list[Batch]) -> Iterator[np.ndarray]:
    """Keeps the cases the batches read and fills in their signals batch by batch (so a caller can let
    a batch's dense arrays go before the next is filled); yields each batch's shared named things
    ((call, case, thing) rows)."""
    used = np.unique(
        np.concatenate([b.cases for *_, blocks in batches for b in blocks] or [np.zeros(0, int)])
    )
    reading = np.zeros(len(linker.calls), dtype=bool)
    for first, end, *_ in batches:
        reading[first:end] = True
    position = linker.narrow(used, reading)
    for *_, blocks in batches:
        for block in blocks:
            block.cases = position[block.cases]
    versions = linker.read_documents(
        [(at, np.concatenate([b.cases for b in blocks])) for _, _, at, blocks in batches]
    )
    for (first, end, at, blocks), rows in zip(batches, versions, strict=True):
        yield fill_signals(linker, first, end, at, blocks, rows)


def _links(linker: LinkInputs, blocks: list[Block], shared: np.ndarray) -> pd.DataFrame:
    """The links of one batch (WINDOW_LINK_COLUMNS)."""
    chosen = best_candidates(linker, blocks)
    if not len(chosen.get("call", ())):
        return empty_links(WINDOW_LINK_COLUMNS)
    call, case = chosen["call"], chosen["case"]
    return pd.DataFrame(
        {
            "call_id": linker.call_ids[call],
            "case_id": linker.case_ids[case],
            "confidence": chosen["confidence"].astype(float),
            "evidence": np.array(evidence(linker, chosen, shared), dtype=object),
            "received_at": linker.received[call],
            "caller_phone_pid": linker.caller_pids[call],
            "decided_at": linker.decided[call],
        }
    )


def _decide(linker: LinkInputs) -> pd.DataFrame:
    """The links of every call the linker decides (WINDOW_LINK_COLUMNS); a batch whose inputs were
    decided before (same digest) is taken from the memo, the others are decided and remembered."""
    batches = linker.batches()
    keys = linker.digests(batches)
    found = {key: MEMO.get(key) for key in keys}
    missed = []
    for key, (first, end, at) in zip(keys, batches, strict=True):
        if found[key] is None:
            blocks = candidate_blocks(linker, first, end, at)
            if blocks:
                missed.append((key, (first, end, at, blocks)))
            else:
                found[key] = empty_links(WINDOW_LINK_COLUMNS)
                MEMO.put(key, found[key])
    if missed:
        shared = _fill(linker, [batch for _, batch in missed])
        for (key, batch), things in zip(missed, shared, strict=True):
            found[key] = _links(linker, batch[3], things)
            MEMO.put(key, found[key])
            batch[3].clear()  # its dense (call x case) arrays are not needed any more
    kept = [key for key in keys if len(found[key])]
    if not kept:
        return empty_links((*WINDOW_LINK_COLUMNS, "digest"))
    links = pd.concat([found[key] for key in kept], ignore_index=True)
    hexes = np.array([key.hex() for key in kept], dtype=object)
    return links.assign(digest=np.repeat(hexes, [len(found[key]) for key in kept]))


def _window(
    calls: pd.DataFrame, instant: pd.Timestamp, config: LinkConfig
) -> tuple[np.ndarray, np.datetime64]:
    """The decision instants of the calls without a case_id received in the window before the instant
    (and known before it), and the window's start."""
    end = np.datetime64(pd.Timestamp(instant).to_datetime64(), "us")
    start = end - np.timedelta64(config.call_window_days, "D")
    received, known = as_us(calls["received_at"]), as_us(calls["known_at"])
    inside = (known < end) & (received >= start) & (received < end) & blank(calls["case_id"])
    return np.unique(decision_instants(known[inside])), start


def window_links(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    instant: pd.Timestamp,
    config: LinkConfig = LinkConfig(),
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The links of the calls without a case_id received in the `call_window_days` before the instant
    and known before it, each as decided at its decision instant (WINDOW_LINK_COLUMNS, by call_id).

    `calls`: stored hotline rows (those with a case_id are not linked); `cases`: stored cases; `linked`:
    stored hotline rows linked by case_id (may be the same table as `calls`); `events`: stored case
    events, to require the case to be open at the call's time (without them, opened at or before the
    call is enough). Only rows known before the instant are read, and for each call only those known
    before its decision instant.
    """
    instants, start = _window(calls, instant, config)
    links = _decide(LinkInputs(calls, cases, linked, events, instants, config))
    links = links[links["received_at"].to_numpy() >= start]
    return links[list(WINDOW_LINK_COLUMNS)].sort_values("call_id", ignore_index=True)


def link_calls(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    instant: pd.Timestamp,
    config: LinkConfig = LinkConfig(),
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`window_links` with LINK_COLUMNS only: call_id, case_id, confidence (at least config.threshold)
    and evidence, one row per linked call, sorted by call_id."""
    return window_links(calls, cases, linked, instant, config, events)[list(LINK_COLUMNS)]


def day_links(sources: Sources, as_of: date, config: LinkConfig = LinkConfig()) -> pd.DataFrame:
    """`day_decisions` of the stored records as known before as_of 00:00 (`features.known.cut`)."""
    return day_decisions(cut(sources, as_of), config)


def day_decisions(known: KnownBefore, config: LinkConfig = LinkConfig()) -> pd.DataFrame:
    """The decisions of the run for the cut's date, ready to be stored (STORED_LINK_COLUMNS, by call_id):
    the calls without a case_id that became known on the day before (`known_at` in [as_of - 1 day,
    as_of)), each linked to at most one case from the cut alone. The same rows whenever they are
    computed afterwards: records known later are not in the cut."""
    return days_decisions(known, [known.as_of], config)


def days_decisions(
    known: KnownBefore, days: Sequence[date], config: LinkConfig = LinkConfig()
) -> pd.DataFrame:
    """`day_decisions` of each of the days (none after the cut's date), from one cut: each call reads only
    what was known before its day's midnight, so the rows are those each day's run stores (as_of: the
    day; by as_of, then call_id)."""
    late = [day for day in days if day > known.as_of]
    if late:
        raise ValueError(f"links of {late[0]} cannot be decided from what was known before {known.as_of}")
    instants = np.array([np.datetime64(as_of_instant(day).to_datetime64(), "us") for day in days])
    links = _decide(LinkInputs(known.hotline, known.cases, known.hotline, known.events, instants, config))
    links = links.sort_values(["decided_at", "call_id"], ignore_index=True)
    stored = links[["call_id", "case_id", "confidence", "evidence"]].copy()
    decided = links["decided_at"].to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    stored.insert(0, "as_of", pd.Series(decided.astype(object), dtype=object))
    stored.insert(4, "threshold", float(config.threshold))
    stored["digest"] = links["digest"].astype(object)
    district = pd.Series(known.hotline["district"].to_numpy(dtype=object), index=known.hotline["call_id"])
    found = district[~district.index.duplicated(keep="last")].reindex(stored["call_id"]).to_numpy()
    stored["district"] = pd.Series([None if pd.isna(d) else d for d in found], dtype=object)
    return stored[list(STORED_LINK_COLUMNS)]


def candidate_signals(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    instant: pd.Timestamp,
    config: LinkConfig = LinkConfig(),
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every candidate pair of the calls `window_links` decides, with its SIGNALS (for measuring the
    linker, not for the product): call_id, case_id, decided_at, then the signals (category +1 agrees,
    -1 clashes, 0 neutral); grouped by call in decision order, cases in candidate order."""
    instants, start = _window(calls, instant, config)
    linker = LinkInputs(calls, cases, linked, events, instants, config)
    batches = _prepare(linker)
    for _ in _fill(linker, batches):
        pass
    frames = []
    for *_, blocks in batches:
        for block in blocks:
            row, column = np.nonzero(block.valid)
            values = signals_at(linker, block, row, column)
            frames.append(pd.DataFrame({"call": block.calls[row], "case": block.cases[column], **values}))
    if not frames:
        return pd.DataFrame(columns=["call_id", "case_id", "decided_at", *SIGNALS])
    pairs = pd.concat(frames, ignore_index=True).sort_values(["call", "case"], kind="stable")
    pairs = pairs[linker.received[pairs["call"].to_numpy()] >= start].reset_index(drop=True)
    call = pairs["call"].to_numpy()
    pairs.insert(0, "call_id", linker.calls["call_id"].to_numpy()[call].astype(object))
    pairs.insert(1, "case_id", linker.cases["case_id"].to_numpy()[pairs["case"].to_numpy()].astype(object))
    pairs.insert(2, "decided_at", linker.decided[call])
    return pairs[["call_id", "case_id", "decided_at", *SIGNALS]]
