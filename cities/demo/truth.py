"""The truth behind the exports: each open case's hazard-implied probability of escalation at the as-of
dates and what happened, and the case truly behind each call."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from cities.demo.calls import Calls
from cities.demo.cases import Cases
from cities.demo.config import ESCALATION_CODES, HORIZON_DAYS, SimulationConfig
from cities.demo.dynamics import History


def escalation_truth(history: History, cases: Cases, config: SimulationConfig) -> pd.DataFrame:
    """Per as-of date and open case: hazard-implied p of escalation within 30 days, and what happened."""
    span = config.days + HORIZON_DAYS + 1
    escalations = np.isin(history.event_code, ESCALATION_CODES)
    keys = np.sort(history.event_case[escalations] * span + history.event_day[escalations])
    start_keys = history.truth_case * span + history.truth_day
    counts = np.searchsorted(keys, start_keys + HORIZON_DAYS) - np.searchsorted(keys, start_keys)
    as_of = [config.start + timedelta(days=int(d)) for d in history.truth_day]
    frame = pd.DataFrame(
        {
            "as_of": pd.Series(as_of, dtype=object),
            "case_id": pd.array(cases.case_id[history.truth_case].astype(object), dtype="str"),
            "p_escalation": history.truth_p.astype(float),
            "escalated": counts > 0,
        }
    )
    return frame.sort_values(["as_of", "case_id"], kind="stable").reset_index(drop=True)


def link_truth(calls: Calls, cases: Cases) -> pd.DataFrame:
    """For every call: the case truly behind it (None for background calls) and whether it was linked."""
    true_case = calls.true_case.astype(np.int64)
    return pd.DataFrame(
        {
            "call_id": pd.array(calls.call_id, dtype="str"),
            "true_case_id": pd.Series(
                np.where(true_case >= 0, cases.case_id[np.maximum(true_case, 0)], None), dtype=object
            ),
            "linked_in_export": calls.linked.astype(bool),
        }
    )
