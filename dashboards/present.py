"""How query results are shown: labelled columns, translated values, amounts and dates formatted, missing
values blank, short summaries, how old the newest list is, export files; stored texts as plain text wherever
Streamlit would read Markdown, and exports no spreadsheet runs as formulas."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from contracts.spreadsheet import neutralised

# Characters that start Markdown (or Streamlit's own :colour[...] / :icon: / $math$) anywhere in a line;
# ':' and '@' also break autolinks (http://, mailto). Each is an ASCII punctuation mark, which CommonMark
# lets a backslash turn into the plain character.
_INLINE = re.compile(r"([\\`*_\[\]<>!$~|:@&{}#])")
# What starts a block at the beginning of a line: a list item, a heading, a quote, a setext rule.
_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d+(?=[.)]))", re.MULTILINE)
_WWW = re.compile(r"(?i)\b(www)\.")

# Columns whose values are codes with a label of their own: label key = prefix + value.
VALUE_PREFIXES = {
    "band": "band_",
    "case_age": "age_",
    "action": "action_",
    "last_action": "action_",
    "kind": "kind_",
    "what": "what_",
    "thing_kind": "thing_",
    "audit_event": "event_",
    "source": "source_",
    "category": "category_",
}
DAY = "%Y-%m-%d"
MINUTE = "%Y-%m-%d %H:%M"
# What splits a list's reasons text into its reasons (the Chinese and the English separator).
_REASON_SPLIT = re.compile(r"[；;]\s*")
# The sections of a reasons text (models.explain.compose): what raised the score, then the labelled ones.
_SECTION_SPLIT = re.compile(r"。\s*|\.\s+(?=(?:Lowers the risk|Note): )")
_SECTION_LABEL = re.compile(r"降低风险：|注意：|Lowers the risk: |Note: ")
# Characters a case id may not carry as they are into a link's query value.
_URL_UNSAFE = set('%&#+=?/\\:"<>`{}|^[] ')
LIST_SHOWN = (
    "rank",
    "case_id",
    "district",
    "town",
    "category",
    "opened_at",
    "case_age",
    "score",
    "band",
    "grievance",
    "reasons",
    "done_so_far",
)
GRIEVANCE_SHOWN = (
    "surge",
    "thing",
    "thing_kind",
    "district",
    "category",
    "distinct_callers",
    "new_callers",
    "calls",
    "prior_calls",
    "growth",
    "cases",
    "open_on_list",
    "first_seen",
    "surge_reason",
    "summary",
)
# A grievance's open cases as listed that day.
GRIEVANCE_CASES_SHOWN = (
    "rank",
    "case_id",
    "town",
    "category",
    "case_age",
    "score",
    "band",
    "reasons",
    "done_so_far",
)


def _escape_line_start(match: re.Match[str]) -> str:
    """A list marker or rule at a line's start escaped ('1.' as '1\\.': a digit cannot be escaped)."""
    indent, mark = match.groups()
    return f"{indent}{mark}\\" if mark[0].isdigit() else f"{indent}\\{mark}"


def plain(text: object) -> str:
    """A stored text escaped so that Markdown shows it as written: no link, image, HTML, formatting."""
    escaped = _INLINE.sub(r"\\\1", str(text))
    escaped = _WWW.sub(r"\1\\.", escaped)
    return _LINE_START.sub(_escape_line_start, escaped)


def done_so_far(frame: pd.DataFrame, words: dict[str, str]) -> pd.Series:
    """'latest action (date, by) ×n' per row of a list with feedback, empty where nothing was done."""
    has = frame["actions"] > 0
    text = pd.Series("", index=frame.index, dtype="object")
    if has.any():
        rows = frame[has]
        action = rows["last_action"].map(lambda code: words.get(f"action_{code}", code))
        when = pd.to_datetime(rows["last_action_at"]).dt.strftime("%m-%d")
        text[has] = action + " (" + when + ", " + rows["last_user"] + ") ×" + rows["actions"].astype(str)
    return text


def money(value: object) -> str:
    """An amount in yuan as people write it: '¥209,500', '¥1,234.50'; blank when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    amount = float(value)  # type: ignore[arg-type]
    return f"¥{amount:,.0f}" if amount == round(amount) else f"¥{amount:,.2f}"


def when(values: pd.Series, pattern: str = DAY) -> pd.Series:
    """Dates or instants as text in the pattern; blank where missing."""
    return pd.to_datetime(values).dt.strftime(pattern).fillna("").astype(object)


def blank(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every missing text cell blank (never 'None' or 'nan')."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column]):
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return shown


def localise(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A frame with coded values translated, missing texts blank and column headings in the language."""
    shown = blank(frame)
    for column, prefix in VALUE_PREFIXES.items():
        if column in shown.columns:
            shown[column] = shown[column].map(lambda code, p=prefix: words.get(f"{p}{code}", code))
    return shown.rename(columns={c: words.get(c, c) for c in shown.columns})


def reason_items(text: object) -> list[str]:
    """A list's reasons text as its separate reasons (none for a missing or empty text); a reason of the
    labelled sections (what lowered the score, notes) keeps its section's label."""
    if not isinstance(text, str):
        return []
    items = []
    for section in _SECTION_SPLIT.split(text):
        label = _SECTION_LABEL.match(section)
        prefix = label.group(0) if label else ""
        body = section[len(prefix) :]
        items += [prefix + item.strip() for item in _REASON_SPLIT.split(body) if item.strip()]
    return items


def case_link(case_id: str) -> str:
    """The case page's address for a case, relative to the app (characters that would break it escaped)."""
    value = "".join(f"%{ord(c):02X}" if c in _URL_UNSAFE or not c.isprintable() else c for c in case_id)
    return f"case?case={value}"


