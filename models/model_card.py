"""The model card: what the model is for, how it was checked, how fair it is, as Markdown (zh or en).

Pure: it renders the facts it is given and adds nothing measured elsewhere. All wording lives in
`TEXT` (one dict of phrases per language) and is put together by one set of rendering functions, so
the two languages always have the same structure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from contracts.evaluation import LIFT_KEY, VALIDATION_METRICS
from features.dictionary import FeatureDoc, Language
from models.metrics import SUBSET_KINDS as SUBSET_COLUMNS

MISSING = "—"
TOP_FEATURES = 10
MAX_LISTED_DATES = 8

SECTIONS: tuple[str, ...] = (
    "about",
    "not_for",
    "data",
    "checked",
    "meaning",
    "groups",
    "fairness",
    "drivers",
    "limits",
    "contact",
)

TEXT: dict[Language, dict[str, str]] = {
    "en": {
        "title": "# Model card: {model_name} ({version}, {as_of})",
        "not_registered": "not registered yet",
        "meta": (
            "- Version: {version}\n"
            "- Training date: {as_of} (only data known before this date was used)\n"
            "- Model: {estimator}, calibrated with {calibration}\n"
            "- Predicts: whether an open dispute escalates ({events}) within {horizon} days"
        ),
        "list_sep": ", ",
        "h_about": "## Who this is about and what it is for",
        "about": (
            "This card explains the model behind the daily list of disputes that mediators look at first."
            " It is written for everyone concerned, including the people whose disputes are on the list.\n\n"
            "- What is scored is a dispute, never a person. Each open dispute gets a score: the calibrated"
            " probability that it escalates ({events}) within {horizon} days.\n"
            "- The score helps mediators decide which disputes to visit first. It is not a verdict on"
            " anyone, and it is never a reason for sanctions, surveillance or refusing a service.\n"
            "- A mediator decides what to do, and that decision is recorded with the case.\n"
            "- If something recorded about your dispute is wrong (its category, an event, a call), tell"
            " your mediator or the local people's mediation committee. The record is corrected at its"
            " source and the next daily list uses the correction."
        ),
        "h_not_for": "## Not for",
        "not_for": (
            "- judging, ranking or labelling individuals;\n"
            "- policing, law enforcement or keeping watch on people;\n"
            "- predicting crime or who might commit it;\n"
            "- any use outside mediation, such as benefits, permits, jobs, credit, schooling or housing.\n\n"
            "The model was neither built nor checked for these uses."
        ),
        "h_data": "## Data",
        "data": (
            "- Snapshots of the open disputes on {n_snapshots} dates from {first} to {last}:"
            " {n_rows} case-snapshots, of which {base_rate} escalated within {horizon} days.\n"
            "- Only what was known before {as_of} was used, including whether a dispute escalated.\n"
            "- Personal data is pseudonymised when it is loaded: names, phone numbers and ID numbers"
            " become keyed codes; phone and ID numbers and people's names are masked inside free text."
            " The model never sees them.\n"
            "- Protected attributes (ethnicity, religion and the like) are never features.\n"
            "- {audited}"
        ),
        "used_and_audited": "The model's features include {used}; the fairness audit below checks {audited}.",
        "audited_only": "The fairness audit below checks {audited}.",
        "and": " and ",
        "h_checked": "## How it was checked",
        "checked": (
            "Rolling-origin temporal validation with {n_folds} folds: each time, the model was trained"
            " on earlier data only and tested on a later date it had never seen ({dates}). Figures are"
            " the mean ± standard deviation over those dates. The baseline is a simple rule a mediator"
            " could apply by hand: disputes with the most recent hotline calls first."
        ),
        "col_measure": "measure",
        "col_model": "model",
        "col_rule": "rule",
        "m_precision_at_k": "Precision in the top {top} (share of listed disputes that escalated)",
        "m_recall_at_k": "Recall in the top {top} (share of all escalations that were listed)",
        "m_precision_at_list_k": "Precision in the first {k} rows",
        "m_recall_at_list_k": "Recall in the first {k} rows",
        "m_roc_auc": "ROC AUC (ranking quality; 0.5 is chance)",
        "m_average_precision": "Average precision",
        "m_brier": "Brier score (lower is better)",
        "m_ece": "Expected calibration error, ECE (lower is better)",
        "lift": "In the top {top}, the model's precision is {lift} times the rule's.",
        "grid_intro": (
            "Candidates compared (precision in the top {top}, mean ± standard deviation over the folds);"
            " the one chosen is marked:"
        ),
        "col_candidate": "candidate",
        "col_precision_top": "precision in the top {top}",
        "col_chosen": "chosen",
        "chosen_mark": "✓ chosen",
        "h_meaning": "## What the score means",
        "meaning": (
            "Scores are calibrated with {calibration}, so they read as probabilities: a score of {example}"
            " means that about 1 in {one_in} such disputes escalated within {horizon} days in the past."
            " Calibration error on the test dates (ECE): {ece}. A low score is no guarantee: some"
            " low-scored disputes still escalate.\n\n"
            "- high: score {high} or more\n"
            "- medium: from {medium} to below {high}\n"
            "- low: below {medium}"
        ),
        "h_groups": "## Performance by group",
        "groups": (
            "The same measures on parts of the test data. Small groups give unsteady figures;"
            " {missing} means a figure could not be computed (for example, no escalations in the group)."
        ),
        "col_kind": "split",
        "col_subset": "group",
        "col_n": "disputes",
        "col_positives": "escalated",
        "col_precision": "precision (top {top})",
        "col_recall": "recall (top {top})",
        "col_auc": "ROC AUC",
        "kind_new_vs_ongoing": "new vs ongoing",
        "kind_district": "district",
        "kind_category": "category",
        "subset_new": "new",
        "subset_ongoing": "ongoing",
        "no_rows": "No figures were provided.",
        "h_fairness": "## Fairness audit",
        "fairness": (
            "Each group is compared with all disputes together: its share put in the top {top} of the"
            " list, its recall (share of its escalations that were listed), its false positive rate"
            " (share of its non-escalating disputes that were listed) and its calibration (predicted ÷"
            " observed escalation rate). A ratio of 1.00 means the same as overall; brackets give the"
            " uncertainty interval. 'Flagged' names the measures where a group differs significantly.\n\n"
            "A different share listed can reflect a different risk: groups whose disputes escalate more"
            " often are expected to be listed more often. Recall, false positive rate and calibration"
            " are the checks of equal treatment."
        ),
        "col_attribute": "attribute",
        "col_group": "group",
        "col_share": "share listed (ratio)",
        "col_fair_recall": "recall (ratio [interval])",
        "col_fpr": "false positive rate (ratio [interval])",
        "col_pred_obs": "predicted / observed",
        "col_calibration": "calibration ratio [interval]",
        "col_status": "status",
        "status_ok": "no significant difference",
        "status_flagged": "flagged: {metrics}",
        "status_insufficient": "insufficient data, not assessed",
        "metric_share_listed": "share listed",
        "metric_recall": "recall",
        "metric_fpr": "false positive rate",
        "metric_calibration": "calibration",
        "insufficient": (
            "Insufficient data: {groups}. These groups had too few disputes or escalations for a"
            " reliable comparison. They were not assessed, so this audit says nothing about whether the"
            " model treats them fairly; they stay on the list of groups to watch."
        ),
        "group_label": "{attribute} {group}",
        "group_count": "{name} ({n} disputes, {positives} escalated)",
        "tally": "{n_groups} groups audited: {ok} without significant difference, {flagged} flagged,"
        " {insufficient} with insufficient data.",
        "verdict": "Verdict: {verdict}",
        "h_drivers": "## What drives scores",
        "drivers": (
            "The features the model relies on most: the mean size of their push on a dispute's score"
            " (absolute change in log-odds) over the test cases. They describe what the model uses,"
            " not what causes escalation."
        ),
        "col_feature": "feature",
        "col_described": "meaning",
        "col_detail": "window",
        "col_importance": "importance",
        "features_used": "The model uses {n} features; all are described in the feature dictionary.",
        "h_limits": "## Limits",
        "limits": (
            "- Past data encode past practice and reporting habits: districts where people call the"
            " hotline more often look riskier, whatever their real risk.\n"
            "- Escalations that were never recorded are invisible to the model, and so are the disputes"
            " that never reached the system.\n"
            "- Text cues are word lists: they miss dialect, irony and new ways of saying things.\n"
            "- The model is only as good as the recorded data: late, missing or wrong entries weaken it.\n"
            "- Performance was measured on later dates from the same source; it may not carry over to"
            " other cities or to changed ways of working.\n"
            "- Drift is watched: the list's inputs and results are monitored and the model is retrained"
            " and re-checked with this card."
        ),
        "h_contact": "## Contact and feedback",
        "contact": (
            "Questions, corrections and complaints go to your mediator, the local people's mediation"
            " committee or the judicial office (司法所); each request is logged and followed up."
            " Mediators who think a score is wrong should note why on the case: these notes are reviewed"
            " before the model is retrained."
        ),
    },
    "zh": {
        "title": "# 模型说明：{model_name}（{version}，{as_of}）",
        "not_registered": "尚未注册",
        "meta": (
            "- 版本：{version}\n"
            "- 训练日期：{as_of}（只使用该日期之前已知的数据）\n"
            "- 模型：{estimator}，校准方法：{calibration}\n"
            "- 预测内容：在办纠纷在{horizon}天内是否升级（{events}）"
        ),
        "list_sep": "、",
        "h_about": "## 涉及谁、用来做什么",
        "about": (
            "本说明介绍每日纠纷风险清单背后的模型，供调解员优先排查时参考。它写给所有相关的人，"
            "也包括纠纷出现在清单上的当事人。\n\n"
            "- 评分的对象是纠纷，而不是人。每件在办纠纷都有一个分数：它在{horizon}天内升级"
            "（{events}）的校准概率。\n"
            "- 分数帮助调解员决定先走访哪些纠纷。它不是对任何人的评判，"
            "也绝不能作为处罚、监控或拒绝办事的理由。\n"
            "- 由调解员决定怎么做，其决定随案记录在案。\n"
            "- 如果您的纠纷记录有误（纠纷类型、某条办理记录、某次来电），"
            "请告诉您的调解员或当地人民调解委员会。"
            "记录会在源系统中更正，次日的清单即使用更正后的数据。"
        ),
        "h_not_for": "## 不得用于",
        "not_for": (
            "- 评判、排名或给个人贴标签；\n"
            "- 治安执法或监视他人；\n"
            "- 预测犯罪或预测谁会违法犯罪；\n"
            "- 调解以外的任何用途，例如社会救助、审批许可、就业、信用、入学或住房。\n\n"
            "模型既不是为这些用途设计的，也没有针对这些用途做过检验。"
        ),
        "h_data": "## 数据",
        "data": (
            "- 训练数据为{first}至{last}共{n_snapshots}个日期的在办纠纷快照，"
            "合计{n_rows}条案件快照，其中{base_rate}在{horizon}天内升级。\n"
            "- 只使用{as_of}之前已知的信息，包括纠纷后来是否升级。\n"
            "- 个人信息在导入时即做假名化处理：姓名、电话号码和身份证号转为加密编码，"
            "文字记录中的号码和人名被遮蔽。模型看不到这些信息。\n"
            "- 民族、宗教等受保护的个人特征从不作为模型特征。\n"
            "- {audited}"
        ),
        "used_and_audited": "模型的特征中包括{used}；下文的公平性审查检查了{audited}。",
        "audited_only": "下文的公平性审查检查了{audited}。",
        "and": "和",
        "h_checked": "## 如何检验",
        "checked": (
            "采用滚动起点的时间验证，共{n_folds}折：每一次，模型只用较早的数据训练，"
            "再在训练时从未见过的较晚日期上检验（{dates}）。表中数字为这些日期上的平均值 ± 标准差。"
            "对照基准是一条调解员可以手工执行的简单规则：近期热线来电最多的纠纷排在最前。"
        ),
        "col_measure": "指标",
        "col_model": "模型",
        "col_rule": "规则",
        "m_precision_at_k": "清单前{top}的精确率（列入的纠纷中实际升级的比例）",
        "m_recall_at_k": "清单前{top}的召回率（全部升级纠纷中被列入的比例）",
        "m_precision_at_list_k": "清单前{k}行的精确率",
        "m_recall_at_list_k": "清单前{k}行的召回率",
        "m_roc_auc": "ROC AUC（排序能力；0.5相当于随机）",
        "m_average_precision": "平均精确率",
        "m_brier": "Brier分数（越低越好）",
        "m_ece": "期望校准误差ECE（越低越好）",
        "lift": "在清单前{top}，模型的精确率是规则的{lift}倍。",
        "grid_intro": "比较过的候选模型（清单前{top}的精确率，各折平均值 ± 标准差），选用的模型已标出：",
        "col_candidate": "候选模型",
        "col_precision_top": "前{top}精确率",
        "col_chosen": "选用",
        "chosen_mark": "✓ 选用",
        "h_meaning": "## 分数的含义",
        "meaning": (
            "分数用{calibration}做过校准，可以当作概率理解：分数为{example}，"
            "意思是过去类似的纠纷中大约每{one_in}件有1件在{horizon}天内升级。"
            "在检验日期上的校准误差（ECE）为{ece}。分数低并不代表保证不升级：低分纠纷中仍有一些会升级。\n\n"
            "- 高风险：分数不低于{high}\n"
            "- 中风险：分数不低于{medium}、低于{high}\n"
            "- 低风险：分数低于{medium}"
        ),
        "h_groups": "## 分组表现",
        "groups": (
            "在检验数据的不同部分上计算同样的指标。组越小，数字越不稳定；"
            "{missing}表示无法计算（例如该组没有升级的纠纷）。"
        ),
        "col_kind": "分组方式",
        "col_subset": "组别",
        "col_n": "纠纷数",
        "col_positives": "升级数",
        "col_precision": "精确率（前{top}）",
        "col_recall": "召回率（前{top}）",
        "col_auc": "ROC AUC",
        "kind_new_vs_ongoing": "新案与在办",
        "kind_district": "区县",
        "kind_category": "纠纷类型",
        "subset_new": "新案",
        "subset_ongoing": "在办",
        "no_rows": "未提供数据。",
        "h_fairness": "## 公平性审查",
        "fairness": (
            "把每个群体与全部纠纷的总体水平比较：被列入清单前{top}的比例、召回率（该群体升级纠纷中被列入的比例）、"
            "误报率（该群体未升级纠纷中被列入的比例）和校准情况（预测升级率 ÷ 实际升级率）。"
            "比值为1.00表示与总体相同；方括号内为不确定性区间。“需关注”列出该群体与总体存在显著差异的指标。\n\n"
            "列入比例不同可能反映真实风险不同：升级更常见的群体被列入得更多，是预期之中的。"
            "召回率、误报率和校准才是检验是否同等对待的指标。"
        ),
        "col_attribute": "属性",
        "col_group": "群体",
        "col_share": "列入比例（比值）",
        "col_fair_recall": "召回率（比值 [区间]）",
        "col_fpr": "误报率（比值 [区间]）",
        "col_pred_obs": "预测 / 实际",
        "col_calibration": "校准比 [区间]",
        "col_status": "结论",
        "status_ok": "无显著差异",
        "status_flagged": "需关注：{metrics}",
        "status_insufficient": "数据不足，未作评估",
        "metric_share_listed": "列入比例",
        "metric_recall": "召回率",
        "metric_fpr": "误报率",
        "metric_calibration": "校准",
        "insufficient": (
            "数据不足：{groups}。这些群体的纠纷或升级案例太少，无法可靠比较，因此没有评估。"
            "本次审查不能说明模型对它们是否公平，它们仍列为需要持续观察的群体。"
        ),
        "group_label": "{group}",
        "group_count": "{name}（{n}件纠纷，{positives}件升级）",
        "tally": "共审查{n_groups}个群体：{ok}个无显著差异，{flagged}个需关注，{insufficient}个数据不足。",
        "verdict": "审查结论（原文）：{verdict}",
        "h_drivers": "## 影响分数的因素",
        "drivers": (
            "下表是模型最依赖的特征：在检验案件上，它们对纠纷分数（对数几率）的平均影响幅度（取绝对值）。"
            "它们说明模型用了什么，而不说明什么导致升级。"
        ),
        "col_feature": "特征",
        "col_described": "在清单理由中的说法",
        "col_detail": "含义（特征词典原文）",
        "col_importance": "重要性",
        "features_used": "模型共使用{n}个特征，均在特征词典中有说明。",
        "h_limits": "## 局限",
        "limits": (
            "- 历史数据反映的是过去的工作方式和反映习惯：群众更常拨打热线的区县看起来风险更高，"
            "不论其真实风险如何。\n"
            "- 没有记录在案的升级，以及从未进入系统的纠纷，模型都看不到。\n"
            "- 文字信号靠词表识别，会漏掉方言、反话和新的说法。\n"
            "- 模型的好坏取决于记录的数据：补录、漏录或错录都会削弱它。\n"
            "- 检验用的是同一数据来源的较晚日期，结果未必适用于其他城市或工作方式改变之后。\n"
            "- 我们持续监测数据漂移：清单的输入和结果受到监测，模型会重新训练并随本说明重新检验。"
        ),
        "h_contact": "## 联系与反馈",
        "contact": (
            "咨询、更正和投诉，请找您的调解员、当地人民调解委员会或司法所；每一项请求都会登记并跟进。"
            "调解员如认为某个分数不对，请在案件中记下理由：重新训练模型前会逐条查看。"
        ),
    },
}

EVENT_NAMES: dict[Language, dict[str, str]] = {
    "en": {
        "violence": "violence",
        "group_incident": "a group incident",
        "litigation": "litigation",
        "lawsuit": "a lawsuit",
        "petition": "a petition",
    },
    "zh": {
        "violence": "民转刑等暴力事件",
        "group_incident": "群体性事件",
        "litigation": "诉讼",
        "lawsuit": "起诉",
        "petition": "信访",
    },
}

CALIBRATION_NAMES: dict[Language, dict[str, str]] = {
    "en": {"sigmoid": "sigmoid (Platt) scaling", "isotonic": "isotonic regression"},
    "zh": {"sigmoid": "Sigmoid（Platt）法", "isotonic": "保序回归法"},
}

ATTRIBUTE_NAMES: dict[Language, dict[str, str]] = {
    "en": {"district": "district", "category": "category", "new_vs_ongoing": "new vs ongoing"},
    "zh": {"district": "区县", "category": "纠纷类型", "new_vs_ongoing": "新案与在办"},
}

SUMMARY_METRICS = VALIDATION_METRICS
SUBSET_KINDS: tuple[str, ...] = tuple(SUBSET_COLUMNS)
FAIRNESS_COLUMNS: tuple[str, ...] = (
    "attribute",
    "group",
    "n",
    "share",
    "fair_recall",
    "fpr",
    "pred_obs",
    "calibration",
    "status",
)


@dataclass(frozen=True)
class ModelCardFacts:
    """Everything the card states, measured elsewhere (training, validation, fairness audit)."""

    model_name: str
    version: str | None
    as_of: date
    estimator: str
    calibration: str
    horizon_days: int
    escalation_events: tuple[str, ...]
    first_snapshot: date
    last_snapshot: date
    n_snapshots: int
    n_rows: int
    base_rate: float
    n_folds: int
    validation_dates: tuple[date, ...]
    list_top_fraction: float
    list_k: int
    band_high: float
    band_medium: float
    summary: dict[str, float]
    grid: pd.DataFrame
    subsets: pd.DataFrame
    fairness: pd.DataFrame
    fairness_verdict: str
    features: tuple[FeatureDoc, ...]
    top_features: pd.DataFrame


# --- number formats ---------------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def percent(value: object) -> str:
    """0.381 -> '38.1%'; missing -> '—'."""
    return MISSING if _missing(value) else f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]


def ratio(value: object) -> str:
    """1.234 -> '1.23'; missing -> '—'."""
    return MISSING if _missing(value) else f"{float(value):.2f}"  # type: ignore[arg-type]


def decimal3(value: object) -> str:
    """0.78123 -> '0.781'; missing -> '—'."""
    return MISSING if _missing(value) else f"{float(value):.3f}"  # type: ignore[arg-type]


def count(value: object) -> str:
    """12345 -> '12,345'; missing -> '—'."""
    return MISSING if _missing(value) else f"{round(float(value)):,}"  # type: ignore[arg-type]


def rate_or_count(value: object) -> str:
    """A rate (at most 1) as a percentage, a larger number (an expected or observed count) with 1 decimal."""
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    return percent(number) if abs(number) <= 1 else f"{number:,.1f}"


def with_interval(value: object, low: object, high: object) -> str:
    """'1.05 [0.80–1.30]', the interval left out when it is missing."""
    if _missing(value):
        return MISSING
    if _missing(low) or _missing(high):
        return ratio(value)
    return f"{ratio(value)} [{ratio(low)}–{ratio(high)}]"


def _mean_std(mean: object, std: object, fmt: Callable[[object], str]) -> str:
    if _missing(mean):
        return MISSING
    return fmt(mean) if _missing(std) else f"{fmt(mean)} ± {fmt(std)}"


def _format_date(day: date, language: Language) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if language == "zh" else day.isoformat()


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    headers = list(headers)
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


# --- sections ---------------------------------------------------------------------------------


class _Card:
    """Renders one card: the facts, the language's phrases, and the values several sections share."""

    def __init__(self, facts: ModelCardFacts, language: Language) -> None:
        self.facts = facts
        self.language = language
        self.t = TEXT[language]
        self.top = f"{facts.list_top_fraction * 100:g}%"
        self.rule = _rule_scorer(facts.summary)

    def say(self, key: str, **values: object) -> str:
        return self.t[key].format(**values)

    def name_of(self, names: dict[Language, dict[str, str]], code: str) -> str:
        return names[self.language].get(code, code)

    def join(self, items: Iterable[str]) -> str:
        return self.t["list_sep"].join(items)

    def join_and(self, items: list[str]) -> str:
        """'a', 'a and b', 'a, b and c' (zh: 'a、b和c')."""
        if len(items) < 2:
            return "".join(items)
        return self.join(items[:-1]) + self.t["and"] + items[-1]

    def date(self, day: date) -> str:
        return _format_date(day, self.language)

    def events(self) -> str:
        return self.join(self.name_of(EVENT_NAMES, e) for e in self.facts.escalation_events)

    def header(self) -> list[str]:
        f = self.facts
        version = f.version or self.t["not_registered"]
        as_of = self.date(f.as_of)
        calibration = self.name_of(CALIBRATION_NAMES, f.calibration)
        return [
            self.say("title", model_name=f.model_name, version=version, as_of=as_of),
            "",
            self.say(
                "meta",
                version=version,
                as_of=as_of,
                estimator=f.estimator,
                calibration=calibration,
                events=self.events(),
                horizon=f.horizon_days,
            ),
        ]

    def about(self) -> list[str]:
        return [self.say("about", events=self.events(), horizon=self.facts.horizon_days)]

    def not_for(self) -> list[str]:
        return [self.t["not_for"]]

    def data(self) -> list[str]:
        f = self.facts
        text = self.say(
            "data",
            n_snapshots=count(f.n_snapshots),
            first=self.date(f.first_snapshot),
            last=self.date(f.last_snapshot),
            n_rows=count(f.n_rows),
            base_rate=percent(f.base_rate),
            horizon=f.horizon_days,
            as_of=self.date(f.as_of),
            audited=self.audited_sentence(),
        )
        return [text]

    def audited_sentence(self) -> str:
        """Which of the audited attributes are also features, and which attributes are audited."""
        attributes = [str(a) for a in pd.unique(self.facts.fairness.get("attribute", pd.Series([])))]
        names = [self.name_of(ATTRIBUTE_NAMES, a) for a in attributes]
        used = [
            self.name_of(ATTRIBUTE_NAMES, a)
            for a in attributes
            if any(doc.name.endswith(f"_{a}") for doc in self.facts.features)
        ]
        audited = self.join_and(names) or MISSING
        if not used:
            return self.say("audited_only", audited=audited)
        return self.say("used_and_audited", used=self.join_and(used), audited=audited)

    def checked(self) -> list[str]:
        f = self.facts
        dates = [self.date(d) for d in f.validation_dates]
        if len(dates) > MAX_LISTED_DATES:
            dates = [dates[0], "…", dates[-1]]
        lines = [self.say("checked", n_folds=f.n_folds, dates=self.join(dates) or MISSING), ""]
        rows = []
        for metric in SUMMARY_METRICS:
            fmt = percent if metric.startswith(("precision", "recall")) else decimal3
            label = self.say(f"m_{metric}", top=self.top, k=f.list_k)
            rows.append(
                [label, self.summary_cell("model", metric, fmt), self.summary_cell(self.rule, metric, fmt)]
            )
        lines += _table([self.t["col_measure"], self.t["col_model"], self.t["col_rule"]], rows)
        lift = f.summary.get(LIFT_KEY)
        if not _missing(lift):
            lines += ["", self.say("lift", top=self.top, lift=ratio(lift))]
        lines += ["", self.say("grid_intro", top=self.top), ""]
        grid_rows = [
            [
                row["candidate"],
                _mean_std(row["precision_at_k"], row.get("precision_at_k_std"), percent),
                self.t["chosen_mark"] if bool(row["chosen"]) else "",
            ]
            for _, row in f.grid.iterrows()
        ]
        headers = [self.t["col_candidate"], self.say("col_precision_top", top=self.top), self.t["col_chosen"]]
        lines += _table(headers, grid_rows) if grid_rows else [self.t["no_rows"]]
        return lines

    def summary_cell(self, scorer: str | None, metric: str, fmt: Callable[[object], str]) -> str:
        if scorer is None:
            return MISSING
        summary = self.facts.summary
        return _mean_std(summary.get(f"{scorer}.{metric}"), summary.get(f"{scorer}.{metric}_std"), fmt)

    def meaning(self) -> list[str]:
        f = self.facts
        return [
            self.say(
                "meaning",
                calibration=self.name_of(CALIBRATION_NAMES, f.calibration),
                example=f"{f.band_high:g}",
                one_in=max(1, round(1 / f.band_high)),
                horizon=f.horizon_days,
                ece=decimal3(f.summary.get("model.ece")),
                high=ratio(f.band_high),
                medium=ratio(f.band_medium),
            )
        ]

    def groups(self) -> list[str]:
        subsets = self.facts.subsets
        lines = [self.say("groups", missing=MISSING), ""]
        if subsets.empty:
            return [*lines, self.t["no_rows"]]
        order = {kind: i for i, kind in enumerate(SUBSET_KINDS)}
        ordered = subsets.assign(_order=subsets["subset_kind"].map(order).fillna(len(order)))
        ordered = ordered.sort_values("_order", kind="stable")
        rows = [
            [
                self.t.get(f"kind_{row['subset_kind']}", row["subset_kind"]),
                self.group_name(row["subset"]),
                count(row["n"]),
                count(row["positives"]),
                percent(row["precision_at_k"]),
                percent(row["recall_at_k"]),
                decimal3(row["roc_auc"]),
            ]
            for _, row in ordered.iterrows()
        ]
        headers = [
            self.t["col_kind"],
            self.t["col_subset"],
            self.t["col_n"],
            self.t["col_positives"],
            self.say("col_precision", top=self.top),
            self.say("col_recall", top=self.top),
            self.t["col_auc"],
        ]
        return lines + _table(headers, rows)

    def status(self, row: pd.Series) -> str:
        status = str(row["status"])
        if status == "ok":
            return self.t["status_ok"]
        if status == "flagged":
            flagged = [m.strip() for m in str(row.get("flagged") or "").split(",") if m.strip()]
            metrics = self.join(self.t.get(f"metric_{m}", m) for m in flagged) or MISSING
            return self.say("status_flagged", metrics=metrics)
        if status == "insufficient":
            return self.t["status_insufficient"]
        return status

    def group_name(self, value: object) -> str:
        return self.t.get(f"subset_{value}", str(value))

    def fairness_group(self, row: pd.Series) -> str:
        attribute = self.name_of(ATTRIBUTE_NAMES, str(row["attribute"]))
        return self.say("group_label", attribute=attribute, group=self.group_name(row["group"]))

    def fairness_row(self, row: pd.Series) -> list[str]:
        def rate_and_ratio(metric: str) -> str:
            ratio_text = with_interval(
                row[f"{metric}_ratio"], row[f"{metric}_ratio_lo"], row[f"{metric}_ratio_hi"]
            )
            return _rate_with_ratio(row[metric], ratio_text)

        return [
            self.name_of(ATTRIBUTE_NAMES, str(row["attribute"])),
            self.group_name(row["group"]),
            count(row["n"]),
            _rate_with_ratio(row["share_listed"], ratio(row["share_listed_ratio"])),
            rate_and_ratio("recall"),
            rate_and_ratio("fpr"),
            f"{rate_or_count(row['predicted'])} / {rate_or_count(row['observed'])}",
            with_interval(row["calibration_ratio"], row["calibration_ratio_lo"], row["calibration_ratio_hi"]),
            self.status(row),
        ]

    def fairness(self) -> list[str]:
        f = self.facts
        table = f.fairness
        lines = [self.say("fairness", top=self.top), ""]
        headers = [self.t[f"col_{c}"] for c in FAIRNESS_COLUMNS]
        rows = [self.fairness_row(row) for _, row in table.iterrows()]
        lines += _table(headers, rows) if rows else [self.t["no_rows"]]
        statuses = table["status"].astype(str) if "status" in table else pd.Series([], dtype=str)
        lines += [
            "",
            self.say(
                "tally",
                n_groups=len(table),
                ok=int((statuses == "ok").sum()),
                flagged=int((statuses == "flagged").sum()),
                insufficient=int((statuses == "insufficient").sum()),
            ),
        ]
        if (statuses == "insufficient").any():
            groups = self.join(
                self.say(
                    "group_count",
                    name=self.fairness_group(row),
                    n=count(row["n"]),
                    positives=count(row["positives"]),
                )
                for _, row in table[statuses == "insufficient"].iterrows()
            )
            lines += ["", self.say("insufficient", groups=groups)]
        lines += ["", self.say("verdict", verdict=f.fairness_verdict)]
        return lines

    def drivers(self) -> list[str]:
        f = self.facts
        by_name = {doc.name: doc for doc in f.features}
        lines = [self.t["drivers"], ""]
        top = f.top_features.head(TOP_FEATURES)
        rows = []
        for _, row in top.iterrows():
            doc = by_name.get(str(row["feature"]))
            if self.language == "zh":
                described = [_reason_phrase(doc) if doc else MISSING, doc.meaning if doc else MISSING]
            else:
                described = [doc.meaning if doc else MISSING, _window(doc)]
            rows.append([f"`{row['feature']}`", *described, ratio(row["importance"])])
        headers = [self.t[c] for c in ("col_feature", "col_described", "col_detail", "col_importance")]
        lines += _table(headers, rows) if rows else [self.t["no_rows"]]
        lines += ["", self.say("features_used", n=len(f.features))]
        return lines

    def limits(self) -> list[str]:
        return [self.t["limits"]]

    def contact(self) -> list[str]:
        return [self.t["contact"]]


