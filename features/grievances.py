"""Emerging grievances: many callers naming the same company, project, estate, village, school, hospital,
platform or road, or saying the same thing in different words without naming one.

A group incident rarely starts as one case; it shows first as calls from many different people naming the
same thing. `grievance_clusters(known, instant, config)` reads the hotline calls (and the case
descriptions) known before the instant and returns one row per cluster: a named thing (or a topic) in a
district, with its calls and distinct callers in the window, its growth against the prior window, the
cases it touches, a short summary of what is said, and whether it is a surge. `cluster_calls` lists which
cluster each call of the window is keyed to.

**Keys are things and places, never persons.** Named things are read by the grammar of
`features.named_things` (a run of Chinese characters before a suffix that says its kind, cut after the
last context word; the same grammar as call linking's `named_things`), on whole columns with Arrow's
RE2 (`thing_mentions`), with a few more context words (投诉, 举报, 咨询, 要求, 请问) and the texts
prepared first: NFKC, building/unit/room numbers and letter codes of places ("3幢", "A市") and spaces
inside names removed. Only the kinds in `config.thing_kinds` become keys (all but shops and centres by
default). Each thing's key is normalised (`features.grievance_keys.normalise_keys`: administrative
places and descriptor words before it taken off, '有限公司' read as '公司', a project named after a
place is the place; a key naming only a trade, "自来水公司", or nothing, "整个小区", is dropped); a
person's name or a place before a known key is dropped (`known_endings`); keys holding a word never
found in names are dropped (NOT_NAME_WORDS); keys that are words in common use, learned from the calls
(spread over districts and categories like named things in general, seldom named twice by a caller),
are never keys (`features.grievance_generic_keys`); and within a district the keys that are one thing
written differently are merged (`features.grievance_aliases.alias_roots`: one containing the other, one
character miswritten, the same callers, another name named only when the thing is). The scope of a
cluster is (district, root key); it is shown as the form written most often in the window.
With `bare_names`, a call left without a key that names a thing known in its district by its name
alone, without its suffix ("反映顺发的电梯坏了" for 顺发花园, "鑫源建工" for 鑫源建筑工程公司), is a mention
of that thing (`features.grievance_names.bare_mentions`). With `resembling` (settings.grievance_resembling),
a call still left without a key whose text clearly resembles the calls of one named cluster of its
district, filed under the same hotline category within `window_days` of them ("老板拖欠工资3个月了，工友们
都找不到人" among calls naming 鑫源建筑公司), is a mention of that thing
(`features.grievance_resemblance.resembling_calls`; a caller is still counted once; words naming no
thing in particular, 整个小区 or 自来水公司, are left out of the texts compared; a cluster emerging when
the call is made, by the rule that shows a cluster, also offers its calls filed under other categories).
Pseudonymised phones are only counted, never returned; the caller's own name is masked at ingest.

**Topics.** With the kind "topic" in `config.thing_kinds` (opt in: `settings.grievance_topics`),
the calls still left without a key (naming no thing, or only things dropped above) are grouped by what
they say, within each district, over the window, guard and baseline
(`features.grievance_topics.topic_groups` with `config.topics`): a group is a cluster of kind
"topic" with the key '话题:噪音·广场' (never merged as aliases nor judged generic), shown by its
label, its most distinctive words ('噪音、广场、音响、扰民'), never a text. A topic whose calls are filed
under no one hotline category at least `topic_category_share` of the time shares wording
("对方根本不理会"), not an issue, and is left out. A call naming a thing is counted with that thing
only. Case descriptions have no topics.

**Window, usual level, shown, surge** (`features.grievance_levels`). The window is the `window_days`
before the instant. A cluster is measured by its distinct callers against its usual level: the larger of
the mean of its own distinct callers over the `baseline_windows` windows before a guard band of
`guard_windows` windows (the week just before is left out, as in the CDC's EARS C2), leaving out the
windows it surged in, the level of the other things of its district named in calls of its category, and
`min_usual`. The Poisson upper tail p
says how unusual the window is. A cluster with at least `min_callers` distinct callers is returned when
p < `emerging_p` (`emerging_p` = 1 returns every cluster with enough callers), when it is new (with
`show_new`: no call named it before the window), or when it surged the week before (with
`show_after_surge`: its callers of the prior window were a surge against the same level); it is a
**surge** when it also has at least `surge_min_callers` callers and p < `surge_p`.

**Columns** (COLUMNS): cluster_id (stable: a hash of district and root key), thing (a topic's label),
thing_kind, district, category (the window's most frequent hotline category), calls and distinct_callers
in the window, new_callers (callers in the window who had not named the thing before it, in the guard
band or the baseline), prior_calls (calls in the prior window), growth (calls / max(prior_calls, 1)),
cases_opened (touched cases opened in the window), size (calls + cases_opened), cases and case_ids (the
cases touched: cases of the district whose description names the thing, opened in the
`case_lookback_days`, and cases the window's calls are linked to by case_id), open_case_ids (those open
at the instant: on the day's list), first_seen (the first call naming the thing in the lookback, or the
opening of the first touched case when earlier), usual, p_value, surge, surge_reason (plain words; empty
when not a surge) and summary (the category, the issues and the escalation-cue groups the window's calls
mention, with their numbers of calls: labels and counts, never the texts).

Point in time: only records known strictly before the instant are read, and only calls received and
cases opened before it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.masks import MASK_REGEX
from contracts.settings import Settings
from features.cohort import open_cases
from features.dictionary import Language
from features.grievance_aliases import alias_roots
from features.grievance_generic_keys import generic_keys
from features.grievance_keys import home_districts, normalise_keys, place_names, spelling
from features.grievance_levels import TOPIC, peer_levels, surged, upper_tail, window_counts
from features.grievance_names import bare_mentions
from features.grievance_resemblance import ResemblanceConfig, resembling_mentions
from features.grievance_summaries import summaries, surge_reasons, term_counts
from features.grievance_topics import TopicConfig, topic_groups
from features.known import KnownBefore, cut
from features.named_things import (
    BOUNDARY_WORDS,
    COMPLAINT_WORDS,
    PROTECTED,
    RUN,
    SEPARATOR,
    STRONG_PATTERN,
    STRONG_SUFFIXES,
    WEAK_PATTERN,
    boundary_pattern,
    kind_of,
    restore,
    split_suffix,
)
from features.named_things import THING_KINDS as NAMED_KINDS
from features.sources import Sources

THING_KINDS: tuple[str, ...] = (*NAMED_KINDS, TOPIC)  # the kinds a cluster may be of

# A name is what follows the last context word (the grammar's, and words that open a complaint).
NAME_BOUNDARY = boundary_pattern((*BOUNDARY_WORDS, *COMPLAINT_WORDS))
_BOUNDARY_WORDS = "|".join((*BOUNDARY_WORDS, *COMPLAINT_WORDS))
_STRONG = "|".join(sorted(STRONG_SUFFIXES, key=len, reverse=True))
# A name whose word ends like a suffix ("在翠苑家具厂" is read "在翠苑" + "家具厂"): a match left with one
# character before its suffix, right before the next match, is joined to it ("翠苑家具厂").
_SPLIT_NAME = f"\x1f((?:[^\x1e]*(?:{_BOUNDARY_WORDS}))?[{RUN}](?:{_STRONG}))\x1e\x1f"
# Written between names before reading: building, unit, room, section and workshop numbers and letter
# codes of places ("3幢2单元1201室", "5号楼", "二期", "A市", "K9县"); a number before 号 unless a line's.
_NUMBERED = (
    "[0-9A-Za-z]+(?:号楼|号院|号房|号门|号厂房|号车间|幢|栋|单元|室|层|楼|期|组|弄|座|标段|车间"
    "|省|市|区|县|镇|乡|街道)|[一二三四五六七八九十两]{1,3}(?:号楼|幢|栋|单元|期|标段|车间)"
    "|[0-9]+号([^线0-9]|$)"
)
_SPACED = "([\u4e00-\u9fff])\\s+([\u4e00-\u9fff]|(?i:app))"  # a space inside a name
# Words that never occur in the name of a company or place: a key containing one is not a name.
NOT_NAME_WORDS = (
    "咨询",
    "一下",
    "要求",
    "请问",
    "投诉",
    "举报",
    "我们",
    "你们",
    "他们",
    "自己",
    "什么",
    "怎么",
    "这个",
    "那个",
    "哪个",
    "没有",
    "不给",
    "还是",
    "还有",
    "已经",
    "现在",
    "之前",
    "以前",
    "附近",
    "对面",
    "隔壁",
    "老板",
    "单位",
    "孩子",
    "我家",
    "一名",
    "一个",
    "一所",
    "一位",
    "强行",
    "违法",
    "违规",
    "暴力",
    "野蛮",
    "非法",
    "擅自",
    "私自",
    "拖欠",
    "导致",
    "造成",
    "是否",
    "能否",
    "为什么",
    "如何",
    "部门",
    "几十",
    "十几",
    "几百",
    "上百",
    "数十",
    "部分",
    "全体",
    "广大",
    "很多",
    "许多",
    "大量",
    "多名",
    "多户",
    "众多",
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
PLACE_UNITS = ("区", "县", "镇", "乡", "市", "街道")
_MASK = MASK_REGEX  # the ingest's mask tokens: [电话] [身份证号] [姓名]
_CONTROL = "[\x1d-\x1f]"  # separators used below, removed from the texts first

COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "thing",
    "thing_kind",
    "district",
    "category",
    "calls",
    "distinct_callers",
    "new_callers",
    "prior_calls",
    "growth",
    "cases_opened",
    "size",
    "cases",
    "case_ids",
    "open_case_ids",
    "first_seen",
    "usual",
    "p_value",
    "surge",
    "surge_reason",
    "summary",
)


@dataclass(frozen=True)
class GrievanceConfig:
    """Window, baseline, guards, surge rule and keys of the emerging-grievance clusters."""

    window_days: int = 7  # the rolling window before the instant
    guard_windows: int = 1  # windows before it left out of the usual level (the prior window)
    baseline_windows: int = 8  # windows of the same length before those that set the usual level
    min_callers: int = 3  # a cluster is returned only with at least this many distinct callers in the window
    emerging_p: float = 0.05  # ... and a Poisson upper tail (mean = usual level) below this (1: all)
    surge_min_callers: int = 5  # a surge needs at least this many distinct callers in the window
    surge_p: float = 1e-4  # ... and a Poisson upper tail below this
    min_usual: float = 1.0  # floor of the usual level (distinct callers per window)
    show_new: bool = True  # ... or returned when no call named the thing before the window (it is new)
    show_after_surge: bool = True  # ... or when its callers of the prior window were a surge
    bare_names: bool = True  # count calls naming a known thing of their district without its suffix
    # Count a call naming nothing with the named cluster its text resembles (settings.grievance_resembling).
    resembling: bool = Settings.model_fields["grievance_resembling"].default
    resemblance: ResemblanceConfig = field(default_factory=ResemblanceConfig)
    case_lookback_days: int = 90  # cases naming the thing opened this long before the instant are touched
    thing_kinds: tuple[str, ...] = (
        "company",
        "project",
        "estate",
        "village",
        "school",
        "hospital",
        "platform",
        "road",
    )  # add TOPIC to group the calls naming no thing by what they say (settings.grievance_topics)
    topics: TopicConfig = field(default_factory=TopicConfig)  # grouping of the calls naming no thing
    # A topic is one issue when its calls are filed under one hotline category at least this share of the
    # time (a group spread over many categories shares wording, "对方根本不理会", not an issue).
    topic_category_share: float = 1 / 3
    summary_terms: int = 3  # issue labels named in the summary
    # A key is a word in common use, never a cluster, when over the window, guard and baseline at least
    # generic_min_callers callers named it, spread over at least generic_spread times as many districts
    # and categories as all named things' callers (effective numbers), and at most generic_max_repeat of
    # them named it in more than one window.
    generic_min_callers: int = 10
    generic_spread: float = 0.5
    generic_max_repeat: float = 0.2

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.baseline_windows < 1:
            raise ValueError("window_days and baseline_windows must be positive")
        if self.guard_windows < 0 or self.case_lookback_days < 0:
            raise ValueError("guard_windows and case_lookback_days must be zero or more")
        if self.min_callers < 1 or self.surge_min_callers < 1 or self.generic_min_callers < 1:
            raise ValueError("min_callers, surge_min_callers and generic_min_callers must be positive")
        if not 0 < self.surge_p <= self.emerging_p <= 1:
            raise ValueError("need 0 < surge_p <= emerging_p <= 1")
        if self.generic_spread <= 0 or not 0 <= self.generic_max_repeat <= 1:
            raise ValueError("need generic_spread > 0 and 0 <= generic_max_repeat <= 1")
        if not 0 <= self.topic_category_share <= 1:
            raise ValueError("topic_category_share must be within [0, 1]")
        unknown = set(self.thing_kinds) - set(THING_KINDS)
        if unknown:
            raise ValueError(f"unknown thing kinds {sorted(unknown)}; known: {', '.join(THING_KINDS)}")


# ---------------------------------------------------------------- named things, vectorised


def _distinct_texts(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per text the position of its value among the distinct values (-1 for missing), and those values
    (for a categorical column: only the categories in use, without materialising the texts)."""
    if isinstance(texts.dtype, pd.CategoricalDtype):
        raw = texts.cat.codes.to_numpy()
        used = np.unique(raw[raw >= 0])
        codes = np.where(raw >= 0, np.searchsorted(used, raw), -1)
        return codes, texts.cat.categories.to_numpy(dtype=object)[used]
    codes, distinct = pd.factorize(texts.astype("string"), use_na_sentinel=True)
    return codes, np.asarray(distinct, dtype=object)


