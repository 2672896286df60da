"""Intake features: what is known when a case is registered, so that a new case can reach the top of the list.

Three things are known at intake, before any event or follow-up call:

- **the reporter's earlier contacts**: calls from the phone the reporter gave (`caller_phone_pid` equals
  the case's `reporter_phone_pid`, any call, quoting a case number or not) received in the 30 and 365 days
  before the case was opened, and the earlier cases reported from that phone (opened before this one);
- **the grievance the case belongs to**: the companies, projects, estates and villages its description
  names, read exactly as the emerging-grievance builder reads them (`features.grievances`: the same
  extraction, kinds, '有限公司' read as '公司', names written before a known thing dropped). Like the
  builder, a grievance is a (district, thing): calls of the case's district naming the thing, their
  distinct callers and their trend, and the other cases of the district naming it. When the description
  names several things, the one with the most distinct callers in the last 7 days (then 30 days, then
  calls in 30 days) is the case's grievance, so every number describes the same thing. Counts are zero
  (and the trend 1, flat) when the case names nothing or nobody called about what it names;
- **the crowd of like cases**: other cases of the same category opened in the same town (the whole
  district when the case's town is not recorded, as in `features.context`) in the last 7 and 30 days, and
  their trend. `features.context` counts the town's new cases of every category over 30 days and the
  category's trend over 30 against 90 days; these are the faster signal of a wave of like disputes.

Besides, `intake_is_new` (opened less than 7 days before the instant) and two products with it, for the
logistic model, which cannot form interactions itself (trees do not need them): the party count and the
grievance's distinct callers of a new case, 0 for older cases.

Phones only join records and are counted; named things are only keys: no feature value is either.
Everything is read from records known before the instant (`known` is already cut), calls received and
cases opened before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.context import Places
from features.dictionary import FeatureDoc
from features.grievances import GrievanceConfig, configured_mentions, endings_of, is_name_like
from features.sources import Sources, is_blank, positions, smoothed_trend

PREFIX = "intake_"

NEW_DAYS = 7  # a case opened less than this many days before the instant is new
REPORTER_WINDOWS_DAYS = (30, 365)  # the reporter's calls before opening
RECENT_DAYS = 7  # recent window of the grievance and the crowd
WINDOW_DAYS = 30  # longer window of the grievance and the crowd; other cases naming the thing
BEFORE_DAYS = 30  # trends: the last RECENT_DAYS against the BEFORE_DAYS before them
THINGS = GrievanceConfig(thing_kinds=("company", "project", "estate", "village"))  # the kinds that are keys
_DAY_US = 86_400_000_000  # a day in microseconds
_EVER = np.iinfo(np.int64).min

_TREND = (
    f"(n{RECENT_DAYS} + 1) / (n_before * {RECENT_DAYS}/{BEFORE_DAYS} + 1), "
    f"n{RECENT_DAYS} in the last {RECENT_DAYS} days and n_before in the {BEFORE_DAYS} days before them "
    f"(days {RECENT_DAYS + 1}-{RECENT_DAYS + BEFORE_DAYS}); 1 = flat or none, above 1 = growing"
)
_THING = (
    "the company, project, estate or village the description names (the grievance builder's reading; "
    "the one with most callers lately when several)"
)
_TOWN = "same town and category (the whole district when the case's town is not recorded)"


def _reporter_calls_doc(days: int) -> FeatureDoc:
    return FeatureDoc(
        f"intake_reporter_calls_{days}d",
        f"hotline calls from the reporter's phone (caller_phone_pid = reporter_phone_pid) received in the "
        f"{days} days before the case was opened",
        f"{days} days before opening",
        "numeric",
        f"报案人立案前{days}天内曾拨打热线{{value}}次",
        f"the reporter's phone called the hotline {{value}} times in the {days} days before the case "
        "was opened",
    )


def _grievance_doc(counted: str, days: int) -> FeatureDoc:
    """Distinct callers or calls of the case's district naming its thing in the last `days` days."""
    callers = counted == "callers"
    what = "distinct caller phones of calls" if callers else "calls"
    return FeatureDoc(
        f"intake_grievance_{counted}_{days}d",
        f"{what} in the case's district naming {_THING}, received in the last {days} days",
        f"{days} days",
        "numeric",
        f"所涉企业或地点近{days}天有{{value}}位来电人反映"
        if callers
        else f"近{days}天有{{value}}次来电提到所涉企业或地点",
        f"{{value}} different callers named the company or place of this dispute in the last {days} days"
        if callers
        else f"{{value}} calls named the company or place of this dispute in the last {days} days",
    )


