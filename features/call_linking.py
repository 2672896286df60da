"""Call-to-case linking: which open case a hotline call without a case number is most likely about.

When a link is decided. Every call without a `case_id` is decided once, at its *decision instant*:
the midnight after it became known (`known_at`), when the next day's run links the calls of the day
before (`day_links`). The decision reads only records known strictly before that instant, so it is the
same whenever it is computed afterwards: features for an as-of instant T use the decisions of the calls
known before T, each made at or before T from records known before it, and nothing known at or after
T. A record that arrives later (a call quoting the case number, a case recorded late, a closure) never
revises an earlier decision; the calls decided after it use it. The calls decided together, a *batch*,
are always all the calls without a case_id known during one day (the term weights and the commonness of
named things are batch statistics), whichever of them a caller asks for.

Candidates of a call are the cases known before its decision instant in the same district (and the
same town, when both the call and the case record one) that were opened at or before the call, at most
`max_case_age_days` before it, and open at the call's time (when the case events are given: the latest
closed/reopened event at or before the call, among those known before the decision instant, is not
`closed`). Each (call, candidate) pair gets a hand-set logistic-style score

    z = bias
        + w_reporter_phone   [the caller's pseudonymised phone is the case's reporter phone]
        + w_linked_caller    [a call from the same phone quoting the case_id was known before]
                             (only when it is not the reporter's phone: the two are one signal)
        + w_text * cosine    (character n-gram TF-IDF of the call's text against the case's
                              document: its description and the texts of the calls linked to it by
                              case_id, known before the decision instant)
        + w_named * min(shared named things, max_named)
                             (company / factory / project / estate / village / hospital / ...
                              names found by regular expressions in both texts)
        + w_amount           [both texts name the same amount of money, "35000元" or "3.5万元"]
        + w_category         [the hotline's category agrees with the case's: HOTLINE_CATEGORIES]
        + w_category_clash   [the hotline's category is mapped and names other case categories]

and a call's best candidate is kept when its confidence, a multinomial logit over "no case", the
best candidate and the runner-up,

    confidence = exp(z1) / (1 + exp(z1) + exp(z2)),

is at least `threshold` (with one candidate it is the logistic sigmoid(z1); two equally good
candidates share the probability, so an ambiguous call is rarely linked). The weights are set by
hand from what each signal means (LinkConfig documents them); they are not fitted on any truth.

Texts: the ingest's mask tokens are removed, letters lower-cased and runs of white space made one
space; a text's character n-grams (`ngram_range`, at most 3) are counted, a document's counts are
the sums of its texts' counts, and the weights are sublinear (1 + ln count) times the batch's smooth
IDF, ln((1 + n) / (1 + df)) + 1, over the batch's calls and the documents of the cases that are some
call's candidate, l2-normalised. Named things are read by the grammar of `features.named_things` (the
text after the last context word before a suffix, at least two characters before it), and are ignored
when more than `max_named_cases` of the batch's candidate cases name them (too common to tell cases
apart). The contract's hotline rows carry no town; a `town` column on the calls is used when present.

Speed. A batch is scored as one dense (call x case) block per district: cosines from sparse n-gram
counts, the rare signals (phones, named things, amounts) as cells; a city's day (about 6,500 calls
against 17,000 candidate cases, 15 million candidate pairs) takes a few seconds (bench/linking_bench.py).
A batch's decisions are remembered (MEMO, least recently used out) under a digest of everything they
read: the instant and the configuration, the calls, per district the candidate cases and which pairs are
candidates, and the calls linked to them known before the instant. So the as-of dates of a training run,
whose 30-day windows overlap, decide each day once; any change to those inputs gives another digest.
The daily run's decisions (`day_decisions` of the day's cut, STORED_LINK_COLUMNS, with the day's digest;
`day_links` cuts a whole store first) can be stored and given back to a later process with `remember`,
which then decides only the days whose inputs changed.

Pseudonymised phones are compared for equality and never leave this module; the evidence names only
signals, named things, categories and figures.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from contracts.masks import MASK_REGEX
from contracts.timeparse import as_of_instant
from contracts.vocabulary import EventType
from features.known import KnownBefore, cut
from features.named_things import read_names
from features.sources import Sources

LINK_COLUMNS = ("call_id", "case_id", "confidence", "evidence")
# `window_links`: the links with what the features need about the call and when it was decided.
WINDOW_LINK_COLUMNS = (*LINK_COLUMNS, "received_at", "caller_phone_pid", "decided_at")
# `day_links`: one day's decisions as they are stored (as_of: the list date whose run decided them).
# `digest`: the day's inputs (hex); `remember` gives stored decisions back to a later run whose inputs
# for that day are the same.
STORED_LINK_COLUMNS = ("as_of", "call_id", "case_id", "confidence", "threshold", "evidence", "digest")

# The hotline's own categories (12345 taxonomy) -> the dispute categories they agree with. A hotline
# category that is not listed (咨询, 城市管理 ...) is neutral; an exact match always agrees.
HOTLINE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "劳动保障": ("劳资纠纷",),
    "欠薪": ("劳资纠纷",),
    "邻里矛盾": ("邻里纠纷",),
    "家庭纠纷": ("婚姻家庭",),
    "妇女儿童": ("婚姻家庭",),
    "农业农村": ("土地山林", "征地拆迁"),
    "自然资源": ("土地山林", "征地拆迁"),
    "征地拆迁": ("征地拆迁",),
    "住房城乡建设": ("征地拆迁", "物业纠纷"),
    "物业管理": ("物业纠纷",),
    "市场监管": ("消费纠纷",),
    "消费维权": ("消费纠纷",),
    "卫生健康": ("医疗纠纷",),
    "交通运输": ("交通事故",),
    "公安交管": ("交通事故",),
}

AMOUNT_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?元")
MASK_PATTERN = re.compile(MASK_REGEX)  # the ingest masks: [电话] [身份证号] [姓名]
_STATUS = (EventType.CLOSED.value, EventType.REOPENED.value)
_DAY = np.timedelta64(1, "D")
LINKER_VERSION = 2  # part of every digest: change it when the same inputs would be decided differently
_SEPARATOR = "\x00"  # between texts when they are counted together (never inside a normalised text)
_CODE_BITS = 21  # a Unicode code point fits in 21 bits, so an n-gram of up to 3 fits in 63


@dataclass(frozen=True)
class LinkConfig:
    """Windows, hand-set weights (log-odds) and the threshold of call-to-case linking.

    The weights read as: with nothing in common a candidate is very unlikely (bias -5, p ~ 0.007);
    the same phone as the reporter is strong evidence on its own (-5 + 6 = 1, p ~ 0.73) and with
    a little text or category agreement passes 0.9; a phone that called about the case before,
    quoting the case number, is almost as strong (+5.5); without a phone, two shared named things
    (a company and an amount, say) with agreeing category and similar wording are needed.
    """

    call_window_days: int = 30  # link_calls / window_links: the calls received in [instant - window, instant)
    max_case_age_days: int = 365  # a call is compared with cases opened at most this long before it
    threshold: float = 0.5  # a link is kept when its confidence is at least this
    bias: float = -5.0
    w_reporter_phone: float = 6.0
    w_linked_caller: float = 5.5
    w_text: float = 4.0  # per unit of cosine similarity (0..1)
    w_named: float = 2.0  # per shared named thing, up to max_named
    max_named: int = 2
    w_amount: float = 2.5
    w_category: float = 1.0
    w_category_clash: float = -1.0
    max_named_cases: int = 25  # a thing named by more of the batch's candidate cases tells none of them apart
    ngram_range: tuple[int, int] = (2, 3)
    evidence_things: int = 3  # named things listed in the evidence

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high <= 3:
            raise ValueError("ngram_range must be within (1, 3): n-grams are counted as 63-bit keys")


# ---------------------------------------------------------------- text


def _blank(values: pd.Series) -> np.ndarray:
    """True where a text value is missing or only whitespace."""
    blank = values.isna().to_numpy().copy()
    present = ~blank
    if present.any():
        blank[present] = (values[present].astype("string").str.strip() == "").to_numpy(dtype=bool)
    return blank


def _clean(texts: pd.Series) -> pd.Series:
    """Texts without the ingest's mask tokens ('' for missing)."""
    return texts.astype("string").fillna("").str.replace(MASK_PATTERN.pattern, " ", regex=True)


