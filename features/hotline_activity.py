"""Hotline activity features: calls about the case (by case number or from the reporter's phone), recently.

A call is "about" an open case when it is linked to the case by `case_id` (whenever it was received), or
when it has no `case_id` and comes from the phone the reporter gave (`caller_phone_pid` equals the case's
`reporter_phone_pid`) and was received at or after the case's opening. A call linked to one case is never
attributed to another through the phone; an unlinked call from a phone that is the reporter's phone of
several open cases counts for each of them. The pseudonymised phone only connects calls to a case: it is
never a feature value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.dictionary import FeatureDoc
from features.sources import Sources, arrow_strings, is_blank, positions, smoothed_trend

PREFIX = "hotline_"
WINDOWS_DAYS = (7, 30, 90)
RECENT_DAYS = 7
BEFORE_DAYS = 30
PROFILE_DAYS = 30
NIGHT_FROM_HOUR, NIGHT_UNTIL_HOUR = 22, 6
PHONE_CHANNEL = "phone"
_DAY = pd.Timedelta(days=1)

_ABOUT = "calls about the case (linked by case_id, or unlinked calls from the reporter's phone since opening)"


def _window_docs(kind: str, meaning: str, zh: str, en: str, recorded_by: str = "") -> tuple[FeatureDoc, ...]:
    """One numeric count per window: `meaning`, `zh` and `en` take the number of days as {days};
    `recorded_by` names the flag that says when the count could not be known (see FeatureDoc)."""
    return tuple(
        FeatureDoc(
            f"hotline_{kind}_{days}d",
            meaning.format(days=days),
            f"{days} days",
            "numeric",
            zh.format(days=days, value="{value}"),
            en.format(days=days, value="{value}"),
            recorded_by=recorded_by,
        )
        for days in WINDOWS_DAYS
    )


FEATURES: tuple[FeatureDoc, ...] = (
    *_window_docs(
        "linked_calls",
        "hotline calls linked to the case by case_id, received in the last {days} days (a linked call "
        "received before the case was opened counts too)",
        "近{days}天按案件编号关联的热线来电{value}次",
        "{value} hotline calls linked to the case number in the last {days} days",
    ),
    *_window_docs(
        "reporter_calls",
        "hotline calls without a case_id from the reporter's phone (caller_phone_pid = reporter_phone_pid), "
        "received since the case was opened and in the last {days} days; such a call counts for every open "
        "case with that reporter phone",
        "近{days}天报案人电话来电{value}次（未提供案件编号）",
        "{value} calls from the reporter's phone without the case number in the last {days} days",
        recorded_by="hotline_reporter_phone_missing",
    ),
    *_window_docs(
        "calls",
        f"{_ABOUT}, received in the last {{days}} days: linked_calls + reporter_calls",
        "近{days}天与本案相关的热线来电共{value}次（按案件编号或报案人电话关联）",
        "{value} hotline calls about the case (by case number or the reporter's phone) "
        "in the last {days} days",
    ),
    FeatureDoc(
        "hotline_calls_trend",
        f"smoothed rate ratio of {_ABOUT}: (n7 + 1) / (n_before * 7 / 30 + 1), where n7 counts calls in "
        "the last 7 days and n_before in the 30 days before them (days 8-37), scaled to 7 days; 1 when there "
        "were no calls, above 1 when calls came more often lately, below 1 when they came less often",
        "last 7 days vs days 8-37",
        "numeric",
        "近7天来电频率约为此前30天的{value}倍",
        "calls about the case in the last 7 days came about {value} times as often as in the 30 days before",
    ),
    FeatureDoc(
        "hotline_distinct_callers_30d",
        f"distinct caller phones (non-empty caller_phone_pid) among {_ABOUT} in the last 30 days",
        "30 days",
        "numeric",
        "近30天与本案相关的来电来自{value}个不同号码",
        "calls about the case in the last 30 days came from {value} different phone numbers",
    ),
    FeatureDoc(
        "hotline_other_callers_30d",
        f"distinct caller phones other than the reporter's recorded phone among {_ABOUT} in the last 30 "
        "days (every caller phone when the reporter's phone is not recorded)",
        "30 days",
        "numeric",
        "近30天除报案人登记电话外，另有{value}个号码来电反映本案",
        "{value} phone numbers other than the reporter's recorded one called about the case "
        "in the last 30 days",
    ),
    FeatureDoc(
        "hotline_night_calls_30d",
        f"{_ABOUT} received at night (22:00-06:00 local time) in the last 30 days; a call stamped exactly "
        "00:00:00 is taken as date-only (time unknown) and not counted",
        "30 days",
        "numeric",
        "近30天夜间（22时至次日6时）相关来电{value}次",
        "{value} calls about the case at night (22:00-06:00) in the last 30 days",
    ),
    FeatureDoc(
        "hotline_non_phone_share_30d",
        f"percentage of {_ABOUT} in the last 30 days whose recorded channel is not 'phone' (web, app, wechat "
        "or another channel; an empty channel counts as phone-or-unknown, not as non-phone); 0 when there "
        "were no such calls",
        "30 days",
        "numeric",
        "近30天相关来电中{value}%通过网站、APP、微信等非电话渠道",
        "{value}% of calls about the case in the last 30 days came through web, app, WeChat "
        "or other non-phone channels",
    ),
    FeatureDoc(
        "hotline_days_since_last_call",
        f"days since the last of the {_ABOUT}; days since opening when there was none",
        "since opening",
        "numeric",
        "已{value}天没有与本案相关的热线来电",
        "no hotline call about the case for {value} days",
    ),
    FeatureDoc(
        "hotline_no_calls_ever",
        f"there has been none of the {_ABOUT}",
        "since opening",
        "flag",
        "尚无与本案相关的热线来电",
        "there has been no hotline call about the case",
    ),
    FeatureDoc(
        "hotline_reporter_phone_missing",
        "the case has no reporter phone, so calls without a case_id cannot be connected to it",
        "-",
        "flag",
        "报案人电话未登记，未提供案件编号的来电无法关联到本案",
        "the reporter's phone was not recorded, so calls without the case number cannot be linked to it",
    ),
)


def _linked_calls(hotline: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Calls linked to a cohort case by case_id: their `row` in the hotline, `received_at`, and the
    case's position in the cohort as `pos`."""
    pos = positions(hotline["case_id"], cohort.index)
    rows = np.flatnonzero(pos >= 0)
    return pd.DataFrame(
        {"row": rows, "received_at": hotline["received_at"].to_numpy()[rows], "pos": pos[rows]}
    )