def list_table(
    frame: pd.DataFrame, words: dict[str, str], columns: tuple[str, ...] = LIST_SHOWN
) -> pd.DataFrame:
    """The list as analysts read it: chosen columns, done-so-far in words, labels in the language (the
    surging grievances a case belongs to when the frame has them)."""
    shown = frame.assign(
        done_so_far=done_so_far(frame, words),
        opened_at=when(frame["opened_at"]),
        grievance=frame["grievance"] if "grievance" in frame.columns else "",
    )
    return localise(shown[list(columns)], words)


def grievance_table(frame: pd.DataFrame, words: dict[str, str], days: int = 7) -> pd.DataFrame:
    """The emerging grievances as analysts read them: surges flagged, the kind of thing and the dates in
    words, labels in the language (the prior window's length in its heading)."""
    shown = frame.assign(
        surge=frame["surge"].map({True: words["surge_flag"], False: ""}).astype(object),
        first_seen=when(frame["first_seen"]),
    )
    return localise(
        shown[list(GRIEVANCE_SHOWN)], {**words, "prior_calls": words["prior_calls"].format(days=days)}
    )


def audit_table(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """The audit log as admins read it: events in words, times to the second, labels in the language."""
    shown = frame.rename(columns={"event": "audit_event", "address": "audit_address", "user_name": "user"})
    return localise(shown.assign(at=when(shown["at"], "%Y-%m-%d %H:%M:%S")), words)


def profile_cells(
    profile: pd.Series, words: dict[str, str], fields: tuple[str, ...]
) -> list[tuple[str, str]]:
    """A case's registered fields as (label, text): source and category in words, the opening date, the
    amount in yuan, counts as whole numbers; blank where missing."""
    cells = []
    for name in fields:
        value: Any = profile[name]
        if name == "amount":
            text = money(value)
        elif pd.isna(value):
            text = ""
        elif isinstance(value, pd.Timestamp):
            text = value.strftime(DAY)
        elif isinstance(value, float) and value == round(value):
            text = str(int(value))
        else:
            text = words.get(f"{VALUE_PREFIXES.get(name, '')}{value}", str(value))
        cells.append((words[name], text))
    return cells


def timeline_table(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A case's events and calls as analysts read them: newest first, to the minute, kinds and event types in
    words, empty texts blank (the district column left out)."""
    ordered = frame.sort_values("at", ascending=False, kind="stable", ignore_index=True)
    shown = ordered.assign(at=when(ordered["at"], MINUTE))
    return localise(shown[["at", "kind", "what", "text"]], words)


def history_table(history: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A case's place on past lists, newest first: date, rank, score, band in words, model version."""
    ordered = history.sort_values("as_of", ascending=False, ignore_index=True)
    shown = ordered[["as_of", "rank", "score", "band", "model_version"]].assign(as_of=when(ordered["as_of"]))
    return localise(shown, words)


def feedback_table(done: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """What was done about a case (newest first as given): when, by whom, the action in words, the note
    (blank when none) and the list it was recorded against."""
    shown = done[["recorded_at", "user_name", "action", "note", "list_as_of"]].rename(
        columns={"user_name": "user"}
    )
    shown = shown.assign(recorded_at=when(shown["recorded_at"], MINUTE), list_as_of=when(shown["list_as_of"]))
    return localise(shown, words)


@dataclass(frozen=True)
class Staleness:
    """How far the newest list is behind today, and why: its day's list was held (or its run failed), no
    model scored it, or no daily run has published since."""

    as_of: date
    days: int
    why: str  # "held", "no_model" or "no_run"
    held: str = ""  # the day whose list was held
    reasons: str = ""  # why it was held (the daily run's own words)
    last_run: str = ""  # the latest daily run's day, when it published no list


def staleness(
    pointer: dict[str, Any] | None, last_run: tuple[str, str] | None, today: date
) -> Staleness | None:
    """How old the list the `latest` pointer names is on `today`, and why (None when it is today's, or when
    there is no list at all). `last_run` is the newest daily-run report's (day, status), if any."""
    if not pointer:
        return None
    as_of = date.fromisoformat(str(pointer["as_of"]))
    days = (today - as_of).days
    if days <= 0:
        return None
    held = pointer.get("held") or {}
    if pointer.get("stale") and held:
        reasons = " ".join(str(reason) for reason in held.get("reasons", []))
        return Staleness(as_of, days, "held", str(held.get("as_of", "")), reasons)
    if last_run is not None and last_run[0] > as_of.isoformat() and last_run[1] == "no_model":
        return Staleness(as_of, days, "no_model", last_run=last_run[0])
    return Staleness(as_of, days, "no_run")


def staleness_text(stale: Staleness, words: dict[str, str]) -> str:
    """The notice every page shows for a stale list, in plain text (stored reasons escaped for Markdown)."""
    age = words["stale_age"].format(as_of=stale.as_of.isoformat(), days=stale.days)
    why = words[f"stale_why_{stale.why}"].format(
        held=plain(stale.held), reasons=plain(stale.reasons), last_run=stale.last_run, as_of=stale.as_of
    )
    return f"{age} {why}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV that Excel opens correctly (UTF-8 with BOM), no cell read as a formula. Rows end in
    CRLF (RFC 4180), so a cell holding a bare CR is quoted instead of starting a row of its own."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def excel_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as an .xlsx workbook, no cell written as a formula."""
    buffer = io.BytesIO()
    neutralised(frame).to_excel(buffer, index=False)
    return buffer.getvalue()