def _crowd_doc(days: int) -> FeatureDoc:
    return FeatureDoc(
        f"intake_crowd_town_category_{days}d",
        f"other cases of the {_TOWN} opened in the last {days} days",
        f"{days} days",
        "numeric",
        f"所在乡镇/街道（未登记的按区县）近{days}天另有{{value}}件同类新纠纷",
        f"{{value}} other new disputes of this kind in the same town in the last {days} days "
        "(district if the town is not recorded)",
    )


_VERSUS = f"last {RECENT_DAYS} days vs days {RECENT_DAYS + 1}-{RECENT_DAYS + BEFORE_DAYS}"

FEATURES: tuple[FeatureDoc, ...] = (
    *(_reporter_calls_doc(days) for days in REPORTER_WINDOWS_DAYS),
    FeatureDoc(
        "intake_reporter_earlier_cases",
        "cases reported from the same phone (reporter_phone_pid) opened before this one",
        "before opening",
        "numeric",
        "报案人此前已登记过{value}件纠纷",
        "the reporter had already reported {value} disputes before this one",
    ),
    FeatureDoc(
        "intake_names_thing",
        "the description names a company, project, estate or village "
        f"(kinds {', '.join(THINGS.thing_kinds)})",
        "-",
        "flag",
        "案情涉及具体的企业、工程项目、小区或村",
        "the dispute names a company, project, estate or village",
    ),
    *(
        _grievance_doc(counted, days)
        for counted in ("callers", "calls")
        for days in (RECENT_DAYS, WINDOW_DAYS)
    ),
    FeatureDoc(
        "intake_grievance_trend",
        f"trend of the calls in the case's district naming {_THING}: {_TREND}",
        _VERSUS,
        "numeric",
        f"近{RECENT_DAYS}天提到所涉企业或地点的来电频率约为此前{BEFORE_DAYS}天的{{value}}倍",
        f"calls naming the company or place of this dispute came about {{value}} times as often in the last "
        f"{RECENT_DAYS} days as in the {BEFORE_DAYS} days before",
    ),
    FeatureDoc(
        f"intake_grievance_other_cases_{WINDOW_DAYS}d",
        f"other cases of the case's district whose description names {_THING}, opened in the last "
        f"{WINDOW_DAYS} days",
        f"{WINDOW_DAYS} days",
        "numeric",
        f"近{WINDOW_DAYS}天另有{{value}}件纠纷涉及同一企业或地点",
        f"{{value}} other disputes about the same company or place were opened in the last "
        f"{WINDOW_DAYS} days",
    ),
    *(_crowd_doc(days) for days in (RECENT_DAYS, WINDOW_DAYS)),
    FeatureDoc(
        "intake_crowd_trend_town_category",
        f"trend of other new cases of the {_TOWN}: {_TREND}",
        _VERSUS,
        "numeric",
        f"所在乡镇/街道同类纠纷近{RECENT_DAYS}天新增速度约为此前{BEFORE_DAYS}天的{{value}}倍",
        f"new disputes of this kind in the same town came about {{value}} times as fast in the last "
        f"{RECENT_DAYS} days as in the {BEFORE_DAYS} days before",
    ),
    FeatureDoc(
        "intake_is_new",
        f"the case was opened less than {NEW_DAYS} days before T (main effect of the products below, "
        "for linear models)",
        f"{NEW_DAYS} days",
        "flag",
        f"新登记案件（立案不足{NEW_DAYS}天）",
        f"a new case (opened less than {NEW_DAYS} days ago)",
    ),
    FeatureDoc(
        "intake_new_party_count",
        "interaction for linear models: the party count (1 when unknown) when the case is new "
        "(intake_is_new), else 0",
        f"{NEW_DAYS} days",
        "numeric",
        "新登记案件即涉及{value}方当事人",
        "a new case that already involves {value} parties",
    ),
    FeatureDoc(
        f"intake_new_grievance_callers_{WINDOW_DAYS}d",
        f"interaction for linear models: intake_grievance_callers_{WINDOW_DAYS}d when the case is new "
        "(intake_is_new), else 0",
        f"{WINDOW_DAYS} days",
        "numeric",
        f"新登记案件所涉企业或地点近{WINDOW_DAYS}天已有{{value}}位来电人反映",
        f"a new case whose company or place {{value}} different callers named in the last {WINDOW_DAYS} days",
    ),
)