def _reporter_calls(hotline: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Unlinked calls from a cohort case's reporter phone since its opening, one row per (call, case):
    `row` in the hotline, `received_at`, `pos` in the cohort."""
    has_phone = ~is_blank(cohort["reporter_phone_pid"])
    phone_code, phones = pd.factorize(cohort["reporter_phone_pid"][has_phone])
    reporters = pd.DataFrame(
        {
            "pos": np.flatnonzero(has_phone),
            "phone": phone_code,
            "opened_at": cohort["opened_at"].to_numpy()[has_phone],
        }
    )
    code = positions(hotline["caller_phone_pid"], pd.Index(phones))
    rows = np.flatnonzero(code >= 0)
    rows = rows[is_blank(hotline["case_id"].iloc[rows])]
    calls = pd.DataFrame(
        {"row": rows, "received_at": hotline["received_at"].to_numpy()[rows], "phone": code[rows]}
    )
    pairs = calls.merge(reporters, on="phone")
    return pairs[pairs["received_at"] >= pairs["opened_at"]].drop(columns=["phone", "opened_at"])


def calls_about_cases(hotline: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Every (call, cohort case) pair where the call is about the case: `pos` in the cohort, the call's
    `row` in the hotline and `received_at`; `via_reporter`: linked by the reporter's phone (see the module
    docstring for what "about" means)."""
    linked = _linked_calls(hotline, cohort).assign(via_reporter=False)
    reporter = _reporter_calls(hotline, cohort).assign(via_reporter=True)
    columns = ["pos", "row", "received_at", "via_reporter"]
    pairs = pd.concat([linked[columns], reporter[columns]], ignore_index=True)
    return pairs.astype({"pos": np.int64, "row": np.int64, "via_reporter": bool})


def text_or_none(values: pd.Series) -> np.ndarray:
    """Text values as objects, None where missing or blank (each distinct value converted once)."""
    codes, uniques = pd.factorize(values)
    distinct = np.asarray(uniques, dtype=object)
    distinct[is_blank(pd.Series(distinct, dtype="str"))] = None
    return np.append(distinct, None)[codes]


def count_per_case(pos: np.ndarray, size: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Per cohort position, how many pairs (those satisfying the mask, if given) it has."""
    return np.bincount(pos if mask is None else pos[mask], minlength=size).astype(float)


def distinct_per_case(pos: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per cohort position, the number of distinct values other than None."""
    chosen = pd.DataFrame({"pos": pos, "value": values})
    chosen = chosen[chosen["value"].notna()].drop_duplicates()
    return count_per_case(chosen["pos"].to_numpy(), size)


def _is_night(received_at: pd.Series) -> np.ndarray:
    """Calls between 22:00 and 06:00; an exact-midnight stamp is taken as a date without a time."""
    hour = received_at.dt.hour
    date_only = received_at.eq(received_at.dt.normalize())
    return (((hour >= NIGHT_FROM_HOUR) | (hour < NIGHT_UNTIL_HOUR)) & ~date_only).to_numpy()


def channel_names(channel: pd.Series | np.ndarray) -> pa.ChunkedArray:
    """Recorded channels as they are compared with the contract's names: trimmed, in lower case."""
    return pc.utf8_lower(pc.utf8_trim_whitespace(arrow_strings(channel)))


def _is_non_phone(channel: pd.Series) -> np.ndarray:
    """Calls whose recorded channel (trimmed, any case) is something other than the phone."""
    name = channel_names(channel)
    return pc.fill_null(pc.and_(pc.not_equal(name, ""), pc.not_equal(name, PHONE_CHANNEL)), False).to_numpy()


def _window_counts(pairs: pd.DataFrame, instant: pd.Timestamp, size: int) -> dict[str, np.ndarray]:
    """Calls about each case in every window: linked, from the reporter's phone, all; and the trend."""
    pos, via_reporter = pairs["pos"].to_numpy(), pairs["via_reporter"].to_numpy()
    received = pairs["received_at"].to_numpy()

    def since(days: int) -> np.ndarray:
        return received >= (instant - days * _DAY).to_datetime64()

    out: dict[str, np.ndarray] = {}
    for kind, mask in (("linked_calls", ~via_reporter), ("reporter_calls", via_reporter), ("calls", None)):
        for days in WINDOWS_DAYS:
            window = since(days) if mask is None else since(days) & mask
            out[f"hotline_{kind}_{days}d"] = count_per_case(pos, size, window)
    recent = count_per_case(pos, size, since(RECENT_DAYS))
    before = count_per_case(pos, size, since(RECENT_DAYS + BEFORE_DAYS) & ~since(RECENT_DAYS))
    out["hotline_calls_trend"] = smoothed_trend(recent, before, RECENT_DAYS, BEFORE_DAYS)
    return out


def _recent_callers_and_channels(
    pairs: pd.DataFrame, hotline: pd.DataFrame, cohort: pd.DataFrame, instant: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Who called about each case in the last 30 days, at what hours and through which channels."""
    size = len(cohort)
    recent = pairs[pairs["received_at"] >= instant - PROFILE_DAYS * _DAY]
    rows = recent["row"].to_numpy()
    pos, callers = recent["pos"].to_numpy(), text_or_none(hotline["caller_phone_pid"].iloc[rows])
    reporter = text_or_none(cohort["reporter_phone_pid"])[pos]
    other = np.where(callers != reporter, callers, None)
    n_calls, n_non_phone = (
        count_per_case(pos, size),
        count_per_case(pos, size, _is_non_phone(hotline["channel"].iloc[rows])),
    )
    return {
        "hotline_distinct_callers_30d": distinct_per_case(pos, callers, size),
        "hotline_other_callers_30d": distinct_per_case(pos, other, size),
        "hotline_night_calls_30d": count_per_case(pos, size, _is_night(recent["received_at"])),
        "hotline_non_phone_share_30d": 100 * n_non_phone / np.maximum(n_calls, 1),
    }


def _recency(pairs: pd.DataFrame, cohort: pd.DataFrame, instant: pd.Timestamp) -> dict[str, np.ndarray]:
    """Days since the last call about each case (since opening when none), and the missing-data flags."""
    last = pairs.groupby("pos")["received_at"].max().reindex(np.arange(len(cohort)))
    last = last.set_axis(cohort.index).fillna(cohort["opened_at"])
    return {
        "hotline_days_since_last_call": ((instant - last).dt.total_seconds() / 86400).to_numpy(),
        "hotline_no_calls_ever": (count_per_case(pairs["pos"].to_numpy(), len(cohort)) == 0).astype(float),
        "hotline_reporter_phone_missing": is_blank(cohort["reporter_phone_pid"]).astype(float),
    }


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Hotline activity features of the cohort's cases from calls known before the instant."""
    pairs = calls_about_cases(known.hotline, cohort)
    out = {
        **_window_counts(pairs, instant, len(cohort)),
        **_recent_callers_and_channels(pairs, known.hotline, cohort, instant),
        **_recency(pairs, cohort, instant),
    }
    return pd.DataFrame(out, index=cohort.index)[[d.name for d in FEATURES]].astype(float)