def _prepared(distinct: np.ndarray) -> pa.Array:
    """The texts as they are read: NFKC (full-width letters and digits as ASCII), without the mask
    tokens, numbers of buildings and units and letter codes of places (each a separator), nor spaces
    inside names, and with the suffix characters of ordinary words protected (features.named_things)."""
    array = pc.utf8_normalize(pa.array(distinct, type=pa.large_string()), "NFKC")
    array = pc.replace_substring_regex(array, _CONTROL, "")
    array = pc.replace_substring_regex(array, _MASK, SEPARATOR)
    array = pc.replace_substring_regex(array, _NUMBERED, SEPARATOR + "\\1")
    for _ in range(2):  # a single character between spaces is joined on the second pass
        array = pc.replace_substring_regex(array, _SPACED, "\\1\\2")
    for pattern, replacement in PROTECTED:
        array = pc.replace_substring_regex(array, pattern, replacement)
    return array


def _read(array: pa.Array, pattern: str, join: bool) -> tuple[pa.Array, np.ndarray]:
    """Every match of the pattern in the texts (cut after the last context word) and the position of
    its text; with `join`, a match with one character before its suffix is joined to the next."""
    marked = pc.replace_substring_regex(array, pattern, "\x1f\\0\x1e")
    if join:
        marked = pc.replace_substring_regex(marked, _SPLIT_NAME, "\x1f\\1")
    # Keep only the marked names, each followed by \x1d; what follows the last name stays at the end.
    names_only = pc.replace_substring_regex(marked, "[^\x1f\x1e]*\x1f([^\x1e]*)\x1e", "\\1\x1d")
    parts = pc.split_pattern(names_only, "\x1d")
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(parts)
    parent = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False)
    is_name = np.ones(len(flat), dtype=bool)
    is_name[np.cumsum(lengths) - 1] = False  # the rest after the last name
    names = pc.replace_substring_regex(pc.filter(flat, pa.array(is_name)), NAME_BOUNDARY, "")
    return names, parent[is_name]


