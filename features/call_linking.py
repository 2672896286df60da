"""Call-to-case linking: which open case a hotline call without a case number is most likely about.

For every call without a `case_id`, received in the `call_window_days` before the instant, the
candidates are the cases of the same district (and the same town, when both the call and the case
record one) that were opened at or before the call, at most `max_case_age_days` before it, and open
at the call's time (when the case events are given: the latest closed/reopened event at or before
the call is not `closed`). Each (call, candidate) pair gets a hand-set logistic-style score

    z = bias
        + w_reporter_phone   [the caller's pseudonymised phone is the case's reporter phone]
        + w_linked_caller    [the caller's phone called about the case before, quoting its case_id]
                             (only when it is not the reporter's phone: the two are one signal)
        + w_text * cosine    (character n-gram TF-IDF of the call's text against the case's
                              description and the texts of the calls linked to it by case_id)
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

Named things read by NAMED_PATTERN are cut from their context (the text after the last of the
NAME_BOUNDARY words), need two characters before the suffix, and are ignored when more than
`max_named_cases` of the compared cases name them (too common to tell cases apart). The contract's
hotline rows carry no town; a `town` column on the calls is used when present.

Point in time: every table is cut to rows known strictly before the instant; the term weights
(IDF) are computed from the texts of that cut. Pseudonymised phones are compared for equality and
never leave the function; the evidence names only signals, named things, categories and figures.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from contracts.vocabulary import EventType

LINK_COLUMNS = ("call_id", "case_id", "confidence", "evidence")

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

# Named things: a run of 2-12 Chinese characters (lazily, so the first suffix ends it) before a
# suffix that names an organisation or a place. Longer suffixes first.
NAMED_SUFFIXES: tuple[str, ...] = (
    "有限公司",
    "公司",
    "厂",
    "项目",
    "工地",
    "小区",
    "花园",
    "家园",
    "新村",
    "公寓",
    "苑",
    "村",
    "卫生院",
    "医院",
    "学校",
    "酒店",
    "商场",
    "超市",
    "家电城",
    "会所",
    "中心",
    "大道",
    "路口",
)
NAMED_PATTERN = re.compile(r"[\u4e00-\u9fff]{2,12}?(?:" + "|".join(NAMED_SUFFIXES) + ")")
# Words that end the context before a name ("工人反映在宏达服装厂" -> 宏达服装厂); a name is what
# follows the last of them.
NAME_BOUNDARY = re.compile(r".*(?:反映|关于|称|在|与|跟|同|向|对|到|从|给|被|的|了|是|等|及|说|去|找|让|把)")
# Words that are not names when they are all that stands before the suffix (物业公司, 这个小区...).
GENERIC_WORDS = frozenset(
    ("物业", "这个", "那个", "这家", "那家", "我们", "他们", "你们", "所在", "当地", "附近", "两个")
)
AMOUNT_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?元")
_BLOCK_CALLS = 2000  # calls per block of the similarity product
MASK_PATTERN = re.compile(r"\[[^\[\]]{1,6}\]")  # the ingest masks: [电话] [身份证号] [姓名]
_STATUS = (EventType.CLOSED.value, EventType.REOPENED.value)


@dataclass(frozen=True)
class LinkConfig:
    """Windows, hand-set weights (log-odds) and the threshold of call-to-case linking.

    The weights read as: with nothing in common a candidate is very unlikely (bias -5, p ~ 0.007);
    the same phone as the reporter is strong evidence on its own (-5 + 6 = 1, p ~ 0.73) and with
    a little text or category agreement passes 0.9; a phone that called about the case before,
    quoting the case number, is almost as strong (+5.5); without a phone, two shared named things
    (a company and an amount, say) with agreeing category and similar wording are needed.
    """

    call_window_days: int = 30  # calls received in [instant - window, instant) are linked
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
    max_named_cases: int = 25  # a thing named by more of the compared cases tells none of them apart
    ngram_range: tuple[int, int] = (2, 3)
    evidence_things: int = 3  # named things listed in the evidence


# ---------------------------------------------------------------- helpers on text


def _blank(values: pd.Series) -> np.ndarray:
    """True where a text value is missing or only whitespace."""
    return values.isna().to_numpy() | (values.astype("string").str.strip().fillna("") == "").to_numpy()


def _clean(texts: pd.Series) -> pd.Series:
    """Texts without the ingest's mask tokens ('' for missing)."""
    return texts.astype("string").fillna("").str.replace(MASK_PATTERN, " ", regex=True)