def _rate_with_ratio(rate: object, ratio_text: str) -> str:
    """'27.0% (1.05 [0.91–1.21])'; the bracket left out when the ratio is missing."""
    return percent(rate) if ratio_text == MISSING else f"{percent(rate)} ({ratio_text})"


def _rule_scorer(summary: dict[str, float]) -> str | None:
    """The rule baseline's key prefix: 'rule', or else the one scorer named rule_* (e.g. rule_calls_7d)."""
    scorers = {key.split(".", 1)[0] for key in summary if "." in key}
    if "rule" in scorers:
        return "rule"
    named = sorted(s for s in scorers if s.startswith("rule"))
    return named[0] if len(named) == 1 else None


def _reason_phrase(doc: FeatureDoc) -> str:
    """The Chinese reason sentence with its value left open: N for a number, …… for a category."""
    return doc.reason_zh.replace("{value}", "N" if doc.kind == "numeric" else "……")


def _window(doc: FeatureDoc | None) -> str:
    return MISSING if doc is None or doc.window in ("", "-") else doc.window


def model_card_markdown(facts: ModelCardFacts, language: Language = "zh") -> str:
    """The model card as Markdown, in Chinese ("zh") or English ("en"); same sections in both."""
    card = _Card(facts, language)
    lines = card.header()
    for section in SECTIONS:
        lines += ["", card.t[f"h_{section}"], "", *getattr(card, section)()]
    return "\n".join(lines) + "\n"
