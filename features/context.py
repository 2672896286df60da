"""Context features: how disputes like this one and around it have gone, from what was known before T.

Two kinds of context, both computed only from records the caller already cut to `known_at < T`:

- Base rates. Reference cases are the cases opened in `[T - lookback, T - horizon)`: their label
  window `[opened_at, opened_at + horizon)` has closed by T. A reference case escalated when a known
  escalation event falls in that window. Rates by category, by district and by category x district
  are shrunk with an empirical-Bayes prior of strength m: `rate = (k + m * prior) / (n + m)`, where
  the prior of the category and district rates is the overall rate p0 of all reference cases (0 when
  there are none) and the prior of the category x district rate is the category's shrunk rate. With
  m = 20 a district with 3 cases gets neither 0% nor 100%. Rates are in percent.
- Local load. Other open cases at T (`features.cohort.open_cases`) and other cases opened in the last
  30 days, in the same town and in the same district, and the trend of new cases of the same
  category in the same town. Where a case's town is not recorded, its "town" counts are those of
  its whole district (and `context_town_missing` is 1). Towns are told apart by (district, town).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS
from features.cohort import open_cases
from features.dictionary import FeatureDoc
from features.sources import Sources

PREFIX = "context_"

HORIZON_DAYS = 30
ESCALATION_TYPES: tuple[str, ...] = tuple(t.value for t in DEFAULT_ESCALATION_EVENTS)
LOOKBACK_DAYS = 365
PRIOR_STRENGTH = 20.0
NEW_WINDOW_DAYS = 30
TREND_BASE_DAYS = 90
TREND_PSEUDO_COUNT = 1.0


@dataclass(frozen=True)
class ContextConfig:
    """Label horizon and escalation event types of the base rates, their lookback and prior strength m."""

    horizon_days: int = HORIZON_DAYS
    escalation_types: tuple[str, ...] = ESCALATION_TYPES
    lookback_days: int = LOOKBACK_DAYS
    prior_strength: float = PRIOR_STRENGTH

    def __post_init__(self) -> None:
        object.__setattr__(self, "escalation_types", tuple(str(t) for t in self.escalation_types))
        if not 0 < self.horizon_days < self.lookback_days:
            raise ValueError("need 0 < horizon_days < lookback_days")
        if self.prior_strength <= 0:
            raise ValueError("prior_strength must be positive")


DEFAULT = ContextConfig()


def feature_docs(config: ContextConfig = DEFAULT) -> tuple[FeatureDoc, ...]:
    """The dictionary entries of the context features for a configuration, in the order built."""
    h, m, types = config.horizon_days, config.prior_strength, "/".join(config.escalation_types)
    reference = (
        f"cases opened in [T - {config.lookback_days} days, T - {h} days) and known before T; a case "
        f"escalated when a known {types} event falls within {h} days of its opening"
    )
    shrink = f"(k + {m:g} * prior) / (n + {m:g})"
    town = "same town (same district and town; the whole district when the case's town is not recorded)"
    past_zh, past_en = _past(config.lookback_days)
    return (
        FeatureDoc(
            "context_category_rate",
            f"escalation rate (percent) of the case's category among {reference}; {shrink} with the "
            "overall rate of those cases as prior (0 when there are none)",
            f"{config.lookback_days} days",
            "numeric",
            f"{past_zh}同类纠纷立案后{h}天内的升级率估计为{{value}}%",
            f"an estimated {{value}}% of disputes of this kind in {past_en} escalated within {h} days",
        ),
        FeatureDoc(
            "context_district_rate",
            f"escalation rate (percent) of the case's district among {reference}; {shrink} with the "
            "overall rate of those cases as prior (0 when there are none)",
            f"{config.lookback_days} days",
            "numeric",
            f"本区县{past_zh}纠纷立案后{h}天内的升级率估计为{{value}}%",
            f"an estimated {{value}}% of disputes in this district in {past_en} escalated within {h} days",
        ),
        FeatureDoc(
            "context_category_district_rate",
            f"escalation rate (percent) of the case's category within its district among {reference}; "
            f"{shrink} with the category's rate as prior",
            f"{config.lookback_days} days",
            "numeric",
            f"本区县{past_zh}同类纠纷立案后{h}天内的升级率估计为{{value}}%",
            f"an estimated {{value}}% of disputes of this kind in this district in {past_en} "
            f"escalated within {h} days",
        ),
        FeatureDoc(
            "context_rate_history_cases",
            f"number n of {reference.split(';')[0]} in the case's category (behind context_category_rate)",
            f"{config.lookback_days} days",
            "numeric",
            f"该类纠纷升级率依据{past_zh}{{value}}件同类纠纷估计",
            f"the escalation rate of this kind of dispute is estimated from {{value}} cases of {past_en}",
        ),
        FeatureDoc(
            "context_open_cases_town",
            f"other cases open at T in the {town}",
            "at T",
            "numeric",
            "所在乡镇/街道（未登记的按区县）另有{value}件未结纠纷",
            "{value} other open disputes in the same town (district if the town is not recorded)",
        ),
        FeatureDoc(
            "context_open_cases_district",
            "other cases open at T in the same district",
            "at T",
            "numeric",
            "所在区县另有{value}件未结纠纷",
            "{value} other open disputes in the same district",
        ),
        FeatureDoc(
            f"context_new_cases_town_{NEW_WINDOW_DAYS}d",
            f"other cases opened in the last {NEW_WINDOW_DAYS} days in the {town}",
            f"{NEW_WINDOW_DAYS} days",
            "numeric",
            f"所在乡镇/街道（未登记的按区县）近{NEW_WINDOW_DAYS}天另有{{value}}件新纠纷",
            f"{{value}} other new disputes in the same town in the last {NEW_WINDOW_DAYS} days "
            "(district if the town is not recorded)",
        ),
        FeatureDoc(
            f"context_new_cases_district_{NEW_WINDOW_DAYS}d",
            f"other cases opened in the last {NEW_WINDOW_DAYS} days in the same district",
            f"{NEW_WINDOW_DAYS} days",
            "numeric",
            f"所在区县近{NEW_WINDOW_DAYS}天另有{{value}}件新纠纷",
            f"{{value}} other new disputes in the same district in the last {NEW_WINDOW_DAYS} days",
        ),
        FeatureDoc(
            "context_new_cases_trend_town_category",
            f"trend of other new cases of the same category in the {town}: (a + opened in the last "
            f"{NEW_WINDOW_DAYS} days) / (a + opened in the {TREND_BASE_DAYS} days before, per "
            f"{NEW_WINDOW_DAYS} days), a = {TREND_PSEUDO_COUNT:g}; 1 = flat",
            f"{NEW_WINDOW_DAYS + TREND_BASE_DAYS} days",
            "numeric",
            "所在乡镇/街道（未登记的按区县）同类纠纷新增趋势指数为{value}（1为持平，越大增长越快）",
            "the new-case trend index of this kind of dispute in the same town (district if the town is "
            "not recorded) is {value} (1 = flat, higher = faster growth)",
        ),
        FeatureDoc(
            "context_town_missing",
            "the case's town is not recorded, so its town counts are those of its district",
            "-",
            "flag",
            "未登记乡镇/街道，周边案件量按所在区县统计",
            "the town is not recorded; local counts cover the whole district",
        ),
    )


def _past(days: int) -> tuple[str, str]:
    """The lookback period in words (zh, en)."""
    return ("近一年", "the past year") if days == 365 else (f"近{days}天", f"the past {days} days")


FEATURES: tuple[FeatureDoc, ...] = feature_docs(DEFAULT)


def build(
    cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp, config: ContextConfig = DEFAULT
) -> pd.DataFrame:
    """Base rates and local load of the cohort's cases from what was known before the instant."""
    places = _places(cohort)
    out = pd.concat([_rates(places, known, instant, config), _load(places, known, instant)], axis=1)
    return out[[doc.name for doc in FEATURES]].astype(float)