_RESTORED = str.maketrans({c: restore(c) for c in RUN if restore(c) != c})  # the stand-ins written back


def _as_read(codes: np.ndarray, prepared: pa.Array, positions: np.ndarray) -> pd.Series:
    """The texts at `positions` (`codes` into the distinct texts `prepared` by `_prepared`, -1 for a
    missing text) as they were read, with the suffix characters of ordinary words written back."""
    at = codes[positions]
    used, inverse = np.unique(np.where(at >= 0, at, len(prepared)), return_inverse=True)
    taken = prepared.take(pa.array(used[used < len(prepared)])).to_pylist()
    read = np.array([*(text.translate(_RESTORED) for text in taken), None], dtype=object)
    return pd.Series(read[np.minimum(inverse, len(taken))], dtype=object)


def _read_column(texts: pd.Series) -> tuple[pd.DataFrame, np.ndarray, pa.Array]:
    """`thing_mentions` of the texts, with the position of each text among the distinct texts (-1 for
    a missing one) and the distinct texts as read (`_prepared`)."""
    codes, distinct = _distinct_texts(texts)
    if len(distinct) == 0:
        return _mentions_at(codes, _EMPTY_THINGS), codes, pa.array([], type=pa.large_string())
    array = _prepared(distinct)
    return _mentions_at(codes, _things_per_text(array)), codes, array