def named_things(text: str) -> set[str]:
    """The organisation/place names and amounts of money a text mentions (amounts as 'N元')."""
    things = set()
    for match in NAMED_PATTERN.finditer(text):
        name = NAME_BOUNDARY.sub("", match.group())
        suffix = next(s for s in NAMED_SUFFIXES if name.endswith(s))
        core = name[: len(name) - len(suffix)]
        if len(core) >= 2 and core not in GENERIC_WORDS:
            things.add(name)
    for number, wan in AMOUNT_PATTERN.findall(text):
        value = float(number) * (10_000 if wan else 1)
        if value > 0:
            things.add(f"{value:.0f}元")
    return things


def _things_table(texts: pd.Series) -> pd.DataFrame:
    """One row per (position in texts, named thing); each distinct text is read once."""
    codes, distinct = pd.factorize(texts)
    per_text = [named_things(t) for t in distinct]
    lengths = np.array([len(t) for t in per_text], dtype=np.int64)
    flat = [thing for things in per_text for thing in sorted(things)]
    table = pd.DataFrame({"code": np.repeat(np.arange(len(distinct)), lengths), "thing": flat})
    owners = pd.DataFrame({"pos": np.arange(len(texts)), "code": codes})
    return owners.merge(table, on="code")[["pos", "thing"]]


# ---------------------------------------------------------------- the point-in-time inputs


def _known(frame: pd.DataFrame, instant: pd.Timestamp) -> pd.DataFrame:
    """Rows known strictly before the instant."""
    return frame[frame["known_at"] < instant]


def _targets(calls: pd.DataFrame, instant: pd.Timestamp, config: LinkConfig) -> pd.DataFrame:
    """Calls without a case_id received in the window before the instant (and known before it), in
    the order they were received."""
    start = instant - pd.Timedelta(days=config.call_window_days)
    calls = _known(calls, instant)
    calls = calls[(calls["received_at"] >= start) & (calls["received_at"] < instant)]
    calls = calls[_blank(calls["case_id"])]
    columns = ["call_id", "received_at", "district", "category", "text", "caller_phone_pid"]
    columns += ["town"] if "town" in calls.columns else []
    return calls[columns].sort_values(["received_at", "call_id"], kind="stable", ignore_index=True)


def _linked_calls(linked: pd.DataFrame, instant: pd.Timestamp) -> pd.DataFrame:
    """Calls linked to a case by case_id, known (and so received) before the instant."""
    linked = _known(linked, instant)
    linked = linked[linked["received_at"] < instant]
    return linked.loc[~_blank(linked["case_id"]), ["case_id", "text", "caller_phone_pid"]]


def _status_events(events: pd.DataFrame | None, instant: pd.Timestamp) -> pd.DataFrame:
    """Closed/reopened events known before the instant, in the order the cohort resolves them (at the
    same time and knowledge time, 'reopened' comes last and wins)."""
    if events is None:
        return pd.DataFrame({"case_id": [], "event_at": pd.Series(dtype="datetime64[us]"), "closed": []})
    status = _known(events, instant)
    status = status[status["event_type"].isin(_STATUS)]
    status = status.sort_values(["event_at", "known_at", "event_type"], kind="stable")
    return pd.DataFrame(
        {
            "case_id": status["case_id"].to_numpy(),
            "event_at": status["event_at"].to_numpy(),
            "closed": (status["event_type"] == EventType.CLOSED.value).to_numpy(),
        }
    )


