"""The model card: what the model is for, how it was checked, how fair it is, as Markdown (zh or en).

Pure: it renders the facts it is given and adds nothing measured elsewhere. All wording lives in
`model_card.en.toml` and `model_card.zh.toml` (the same keys in both) and is put together by one set of
rendering functions, so the two languages always have the same structure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from contracts.evaluation import LIFT_KEY, VALIDATION_METRICS
from contracts.phrases import read_phrases
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

_PHRASES = {language: read_phrases("models", "model_card", language) for language in ("en", "zh")}
TEXT: dict[Language, dict[str, str]] = {language: p["text"] for language, p in _PHRASES.items()}
EVENT_NAMES: dict[Language, dict[str, str]] = {language: p["event_names"] for language, p in _PHRASES.items()}
CALIBRATION_NAMES: dict[Language, dict[str, str]] = {
    language: p["calibration_names"] for language, p in _PHRASES.items()
}
ATTRIBUTE_NAMES: dict[Language, dict[str, str]] = {
    language: p["attribute_names"] for language, p in _PHRASES.items()
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