_EMPTY_THINGS = pd.DataFrame({"code": np.empty(0, np.int64), "thing": [], "kind": []})


def _things_per_text(array: pa.Array) -> pd.DataFrame:
    """(code: the text's position in `array`, thing, kind) of every thing the prepared texts name, each
    text's in the order read (its strong names, then its weak ones), each thing once per text."""
    strong, strong_parent = _read(array, STRONG_PATTERN, join=True)
    weak, weak_parent = _read(
        pc.replace_substring_regex(array, STRONG_PATTERN, SEPARATOR), WEAK_PATTERN, False
    )
    names = np.concatenate(
        [strong.to_numpy(zero_copy_only=False), weak.to_numpy(zero_copy_only=False)]
    ).astype(object)
    name_code, distinct_names = pd.factorize(names)
    read = [restore(name) for name in distinct_names]
    kinds = np.array([*(kind_of(name) for name in read), None], dtype=object)[name_code]
    keep = pd.notna(kinds)
    return pd.DataFrame(
        {
            "code": np.concatenate([strong_parent, weak_parent])[keep],
            "thing": np.array([*read, ""], dtype=object)[name_code][keep],
            "kind": kinds[keep],
        }
    ).drop_duplicates(["code", "thing"])


def _mentions_at(codes: np.ndarray, per_text: pd.DataFrame) -> pd.DataFrame:
    """(pos, thing, kind): per position, the things of its text (`codes` into `per_text`'s codes, -1 for
    a missing text), positions in order."""
    owners = pd.DataFrame({"pos": np.arange(len(codes)), "code": codes})
    return owners[codes >= 0].merge(per_text, on="code")[["pos", "thing", "kind"]].reset_index(drop=True)


class _ThingsMemo:
    """The things each text named when last read (text -> (things, kinds)), for a process that reads the
    same texts again (training reads a case's description and a call's text in every snapshot whose
    window holds them); the oldest entries go first beyond `max_texts`."""

    def __init__(self, max_texts: int) -> None:
        self.max_texts = max_texts
        self.entries: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.lock = threading.Lock()

    def per_text(self, distinct: np.ndarray) -> pd.DataFrame:
        """`_things_per_text` of the distinct texts (codes: positions in `distinct`), the texts not
        remembered read now and remembered."""
        with self.lock:
            found = {i: entry for i, text in enumerate(distinct) if (entry := self.entries.get(text))}
        missed = [i for i in range(len(distinct)) if i not in found]
        if missed:
            read = _things_per_text(_prepared(distinct[missed]))
            things: list[list[str]] = [[] for _ in missed]
            kinds: list[list[str]] = [[] for _ in missed]
            for code, thing, kind in zip(read["code"], read["thing"], read["kind"], strict=True):
                things[code].append(thing)
                kinds[code].append(kind)
            with self.lock:
                for at, i in enumerate(missed):
                    found[i] = self.entries[distinct[i]] = (tuple(things[at]), tuple(kinds[at]))
                if len(self.entries) > self.max_texts:
                    for old in list(self.entries)[: len(self.entries) - self.max_texts]:
                        del self.entries[old]
        entries = [found[i] for i in range(len(distinct))]
        return pd.DataFrame(
            {
                "code": np.repeat(np.arange(len(entries), dtype=np.int64), [len(e[0]) for e in entries]),
                "thing": np.array([thing for e in entries for thing in e[0]], dtype=object),
                "kind": np.array([kind for e in entries for kind in e[1]], dtype=object),
            }
        )


THINGS_MEMO = _ThingsMemo(max_texts=1 << 18)