def _candidate_cases(
    cases: pd.DataFrame, status: pd.DataFrame, instant: pd.Timestamp, config: LinkConfig
) -> pd.DataFrame:
    """Cases known before the instant that may be open at some call of the window: opened before the
    instant, not too old for its first call, and not closed for good before the window began."""
    start = instant - pd.Timedelta(days=config.call_window_days)
    cases = _known(cases, instant)
    cases = cases[
        (cases["opened_at"] < instant)
        & (cases["opened_at"] >= start - pd.Timedelta(days=config.max_case_age_days))
    ]
    latest = status.drop_duplicates("case_id", keep="last")
    gone = latest.loc[latest["closed"] & (latest["event_at"] < start), "case_id"]
    return cases[~cases["case_id"].isin(gone)].reset_index(drop=True)


def _codes(*columns: pd.Series) -> list[np.ndarray]:
    """Shared integer codes of the values of several text columns (-1 where blank)."""
    values = pd.concat([c.astype(object).where(~_blank(c), None) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(values)
    bounds = np.cumsum([0, *(len(c) for c in columns)])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------- candidate pairs


def _pairs(
    targets: pd.DataFrame, cases: pd.DataFrame, status: pd.DataFrame, config: LinkConfig
) -> pd.DataFrame:
    """(call, case) positions, grouped by call in received order: same district (and town when both
    known), case opened at or before the call and at most max_case_age_days before it, and open at
    the call's time."""
    call_district, case_district = _codes(targets["district"], cases["district"])
    left = pd.DataFrame({"call": np.arange(len(targets)), "d": call_district})
    right = pd.DataFrame({"case": np.arange(len(cases)), "d": case_district})
    pairs = left[left["d"] >= 0].merge(right, on="d")[["call", "case", "d"]]
    if not pairs["call"].is_monotonic_increasing:  # an inner merge keeps the left order; make sure
        pairs = pairs.sort_values(["call", "case"], kind="stable", ignore_index=True)
    call, case = pairs["call"].to_numpy(), pairs["case"].to_numpy()
    age = targets["received_at"].to_numpy()[call] - cases["opened_at"].to_numpy()[case]
    keep = (age >= np.timedelta64(0)) & (age <= np.timedelta64(config.max_case_age_days, "D"))
    if "town" in targets.columns:
        call_town, case_town = _codes(targets["town"], cases["town"])
        keep &= (call_town[call] < 0) | (case_town[case] < 0) | (call_town[call] == case_town[case])
    pairs = pairs[keep].reset_index(drop=True)
    return _open_at_call(pairs, targets, cases, status)


def _open_at_call(
    pairs: pd.DataFrame, targets: pd.DataFrame, cases: pd.DataFrame, status: pd.DataFrame
) -> pd.DataFrame:
    """The pairs whose case's latest closed/reopened event at or before the call is not 'closed'."""
    position = pd.Index(cases["case_id"]).get_indexer(status["case_id"])
    status = status.assign(case=position)[position >= 0]
    if status.empty or pairs.empty:
        return pairs
    # Pairs are in call order and calls in received order, so `received` is already sorted.
    left = pd.DataFrame(
        {
            "received": targets["received_at"].to_numpy()[pairs["call"].to_numpy()],
            "case": pairs["case"].to_numpy(),
        }
    )
    merged = pd.merge_asof(
        left, status[["event_at", "case", "closed"]], left_on="received", right_on="event_at", by="case"
    )
    closed = merged["closed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return pairs[~closed].reset_index(drop=True)


# ---------------------------------------------------------------- signals


def _phone_signals(
    pairs: pd.DataFrame, targets: pd.DataFrame, cases: pd.DataFrame, linked: pd.DataFrame
) -> None:
    """Adds `same_reporter` and `same_linked_caller` (equality of pseudonymised phones only)."""
    caller, reporter, linked_caller = _codes(
        targets["caller_phone_pid"], cases["reporter_phone_pid"], linked["caller_phone_pid"]
    )
    call, case = pairs["call"].to_numpy(), pairs["case"].to_numpy()
    phone = caller[call]
    pairs["same_reporter"] = (phone >= 0) & (phone == reporter[case])
    linked_case = pd.Index(cases["case_id"]).get_indexer(linked["case_id"])
    n_phones = int(max(caller.max(initial=-1), reporter.max(initial=-1), linked_caller.max(initial=-1))) + 1
    known_keys = np.unique(
        (linked_case * n_phones + linked_caller)[(linked_case >= 0) & (linked_caller >= 0)]
    )
    pairs["same_linked_caller"] = (phone >= 0) & np.isin(case.astype(np.int64) * n_phones + phone, known_keys)


def _case_documents(cases: pd.DataFrame, linked: pd.DataFrame, in_play: np.ndarray) -> pd.Series:
    """Per case (positionally): its description and the texts of its linked calls, cleaned ('' for
    cases that are nobody's candidate)."""
    position = pd.Index(cases["case_id"]).get_indexer(linked["case_id"])
    chosen = position >= 0
    chosen[chosen] = in_play[position[chosen]]
    texts = _clean(linked["text"][chosen])
    calls = texts.groupby(position[chosen]).agg(" ".join).reindex(np.arange(len(cases)), fill_value="")
    description = _clean(cases["description"])
    joined = (description.to_numpy(dtype=object) + " " + calls.to_numpy(dtype=object)).astype(object)
    return pd.Series(np.where(in_play, joined, ""), dtype=object)


def _cosines(
    pairs: pd.DataFrame, call_vectors: sparse.csr_matrix, case_vectors: sparse.csr_matrix
) -> np.ndarray:
    """Cosine of each pair's call and case vectors (rows are L2-normalised), by district blocks."""
    out = np.zeros(len(pairs))
    calls, cases = pairs["call"].to_numpy(), pairs["case"].to_numpy()
    for rows in pairs.groupby("d", sort=False).indices.values():
        unique_calls, call_at = np.unique(calls[rows], return_inverse=True)
        unique_cases, case_at = np.unique(cases[rows], return_inverse=True)
        case_block = case_vectors[unique_cases].T.tocsc()
        for first in range(0, len(unique_calls), _BLOCK_CALLS):
            chunk = (call_at >= first) & (call_at < first + _BLOCK_CALLS)
            block = (call_vectors[unique_calls[first : first + _BLOCK_CALLS]] @ case_block).toarray()
            out[rows[chunk]] = block[call_at[chunk] - first, case_at[chunk]]
    return out


def _text_similarity(
    pairs: pd.DataFrame, call_texts: pd.Series, documents: pd.Series, config: LinkConfig
) -> None:
    """Adds `cosine`: character n-gram TF-IDF cosine of the call's text and the case's document, with
    term weights from the texts of this cut (calls to link and candidate cases' documents)."""
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=config.ngram_range, sublinear_tf=True, dtype=np.float32
    )
    in_play = np.zeros(len(documents), dtype=bool)
    in_play[pairs["case"].to_numpy()] = True
    try:
        texts = pd.concat([call_texts, documents[in_play]], ignore_index=True)
        vectors = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # no text at all
        pairs["cosine"] = np.zeros(len(pairs))
        return
    # Case rows for every case position (a case that is nobody's candidate points at a row it never uses).
    case_rows = len(call_texts) + np.maximum(np.cumsum(in_play) - 1, 0)
    pairs["cosine"] = _cosines(pairs, vectors[: len(call_texts)], vectors[case_rows])


def _shared_things(
    pairs: pd.DataFrame, call_texts: pd.Series, documents: pd.Series, config: LinkConfig
) -> pd.DataFrame:
    """Adds `n_named` and `n_amount` (shared things) to the pairs; returns the matches (call, case,
    thing) for the evidence. A thing named by more than max_named_cases candidate cases is ignored."""
    call_things = _things_table(call_texts).rename(columns={"pos": "call"})
    case_things = _things_table(documents).rename(columns={"pos": "case"})
    spread = case_things.groupby("thing")["case"].nunique()
    case_things = case_things[case_things["thing"].map(spread).le(config.max_named_cases).to_numpy()]
    matches = call_things.merge(case_things, on="thing")
    width = max(len(documents), 1)
    pair_keys = pd.Index(pairs["call"].to_numpy(np.int64) * width + pairs["case"].to_numpy(np.int64))
    at = pair_keys.get_indexer(
        matches["call"].to_numpy(np.int64) * width + matches["case"].to_numpy(np.int64)
    )
    matches = matches.assign(at=at)[at >= 0]
    is_amount = matches["thing"].str.fullmatch(r"\d+元").to_numpy(dtype=bool)
    pairs["n_named"] = np.bincount(matches["at"][~is_amount], minlength=len(pairs)).astype(float)
    pairs["n_amount"] = np.bincount(matches["at"][is_amount], minlength=len(pairs)).astype(float)
    return matches


def _category_signal(pairs: pd.DataFrame, targets: pd.DataFrame, cases: pd.DataFrame) -> None:
    """Adds `category`: +1 agrees (HOTLINE_CATEGORIES or exact match), -1 clashes (a mapped hotline
    category naming other case categories), 0 neutral or unknown."""
    hotline = targets["category"].astype("string").str.strip().fillna("")
    case = cases["category"].astype("string").str.strip().fillna("")
    h_codes, h_values = pd.factorize(hotline)
    c_codes, c_values = pd.factorize(case)
    table = np.zeros((len(h_values) + 1, len(c_values) + 1))
    for i, h in enumerate(h_values):
        agreeing = {h, *HOTLINE_CATEGORIES.get(h, ())} - {""}
        for j, c in enumerate(c_values):
            table[i, j] = 1.0 if c in agreeing else (-1.0 if h in HOTLINE_CATEGORIES and c else 0.0)
    pairs["category"] = table[h_codes[pairs["call"].to_numpy()], c_codes[pairs["case"].to_numpy()]]


# ---------------------------------------------------------------- score, choice, evidence


def _scores(pairs: pd.DataFrame, config: LinkConfig) -> np.ndarray:
    """The hand-set logistic-style score z of every pair (see the module docstring)."""
    reporter = pairs["same_reporter"].to_numpy(dtype=bool)
    linked_caller = pairs["same_linked_caller"].to_numpy(dtype=bool) & ~reporter
    category = pairs["category"].to_numpy()
    return (
        config.bias
        + config.w_reporter_phone * reporter
        + config.w_linked_caller * linked_caller
        + config.w_text * pairs["cosine"].to_numpy()
        + config.w_named * np.minimum(pairs["n_named"].to_numpy(), config.max_named)
        + config.w_amount * (pairs["n_amount"].to_numpy() > 0)
        + config.w_category * (category > 0)
        + config.w_category_clash * (category < 0)
    )


def _best_two(pairs: pd.DataFrame, z: np.ndarray) -> pd.DataFrame:
    """Per call: its best pair (row of pairs; the first in pair order on a tie), the best score z1,
    the runner-up's z2 (-inf when none) and the number of candidates. Pairs are grouped by call."""
    call = pairs["call"].to_numpy()
    first = np.flatnonzero(np.r_[True, call[1:] != call[:-1]])
    counts = np.diff(np.r_[first, len(call)])
    z1 = np.maximum.reduceat(z, first)
    segment = np.repeat(np.arange(len(first)), counts)
    is_best = z == z1[segment]
    best_row = np.full(len(first), len(call))
    np.minimum.at(best_row, segment[is_best], np.flatnonzero(is_best))
    rest = z.copy()
    rest[best_row] = -np.inf
    z2 = np.maximum.reduceat(rest, first)
    return pd.DataFrame({"row": best_row, "z1": z1, "z2": z2, "n": counts})


def _confidence(z1: np.ndarray, z2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logit over {no case (score 0), best (z1), runner-up (z2)}: the best's and the
    runner-up's probabilities (computed stably)."""
    top = np.maximum(np.maximum(z1, z2), 0.0)
    e0, e1, e2 = np.exp(-top), np.exp(z1 - top), np.exp(z2 - top)
    total = e0 + e1 + e2
    return e1 / total, e2 / total


def _evidence(best: pd.DataFrame, things: np.ndarray) -> list[str]:
    """Short text naming the signals behind each chosen link (never a phone or a name)."""
    lines = []
    for row, shared in zip(best.itertuples(index=False), things, strict=True):
        parts = ["same district+town" if row.same_town else "same district"]
        if row.same_reporter:
            parts.append("same phone as the case's reporter")
        elif row.same_linked_caller:
            parts.append("same caller as a call linked to the case")
        if shared:
            parts.append(f"shared: {shared}")
        if row.category > 0:
            parts.append(f"category {row.hotline_category}~{row.case_category}")
        elif row.category < 0:
            parts.append(f"category {row.hotline_category}≠{row.case_category}")
        parts.append(f"char n-gram cosine {row.cosine:.2f}")
        if row.n > 1:
            parts.append(f"{row.n - 1} other candidate(s), next {row.runner_up:.2f}")
        lines.append("; ".join(parts))
    return lines


def _links(
    pairs: pd.DataFrame, matches: pd.DataFrame, targets: pd.DataFrame, cases: pd.DataFrame, config: LinkConfig
) -> pd.DataFrame:
    """Per call: the best candidate, kept when its confidence is at least the threshold."""
    best = _best_two(pairs, _scores(pairs, config))
    best["confidence"], best["runner_up"] = _confidence(best["z1"].to_numpy(), best["z2"].to_numpy())
    best = best[best["confidence"] >= config.threshold]
    chosen = pairs.iloc[best["row"].to_numpy()].reset_index(drop=True)
    best = pd.concat([best.reset_index(drop=True), chosen], axis=1)
    call, case = best["call"].to_numpy(), best["case"].to_numpy()
    best["hotline_category"] = targets["category"].to_numpy()[call]
    best["case_category"] = cases["category"].to_numpy()[case]
    if "town" in targets.columns:
        call_town, case_town = _codes(targets["town"], cases["town"])
        best["same_town"] = (call_town[call] >= 0) & (call_town[call] == case_town[case])
    else:
        best["same_town"] = False
    shared = matches[matches["at"].isin(best["row"])].sort_values("thing")
    listed = shared.groupby("at")["thing"].agg(lambda s: "、".join(s.iloc[: config.evidence_things]))
    return pd.DataFrame(
        {
            "call_id": targets["call_id"].to_numpy()[call].astype(object),
            "case_id": cases["case_id"].to_numpy()[case].astype(object),
            "confidence": best["confidence"].to_numpy(dtype=float),
            "evidence": _evidence(best, listed.reindex(best["row"]).fillna("").to_numpy()),
        }
    )


def empty_links() -> pd.DataFrame:
    """A links frame without rows."""
    return pd.DataFrame(
        {name: pd.Series(dtype=float if name == "confidence" else object) for name in LINK_COLUMNS}
    )


def link_calls(
    calls: pd.DataFrame,
    cases: pd.DataFrame,
    linked: pd.DataFrame,
    instant: pd.Timestamp,
    config: LinkConfig = LinkConfig(),
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Links the calls without a case_id received in the window before the instant to open cases.

    `calls`: stored hotline rows (those with a case_id are not linked again); `cases`: stored cases;
    `linked`: stored hotline rows linked by case_id (may be the same table as `calls`); `events`:
    stored case events, to require the case to be open at the call's time (without them, opened
    at or before the call is enough). Only rows known strictly before the instant are read. Returns
    one row per linked call: call_id, case_id, confidence (at least config.threshold) and evidence,
    sorted by call_id.
    """
    status = _status_events(events, instant)
    targets = _targets(calls, instant, config)
    candidates = _candidate_cases(cases, status, instant, config)
    pairs = _pairs(targets, candidates, status, config)
    if pairs.empty:
        return empty_links()
    linked_calls = _linked_calls(linked, instant)
    in_play = np.zeros(len(candidates), dtype=bool)
    in_play[pairs["case"].to_numpy()] = True
    documents = _case_documents(candidates, linked_calls, in_play)
    call_texts = _clean(targets["text"]).astype(object)
    _phone_signals(pairs, targets, candidates, linked_calls)
    _text_similarity(pairs, call_texts, documents, config)
    matches = _shared_things(pairs, call_texts, documents, config)
    _category_signal(pairs, targets, candidates)
    return _links(pairs, matches, targets, candidates, config).sort_values("call_id", ignore_index=True)
