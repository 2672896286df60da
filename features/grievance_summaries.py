"""What a grievance cluster's calls say, in words: a summary of its category, issues and escalation cues
(labels and counts, never the texts), and why a surge is one.

`features.grievances` counts, per cluster, its window's calls mentioning each issue of ISSUE_TERMS and
each escalation-cue group of `features.text_cues` (`term_counts`), and writes the `summary` and
`surge_reason` columns from them (`summaries`, `surge_reasons`), in Chinese or English.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.dictionary import Language
from features.grievance_levels import TOPIC
from features.text_cues import CUE_LABELS, cue_mentions

# What is said: short issue labels (zh, en) and the phrases (RE2 regular expressions) that name them.
ISSUE_TERMS: dict[str, tuple[str, str]] = {
    "拖欠工资": (
        "unpaid wages",
        "拖欠.{0,4}工资|欠.{0,6}工资|欠薪|讨薪|工资.{0,6}(?:没|未|不)(?:发|给|结|付)",
    ),
    "工程款": ("construction payments", "工程款|包工头|农民工"),
    "工伤": ("work injury", "工伤"),
    "社保": ("social insurance", "社保"),
    "辞退/停工": ("dismissals or stopped work", "辞退|裁员|停工|停产|倒闭|关门|跑路|失联"),
    "补偿款": ("compensation", "补偿|征地款|赔偿"),
    "拆迁安置": ("demolition and resettlement", "拆迁|征迁|安置|棚户区|旧城改造"),
    "土地": ("land", "土地|宅基地|承包地|山林|青苗"),
    "物业": ("property management", "物业|电梯|车位|公共收益"),
    "停水停电": ("water or power cuts", "停水|停电|断水|断电"),
    "噪音": ("noise", "噪音|扰民|太吵"),
    "交房/房屋质量": ("housing delivery or quality", "交房|烂尾|漏水|裂缝|房屋质量"),
    "退款": ("refunds", "退款|退费|退钱|预付|押金"),
    "借贷集资": ("loans or fund-raising", "借款|借贷|集资|理财|利息"),
    "环境污染": ("pollution", "废气|污水|排放|污染|异味|气味"),
}


def term_counts(window: pd.DataFrame, texts: pd.Series, gids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cluster: numbers of its window calls mentioning each issue, and each escalation-cue group."""
    calls = window[window["gid"].isin(gids)]
    call_texts = texts.iloc[calls["call"].to_numpy()].astype("string").reset_index(drop=True)
    issues = pd.DataFrame(
        {
            label: call_texts.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
            for label, (_, pattern) in ISSUE_TERMS.items()
        }
    )
    owner = calls["gid"].to_numpy()
    issue_counts = issues.astype(np.int64).groupby(owner).sum().reindex(gids, fill_value=0)
    cue_counts = cue_mentions(call_texts).astype(np.int64).groupby(owner).sum().reindex(gids, fill_value=0)
    return issue_counts, cue_counts


def summary(category: str, issues: pd.Series, cues: pd.Series, language: Language) -> str:
    """'欠薪类来电；主要反映：拖欠工资(8)、工程款(3)；升级信号：群体聚集或上访(4)', or in English."""
    if language == "zh":
        parts = [f"{category}类来电" if category else "来电未分类"]
        if len(issues):
            parts.append("主要反映：" + "、".join(f"{k}({v})" for k, v in issues.items()))
        if len(cues):
            parts.append("升级信号：" + "、".join(f"{CUE_LABELS[k][0]}({v})" for k, v in cues.items()))
        return "；".join(parts)
    parts = [f"calls filed as {category}" if category else "calls without a category"]
    if len(issues):
        parts.append("about " + ", ".join(f"{ISSUE_TERMS[k][0]} ({v})" for k, v in issues.items()))
    if len(cues):
        parts.append("escalation cues: " + ", ".join(f"{CUE_LABELS[k][1]} ({v})" for k, v in cues.items()))
    return "; ".join(parts)


def summaries(
    frame: pd.DataFrame, counts: tuple[pd.DataFrame, pd.DataFrame], terms: int, language: Language
) -> list[str]:
    """Per cluster (gid, category, with `counts` from `term_counts`): its category, its `terms` most
    mentioned issues and its escalation cues (a loop over clusters, which are few)."""
    issue_counts, cue_counts = counts
    out = []
    for gid, category in zip(frame["gid"], frame["category"], strict=True):
        issues = issue_counts.loc[gid]
        issues = issues[issues > 0].sort_values(ascending=False, kind="stable").iloc[:terms]
        cues = cue_counts.loc[gid]
        out.append(
            summary(category, issues, cues[cues > 0].sort_values(ascending=False, kind="stable"), language)
        )
    return out


def surge_reasons(frame: pd.DataFrame, days: int, language: Language) -> list[str]:
    """Why a surge is one, in plain words, over a window of `days` (empty for clusters that are not
    surges)."""
    reasons = []
    for row in frame.itertuples(index=False):
        topic = row.thing_kind == TOPIC
        if not row.surge:
            reasons.append("")
        elif language == "zh":
            said = f"反映同一问题（{row.thing}）" if topic else f"提到{row.thing}"
            reasons.append(
                f"近{days}天有{row.distinct_callers}位来电人（其中{row.new_callers}位此前未反映过）{said}，"
                f"远高于平常水平（约{row.usual:.1f}位）；来电{row.calls}次，前{days}天{row.prior_calls}次"
            )
        else:
            said = f"raised the same issue ({row.thing})" if topic else f"named {row.thing}"
            reasons.append(
                f"{row.distinct_callers} callers ({row.new_callers} of them new) {said} in the last {days} "
                f"days, far above the usual level (about {row.usual:.1f}); {row.calls} calls, "
                f"{row.prior_calls} in the {days} days before"
            )
    return reasons
