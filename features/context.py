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

from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS
from features.cohort import open_cases
from features.dictionary import FeatureDoc
from features.sources import Sources, is_among, positions

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
    cohort: pd.DataFrame,
    known: Sources,
    instant: pd.Timestamp,
    config: ContextConfig = DEFAULT,
    city: BaseRates | None = None,
) -> pd.DataFrame:
    """Base rates and local load of the cohort's cases from what was known before the instant. `known`
    may hold only whole districts (a district part) when `city` gives the base rates of every district
    (`base_rates` of the whole store): a category's rate and the overall rate cross districts."""
    places = Places.of(known.cases, cohort)
    rates = _rates(places, known, instant, config, None if city is None else city.of(cohort["category"]))
    out = pd.concat([rates, _load(places, known, instant)], axis=1)
    return out[[doc.name for doc in FEATURES]].astype(float)


@dataclass(frozen=True)
class BaseRates:
    """The reference cases of every district: per category (stripped) the cases n and escalations k,
    and the overall escalation rate."""

    categories: pd.DataFrame  # index: category; columns k, n
    overall: float

    def of(self, categories: pd.Series) -> tuple[np.ndarray, np.ndarray, float]:
        """Escalations k and cases n of each given category (0 for a category without reference cases),
        and the overall rate."""
        tallies = self.categories.reindex(_stripped(categories), fill_value=0.0)
        return tallies["k"].to_numpy(dtype=float), tallies["n"].to_numpy(dtype=float), self.overall


def base_rates(known: Sources, instant: pd.Timestamp, config: ContextConfig = DEFAULT) -> BaseRates:
    """The reference cases' tallies per category and overall rate, from the cases and events known before
    the instant (only the columns case_id, opened_at, category, and event_type, event_at are read)."""
    cases = known.cases
    reference = _reference(cases["opened_at"], instant, config)
    escalated = _escalated(cases, reference, known, config)
    tallies = pd.DataFrame({"k": escalated, "n": np.ones(len(escalated))})
    categories = tallies.groupby(_stripped(cases["category"][reference]).to_numpy()).sum()
    return BaseRates(categories, float(escalated.mean()) if len(escalated) else 0.0)


def _stripped(values: pd.Series) -> pd.Series:
    """Text values stripped, "" when missing (how `Places` tells values apart)."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


# ---------------------------------------------------------------- places

_FIELDS = ("district", "town", "category")


@dataclass(frozen=True)
class Places:
    """District, town and category as shared integer codes (one column each) of the known cases (`pool`)
    and of the cohort, with the number of distinct values of each. Values are stripped, "" when blank."""

    pool: np.ndarray
    cohort: np.ndarray
    sizes: tuple[int, ...]
    index: pd.Index  # the cohort's
    ids: pd.Series  # the cohort's case ids
    town_missing: np.ndarray  # per cohort case

    @classmethod
    def of(cls, cases: pd.DataFrame, cohort: pd.DataFrame) -> Places:
        """The codes of the stored cases and of the cohort."""
        columns, sizes, blank_town = [], [], -1
        for name in _FIELDS:
            codes, uniques = pd.factorize(pd.concat([cases[name], cohort[name]], ignore_index=True))
            stripped = (
                pd.Series([*np.asarray(uniques, dtype=object), ""], dtype=object).astype(str).str.strip()
            )
            codes_of_stripped, distinct = pd.factorize(stripped)
            columns.append(codes_of_stripped[codes])  # a missing value's code -1 picks the appended ""
            sizes.append(len(distinct))
            if name == "town":
                blank_town = int(distinct.get_loc("")) if "" in distinct else -1
        both = np.stack(columns, axis=1).astype(np.int64)
        mine = both[len(cases) :]
        return cls(
            pool=both[: len(cases)],
            cohort=mine,
            sizes=tuple(sizes),
            index=cohort.index,
            ids=pd.Series(cohort.index),
            town_missing=mine[:, _FIELDS.index("town")] == blank_town,
        )

    def key(self, codes: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
        """One integer per row for its values of the fields."""
        key = np.zeros(len(codes), dtype=np.int64)
        for name in fields:
            at = _FIELDS.index(name)
            key = key * self.sizes[at] + codes[:, at]
        return key

    def count(
        self, pool: np.ndarray, fields: tuple[str, ...], weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Per cohort case: the pool cases (a mask of the known cases) sharing its values of the fields
        (summing `weights` of the pool cases instead, when given)."""
        size = int(np.prod([self.sizes[_FIELDS.index(n)] for n in fields]))
        totals = np.bincount(self.key(self.pool[pool], fields), weights=weights, minlength=size)
        return totals[self.key(self.cohort, fields)].astype(float)

    def count_town_or_district(self, pool: np.ndarray, extra: tuple[str, ...], own: np.ndarray) -> np.ndarray:
        """Matches in the same (district, town), or the whole district where the case's town is missing,
        less the case itself where `own` says it is in the pool."""
        by_town = self.count(pool, ("district", "town", *extra))
        by_district = self.count(pool, ("district", *extra))
        return np.where(self.town_missing, by_district, by_town) - own