def thing_mentions(texts: pd.Series) -> pd.DataFrame:
    """One row per (position in texts, named thing) with the thing's kind: what
    features.link_text.named_things finds in each text (without amounts of money), on whole
    columns, with a few more context words and the texts prepared first (`_prepared`). Each distinct
    text is read once, and once per process while remembered (`THINGS_MEMO`); missing texts name
    nothing."""
    codes, distinct = _distinct_texts(texts)
    return _mentions_at(codes, THINGS_MEMO.per_text(distinct) if len(distinct) else _EMPTY_THINGS)


def _canonical(things: pd.Series) -> np.ndarray:
    """Each thing as spelled in a key ('有限公司' read as '公司' ...: grievance_keys.spelling), each
    distinct thing once."""
    codes, distinct = pd.factorize(things)
    return np.array([spelling(t) for t in distinct] + [""], dtype=object)[codes]


def is_name_like(things: pd.Series) -> np.ndarray:
    """False where the thing holds a word that is never part of a company's or place's name."""
    codes, distinct = pd.factorize(things)
    found = pd.Series(distinct, dtype=object).str.contains("|".join(NOT_NAME_WORDS), regex=True)
    return ~found.to_numpy(dtype=bool)[codes]


def _prefix_may_be_dropped(prefix: str) -> bool:
    """A word before a name that is not part of it: a person's name (2-3 characters starting with a
    common surname) or a place (ending with 区/县/镇/乡/市/街道)."""
    return (2 <= len(prefix) <= 3 and prefix[0] in SURNAMES) or prefix.endswith(PLACE_UNITS)


def known_endings(keys: pd.Series) -> dict[str, str]:
    """Per distinct key: itself, or the longest key it ends with when what comes before looks like a
    person's name or a place and the ending is named at least as often ('王芳宏达服装厂' -> '宏达服装厂')."""
    return endings_of(keys.value_counts())


def endings_of(counts: pd.Series) -> dict[str, str]:
    """`known_endings` of keys named as often as `counts` says (key -> times; district parts add theirs
    up). A loop over distinct keys (thousands), not rows."""
    mapping = {}
    for key, n in counts.items():
        core_length = len(split_suffix(key)[0])
        mapping[key] = next(
            (
                key[i:]
                for i in range(2, core_length - 1)
                if _prefix_may_be_dropped(key[:i]) and counts.get(key[i:], 0) >= n
            ),
            key,
        )
    return mapping


# ---------------------------------------------------------------- the clusters


_DTYPES = {
    "calls": "int64",
    "distinct_callers": "int64",
    "new_callers": "int64",
    "prior_calls": "int64",
    "growth": "float64",
    "cases_opened": "int64",
    "size": "int64",
    "cases": "int64",
    "first_seen": "datetime64[us]",
    "usual": "float64",
    "p_value": "float64",
    "surge": "bool",
}


def empty_clusters() -> pd.DataFrame:
    """A clusters frame without rows."""
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in COLUMNS})