@dataclass(frozen=True)
class IntakeReading:
    """What a cut says about its cohort's intake before the name endings are known: every feature but the
    grievance's, and the raw things named by the window's calls (key, district, pos, received, caller),
    the recent cases and the cohort (key, district, pos). A district part reads its own; the endings are
    then known from every part's `key_counts` (`features.grievances.endings_of`)."""

    index: pd.Index
    opened: pd.Series
    local: dict[str, np.ndarray]
    mentions: dict[str, pd.DataFrame]

    def key_counts(self) -> pd.Series:
        """How often each raw key is named by the reading's texts."""
        return pd.concat([f["key"] for f in self.mentions.values()], ignore_index=True).value_counts()


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Intake features of the cohort's cases from what was known before the instant."""
    read = reading(cohort, known, instant)
    return finish(read, instant, endings_of(read.key_counts()))


def reading(
    cohort: pd.DataFrame,
    known: Sources,
    instant: pd.Timestamp,
    districts: Sequence[str] | None = None,
    elsewhere: pd.DataFrame | None = None,
) -> IntakeReading:
    """The cohort's `IntakeReading`. A district part gives its `districts` (as stored: only the window's
    calls logged in them are read, the calls routed in being another part's) and the cases of other
    districts that name one of its reporters' phones (`elsewhere`: reporter_phone_pid, opened_at)."""
    local = {**_reporter(cohort, known, elsewhere), **_crowd(cohort, known, instant)}
    new = (instant - cohort["opened_at"] < pd.Timedelta(days=NEW_DAYS)).to_numpy()
    parties = pd.to_numeric(cohort["party_count"], errors="coerce").fillna(1).to_numpy(dtype=float)
    local["intake_is_new"] = new.astype(float)
    local["intake_new_party_count"] = np.where(new, parties, 0.0)
    mentions = _mentions(cohort, known, instant, districts)
    return IntakeReading(cohort.index, cohort["opened_at"], local, mentions)


def finish(read: IntakeReading, instant: pd.Timestamp, endings: dict[str, str]) -> pd.DataFrame:
    """Intake features of a reading's cohort, its things read with the known name endings."""
    out = {**read.local, **_grievance(read, instant, endings)}
    out[f"intake_new_grievance_callers_{WINDOW_DAYS}d"] = np.where(
        read.local["intake_is_new"] > 0, out[f"intake_grievance_callers_{WINDOW_DAYS}d"], 0.0
    )
    return pd.DataFrame(out, index=read.index)[[doc.name for doc in FEATURES]].astype(float)


# ---------------------------------------------------------------- counting


def _us(times: pd.Series) -> np.ndarray:
    """Datetimes as int64 microseconds."""
    return times.to_numpy(dtype="datetime64[us]").view(np.int64)


