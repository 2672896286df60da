"""The candidate blocks of a batch of calls (a batch is one district's, so one block at most): per
district, the calls against the cases known before the batch's instant that were opened at most
`max_case_age_days` before a call (same town when both record one), which (call, case) pairs are
candidates, and which candidates were closed at the call's time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.link_arrays import equal_pairs
from features.link_inputs import LinkInputs


@dataclass
class Block:
    """The calls of one district of a batch against the cases that are a candidate of one of them."""

    calls: np.ndarray  # positions in the linker's calls, in received order
    cases: np.ndarray  # positions in the linker's case pool, in knowledge order
    valid: np.ndarray  # (call x case): the case is a candidate of the call
    closed: np.ndarray  # (call x case): the case was closed at the call's time (as known at the decision)
    cosine: np.ndarray | None = None  # (call x case)
    category: tuple[np.ndarray, np.ndarray] | None = None  # category codes of the calls and of the cases
    # The rare signals, as sorted cell numbers (row * cases + column) of candidate pairs and their values:
    # same_reporter, same_linked_caller (1.0), n_named, n_amount (counts).
    cells: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def at(self, name: str, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """A rare signal's values at some cells (0 where it is absent)."""
        keys, values = self.cells[name]
        wanted = rows * len(self.cases) + columns
        where = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = (keys[where] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(found, values[where] if len(keys) else 0.0, 0.0)


def closed_at_calls(
    received: np.ndarray, case_at: np.ndarray, event_at: np.ndarray, closed: np.ndarray, width: int
) -> np.ndarray:
    """(call x case): the case's latest closed/reopened event at or before the call is 'closed'. Calls
    are in received order; events (their case's column, time, closed) in resolution order."""
    # An event applies from the first call received at or after it; at each call, the last event that
    # applies (in resolution order) is the case's state.
    first_call = np.searchsorted(received, event_at, side="left")
    applies = first_call < len(received)
    first_call, case_at, closed = first_call[applies], case_at[applies], closed[applies]
    out = np.zeros((len(received), width), dtype=bool)
    if not len(first_call):
        return out
    touched, column = np.unique(case_at, return_inverse=True)
    key = first_call * len(touched) + column
    _, from_end = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - from_end
    state = np.zeros((len(received), len(touched)), dtype=np.int8)
    state[first_call[last], column[last]] = np.where(closed[last], 2, 1)
    at = np.where(state > 0, np.arange(len(received))[:, None], 0)
    np.maximum.accumulate(at, axis=0, out=at)
    out[:, touched] = np.take_along_axis(state, at, axis=0) == 2
    return out


def shared_phone(
    linker: LinkInputs, calls: np.ndarray, cases: np.ndarray, column: np.ndarray, instant: np.datetime64
) -> np.ndarray:
    """(call x case): the call's phone is the case's reporter's or that of a call linked to the case by
    case_id known before the instant (`column`: each pool case's column among `cases`)."""
    out = np.zeros((len(calls), len(cases)), dtype=bool)
    phone = linker.pool_call_phone[calls]
    reporter = linker.pool_reporter_phone[cases]
    row, col = equal_pairs(phone, np.where(reporter >= 0, reporter, -2))
    out[row, col] = True
    known = int(np.searchsorted(linker.linked_known, instant, side="left"))
    mine = np.flatnonzero(column[linker.linked_case[:known]] >= 0)
    mine = mine[np.isin(linker.linked_case[mine], cases)]
    caller = linker.pool_linked_phone[mine]
    row, at = equal_pairs(phone, np.where(caller >= 0, caller, -2))
    out[row, column[linker.linked_case[mine[at]]]] = True
    return out


def candidate_blocks(linker: LinkInputs, first: int, end: int, instant: np.datetime64) -> list[Block]:
    """Per district of the batch's calls: its calls, the cases that are a candidate of one of them, which
    pairs are candidates, and which candidates were closed at the call's time (the latest closed/reopened
    event at or before the call, among those known before the instant, is 'closed')."""
    received = linker.received[first:end]
    districts = linker.call_district[first:end]
    possible = (
        (linker.case_known < instant)
        & (linker.opened <= received.max())
        & (linker.opened >= received.min() - linker.max_age)
    )
    column = np.full(len(linker.cases), -1)
    status = np.flatnonzero(linker.status_known < instant)
    status = status[possible[linker.status_case[status]]]
    status_district = linker.case_district[linker.status_case[status]]
    blocks = []
    for district in pd.unique(districts[districts >= 0]):  # in call order: the same whatever the run
        calls = first + np.flatnonzero(districts == district)
        cases = np.flatnonzero(possible & (linker.case_district == district))
        if not len(cases):
            continue
        age = linker.received[calls][:, None] - linker.opened[cases][None, :]
        valid = (age >= np.timedelta64(0)) & (age <= linker.max_age)
        if linker.call_town is not None:
            call_town, case_town = linker.call_town[calls][:, None], linker.case_town[cases][None, :]
            valid &= (call_town < 0) | (case_town < 0) | (call_town == case_town)
        column[cases] = np.arange(len(cases))
        events = status[status_district == district]
        closed = closed_at_calls(
            linker.received[calls],
            column[linker.status_case[events]],
            linker.status_at[events],
            linker.status_closed[events],
            len(cases),
        )
        valid &= ~closed | shared_phone(linker, calls, cases, column, instant)
        closed &= valid
        used = valid.any(axis=0)
        if used.any():
            blocks.append(Block(calls, cases[used], valid[:, used], closed[:, used]))
    return blocks
