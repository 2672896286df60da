"""Case profile features: what the dispute is, where, how big, how old."""

from __future__ import annotations

import pandas as pd

from features.dictionary import FeatureDoc
from features.sources import Sources

PREFIX = "profile_"

FEATURES: tuple[FeatureDoc, ...] = (
    FeatureDoc(
        "profile_category",
        "dispute category",
        "-",
        "categorical",
        "纠纷类型为{value}",
        "the dispute is {value}",
        labels=(
            ("邻里纠纷", "邻里纠纷", "a neighbour dispute"),
            ("婚姻家庭", "婚姻家庭", "a marriage or family dispute"),
            ("劳资纠纷", "劳资纠纷", "a labour dispute"),
            ("土地山林", "土地山林", "a land or forest dispute"),
            ("征地拆迁", "征地拆迁", "about land requisition or demolition"),
            ("物业纠纷", "物业纠纷", "a property management dispute"),
            ("消费纠纷", "消费纠纷", "a consumer dispute"),
            ("医疗纠纷", "医疗纠纷", "a medical dispute"),
            ("交通事故", "交通事故", "about a traffic accident"),
            ("其他", "其他", "of another kind"),
        ),
    ),
    FeatureDoc(
        "profile_district",
        "district of the dispute",
        "-",
        "categorical",
        "所在区县为{value}",
        "it is in {value}",
    ),
    FeatureDoc(
        "profile_town",
        "town or street of the dispute ('unknown' when not recorded; rare towns pooled by the model)",
        "-",
        "categorical",
        "所在乡镇街道为{value}",
        "it is in {value}",
    ),
    FeatureDoc(
        "profile_source",
        "how the dispute reached the system",
        "-",
        "categorical",
        "案件来源为{value}",
        "it came in through {value}",
        labels=(
            ("hotline", "12345热线", "the hotline"),
            ("police", "公安机关", "the police"),
            ("mediation_committee", "人民调解委员会", "a mediation committee"),
            ("court", "法院", "a court"),
            ("walk_in", "群众来访", "a walk-in visit"),
            ("grid_worker", "网格员", "a grid worker"),
        ),
    ),
    FeatureDoc(
        "profile_party_count",
        "people or households involved (1 when unknown)",
        "-",
        "numeric",
        "涉及{value}方当事人",
        "{value} parties are involved",
    ),
    FeatureDoc(
        "profile_party_count_missing",
        "party count was not recorded",
        "-",
        "flag",
        "当事人数量未登记",
        "the number of parties was not recorded",
    ),
    FeatureDoc(
        "profile_amount",
        "money at stake in CNY (0 when unknown; the model takes its logarithm)",
        "-",
        "numeric",
        "涉案金额{value}元",
        "CNY {value} is at stake",
    ),
    FeatureDoc(
        "profile_amount_missing",
        "money at stake was not recorded",
        "-",
        "flag",
        "涉案金额未登记",
        "the amount at stake was not recorded",
    ),
    FeatureDoc(
        "profile_age_days",
        "days since the case was opened",
        "since opening",
        "numeric",
        "已立案{value}天",
        "the case has been open for {value} days",
    ),
)


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Profile features of the cohort's cases at the instant."""
    del known
    out = pd.DataFrame(index=cohort.index)
    out["profile_category"] = cohort["category"].astype(str)
    out["profile_district"] = cohort["district"].astype(str)
    out["profile_town"] = cohort["town"].fillna("unknown").astype(str)
    out["profile_source"] = cohort["source"].fillna("unknown").astype(str)
    parties = pd.to_numeric(cohort["party_count"], errors="coerce")
    out["profile_party_count"] = parties.fillna(1).astype(float)
    out["profile_party_count_missing"] = parties.isna().astype(float)
    amount = pd.to_numeric(cohort["amount"], errors="coerce")
    out["profile_amount"] = amount.fillna(0).astype(float)
    out["profile_amount_missing"] = amount.isna().astype(float)
    out["profile_age_days"] = ((instant - cohort["opened_at"]).dt.total_seconds() / 86400).astype(float)
    return out