def _count_between(
    group: np.ndarray, at: np.ndarray, query_group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Per query: the points of its group (integer codes; -1 for none, which counts nothing) whose time
    `at` is in [start, end) (int64 times)."""
    n, q = len(at), len(query_group)
    times, rank = np.unique(np.concatenate([at, start, end]), return_inverse=True)
    width = np.int64(len(times))
    keys = np.sort(group.astype(np.int64) * width + rank[:n])
    base = query_group.astype(np.int64) * width
    counts = np.searchsorted(keys, base + rank[n + q :]) - np.searchsorted(keys, base + rank[n : n + q])
    return np.where(query_group >= 0, counts, 0).astype(float)


def _phone_codes(values: pd.Series, phones: pd.Index) -> np.ndarray:
    """Position of each phone among the reporters' phones, -1 where it is none of them or blank."""
    return positions(values, phones) if len(phones) else np.full(len(values), -1)


def _trend(recent: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Smoothed ratio of the recent window's count to the count before it, scaled to the same length."""
    return smoothed_trend(recent, before, RECENT_DAYS, BEFORE_DAYS)


# ---------------------------------------------------------------- the reporter


def _reporter(cohort: pd.DataFrame, known: Sources, elsewhere: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """The reporter phone's calls in the windows before opening and its earlier cases (also those of
    other districts, `elsewhere`, when `known` holds only some)."""
    phone = cohort["reporter_phone_pid"].where(~is_blank(cohort["reporter_phone_pid"]))
    query, phones = pd.factorize(phone)
    phones = pd.Index(phones)
    opened = _us(cohort["opened_at"])
    calls, cases = known.hotline, known.cases
    caller = _phone_codes(calls["caller_phone_pid"], phones)
    hit = caller >= 0
    received = _us(calls["received_at"])[hit]
    out = {
        f"intake_reporter_calls_{days}d": _count_between(
            caller[hit], received, query, opened - days * _DAY_US, opened
        )
        for days in REPORTER_WINDOWS_DAYS
    }
    if elsewhere is not None:
        columns = ["reporter_phone_pid", "opened_at"]
        both = [frame[columns].astype({"reporter_phone_pid": object}) for frame in (cases, elsewhere)]
        cases = pd.concat(both, ignore_index=True)
    reporter = _phone_codes(cases["reporter_phone_pid"], phones)
    mine = reporter >= 0
    out["intake_reporter_earlier_cases"] = _count_between(
        reporter[mine], _us(cases["opened_at"])[mine], query, np.full(len(opened), _EVER), opened
    )
    return out


# ---------------------------------------------------------------- the grievance


def _window(frame: pd.DataFrame, column: str, instant: pd.Timestamp, days: int) -> pd.DataFrame:
    """Rows whose time is in the `days` before the instant, positions reset."""
    at = frame[column]
    return frame[((at >= instant - pd.Timedelta(days=days)) & (at < instant)).to_numpy()].reset_index(
        drop=True
    )


def _mentions(
    cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp, districts: Sequence[str] | None
) -> dict[str, pd.DataFrame]:
    """The raw things named by the window's calls (with when each was received and its caller, None when
    blank), the recent cases and the cohort (`pos`: the row in each)."""
    calls = _window(known.hotline, "received_at", instant, RECENT_DAYS + BEFORE_DAYS)
    if districts is not None:
        calls = calls[calls["district"].isin(list(districts)).to_numpy()].reset_index(drop=True)
    recent_cases = _window(known.cases, "opened_at", instant, WINDOW_DAYS)
    texts = {
        "calls": (calls, "text"),
        "recent": (recent_cases, "description"),
        "cohort": (cohort.reset_index(drop=True), "description"),
    }
    found = {name: configured_mentions(frame, column, THINGS) for name, (frame, column) in texts.items()}
    at = found["calls"]["pos"].to_numpy()
    caller = calls["caller_phone_pid"].to_numpy(dtype=object)
    found["calls"] = found["calls"].assign(
        received=_us(calls["received_at"])[at],
        caller=np.where(is_blank(calls["caller_phone_pid"]), None, caller)[at],
    )
    columns = {"calls": ["pos", "key", "district", "received", "caller"]}
    return {name: f[columns.get(name, ["pos", "key", "district"])] for name, f in found.items()}


def _named(found: dict[str, pd.DataFrame], endings: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Per frame's mentions: one row per (row position `pos`, grievance `gid`) its texts name (with the
    mentions' other columns); gid numbers (district, key) alike across the frames."""
    kept = {}
    for name, mentions in found.items():
        key = mentions["key"].map(endings)
        kept[name] = mentions.assign(key=key)[is_name_like(key)]
    stacked = pd.concat(kept.values(), ignore_index=True)
    scope = stacked["district"].fillna("").astype(str) + "\x1f" + stacked["key"].astype(str)
    gid = pd.factorize(scope)[0] if len(stacked) else np.empty(0, np.int64)
    out, start = {}, 0
    for name, mentions in kept.items():
        pairs = mentions.drop(columns=["key", "district"]).assign(gid=gid[start : start + len(mentions)])
        out[name] = pairs.drop_duplicates(["pos", "gid"], ignore_index=True)
        start += len(mentions)
    return out


def _grievance(read: IntakeReading, instant: pd.Timestamp, endings: dict[str, str]) -> dict[str, np.ndarray]:
    """Calls, callers and trend of the grievance each case names, and other recent cases naming it."""
    named = _named(read.mentions, endings)
    groups = 1 + max((int(f["gid"].max()) for f in named.values() if len(f)), default=-1)
    per_group = _per_grievance(named["calls"], groups, instant)
    per_group["other"] = np.bincount(named["recent"]["gid"].to_numpy(), minlength=groups).astype(float)

    pos, gid = _main_grievance(named["cohort"], per_group)
    size = len(read.index)

    def per_case(values: np.ndarray, empty: float = 0.0) -> np.ndarray:
        out = np.full(size, empty)
        out[pos] = values[gid]
        return out

    opened = read.opened
    own = ((opened >= instant - pd.Timedelta(days=WINDOW_DAYS)) & (opened < instant)).to_numpy()
    names = np.zeros(size)
    names[pos] = 1.0
    return {
        "intake_names_thing": names,
        f"intake_grievance_callers_{RECENT_DAYS}d": per_case(per_group["callers_recent"]),
        f"intake_grievance_callers_{WINDOW_DAYS}d": per_case(per_group["callers_window"]),
        f"intake_grievance_calls_{RECENT_DAYS}d": per_case(per_group["calls_recent"]),
        f"intake_grievance_calls_{WINDOW_DAYS}d": per_case(per_group["calls_window"]),
        "intake_grievance_trend": per_case(_trend(per_group["calls_recent"], per_group["calls_before"]), 1.0),
        f"intake_grievance_other_cases_{WINDOW_DAYS}d": np.maximum(
            per_case(per_group["other"]) - (own & (names > 0)), 0.0
        ),
    }


def _main_grievance(named: pd.DataFrame, per_group: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per case (`pos`) naming something: its grievance (`gid`), the one with most distinct callers in the
    recent window, then in the longer window, then most calls in it (then the first numbered)."""
    pos, gid = named["pos"].to_numpy(), named["gid"].to_numpy()
    ranks = (-per_group[c][gid] for c in ("calls_window", "callers_window", "callers_recent"))
    order = np.lexsort((gid, *ranks, pos))
    pos, gid = pos[order], gid[order]
    first = np.ones(len(pos), dtype=bool)
    first[1:] = pos[1:] != pos[:-1]
    return pos[first], gid[first]


def _per_grievance(named: pd.DataFrame, groups: int, instant: pd.Timestamp) -> dict[str, np.ndarray]:
    """Per grievance (gid): calls and distinct callers in the recent and the longer window, and calls in
    the window before the recent one (`named`: the calls' (pos, gid) with received and caller)."""
    gid = named["gid"].to_numpy()
    received = named["received"].to_numpy(dtype=np.int64)
    now = _us(pd.Series([instant]))[0]
    caller = pd.factorize(named["caller"])[0]

    def calls_where(mask: np.ndarray) -> np.ndarray:
        return np.bincount(gid[mask], minlength=groups).astype(float)

    width = np.int64(caller.max(initial=0)) + 1

    def callers_where(mask: np.ndarray) -> np.ndarray:
        chosen = mask & (caller >= 0)
        pairs = np.unique(gid[chosen].astype(np.int64) * width + caller[chosen])
        return np.bincount(pairs // width, minlength=groups).astype(float)

    recent, window = (received >= now - days * _DAY_US for days in (RECENT_DAYS, WINDOW_DAYS))
    return {
        "calls_recent": calls_where(recent),
        "calls_window": calls_where(window),
        "calls_before": calls_where(~recent),
        "callers_recent": callers_where(recent),
        "callers_window": callers_where(window),
    }


# ---------------------------------------------------------------- the crowd


def _crowd(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> dict[str, np.ndarray]:
    """Other cases of the same town (district when unknown) and category opened in the recent window, the
    longer window, and the window before the recent one; the trend."""
    places = Places.of(known.cases, cohort)
    opened, mine = known.cases["opened_at"], cohort["opened_at"]
    recent_start = instant - pd.Timedelta(days=RECENT_DAYS)

    def count(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        pool = ((opened >= start) & (opened < end)).to_numpy()
        own = ((mine >= start) & (mine < end)).to_numpy()
        return places.count_town_or_district(pool, ("category",), own)

    recent = count(recent_start, instant)
    before = count(recent_start - pd.Timedelta(days=BEFORE_DAYS), recent_start)
    return {
        f"intake_crowd_town_category_{RECENT_DAYS}d": recent,
        f"intake_crowd_town_category_{WINDOW_DAYS}d": count(
            instant - pd.Timedelta(days=WINDOW_DAYS), instant
        ),
        "intake_crowd_trend_town_category": _trend(recent, before),
    }
