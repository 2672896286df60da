"""Why the call linker misses the calls it could link: each linkable call's outcome (linked to its true
case, to another, not linked though its true case was the best candidate, another candidate scored
higher, the true case not a candidate and why) and which signals its true pair carried, for
`bench.linking_quality`. Reads the simulator's truth; never used by the product."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.link_inputs import decision_instants
from features.sources import Sources

OUTCOMES = (
    "linked_true_case",
    "linked_other_case",
    "true_case_best_below_threshold",
    "other_candidate_higher",
    "not_candidate_case_unknown",
    "not_candidate_case_closed",
    "not_candidate_other",
)
# The linker's signals of a pair, as `features.call_linking.candidate_signals` names them.
TRUE_PAIR_SIGNALS = (
    "reporter",
    "linked_caller",
    "cosine",
    "named",
    "amount",
    "category_agrees",
    "category_clashes",
)
# The signals whose presence on the true pair is counted (bench.linking_quality.SIGNALS but the cosine).
PRESENT = ("reporter", "linked_caller", "named", "amount", "category_agrees", "category_clashes", "closed")


def call_outcomes(
    known: Sources,
    targets: pd.DataFrame,
    pairs: pd.DataFrame,
    z: np.ndarray,
    choices: pd.DataFrame,
    threshold: float,
    true_case: pd.Series,
    instant: pd.Timestamp,
) -> pd.DataFrame:
    """Per linkable call of a window (targets with a true_case_id): its outcome (OUTCOMES), the signals
    of its true pair (NaN when not a candidate), its number of candidates, and whether its phone called
    earlier about the same true case (any call known before its decision, quoted number or not);
    true_case: the true case of every call by call_id; `open_at_as_of`: the true case is open at the
    window's as-of instant (as the record known then says), so the call counts in that date's features."""
    calls = targets[targets["true_case_id"].notna()].reset_index(drop=True)
    true_rows = pairs.assign(z=z)[pairs["label"].to_numpy()].drop_duplicates("call_id")
    signals = list(TRUE_PAIR_SIGNALS)
    out = calls[["call_id", "true_case_id"]].merge(
        true_rows[["call_id", "z", *signals]], on="call_id", how="left"
    )
    out = out.merge(
        pairs.groupby("call_id").size().rename("candidates").reset_index(), on="call_id", how="left"
    )
    out["candidates"] = out["candidates"].fillna(0).astype(int)
    chosen = choices.set_index("call_id")
    best_case = out["call_id"].map(chosen["case_id"])
    best_confidence = out["call_id"].map(chosen["confidence"]).fillna(0.0)
    kept = best_confidence >= threshold
    is_true = best_case == out["true_case_id"]
    outcome = np.where(
        kept & is_true,
        "linked_true_case",
        np.where(
            kept,
            "linked_other_case",
            np.where(is_true, "true_case_best_below_threshold", "other_candidate_higher"),
        ),
    ).astype(object)
    missing = out["z"].isna().to_numpy() & ~kept.to_numpy()
    outcome[missing] = _not_candidate(known, calls, out.loc[missing, "call_id"])
    out["outcome"] = outcome
    out["earlier_phone_same_case"] = _earlier_phone(known, calls, true_case).to_numpy()
    out["open_at_as_of"] = _open_at(known, out["true_case_id"], instant)
    return out


def _not_candidate(known: Sources, calls: pd.DataFrame, call_ids: pd.Series) -> np.ndarray:
    """Why the true case was not a candidate: not known at the decision, closed at the call, other
    (another district, too old, opened after the call)."""
    rows = calls.set_index("call_id").loc[call_ids.to_numpy()]
    decided = decision_instants(rows["known_at"])
    cases = known.cases.set_index("case_id")
    case_known = rows["true_case_id"].map(cases["known_at"]).to_numpy(dtype="datetime64[us]")
    unknown = np.isnat(case_known) | (case_known >= decided)
    status = known.events[known.events["event_type"].isin(["closed", "reopened"])]
    status = status[["case_id", "event_at", "known_at", "event_type"]].sort_values(["event_at", "known_at"])
    frame = pd.DataFrame(
        {"call_id": call_ids.to_numpy(), "case_id": rows["true_case_id"].to_numpy(), "decided": decided}
    ).assign(received=rows["received_at"].to_numpy())
    joined = frame.merge(status, on="case_id", how="inner")
    joined = joined[(joined["known_at"] < joined["decided"]) & (joined["event_at"] <= joined["received"])]
    last = joined.drop_duplicates("call_id", keep="last").set_index("call_id")["event_type"]
    closed = frame["call_id"].map(last).eq("closed").to_numpy()
    return np.where(
        unknown,
        "not_candidate_case_unknown",
        np.where(closed, "not_candidate_case_closed", "not_candidate_other"),
    )


def _open_at(known: Sources, case_ids: pd.Series, instant: pd.Timestamp) -> np.ndarray:
    """Whether each case is known and open at the instant (its latest closed/reopened event known before
    it, if any, is 'reopened')."""
    events = known.events
    status = events[events["event_type"].isin(["closed", "reopened"]) & (events["event_at"] < instant)]
    last = status.sort_values(["event_at", "known_at"], kind="stable").drop_duplicates("case_id", keep="last")
    state = last.set_index("case_id")["event_type"]
    return (case_ids.isin(set(known.cases["case_id"])) & ~case_ids.map(state).eq("closed")).to_numpy()


def _earlier_phone(known: Sources, calls: pd.DataFrame, true_case: pd.Series) -> pd.Series:
    """Whether each call's phone made an earlier call about the same true case known before the call's
    decision (the most a linker that followed its own earlier links by phone could use)."""
    every = known.hotline[["call_id", "caller_phone_pid", "known_at"]].dropna(subset=["caller_phone_pid"])
    every = every.assign(true_case_id=every["call_id"].map(true_case)).dropna(subset=["true_case_id"])
    pairs = calls[["call_id", "true_case_id", "caller_phone_pid", "known_at"]].merge(
        every, on=["true_case_id", "caller_phone_pid"], suffixes=("", "_earlier")
    )
    decided = decision_instants(pairs["known_at"])
    earlier = (pairs["call_id_earlier"] != pairs["call_id"]).to_numpy() & (
        pairs["known_at_earlier"].to_numpy(dtype="datetime64[us]") < decided
    )
    return calls["call_id"].isin(set(pairs.loc[earlier, "call_id"]))


def outcome_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: calls, share, and the share of its true pairs with each signal."""
    rows = []
    total = len(outcomes)
    for name in OUTCOMES:
        part = outcomes[outcomes["outcome"] == name]
        row = {"outcome": name, "calls": len(part), "share": len(part) / max(total, 1)}
        for signal in ("reporter", "linked_caller", "named", "amount", "category_agrees", "category_clashes"):
            row[signal] = (
                float((part[signal] > 0).mean()) if len(part) and part[signal].notna().any() else 0.0
            )
        row["cosine"] = float(part["cosine"].mean()) if part["cosine"].notna().any() else 0.0
        row["candidates"] = float(part["candidates"].median()) if len(part) else 0.0
        row["earlier_phone_same_case"] = float(part["earlier_phone_same_case"].mean()) if len(part) else 0.0
        rows.append(row)
    return pd.DataFrame(rows)
