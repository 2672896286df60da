"""How query results are shown: labelled columns, translated values, short summaries, export files; stored
texts as plain text wherever Streamlit would read Markdown, and exports no spreadsheet runs as formulas."""

from __future__ import annotations

import io
import re

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
}
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


def localise(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A frame with coded values translated and column headings in the language."""
    shown = frame.copy()
    for column, prefix in VALUE_PREFIXES.items():
        if column in shown.columns:
            shown[column] = shown[column].map(lambda code, p=prefix: words.get(f"{p}{code}", code))
    return shown.rename(columns={c: words.get(c, c) for c in shown.columns})


def list_table(
    frame: pd.DataFrame, words: dict[str, str], columns: tuple[str, ...] = LIST_SHOWN
) -> pd.DataFrame:
    """The list as analysts read it: chosen columns, done-so-far in words, labels in the language (the
    surging grievances a case belongs to when the frame has them)."""
    shown = frame.assign(
        done_so_far=done_so_far(frame, words),
        town=frame["town"].fillna(""),
        grievance=frame["grievance"] if "grievance" in frame.columns else "",
    )
    return localise(shown[list(columns)], words)


def grievance_table(frame: pd.DataFrame, words: dict[str, str], days: int = 7) -> pd.DataFrame:
    """The emerging grievances as analysts read them: surges flagged, the kind of thing and the dates in
    words, labels in the language (the prior window's length in its heading)."""
    shown = frame.assign(
        surge=frame["surge"].map({True: words["surge_flag"], False: ""}).astype(object),
        first_seen=frame["first_seen"].dt.strftime("%Y-%m-%d").fillna("").astype(object),
        category=frame["category"].fillna(""),
    )
    return localise(
        shown[list(GRIEVANCE_SHOWN)], {**words, "prior_calls": words["prior_calls"].format(days=days)}
    )


def audit_table(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """The audit log as admins read it: events in words, labels in the language."""
    shown = frame.rename(columns={"event": "audit_event", "address": "audit_address", "user_name": "user"})
    return localise(shown.assign(user=shown["user"].fillna("")), words)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV that Excel opens correctly (UTF-8 with BOM), no cell read as a formula. Rows end in
    CRLF (RFC 4180), so a cell holding a bare CR is quoted instead of starting a row of its own."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def excel_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as an .xlsx workbook, no cell written as a formula."""
    buffer = io.BytesIO()
    neutralised(frame).to_excel(buffer, index=False)
    return buffer.getvalue()