# ---------------------------------------------------------------- places


def _places(cases: pd.DataFrame) -> pd.DataFrame:
    """District, town and category of cases as plain keys ("" when blank or missing), by case id."""
    keys = cases[["district", "town", "category"]].astype(object).fillna("")
    return keys.apply(lambda column: column.astype(str).str.strip()).astype(object)


def _keyed_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """Places of stored case rows, indexed by case id."""
    return _places(cases.set_index("case_id"))


def _member(ids: pd.Index | pd.Series, among: pd.Index | pd.Series) -> np.ndarray:
    """Whether each id is among the others (an arrow hash lookup: pandas' `isin` is slow on many str)."""
    found = pc.is_in(_arrow_ids(ids), value_set=_arrow_ids(among))
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _arrow_ids(ids: pd.Index | pd.Series) -> pa.Array:
    """Case ids as an arrow string array."""
    return pa.array(pd.Index(ids).astype("str"), type=pa.large_string())


def _count_matches(pool: pd.DataFrame, places: pd.DataFrame, keys: list[str], own: np.ndarray) -> np.ndarray:
    """Per cohort case: pool cases sharing its values of `keys`, less itself where `own` says it is one."""
    sizes = pool.groupby(keys).size().rename("_n").reset_index()
    n = places[keys].merge(sizes, how="left", on=keys)["_n"].fillna(0).to_numpy(float)
    return n - own