# ---------------------------------------------------------------- base rates


def _escalated(
    cases: pd.DataFrame, reference: np.ndarray, known: Sources, config: ContextConfig
) -> np.ndarray:
    """Per reference case (a mask of the cases): 1.0 when a known escalation event falls within the horizon
    after its opening."""
    events = known.events
    events = events.loc[
        positions(events["event_type"], pd.Index(config.escalation_types)) >= 0, ["case_id", "event_at"]
    ]
    ids, opened = cases["case_id"][reference], cases["opened_at"].to_numpy()[reference]
    at = positions(events["case_id"], ids)
    at, when = at[at >= 0], events["event_at"].to_numpy()[at >= 0]
    hit = (when >= opened[at]) & (when < opened[at] + np.timedelta64(config.horizon_days, "D"))
    return is_among(ids, ids.iloc[at[hit]]).astype(float)


def _shrink(k: np.ndarray, n: np.ndarray, prior: np.ndarray | float, strength: float) -> np.ndarray:
    """Empirical-Bayes rate (k + m * prior) / (n + m)."""
    return (k + strength * prior) / (n + strength)


def _reference(opened: pd.Series, instant: pd.Timestamp, config: ContextConfig) -> np.ndarray:
    """Which cases are reference cases: opened in [T - lookback, T - horizon)."""
    start, end = (
        instant - pd.Timedelta(days=config.lookback_days),
        instant - pd.Timedelta(days=config.horizon_days),
    )
    return ((opened >= start) & (opened < end)).to_numpy()


def _rates(
    places: Places,
    known: Sources,
    instant: pd.Timestamp,
    config: ContextConfig,
    city: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> pd.DataFrame:
    """Shrunk escalation rates (percent) by category, district and both, and n behind the category's
    (`city`: the cohort's category tallies and the overall rate, from every district)."""
    cases = known.cases
    reference = _reference(cases["opened_at"], instant, config)
    escalated = _escalated(cases, reference, known, config)
    m = config.prior_strength
    overall = float(escalated.mean()) if len(escalated) else 0.0
    tallies = {
        fields: (places.count(reference, fields, escalated), places.count(reference, fields))
        for fields in (("category",), ("district",), ("category", "district"))
    }
    if city is not None:
        k, n, overall = city
        tallies[("category",)] = (k, n)
    category_rate = _shrink(*tallies[("category",)], overall, m)
    return pd.DataFrame(
        {
            "context_category_rate": 100 * category_rate,
            "context_district_rate": 100 * _shrink(*tallies[("district",)], overall, m),
            "context_category_district_rate": 100
            * _shrink(*tallies[("category", "district")], category_rate, m),
            "context_rate_history_cases": tallies[("category",)][1],
        },
        index=places.index,
    )


# ---------------------------------------------------------------- local load


def _load(places: Places, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Other open and new cases around each cohort case, and the trend of new ones of its category."""
    cases = known.cases
    open_now = is_among(cases["case_id"], open_cases(known, instant).index)
    opened = cases["opened_at"]
    recent_start = instant - pd.Timedelta(days=NEW_WINDOW_DAYS)
    recent = ((opened >= recent_start) & (opened < instant)).to_numpy()
    base_start = recent_start - pd.Timedelta(days=TREND_BASE_DAYS)
    base = ((opened >= base_start) & (opened < recent_start)).to_numpy()
    own_open, own_recent, own_base = (
        is_among(places.ids, cases["case_id"][pool]) for pool in (open_now, recent, base)
    )
    recent_same = places.count_town_or_district(recent, ("category",), own_recent)
    per_window = (
        places.count_town_or_district(base, ("category",), own_base) * NEW_WINDOW_DAYS / TREND_BASE_DAYS
    )
    return pd.DataFrame(
        {
            "context_open_cases_town": places.count_town_or_district(open_now, (), own_open),
            "context_open_cases_district": places.count(open_now, ("district",)) - own_open,
            f"context_new_cases_town_{NEW_WINDOW_DAYS}d": places.count_town_or_district(
                recent, (), own_recent
            ),
            f"context_new_cases_district_{NEW_WINDOW_DAYS}d": places.count(recent, ("district",))
            - own_recent,
            "context_new_cases_trend_town_category": (TREND_PSEUDO_COUNT + recent_same)
            / (TREND_PSEUDO_COUNT + per_window),
            "context_town_missing": places.town_missing.astype(float),
        },
        index=places.index,
    )
