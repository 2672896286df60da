"""The inputs of the call linker's batches, read once (`LinkInputs`): the calls to decide and when each is
decided, the cases that may be their candidates with their closed/reopened events, the calls linked to
them by case_id, every text's n-grams and named things, and each batch's digest."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd
from scipy import sparse

from contracts.vocabulary import EventType
from features.link_arrays import as_us, blank, ranges, row_hashes, shared_codes
from features.link_config import LINKER_VERSION, LinkConfig, category_agreement
from features.link_text import ngram_counts, normalised, sublinear, things_table
from features.sources import is_among

_STATUS = (EventType.CLOSED.value, EventType.REOPENED.value)
_DAY = np.timedelta64(1, "D")


def decision_instants(known_at: pd.Series | np.ndarray) -> np.ndarray:
    """When calls known at these times are decided: the next midnight (datetime64[us])."""
    days = np.asarray(known_at, dtype="datetime64[us]").astype("datetime64[D]")
    return (days + _DAY).astype("datetime64[us]")


class LinkInputs:
    """The inputs of the batches decided at some instants, read once: the calls to decide (sorted by
    decision instant, district, then received: a batch is one district's calls at one instant), the
    cases that may be their candidates (the pool, in knowledge order), the pool's closed/reopened events
    and, once `narrow` has kept the cases that are some call's candidate, the calls linked to them by
    case_id and every text's n-grams and named things."""

    def __init__(
        self,
        calls: pd.DataFrame,
        cases: pd.DataFrame,
        linked: pd.DataFrame,
        events: pd.DataFrame | None,
        instants: np.ndarray,
        config: LinkConfig,
    ) -> None:
        self.config = config
        self.max_age = np.timedelta64(config.max_case_age_days, "D")
        instants = np.unique(np.asarray(instants, dtype="datetime64[us]"))
        horizon = instants.max() if len(instants) else np.datetime64("NaT", "us")
        self.horizon = horizon
        columns = ["call_id", "received_at", "known_at", "district", "category", "text", "caller_phone_pid"]
        columns += ["town"] if "town" in calls.columns else []
        calls_table, known_at = calls, as_us(calls["known_at"])
        decided = decision_instants(known_at)
        chosen = (known_at < horizon) & np.isin(decided, instants)
        chosen[chosen] = blank(calls["case_id"][chosen])
        calls = calls.loc[chosen, columns].assign(decided_at=decided[chosen]).drop(columns="known_at")
        # A batch is one district's calls decided at one instant: a district is decided alone.
        district = calls["district"].astype("string").where(~blank(calls["district"]))
        calls = calls.assign(_district=district).sort_values(
            ["decided_at", "_district", "received_at", "call_id"], ignore_index=True, na_position="last"
        )
        self.calls = calls.drop(columns="_district")
        self.received, self.decided = as_us(self.calls["received_at"]), as_us(self.calls["decided_at"])
        columns = [
            "case_id",
            "opened_at",
            "known_at",
            "district",
            "category",
            "description",
            "reporter_phone_pid",
        ]
        columns += ["town"] if "town" in cases.columns else []
        keep = as_us(cases["known_at"]) < horizon
        if len(self.calls):
            opened = as_us(cases["opened_at"])
            keep &= (opened >= self.received.min() - self.max_age) & (opened <= self.received.max())
        cases = cases.loc[keep, columns]
        self.call_district, case_district = shared_codes(self.calls["district"], cases["district"])
        cases = cases[np.isin(case_district, self.call_district[self.call_district >= 0])]
        linked_known_at = known_at if linked is calls_table else as_us(linked["known_at"])
        known = (linked_known_at < horizon) & linked["case_id"].notna().to_numpy()
        linked = linked[known]
        self._set_pool(cases.sort_values("known_at", kind="stable", ignore_index=True), events, linked)
        case = pd.Index(self.cases["case_id"]).get_indexer(linked["case_id"].astype("string"))
        linked = linked.loc[case >= 0, ["known_at", "text", "caller_phone_pid"]].assign(case=case[case >= 0])
        linked = linked.sort_values("known_at", kind="stable")
        self.linked = linked[["case", "known_at", "text", "caller_phone_pid"]].reset_index(drop=True)
        self.linked_case, self.linked_known = self.linked["case"].to_numpy(), as_us(self.linked["known_at"])
        # Phones before `narrow`, for the candidates: a closed case is one only through a phone.
        self.pool_call_phone, self.pool_reporter_phone, self.pool_linked_phone = shared_codes(
            self.calls["caller_phone_pid"], self.cases["reporter_phone_pid"], self.linked["caller_phone_pid"]
        )

    def _set_pool(self, cases: pd.DataFrame, events: pd.DataFrame | None, linked: pd.DataFrame) -> None:
        """The pool: the cases, less those closed for good before every call (whatever becomes known
        later) that share no phone with the calls (neither the reporter's nor that of a call `linked` to
        them), with their closed/reopened events in the order the cohort resolves them (at the same time
        and knowledge time, 'reopened' comes last and wins)."""
        status = pd.DataFrame({"case": np.zeros(0, int), "closed": np.zeros(0, bool)})
        if events is not None:
            keep = as_us(events["known_at"]) < self.horizon
            keep[keep] = events["event_type"][keep].isin(_STATUS).to_numpy()
            status = events.loc[keep, ["case_id", "event_at", "event_type", "known_at"]]
            status = status.assign(
                case=pd.Index(cases["case_id"]).get_indexer(status["case_id"].astype("string")),
                closed=(status["event_type"].astype("string") == EventType.CLOSED.value).to_numpy(dtype=bool),
            )
            status = status[status["case"].to_numpy() >= 0]
            # At the same time and knowledge time, 'reopened' comes last and wins.
            status = status.assign(reopened=~status["closed"]).sort_values(
                ["event_at", "known_at", "reopened"], kind="stable"
            )
        if len(status) and len(self.calls):
            first = self.decided.min()
            early = status[status["known_at"].to_numpy() < first].drop_duplicates("case", keep="last")
            gone = early.loc[
                early["closed"].to_numpy() & (early["event_at"].to_numpy() < self.received.min()), "case"
            ]
            later = status.loc[status["known_at"].to_numpy() >= first, "case"]
            gone = np.setdiff1d(gone.to_numpy(), later.to_numpy())
            pids = self.calls["caller_phone_pid"]
            phones = pids[~blank(pids)]
            calling = linked.loc[is_among(linked["caller_phone_pid"], phones), "case_id"]
            called = is_among(cases["reporter_phone_pid"], phones) | is_among(cases["case_id"], calling)
            keep = ~np.isin(np.arange(len(cases)), gone) | called
            position = np.cumsum(keep) - 1
            cases = cases[keep].reset_index(drop=True)
            status = status[keep[status["case"].to_numpy()]]
            status = status.assign(case=position[status["case"].to_numpy()])
        self.cases = cases
        self.case_district = shared_codes(self.calls["district"], cases["district"])[1]
        self.case_known, self.opened = as_us(cases["known_at"]), as_us(cases["opened_at"])
        self.status_case = status["case"].to_numpy(dtype=np.int64)
        self.status_at = as_us(status["event_at"]) if len(status) else np.zeros(0, "datetime64[us]")
        self.status_known = as_us(status["known_at"]) if len(status) else np.zeros(0, "datetime64[us]")
        self.status_closed = status["closed"].to_numpy(dtype=bool) if len(status) else np.zeros(0, dtype=bool)
        if "town" in self.calls.columns:
            self.call_town, self.case_town = shared_codes(self.calls["town"], cases["town"])
        else:
            self.call_town = self.case_town = None

    def batches(self) -> list[tuple[int, int, np.datetime64]]:
        """(first, end, instant): the calls of one district (or of none) decided at one instant are
        calls[first:end]."""
        change = (self.decided[1:] != self.decided[:-1]) | (self.call_district[1:] != self.call_district[:-1])
        starts = np.flatnonzero(np.r_[True, change]) if len(self.decided) else []
        ends = np.r_[starts[1:], len(self.decided)] if len(starts) else []
        return [(int(a), int(b), self.decided[a]) for a, b in zip(starts, ends, strict=True)]

    def digests(self, batches: list[tuple[int, int, np.datetime64]]) -> list[bytes]:
        """Per batch, a digest of everything its decisions can read: the linker's version, the
        configuration and the instant; its calls; the cases that may be a candidate of one of them
        (known before the instant, in their districts, opened in their age range, not closed for good
        before the first of them unless they share a phone with them), in pool order; those cases'
        closed/reopened events and the calls linked to them by case_id, known before the instant.
        Equal digests give equal decisions."""
        case_columns = ["case_id", "opened_at", "district", "category", "description", "reporter_phone_pid"]
        case_columns += ["town"] if "town" in self.cases.columns else []
        call_hash = row_hashes(self.calls.drop(columns="decided_at"))
        case_hash = row_hashes(self.cases[case_columns])
        status_hash = row_hashes(
            pd.DataFrame(
                {
                    "case": case_hash[self.status_case],
                    "at": self.status_at,
                    "known": self.status_known,
                    "closed": self.status_closed,
                }
            )
        )
        linked_hash = row_hashes(
            self.linked[["text", "caller_phone_pid"]].assign(case=case_hash[self.linked_case])
        )
        out = []
        for first, end, instant in batches:
            received = self.received[first:end]
            districts = self.call_district[first:end]
            chosen = (
                (self.case_known < instant)
                & (self.opened >= received.min() - self.max_age)
                & (self.opened <= received.max())
                & np.isin(self.case_district, districts[districts >= 0])
            )
            status = np.flatnonzero((self.status_known < instant) & chosen[self.status_case])
            chosen[self._gone_without_phone(first, end, instant, status)] = False
            status = status[chosen[self.status_case[status]]]
            known = int(np.searchsorted(self.linked_known, instant, side="left"))
            linked = np.flatnonzero(chosen[self.linked_case[:known]])
            digest = hashlib.blake2b(
                repr((LINKER_VERSION, self.config, str(instant))).encode(), digest_size=16
            )
            for part in (call_hash[first:end], case_hash[chosen], status_hash[status], linked_hash[linked]):
                digest.update(np.int64(len(part)).tobytes())
                digest.update(part.tobytes())
            out.append(digest.digest())
        return out

    def _gone_without_phone(
        self, first: int, end: int, instant: np.datetime64, status: np.ndarray
    ) -> np.ndarray:
        """The pool cases closed for good before the first of calls[first:end] (as known before the
        instant; `status`: their events known then) that share no phone with those calls (neither the
        reporter's nor that of a call linked to them known before the instant): no call's candidate."""
        _, from_end = np.unique(self.status_case[status][::-1], return_index=True)
        last = status[len(status) - 1 - from_end]
        ended = self.status_closed[last] & (self.status_at[last] < self.received[first:end].min())
        gone = self.status_case[last[ended]]
        phones = np.unique(self.pool_call_phone[first:end])
        phones = phones[phones >= 0]
        known = int(np.searchsorted(self.linked_known, instant, side="left"))
        calling = self.linked_case[:known][np.isin(self.pool_linked_phone[:known], phones, kind="table")]
        phoned = np.isin(self.pool_reporter_phone[gone], phones, kind="table")
        return gone[~(phoned | np.isin(gone, calling, kind="table"))]

    def narrow(self, keep: np.ndarray, reading: np.ndarray) -> np.ndarray:
        """Keeps the pool cases at the given (sorted) positions and the calls linked to them, and reads
        their texts and those of the calls where `reading` (the others read as empty); returns the new
        position of each old pool case (-1 when dropped)."""
        position = np.full(len(self.cases), -1)
        position[keep] = np.arange(len(keep))
        cases = self.cases.iloc[keep].reset_index(drop=True)
        self.cases, self.case_district = cases, self.case_district[keep]
        self.case_known, self.opened = self.case_known[keep], self.opened[keep]
        self.case_town = None if self.case_town is None else self.case_town[keep]
        mine = position[self.linked_case] >= 0
        self.linked = self.linked[mine].reset_index(drop=True)
        self.linked_case, self.linked_known = position[self.linked_case[mine]], self.linked_known[mine]
        self.call_phone, self.reporter_phone, self.linked_phone = shared_codes(
            self.calls["caller_phone_pid"], cases["reporter_phone_pid"], self.linked["caller_phone_pid"]
        )
        self.call_category, self.case_category, self.category_table = category_agreement(
            self.calls["category"], cases["category"]
        )
        self.call_ids = self.calls["call_id"].astype(object).to_numpy()
        self.case_ids = cases["case_id"].astype(object).to_numpy()
        self.caller_pids = self.calls["caller_phone_pid"].astype(object).to_numpy()
        self.hotline_category = self.calls["category"].astype(object).to_numpy()
        self.dispute_category = cases["category"].astype(object).to_numpy()
        parts = (
            self.calls["text"].astype("string").where(reading, ""),
            cases["description"].astype("string"),
            self.linked["text"].astype("string"),
        )
        texts = pd.concat([normalised(p) for p in parts], ignore_index=True).astype(object).tolist()
        counts = ngram_counts(texts, self.config.ngram_range)
        bounds = np.cumsum([0, *(len(p) for p in parts)])
        self.call_counts, self.description_counts, self.linked_counts = (
            counts[a:b] for a, b in itertools.pairwise(bounds)
        )
        self.call_tf = sublinear(self.call_counts)
        vocabulary: dict[str, int] = {}
        self.call_things, self.description_things, self.linked_things = (
            things_table(part, vocabulary) for part in parts
        )
        self.thing_names = np.array(list(vocabulary), dtype=object)
        self.thing_is_amount = np.array(
            [t[:-1].isdigit() and t.endswith("元") for t in vocabulary], dtype=bool
        )
        return position

    def read_documents(self, batches: list[tuple[np.datetime64, np.ndarray]]) -> list[np.ndarray]:
        """The sublinear n-gram counts of every version of the documents the batches (instant, cases)
        read, as `documents`; returns each batch's rows. A case's document at an instant is its
        description and the calls linked to it by case_id known before the instant."""
        n_cases, n_linked = len(self.cases), len(self.linked_case)
        keys = []
        for instant, cases in batches:
            known = int(np.searchsorted(self.linked_known, instant, side="left"))
            linked_before = np.bincount(self.linked_case[:known], minlength=n_cases)
            keys.append(cases * (n_linked + 1) + linked_before[cases])
        distinct, inverse = np.unique(np.concatenate(keys or [np.zeros(0, int)]), return_inverse=True)
        case, count = distinct // (n_linked + 1), distinct % (n_linked + 1)
        by_case = np.argsort(self.linked_case, kind="stable")  # knowledge order within a case
        start = np.searchsorted(self.linked_case[by_case], case, side="left")
        gather = sparse.csr_matrix(
            (np.ones(int(count.sum())), by_case[ranges(start, count)], np.r_[0, np.cumsum(count)]),
            shape=(len(distinct), n_linked),
        )
        self.documents = sublinear(
            sparse.csr_matrix(self.description_counts[case] + gather @ self.linked_counts)
        )
        self.documents_squared = self.documents.copy()
        self.documents_squared.data **= 2
        bounds = np.cumsum([0, *(len(k) for k in keys)])
        return [inverse[a:b] for a, b in itertools.pairwise(bounds)]