def _count_town_or_district(
    pool: pd.DataFrame, places: pd.DataFrame, extra: list[str], own: np.ndarray
) -> np.ndarray:
    """Matches in the same (district, town), or the whole district where the case's town is missing."""
    by_town = _count_matches(pool, places, ["district", "town", *extra], own)
    by_district = _count_matches(pool, places, ["district", *extra], own)
    return np.where(_town_missing(places), by_district, by_town)


def _town_missing(places: pd.DataFrame) -> np.ndarray:
    """Whether each case's town is not recorded."""
    return (places["town"] == "").to_numpy()


# ---------------------------------------------------------------- base rates


def _reference(known: Sources, instant: pd.Timestamp, config: ContextConfig) -> pd.DataFrame:
    """Cases whose label window closed by the instant, with `escalated` 1.0 when a known event hit it."""
    horizon = pd.Timedelta(days=config.horizon_days)
    opened = known.cases["opened_at"]
    in_window = (opened >= instant - pd.Timedelta(days=config.lookback_days)) & (opened < instant - horizon)
    reference = known.cases[in_window]
    events = known.events[known.events["event_type"].isin(config.escalation_types)]
    timed = events[["case_id", "event_at"]].merge(reference[["case_id", "opened_at"]], on="case_id")
    hit = (timed["event_at"] >= timed["opened_at"]) & (timed["event_at"] < timed["opened_at"] + horizon)
    places = _keyed_cases(reference)
    places["escalated"] = _member(places.index, timed.loc[hit, "case_id"]).astype(float)
    return places


def _tally(reference: pd.DataFrame, places: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort case: escalated (k) and all (n) reference cases sharing its values of `keys`."""
    stats = reference.groupby(keys)["escalated"].agg(k="sum", n="size").reset_index()
    merged = places[keys].merge(stats, how="left", on=keys)
    return merged["k"].fillna(0).to_numpy(float), merged["n"].fillna(0).to_numpy(float)


def _shrink(k: np.ndarray, n: np.ndarray, prior: np.ndarray | float, strength: float) -> np.ndarray:
    """Empirical-Bayes rate (k + m * prior) / (n + m)."""
    return (k + strength * prior) / (n + strength)


def _rates(
    places: pd.DataFrame, known: Sources, instant: pd.Timestamp, config: ContextConfig
) -> pd.DataFrame:
    """Shrunk escalation rates (percent) by category, district and both, and n behind the category's."""
    reference = _reference(known, instant, config)
    m = config.prior_strength
    overall = float(reference["escalated"].mean()) if len(reference) else 0.0
    k_cat, n_cat = _tally(reference, places, ["category"])
    k_dis, n_dis = _tally(reference, places, ["district"])
    k_both, n_both = _tally(reference, places, ["category", "district"])
    category_rate = _shrink(k_cat, n_cat, overall, m)
    return pd.DataFrame(
        {
            "context_category_rate": 100 * category_rate,
            "context_district_rate": 100 * _shrink(k_dis, n_dis, overall, m),
            "context_category_district_rate": 100 * _shrink(k_both, n_both, category_rate, m),
            "context_rate_history_cases": n_cat,
        },
        index=places.index,
    )


# ---------------------------------------------------------------- local load


def _opened_within(cases: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Places of the cases opened in [start, end)."""
    opened = cases["opened_at"]
    return _keyed_cases(cases[(opened >= start) & (opened < end)])


def _load(places: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Other open and new cases around each cohort case, and the trend of new ones of its category."""
    open_now = _places(open_cases(known, instant))
    recent_start = instant - pd.Timedelta(days=NEW_WINDOW_DAYS)
    recent = _opened_within(known.cases, recent_start, instant)
    base = _opened_within(known.cases, recent_start - pd.Timedelta(days=TREND_BASE_DAYS), recent_start)
    own_open, own_recent, own_base = (_member(places.index, pool.index) for pool in (open_now, recent, base))
    recent_same = _count_town_or_district(recent, places, ["category"], own_recent)
    per_window = (
        _count_town_or_district(base, places, ["category"], own_base) * NEW_WINDOW_DAYS / TREND_BASE_DAYS
    )
    return pd.DataFrame(
        {
            "context_open_cases_town": _count_town_or_district(open_now, places, [], own_open),
            "context_open_cases_district": _count_matches(open_now, places, ["district"], own_open),
            f"context_new_cases_town_{NEW_WINDOW_DAYS}d": _count_town_or_district(
                recent, places, [], own_recent
            ),
            f"context_new_cases_district_{NEW_WINDOW_DAYS}d": _count_matches(
                recent, places, ["district"], own_recent
            ),
            "context_new_cases_trend_town_category": (TREND_PSEUDO_COUNT + recent_same)
            / (TREND_PSEUDO_COUNT + per_window),
            "context_town_missing": _town_missing(places).astype(float),
        },
        index=places.index,
    )