def _normalised(texts: pd.Series) -> pd.Series:
    """Cleaned texts, lower-cased, with every run of white space (or NUL) one space, stripped."""
    return _clean(texts).str.lower().str.replace(r"[\s\x00]+", " ", regex=True).str.strip()


def ngram_counts(texts: list[str], ngram_range: tuple[int, int]) -> sparse.csr_matrix:
    """Per text (rows), how often each character n-gram occurs in it (columns: the distinct n-grams of
    these texts, in order of first appearance). Texts must not contain NUL. One vectorised pass: every
    n-gram (n <= 3) is a 63-bit key of its code points."""
    low, high = ngram_range
    if not texts:
        return sparse.csr_matrix((0, 0))
    codes = np.frombuffer((_SEPARATOR.join(texts) + _SEPARATOR).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    ends = codes == 0
    text_of = np.cumsum(ends) - ends
    rows, keys = [], []
    for size in range(low, high + 1):
        starts = len(codes) - size + 1
        inside = np.ones(starts, dtype=bool)
        key = np.zeros(starts, dtype=np.uint64)
        for offset in range(size):
            part = codes[offset : offset + starts]
            inside &= part != 0
            key = (key << np.uint64(_CODE_BITS)) | part
        rows.append(text_of[:starts][inside])
        keys.append(key[inside])  # sizes never collide: an n-gram's first code point is > 0
    column, vocabulary = pd.factorize(np.concatenate(keys))
    counts = sparse.coo_matrix(
        (np.ones(len(column)), (np.concatenate(rows), column)), shape=(len(texts), len(vocabulary))
    )
    return counts.tocsr()  # duplicates summed: one entry per (text, n-gram)


def _sublinear(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """1 + ln(count) for every count."""
    out = counts.copy()
    out.data = 1.0 + np.log(out.data)
    return out


def _norms(rows: sparse.csr_matrix, squared_weights: np.ndarray) -> np.ndarray:
    """Per row, the l2 norm of the row times the weights (inf for an empty row, so it divides to 0)."""
    owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    squares = np.bincount(
        owner, weights=rows.data**2 * squared_weights[rows.indices], minlength=rows.shape[0]
    )
    return np.where(squares > 0, np.sqrt(squares), np.inf)


def named_things(text: str) -> set[str]:
    """The organisation/place names (features.named_things.read_names) and amounts of money a text
    mentions (amounts as 'N元')."""
    things = {name for name, _ in read_names(text)}
    for number, wan in AMOUNT_PATTERN.findall(text):
        value = float(number) * (10_000 if wan else 1)
        if value > 0:
            things.add(f"{value:.0f}元")
    return things


@functools.lru_cache(maxsize=1 << 17)
def _things_of(text: str) -> tuple[str, ...]:
    """named_things of a text, sorted (cached: the same descriptions are read for every date)."""
    return tuple(sorted(named_things(text)))


def _things_table(texts: pd.Series, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(position in texts, thing code) of every named thing of every text, by position; new things are
    added to the vocabulary. Each distinct text is read once."""
    codes, distinct = pd.factorize(_clean(texts).astype(object))
    per_text = [[vocabulary.setdefault(t, len(vocabulary)) for t in _things_of(text)] for text in distinct]
    lengths = np.array([len(t) for t in per_text] + [0], dtype=np.int64)
    flat = np.array([c for things in per_text for c in things], dtype=np.int64)
    count = lengths[codes]
    position = np.repeat(np.arange(len(codes)), count)
    return position, flat[_ranges(np.r_[0, np.cumsum(lengths)][codes], count)]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + count) for each pair."""
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


def _join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with left[i] == right[j], by i then j."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    low = np.searchsorted(ordered, left, side="left")
    count = np.searchsorted(ordered, left, side="right") - low
    return np.repeat(np.arange(len(left)), count), order[_ranges(low, count)]


# ---------------------------------------------------------------- codes and instants


def _codes(*columns: pd.Series) -> list[np.ndarray]:
    """Shared integer codes of the values of several text columns (-1 where blank)."""
    values = pd.concat([c.astype("string").where(~_blank(c)) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(values)
    bounds = np.cumsum([0, *(len(c) for c in columns)])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)]


def _category_table(hotline: pd.Series, cases: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the hotline's and the cases' categories and the (hotline x case) agreement table:
    +1 agrees (HOTLINE_CATEGORIES or exact match), -1 clashes, 0 neutral or unknown."""
    h_codes, h_values = pd.factorize(hotline.astype("string").str.strip().fillna("").astype(object))
    c_codes, c_values = pd.factorize(cases.astype("string").str.strip().fillna("").astype(object))
    table = np.zeros((len(h_values) + 1, len(c_values) + 1))
    for i, h in enumerate(h_values):
        agreeing = {h, *HOTLINE_CATEGORIES.get(h, ())} - {""}
        for j, c in enumerate(c_values):
            table[i, j] = 1.0 if c in agreeing else (-1.0 if h in HOTLINE_CATEGORIES and c else 0.0)
    return h_codes, c_codes, table


def decision_instants(known_at: pd.Series | np.ndarray) -> np.ndarray:
    """When calls known at these times are decided: the next midnight (datetime64[us])."""
    days = np.asarray(known_at, dtype="datetime64[us]").astype("datetime64[D]")
    return (days + _DAY).astype("datetime64[us]")


def _us(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[us]")


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (text columns hashed by value, whatever their dtype)."""
    texts = {
        c: frame[c].astype("string") for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
    }
    texts = {c: v for c, v in texts.items() if not pd.api.types.is_datetime64_any_dtype(frame[c])}
    return pd.util.hash_pandas_object(frame.assign(**texts), index=False).to_numpy()


# ---------------------------------------------------------------- the inputs of a run of batches


class _Linker:
    """The inputs of the batches decided at some instants, read once: the calls to decide (sorted by
    decision instant, then received), the cases that may be their candidates (the pool, in knowledge
    order), the pool's closed/reopened events and, once `narrow` has kept the cases that are some
    call's candidate, the calls linked to them by case_id and every text's n-grams and named things."""

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
        calls_table, known_at = calls, _us(calls["known_at"])
        decided = decision_instants(known_at)
        chosen = (known_at < horizon) & np.isin(decided, instants)
        chosen[chosen] = _blank(calls["case_id"][chosen])
        calls = calls.loc[chosen, columns].assign(decided_at=decided[chosen]).drop(columns="known_at")
        self.calls = calls.sort_values(["decided_at", "received_at", "call_id"], ignore_index=True)
        self.received, self.decided = _us(self.calls["received_at"]), _us(self.calls["decided_at"])
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
        keep = _us(cases["known_at"]) < horizon
        if len(self.calls):
            opened = _us(cases["opened_at"])
            keep &= (opened >= self.received.min() - self.max_age) & (opened <= self.received.max())
        cases = cases.loc[keep, columns]
        self.call_district, case_district = _codes(self.calls["district"], cases["district"])
        cases = cases[np.isin(case_district, self.call_district[self.call_district >= 0])]
        self._set_pool(cases.sort_values("known_at", kind="stable", ignore_index=True), events)
        linked_known_at = known_at if linked is calls_table else _us(linked["known_at"])
        known = (linked_known_at < horizon) & linked["case_id"].notna().to_numpy()
        case = pd.Index(self.cases["case_id"]).get_indexer(linked["case_id"][known].astype("string"))
        known[known] = case >= 0
        linked = linked.loc[known, ["known_at", "text", "caller_phone_pid"]].assign(case=case[case >= 0])
        linked = linked.sort_values("known_at", kind="stable")
        self.linked = linked[["case", "known_at", "text", "caller_phone_pid"]].reset_index(drop=True)
        self.linked_case, self.linked_known = self.linked["case"].to_numpy(), _us(self.linked["known_at"])

    def _set_pool(self, cases: pd.DataFrame, events: pd.DataFrame | None) -> None:
        """The pool: the cases, less those closed for good before every call (whatever becomes known
        later), with their closed/reopened events in the order the cohort resolves them (at the same
        time and knowledge time, 'reopened' comes last and wins)."""
        status = pd.DataFrame({"case": np.zeros(0, int), "closed": np.zeros(0, bool)})
        if events is not None:
            keep = _us(events["known_at"]) < self.horizon
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
            keep = ~np.isin(np.arange(len(cases)), np.setdiff1d(gone.to_numpy(), later.to_numpy()))
            position = np.cumsum(keep) - 1
            cases = cases[keep].reset_index(drop=True)
            status = status[keep[status["case"].to_numpy()]]
            status = status.assign(case=position[status["case"].to_numpy()])
        self.cases = cases
        self.case_district = _codes(self.calls["district"], cases["district"])[1]
        self.case_known, self.opened = _us(cases["known_at"]), _us(cases["opened_at"])
        self.status_case = status["case"].to_numpy(dtype=np.int64)
        self.status_at = _us(status["event_at"]) if len(status) else np.zeros(0, "datetime64[us]")
        self.status_known = _us(status["known_at"]) if len(status) else np.zeros(0, "datetime64[us]")
        self.status_closed = status["closed"].to_numpy(dtype=bool) if len(status) else np.zeros(0, dtype=bool)
        if "town" in self.calls.columns:
            self.call_town, self.case_town = _codes(self.calls["town"], cases["town"])
        else:
            self.call_town = self.case_town = None

    def batches(self) -> list[tuple[int, int, np.datetime64]]:
        """(first, end, instant): the calls decided at each instant are calls[first:end]."""
        starts = (
            np.flatnonzero(np.r_[True, self.decided[1:] != self.decided[:-1]]) if len(self.decided) else []
        )
        ends = np.r_[starts[1:], len(self.decided)] if len(starts) else []
        return [(int(a), int(b), self.decided[a]) for a, b in zip(starts, ends, strict=True)]

    def digests(self, batches: list[tuple[int, int, np.datetime64]]) -> list[bytes]:
        """Per batch, a digest of everything its decisions can read: the linker's version, the
        configuration and the instant; its calls; the cases that may be a candidate of one of them
        (known before the instant, in their districts, opened in their age range, not closed for good
        before the first of them), in pool order; those cases' closed/reopened events and the calls
        linked to them by case_id, known before the instant. Equal digests give equal decisions."""
        case_columns = ["case_id", "opened_at", "district", "category", "description", "reporter_phone_pid"]
        case_columns += ["town"] if "town" in self.cases.columns else []
        call_hash = _row_hashes(self.calls.drop(columns="decided_at"))
        case_hash = _row_hashes(self.cases[case_columns])
        status_hash = _row_hashes(
            pd.DataFrame(
                {
                    "case": case_hash[self.status_case],
                    "at": self.status_at,
                    "known": self.status_known,
                    "closed": self.status_closed,
                }
            )
        )
        linked_hash = _row_hashes(
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
            _, from_end = np.unique(self.status_case[status][::-1], return_index=True)
            last = status[len(status) - 1 - from_end]
            chosen[
                self.status_case[last[self.status_closed[last] & (self.status_at[last] < received.min())]]
            ] = False
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
        self.call_phone, self.reporter_phone, self.linked_phone = _codes(
            self.calls["caller_phone_pid"], cases["reporter_phone_pid"], self.linked["caller_phone_pid"]
        )
        self.call_category, self.case_category, self.category_table = _category_table(
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
        texts = pd.concat([_normalised(p) for p in parts], ignore_index=True).astype(object).tolist()
        counts = ngram_counts(texts, self.config.ngram_range)
        bounds = np.cumsum([0, *(len(p) for p in parts)])
        self.call_counts, self.description_counts, self.linked_counts = (
            counts[a:b] for a, b in itertools.pairwise(bounds)
        )
        self.call_tf = _sublinear(self.call_counts)
        vocabulary: dict[str, int] = {}
        self.call_things, self.description_things, self.linked_things = (
            _things_table(part, vocabulary) for part in parts
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
            (np.ones(int(count.sum())), by_case[_ranges(start, count)], np.r_[0, np.cumsum(count)]),
            shape=(len(distinct), n_linked),
        )
        self.documents = _sublinear(
            sparse.csr_matrix(self.description_counts[case] + gather @ self.linked_counts)
        )
        self.documents_squared = self.documents.copy()
        self.documents_squared.data **= 2
        bounds = np.cumsum([0, *(len(k) for k in keys)])
        return [inverse[a:b] for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------- one batch


@dataclass
class _Block:
    """The calls of one district of a batch against the cases that are a candidate of one of them."""

    calls: np.ndarray  # positions in the linker's calls, in received order
    cases: np.ndarray  # positions in the linker's case pool, in knowledge order
    valid: np.ndarray  # (call x case): the case is a candidate of the call
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


def _closed_at_calls(
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


def _blocks(linker: _Linker, first: int, end: int, instant: np.datetime64) -> list[_Block]:
    """Per district of the batch's calls: its calls, the cases that are a candidate of one of them, and
    which pairs are candidates."""
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
        valid &= ~_closed_at_calls(
            linker.received[calls],
            column[linker.status_case[events]],
            linker.status_at[events],
            linker.status_closed[events],
            len(cases),
        )
        used = valid.any(axis=0)
        if used.any():
            blocks.append(_Block(calls, cases[used], valid[:, used]))
    return blocks


def _signals(
    linker: _Linker, first: int, end: int, instant: np.datetime64, blocks: list[_Block], versions: np.ndarray
) -> np.ndarray:
    """Fills every signal of every candidate pair of the calls decided at the instant (calls[first:end]);
    returns the named things the pairs share, (call, case, thing) rows."""
    config = linker.config
    # The candidate cases and the calls linked to them known before the instant.
    cases = np.concatenate([b.cases for b in blocks])
    doc = np.full(len(linker.cases), -1)
    doc[cases] = np.arange(len(cases))
    known = int(np.searchsorted(linker.linked_known, instant, side="left"))
    linked = np.flatnonzero(doc[linker.linked_case[:known]] >= 0)
    owner = doc[linker.linked_case[linked]]
    # Cosines: (a w^2 / |a w|) . (b / |b w|), for the batch's IDF w and sublinear counts a, b.
    documents = linker.documents[versions]
    calls = linker.call_tf[first:end]
    width = calls.shape[1]
    df = np.bincount(calls.indices, minlength=width) + np.bincount(documents.indices, minlength=width)
    squared = (np.log((1.0 + calls.shape[0] + len(cases)) / (1.0 + df)) + 1.0) ** 2
    doc_norms = np.sqrt(linker.documents_squared[versions] @ squared)
    doc_norms[doc_norms == 0] = np.inf  # an empty document has cosine 0
    call_vectors = calls.copy()
    call_vectors.data *= squared[call_vectors.indices] / np.repeat(
        _norms(calls, squared), np.diff(calls.indptr)
    )

    # Where each call of the batch and each document sits in the blocks.
    call_block, call_row = np.full(end - first, -1), np.full(end - first, -1)
    for number, block in enumerate(blocks):
        call_block[block.calls - first] = number
        call_row[block.calls - first] = np.arange(len(block.calls))
    doc_block = np.repeat(np.arange(len(blocks)), [len(b.cases) for b in blocks])
    doc_column = np.concatenate([np.arange(len(b.cases)) for b in blocks])

    def cells(call: np.ndarray, document: np.ndarray) -> np.ndarray:
        """Which of the (batch call, document) pairs are candidate pairs."""
        same = call_block[call] == doc_block[document]
        ok = np.zeros(len(call), dtype=bool)
        for number, block in enumerate(blocks):
            mine = np.flatnonzero(same & (doc_block[document] == number))
            ok[mine] = block.valid[call_row[call[mine]], doc_column[document[mine]]]
        return ok

    # Named things: a call's things that are among the documents' things named by at most max_named_cases.
    n_things = max(len(linker.thing_names), 1)
    at, thing = linker.description_things
    mentioned = doc[at] >= 0
    until = int(np.searchsorted(linker.linked_things[0], known, side="left"))
    in_batch = np.zeros(len(linker.linked_case), dtype=bool)
    in_batch[linked] = True
    linked_at, linked_thing = linker.linked_things[0][:until], linker.linked_things[1][:until]
    chosen = in_batch[linked_at]
    named = np.unique(
        np.r_[
            doc[at[mentioned]] * n_things + thing[mentioned],
            doc[linker.linked_case[linked_at[chosen]]] * n_things + linked_thing[chosen],
        ]
    )
    named_doc, named_thing = named // n_things, named % n_things
    rare = np.bincount(named_thing, minlength=n_things)[named_thing] <= config.max_named_cases
    named_doc, named_thing = named_doc[rare], named_thing[rare]
    call_at, call_thing = linker.call_things
    low, high = np.searchsorted(call_at, [first, end], side="left")
    left, right = _join(call_thing[low:high], named_thing)
    match_call, match_doc, match_thing = call_at[low:high][left] - first, named_doc[right], named_thing[right]
    ok = cells(match_call, match_doc)
    match_call, match_doc, match_thing = match_call[ok], match_doc[ok], match_thing[ok]
    amount = linker.thing_is_amount[match_thing]

    # Phones: the reporter's; callers of calls linked to the case by case_id, known before the instant.
    phone = linker.call_phone[first:end]
    left, right = _join(phone, np.where(linker.reporter_phone[cases] >= 0, linker.reporter_phone[cases], -2))
    ok = cells(left, right)
    reporter_call, reporter_doc = left[ok], right[ok]
    caller_phone = linker.linked_phone[linked]
    left, right = _join(phone, np.where(caller_phone >= 0, caller_phone, -2))
    caller_call, caller_doc = left, owner[right]
    ok = cells(caller_call, caller_doc)
    caller_call, caller_doc = caller_call[ok], caller_doc[ok]

    def sparse_cells(number: int, call: np.ndarray, document: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sorted distinct cells of block `number` the pairs fall on, and how many pairs fall on each."""
        mine = call_block[call] == number
        key = call_row[call[mine]] * len(blocks[number].cases) + doc_column[document[mine]]
        keys, counts = np.unique(key, return_counts=True)
        return keys, counts.astype(float)

    for number, block in enumerate(blocks):
        rows = block.calls - first
        columns = doc[block.cases]
        raw = np.ascontiguousarray(
            (documents[columns[0] : columns[-1] + 1] @ call_vectors[rows].T).toarray().T
        )
        block.cosine = np.divide(raw, doc_norms[columns], out=np.zeros_like(raw), where=raw != 0)
        block.category = (linker.call_category[block.calls], linker.case_category[block.cases])
        block.cells["same_reporter"] = sparse_cells(number, reporter_call, reporter_doc)
        block.cells["same_linked_caller"] = sparse_cells(number, caller_call, caller_doc)
        block.cells["n_named"] = sparse_cells(number, match_call[~amount], match_doc[~amount])
        block.cells["n_amount"] = sparse_cells(number, match_call[amount], match_doc[amount])
        for name in ("same_reporter", "same_linked_caller"):
            keys, counts = block.cells[name]
            block.cells[name] = (keys, np.minimum(counts, 1.0))
    return np.column_stack([match_call + first, cases[match_doc], match_thing])


# ---------------------------------------------------------------- score, choice, evidence


def scores(signals: dict[str, np.ndarray] | pd.DataFrame, config: LinkConfig) -> np.ndarray:
    """The hand-set logistic-style score z of pairs given their SIGNALS (see the module docstring; the
    linker computes the same on its blocks)."""
    reporter = np.asarray(signals["same_reporter"], dtype=bool)
    linked_caller = np.asarray(signals["same_linked_caller"], dtype=bool) & ~reporter
    category = np.asarray(signals["category"], dtype=float)
    return (
        config.bias
        + config.w_reporter_phone * reporter
        + config.w_linked_caller * linked_caller
        + config.w_text * np.asarray(signals["cosine"], dtype=float)
        + config.w_named * np.minimum(np.asarray(signals["n_named"], dtype=float), config.max_named)
        + config.w_amount * (np.asarray(signals["n_amount"], dtype=float) > 0)
        + config.w_category * (category > 0)
        + config.w_category_clash * (category < 0)
    )


def confidence(z1: np.ndarray, z2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logit over {no case (score 0), best (z1), runner-up (z2, -inf when none)}: the best's
    and the runner-up's probabilities (computed stably)."""
    top = np.maximum(np.maximum(z1, z2), 0.0)
    e0, e1, e2 = np.exp(-top), np.exp(z1 - top), np.exp(z2 - top)
    total = e0 + e1 + e2
    return e1 / total, e2 / total


def _block_scores(block: _Block, linker: _Linker) -> np.ndarray:
    """The score z of every cell of a block (-inf where the case is not a candidate): `_scores` on the
    block's dense and rare signals."""
    config = linker.config
    table = linker.category_table
    by_category = config.w_category * (table > 0) + config.w_category_clash * (table < 0)
    z = (
        config.bias
        + config.w_text * block.cosine
        + by_category[block.category[0][:, None], block.category[1][None, :]]
    )
    width = len(block.cases)

    def add(keys: np.ndarray, values: np.ndarray | float) -> None:
        z[keys // width, keys % width] += values  # the keys are distinct

    reporter = block.cells["same_reporter"][0]
    add(reporter, config.w_reporter_phone)
    add(np.setdiff1d(block.cells["same_linked_caller"][0], reporter), config.w_linked_caller)
    keys, counts = block.cells["n_named"]
    add(keys, config.w_named * np.minimum(counts, config.max_named))
    add(block.cells["n_amount"][0], config.w_amount)
    z[~block.valid] = -np.inf
    return z


def _signals_at(
    linker: _Linker, block: _Block, rows: np.ndarray, columns: np.ndarray
) -> dict[str, np.ndarray]:
    """Every signal (SIGNALS) of some cells of a block."""
    return {
        "same_reporter": block.at("same_reporter", rows, columns) > 0,
        "same_linked_caller": block.at("same_linked_caller", rows, columns) > 0,
        "cosine": block.cosine[rows, columns],
        "n_named": block.at("n_named", rows, columns),
        "n_amount": block.at("n_amount", rows, columns),
        "category": linker.category_table[block.category[0][rows], block.category[1][columns]],
    }


def _choices(linker: _Linker, blocks: list[_Block]) -> dict[str, np.ndarray]:
    """Per call with a candidate whose confidence reaches the threshold: its best candidate (the first in
    case order on a tie), the confidence, the runner-up's, the other candidates and the pair's signals."""
    found: dict[str, list[np.ndarray]] = {}
    for block in blocks:
        z = _block_scores(block, linker)
        rows = np.arange(len(block.calls))
        best = z.argmax(axis=1)
        z1 = z[rows, best]
        z[rows, best] = -np.inf
        chance, runner_up = confidence(z1, z.max(axis=1))
        keep = chance >= linker.config.threshold
        row, column = rows[keep], best[keep]
        values = {
            "call": block.calls[row],
            "case": block.cases[column],
            "confidence": chance[keep],
            "runner_up": runner_up[keep],
            "others": block.valid[row].sum(axis=1) - 1,
            **_signals_at(linker, block, row, column),
        }
        for name, value in values.items():
            found.setdefault(name, []).append(value)
    return {name: np.concatenate(parts) for name, parts in found.items()}


def _evidence(linker: _Linker, chosen: pd.DataFrame, shared: np.ndarray) -> list[str]:
    """Short text naming the signals behind each chosen link (never a phone or a name)."""
    call, case = chosen["call"].to_numpy(), chosen["case"].to_numpy()
    if linker.call_town is not None:
        same_town = (linker.call_town[call] >= 0) & (linker.call_town[call] == linker.case_town[case])
    else:
        same_town = np.zeros(len(chosen), dtype=bool)
    width = max(len(linker.cases), 1)
    left, right = _join(call * width + case, shared[:, 0] * width + shared[:, 1])
    names: list[list[str]] = [[] for _ in range(len(chosen))]
    for link, name in zip(left.tolist(), linker.thing_names[shared[right, 2]].tolist(), strict=True):
        names[link].append(name)
    listed = ["、".join(sorted(n)[: linker.config.evidence_things]) for n in names]
    hotline, dispute = linker.hotline_category[call], linker.dispute_category[case]
    lines = []
    for i, row in enumerate(chosen.itertuples(index=False)):
        parts = ["same district+town" if same_town[i] else "same district"]
        if row.same_reporter:
            parts.append("same phone as the case's reporter")
        elif row.same_linked_caller:
            parts.append("same caller as a call linked to the case")
        if listed[i]:
            parts.append(f"shared: {listed[i]}")
        if row.category > 0:
            parts.append(f"category {hotline[i]}~{dispute[i]}")
        elif row.category < 0:
            parts.append(f"category {hotline[i]}≠{dispute[i]}")
        parts.append(f"char n-gram cosine {row.cosine:.2f}")
        if row.others > 0:
            parts.append(f"{row.others} other candidate(s), next {row.runner_up:.2f}")
        lines.append("; ".join(parts))
    return lines


Batch = tuple[int, int, np.datetime64, list[_Block]]


class _Memo:
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


MEMO = _Memo(max_links=1_000_000)


def _prepare(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    events: pd.DataFrame | None,
    instants: np.ndarray,
    config: LinkConfig,
) -> tuple[_Linker, list[Batch]]:
    """The linker of the calls decided at the instants and the candidate blocks of every batch with any."""
    linker = _Linker(calls, cases, linked, events, instants, config)
    batches = [(first, end, at, _blocks(linker, first, end, at)) for first, end, at in linker.batches()]
    return linker, [batch for batch in batches if batch[3]]


def _fill(linker: _Linker, batches: list[Batch]) -> Iterator[np.ndarray]:
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
        yield _signals(linker, first, end, at, blocks, rows)


def _links(linker: _Linker, blocks: list[_Block], shared: np.ndarray) -> pd.DataFrame:
    """The links of one batch (WINDOW_LINK_COLUMNS)."""
    chosen = pd.DataFrame(_choices(linker, blocks))
    if chosen.empty:
        return empty_links(WINDOW_LINK_COLUMNS)
    call, case = chosen["call"].to_numpy(), chosen["case"].to_numpy()
    return pd.DataFrame(
        {
            "call_id": linker.call_ids[call],
            "case_id": linker.case_ids[case],
            "confidence": chosen["confidence"].to_numpy(dtype=float),
            "evidence": np.array(_evidence(linker, chosen, shared), dtype=object),
            "received_at": linker.received[call],
            "caller_phone_pid": linker.caller_pids[call],
            "decided_at": linker.decided[call],
        }
    )


def _decide(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    events: pd.DataFrame | None,
    instants: np.ndarray,
    config: LinkConfig,
) -> pd.DataFrame:
    """The links of every call decided at the instants (WINDOW_LINK_COLUMNS); a batch whose inputs were
    decided before (same digest) is taken from the memo, the others are decided and remembered."""
    linker = _Linker(calls, cases, linked, events, instants, config)
    batches = linker.batches()
    keys = linker.digests(batches)
    found = {key: MEMO.get(key) for key in keys}
    missed = []
    for key, (first, end, at) in zip(keys, batches, strict=True):
        if found[key] is None:
            blocks = _blocks(linker, first, end, at)
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
    frames = [found[key].assign(digest=key.hex()) for key in keys if len(found[key])]
    if not frames:
        return empty_links((*WINDOW_LINK_COLUMNS, "digest"))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- the public functions


def empty_links(columns: tuple[str, ...] = LINK_COLUMNS) -> pd.DataFrame:
    """A links frame without rows."""
    kinds = {"confidence": float, "threshold": float, "received_at": "datetime64[us]"}
    kinds["decided_at"] = "datetime64[us]"
    return pd.DataFrame({name: pd.Series(dtype=kinds.get(name, object)) for name in columns})


def _window(
    calls: pd.DataFrame, instant: pd.Timestamp, config: LinkConfig
) -> tuple[np.ndarray, np.datetime64]:
    """The decision instants of the calls without a case_id received in the window before the instant
    (and known before it), and the window's start."""
    end = np.datetime64(pd.Timestamp(instant).to_datetime64(), "us")
    start = end - np.timedelta64(config.call_window_days, "D")
    received, known = _us(calls["received_at"]), _us(calls["known_at"])
    inside = (known < end) & (received >= start) & (received < end) & _blank(calls["case_id"])
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
    links = _decide(calls, cases, linked, events, instants, config)
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
    instant = np.datetime64(known.instant.to_datetime64(), "us")
    links = _decide(known.hotline, known.cases, known.hotline, known.events, np.array([instant]), config)
    stored = links.sort_values("call_id", ignore_index=True)[["call_id", "case_id", "confidence", "evidence"]]
    stored.insert(0, "as_of", known.as_of)
    stored.insert(4, "threshold", float(config.threshold))
    stored["digest"] = links.sort_values("call_id", ignore_index=True)["digest"].astype(object)
    return stored[list(STORED_LINK_COLUMNS)]


def remember(stored: pd.DataFrame, hotline: pd.DataFrame) -> int:
    """Gives stored decisions (rows of `day_links`, any number of days) to this process's memo, so that
    features decide again only the days whose inputs changed since (or that are not stored: a day
    without any link has no rows). `hotline`: the stored hotline rows (for each call's received_at and
    phone). Returns the number of days remembered."""
    if stored.empty:
        return 0
    position = pd.Index(hotline["call_id"].astype("string")).get_indexer(stored["call_id"].astype("string"))
    stored = stored[position >= 0].assign(_row=position[position >= 0])
    days = 0
    for digest, rows in stored.groupby("digest", sort=False):
        calls = hotline.iloc[rows["_row"].to_numpy()]
        days_of = (pd.Timestamp(d).date() for d in rows["as_of"])
        instants = np.array([np.datetime64(as_of_instant(d).to_datetime64(), "us") for d in days_of])
        MEMO.put(
            bytes.fromhex(str(digest)),
            pd.DataFrame(
                {
                    "call_id": rows["call_id"].astype(object).to_numpy(),
                    "case_id": rows["case_id"].astype(object).to_numpy(),
                    "confidence": rows["confidence"].to_numpy(dtype=float),
                    "evidence": rows["evidence"].astype(object).to_numpy(),
                    "received_at": _us(calls["received_at"]),
                    "caller_phone_pid": calls["caller_phone_pid"].astype(object).to_numpy(),
                    "decided_at": instants,
                }
            ),
        )
        days += 1
    return days


SIGNALS = ("same_reporter", "same_linked_caller", "cosine", "n_named", "n_amount", "category")


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
    linker, batches = _prepare(calls, cases, linked, events, instants, config)
    for _ in _fill(linker, batches):
        pass
    frames = []
    for *_, blocks in batches:
        for block in blocks:
            row, column = np.nonzero(block.valid)
            values = _signals_at(linker, block, row, column)
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