def _recent_calls(known: Sources, instant: pd.Timestamp, config: GrievanceConfig) -> pd.DataFrame:
    """Calls received in the window or the baseline before the instant, with their window number
    (`block`: 0 the window, 1 the prior window, ...; the baseline's are after the guard band)."""
    width = pd.Timedelta(days=config.window_days)
    start = instant - width * (1 + config.guard_windows + config.baseline_windows)
    calls = known.hotline
    calls = calls[(calls["received_at"] >= start) & (calls["received_at"] < instant)]
    columns = ["call_id", "received_at", "district", "category", "text", "case_id"]
    calls, caller = calls[columns].reset_index(drop=True), _callers(calls).reset_index(drop=True)
    calls["caller"] = caller
    calls["block"] = ((instant - calls["received_at"]) // width).astype(np.int64)
    return calls


def _callers(calls: pd.DataFrame) -> pd.Series:
    """Who called, as a pseudonym: the phone's, else the account's or name's (a message board's user has
    no phone); None when neither is known."""
    phone = calls["caller_phone_pid"].astype(object)
    if "caller_name_pid" not in calls:
        return phone.where(phone.notna(), None)
    account = calls["caller_name_pid"].astype(object)
    return phone.where(phone.notna(), account).where(lambda c: c.notna(), None)


def _recent_cases(known: Sources, instant: pd.Timestamp, config: GrievanceConfig) -> pd.DataFrame:
    """Cases opened in the case lookback before the instant."""
    cases = known.cases
    lookback = instant - pd.Timedelta(days=config.case_lookback_days)
    cases = cases[(cases["opened_at"] >= lookback) & (cases["opened_at"] < instant)]
    return cases[["case_id", "opened_at", "district", "description"]].reset_index(drop=True)


def configured_mentions(
    frame: pd.DataFrame, text_column: str, config: GrievanceConfig, found: pd.DataFrame | None = None
) -> pd.DataFrame:
    """(row position, surface form, kind, key, district) of the things of the configured kinds the
    texts name (`found`: their `thing_mentions` when already read): the key and kind as normalised
    (grievance_keys.normalise_keys), keys naming a trade or nothing left out."""
    found = thing_mentions(frame[text_column]) if found is None else found
    normal = normalise_keys(found["thing"], found["kind"])
    found = found.assign(kind=normal["kind"].to_numpy(dtype=object), key=normal["key"].to_numpy(dtype=object))
    keep = (found["key"] != "") & found["kind"].isin(config.thing_kinds)
    found = found[keep.to_numpy()].reset_index(drop=True)
    district = frame["district"].iloc[found["pos"].to_numpy()].to_numpy(dtype=object)
    return found.assign(district=district)


def _keyed(
    calls: pd.DataFrame, found: pd.DataFrame, named: pd.DataFrame, config: GrievanceConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The calls' and the cases' mentions with their cluster key: the names before known things dropped
    (known_endings), keys that are not names left out, and those that are words in common use
    (grievance_generic_keys.generic_keys); `member` is the key as written, `key` the root of its aliases
    in the district (grievance_aliases.alias_roots)."""
    endings = known_endings(pd.concat([found["key"], named["key"]], ignore_index=True))
    found, named = found.assign(key=found["key"].map(endings)), named.assign(key=named["key"].map(endings))
    found, named = found[is_name_like(found["key"])], named[is_name_like(named["key"])]
    home = home_districts(
        pd.concat([found["district"], named["district"]], ignore_index=True),
        pd.concat([found["key"], named["key"]], ignore_index=True),
        pd.concat([found["kind"], named["kind"]], ignore_index=True),
    )
    found, named = found.assign(district=home[: len(found)]), named.assign(district=home[len(found) :])
    rows = calls.iloc[found["pos"].to_numpy()]
    caller = rows["caller"].to_numpy(dtype=object)
    said = pd.DataFrame(
        {
            "key": found["key"].to_numpy(dtype=object),
            "district": found["district"].astype("string").fillna("").to_numpy(dtype=object),
            "kind": found["kind"].to_numpy(dtype=object),
            "category": rows["category"].astype("string").fillna("").to_numpy(dtype=object),
            "caller": np.where(pd.isna(caller), None, caller),
            "block": rows["block"].to_numpy(),
            "first": rows["received_at"].to_numpy(),
        }
    )
    generic = generic_keys(said, config.generic_min_callers, config.generic_spread, config.generic_max_repeat)
    found, named = found[~found["key"].isin(generic)], named[~named["key"].isin(generic)]
    said = said[~said["key"].isin(generic)]
    written = pd.DataFrame(
        {
            "key": named["key"].to_numpy(dtype=object),
            "district": named["district"].astype("string").fillna("").to_numpy(dtype=object),
            "kind": named["kind"].to_numpy(dtype=object),
            "caller": None,
        }
    )
    roots = alias_roots(
        pd.concat([said[[*written.columns, "block", "first", "category"]], written], ignore_index=True)
    )
    root = roots.set_index(["district", "key"])["root"]

    def rooted(frame: pd.DataFrame) -> pd.DataFrame:
        where = pd.MultiIndex.from_arrays([frame["district"].astype("string").fillna(""), frame["key"]])
        return frame.assign(member=frame["key"], key=root.reindex(where).to_numpy(dtype=object))

    return rooted(found).reset_index(drop=True), rooted(named).reset_index(drop=True)


def _bare_mentions(
    calls: pd.DataFrame,
    keyed: pd.DataFrame,
    named: pd.DataFrame,
    read: tuple[pd.DataFrame, np.ndarray, pa.Array],
) -> pd.DataFrame:
    """The calls without a key after keying (`keyed`: the calls' keyed mentions; `named`: the cases')
    that name a thing known in their district by its name alone (grievance_names.bare_mentions), as
    mentions of that thing; `read`: `_read_column` of the calls' texts."""
    found, codes, prepared = read
    unnamed = np.setdiff1d(np.arange(len(calls)), keyed["pos"].to_numpy())
    texts = _as_read(codes, prepared, unnamed)
    things = pd.concat([keyed, named], ignore_index=True)
    places = place_names(things["district"], things["member"])
    districts = calls["district"].iloc[unnamed].reset_index(drop=True)
    at = pd.Series(np.arange(len(unnamed)), index=unnamed)
    suffixed = found[found["pos"].isin(unnamed)]
    suffixed = suffixed.assign(pos=at.reindex(suffixed["pos"]).to_numpy())
    bare = bare_mentions(texts, districts, things, places, suffixed)
    return bare.assign(pos=unnamed[bare["pos"].to_numpy()])


def _topic_mentions(calls: pd.DataFrame, found: pd.DataFrame, config: GrievanceConfig) -> pd.DataFrame:
    """The calls without a key after keying (`found`: the calls' keyed mentions) that say the same as
    other callers of their district (grievance_topics.topic_groups), as mentions of kind "topic": the
    topic's label as the thing, its key as key and member; topics whose calls are not filed under one
    hotline category at least `topic_category_share` of the time left out."""
    unnamed = np.setdiff1d(np.arange(len(calls)), found["pos"].to_numpy())
    rows = calls.iloc[unnamed][["text", "district", "received_at", "caller"]].reset_index(drop=True)
    topics = topic_groups(rows, config.topics)
    pos = unnamed[topics["pos"].to_numpy()]
    mentions = pd.DataFrame(
        {
            "pos": pos,
            "thing": topics["label"].to_numpy(dtype=object),
            "kind": TOPIC,
            "key": topics["key"].to_numpy(dtype=object),
            "member": topics["key"].to_numpy(dtype=object),
            "district": calls["district"].to_numpy(dtype=object)[pos],
        }
    )
    if mentions.empty:
        return mentions
    category = calls["category"].astype("string").fillna("").to_numpy(dtype=object)[pos]
    topic = mentions.groupby(["district", "key"]).ngroup().to_numpy()
    filed = pd.crosstab(topic, category)
    coherent = (filed.max(axis=1) / filed.sum(axis=1)) >= config.topic_category_share - 1e-9
    return mentions[coherent.reindex(topic).to_numpy(dtype=bool)].reset_index(drop=True)


def _call_mentions(calls: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The calls' mentions with what the clusters need of each call (one row per call and key)."""
    pos = found["pos"].to_numpy()
    named = calls.iloc[pos]
    caller = named["caller"].to_numpy(dtype=object)
    mentions = pd.DataFrame(
        {
            "call": pos,
            "key": found["key"].to_numpy(dtype=object),
            "member": found["member"].to_numpy(dtype=object),
            "surface": found["thing"].to_numpy(dtype=object),
            "kind": found["kind"].to_numpy(dtype=object),
            "district": found["district"].to_numpy(dtype=object),
            "category": named["category"].astype("string").fillna("").to_numpy(dtype=object),
            "caller": np.where(pd.isna(caller), None, caller),
            "block": named["block"].to_numpy(),
            "received_at": named["received_at"].to_numpy(),
            "case_id": named["case_id"].to_numpy(dtype=object),
        }
    )
    mentions = mentions.drop_duplicates(["call", "key"], ignore_index=True)
    district, _ = pd.factorize(mentions["district"])
    key, keys = pd.factorize(mentions["key"])
    mentions["gid"] = pd.factorize(district.astype(np.int64) * max(len(keys), 1) + key)[0]
    return mentions


def _mode(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per gid: the most frequent value of a column (ties: the smallest value)."""
    counts = frame.groupby(["gid", column]).size().rename("n").reset_index()
    counts = counts.sort_values(["gid", "n", column], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("gid").set_index("gid")[column]


def _touched_cases(
    known: Sources,
    instant: pd.Timestamp,
    named: pd.DataFrame,
    window: pd.DataFrame,
    clusters: pd.DataFrame,
    config: GrievanceConfig,
) -> pd.DataFrame:
    """Per cluster (gid): the cases it touches (cases of its district whose description names the
    thing, opened in the lookback, and cases its window calls are linked to by case_id), those open at
    the instant, those opened in the window, and the first opening."""
    by_text = named.merge(clusters[["gid", "district", "key"]], on=["district", "key"])[["gid", "case_id"]]
    linked = window[window["gid"].isin(clusters["gid"]) & window["case_id"].notna()][["gid", "case_id"]]
    touched = pd.concat([by_text, linked], ignore_index=True).astype({"case_id": object}).drop_duplicates()
    ids = pd.Index(touched["case_id"].unique())
    cases = known.cases[known.cases["case_id"].isin(ids)]
    subset = Sources(
        cases=cases, events=known.events[known.events["case_id"].isin(ids)], hotline=known.hotline.iloc[:0]
    )
    open_ids = set(open_cases(subset, instant)["case_id"].astype(object))
    opened = cases.drop_duplicates("case_id", keep="last").set_index("case_id")["opened_at"]
    touched["opened_at"] = opened.reindex(touched["case_id"]).to_numpy()
    touched["open"] = touched["case_id"].isin(open_ids)
    touched["new"] = touched["opened_at"] >= instant - pd.Timedelta(days=config.window_days)
    touched = touched.sort_values(["gid", "case_id"], kind="stable")
    grouped = touched.groupby("gid")
    return pd.DataFrame(
        {
            "cases": grouped.size(),
            "case_ids": grouped["case_id"].agg(tuple),
            "open_case_ids": touched[touched["open"]].groupby("gid")["case_id"].agg(tuple),
            "cases_opened": grouped["new"].sum(),
            "first_case": grouped["opened_at"].min(),
        }
    ).reindex(clusters["gid"])


def cluster_id(district: str, key: str) -> str:
    """A stable short id of a cluster: a hash of its district and key."""
    return "G" + hashlib.sha256(f"{district}|{key}".encode()).hexdigest()[:10]


def _keyed_mentions(
    known: Sources, instant: pd.Timestamp, config: GrievanceConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The calls of the window, guard and baseline before the instant, their mentions and those of the
    case descriptions of the case lookback (with case_id), keyed (`_keyed`); with the kind "topic", the
    calls' topics after them (`_topic_mentions`). `known` is already cut."""
    calls = _recent_calls(known, instant, config)
    cases = _recent_cases(known, instant, config)
    read = _read_column(calls["text"])
    found, named = _keyed(
        calls,
        configured_mentions(calls, "text", config, read[0]),
        configured_mentions(cases, "description", config),
        config,
    )
    if config.bare_names:
        found = pd.concat([found, _bare_mentions(calls, found, named, read)], ignore_index=True)
    if config.resembling:
        window = pd.Timedelta(days=config.window_days)
        nameless = read[0][(normalise_keys(read[0]["thing"], read[0]["kind"])["key"] == "").to_numpy()]
        joined = resembling_mentions(
            calls, found, window, config.resemblance, config.topics, nameless, config
        )
        found = pd.concat([found, joined], ignore_index=True)
    if TOPIC in config.thing_kinds:
        found = pd.concat([found, _topic_mentions(calls, found, config)], ignore_index=True)
    named = named.assign(case_id=cases["case_id"].astype(object).to_numpy()[named["pos"].to_numpy()])
    return calls, found, named


def cluster_calls(
    known: Sources, instant: pd.Timestamp, config: GrievanceConfig = GrievanceConfig()
) -> pd.DataFrame:
    """(call_id, cluster_id) of every call received in the window before the instant (and known before
    it) and each cluster it is keyed to, whether or not the cluster is returned that day."""
    records = cut(known, instant)
    calls, found, _ = _keyed_mentions(records.sources, records.instant, config)
    found = found[(calls["block"].to_numpy()[found["pos"].to_numpy()] == 0)]
    ids = [cluster_id(d, k) for d, k in zip(found["district"], found["key"], strict=True)]
    call_ids = calls["call_id"].astype(object).to_numpy()[found["pos"].to_numpy()]
    return pd.DataFrame({"call_id": call_ids, "cluster_id": ids}, dtype=object).drop_duplicates(
        ignore_index=True
    )


def grievance_clusters(
    known: Sources,
    instant: pd.Timestamp,
    config: GrievanceConfig = GrievanceConfig(),
    language: Language = "zh",
) -> pd.DataFrame:
    """`emerging_grievances` of the stored records as known before the instant (`features.known.cut`)."""
    return emerging_grievances(cut(known, instant), config, language)


def emerging_grievances(
    records: KnownBefore, config: GrievanceConfig = GrievanceConfig(), language: Language = "zh"
) -> pd.DataFrame:
    """The emerging clusters of calls naming the same thing (or saying the same: a topic) in a district,
    in the window before the cut's instant (see the module docstring): one row per cluster, columns
    COLUMNS, surges first, then by distinct callers, calls and cluster_id. Reads only the cut; reasons and
    summaries are in `language`."""
    instant, known = records.instant, records.sources
    calls, found, named = _keyed_mentions(known, instant, config)
    mentions = _call_mentions(calls, found)
    frame = window_counts(mentions, config)
    if frame.empty:
        return empty_clusters()

    keys = mentions.drop_duplicates("gid").set_index("gid")
    frame = frame.join(keys[["district", "key", "kind"]])
    window = mentions[mentions["block"] == 0]
    frame["category"] = _mode(window, "category").reindex(frame.index)
    frame["peer"] = peer_levels(mentions, frame, config)
    frame["usual"] = np.maximum(np.maximum(frame["own"], frame["peer"]), config.min_usual)
    frame["p_value"] = upper_tail(frame["distinct_callers"], frame["usual"])
    after_surge = surged(frame["prior_callers"], frame["usual"], config) & config.show_after_surge
    shown = (frame["p_value"] < config.emerging_p) | (frame["new"] & config.show_new) | after_surge
    frame = frame[shown] if config.emerging_p < 1 else frame
    if frame.empty:
        return empty_clusters()
    frame = frame.reset_index(names="gid")
    frame["surge"] = surged(frame["distinct_callers"], frame["usual"], config)
    frame["growth"] = frame["calls"] / np.maximum(frame["prior_calls"], 1)
    # Shown as written most often, among the mentions written as one of its keys (never a reduced one),
    # else as the key written most often; a topic by its label.
    things = window[window["kind"] != TOPIC]
    as_key = things[_canonical(things["surface"]) == things["member"].to_numpy()]
    written = _mode(window, "member").reindex(frame["gid"]).fillna(frame.set_index("gid")["key"])
    shown = pd.concat([_mode(as_key, "surface"), _mode(window[window["kind"] == TOPIC], "surface")])
    frame["thing"] = shown.reindex(frame["gid"]).fillna(written).to_numpy()
    frame["thing_kind"] = frame["kind"]

    cases_of = _touched_cases(known, instant, named, window, frame, config)
    frame["cases"] = cases_of["cases"].fillna(0).to_numpy()
    frame["case_ids"] = [t if isinstance(t, tuple) else () for t in cases_of["case_ids"]]
    frame["open_case_ids"] = [t if isinstance(t, tuple) else () for t in cases_of["open_case_ids"]]
    frame["cases_opened"] = cases_of["cases_opened"].fillna(0).to_numpy()
    first_case = cases_of["first_case"].to_numpy()
    frame["first_seen"] = frame["first_seen"].where(
        ~(first_case < frame["first_seen"].to_numpy()), first_case
    )
    frame["size"] = frame["calls"] + frame["cases_opened"]
    frame["cluster_id"] = [cluster_id(d, k) for d, k in zip(frame["district"], frame["key"], strict=True)]
    counts = term_counts(window, calls["text"], frame["gid"])
    frame["summary"] = summaries(frame, counts, config.summary_terms, language)
    frame["surge_reason"] = surge_reasons(frame, config.window_days, language)
    order = ["surge", "distinct_callers", "calls", "cluster_id"]
    frame = frame.sort_values(order, ascending=[False, False, False, True], kind="stable")
    return frame[list(COLUMNS)].reset_index(drop=True).astype(_DTYPES)
