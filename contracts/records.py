"""Pydantic records for the contract's inputs and its output list row (docs/contract.md, executable form).

The input records describe a delivered row before pseudonymisation. Ingest validates whole frames
with the vectorised checks in :mod:`contracts.fields`, which are derived from these models, so the
models stay the single statement of types, requirements and bounds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from contracts.timeparse import parse_datetime
from contracts.vocabulary import EventType, RecordKind

ContractDatetime = Annotated[datetime, BeforeValidator(parse_datetime)]
Text = Annotated[str, Field(min_length=1)]


class Personal:
    """Marker in a field's metadata: the field holds personal data and is pseudonymised at ingest."""


class FreeText:
    """Marker in a field's metadata: free text in which phone and ID numbers are masked at ingest."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class CaseRecord(_Record):
    """One registered dispute."""

    case_id: Text
    opened_at: ContractDatetime
    district: Text
    town: str | None = None
    category: Text
    source: str | None = None
    description: Annotated[str | None, FreeText()] = None
    party_count: Annotated[int | None, Field(ge=1)] = None
    amount: Annotated[float | None, Field(ge=0)] = None
    reporter_name: Annotated[str | None, Personal()] = None
    reporter_phone: Annotated[str | None, Personal()] = None
    reporter_id_number: Annotated[str | None, Personal()] = None
    address: Annotated[str | None, Personal()] = None
    recorded_at: ContractDatetime | None = None


class CaseEventRecord(_Record):
    """One entry of a case's status history."""

    case_id: Text
    event_at: ContractDatetime
    event_type: EventType
    note: Annotated[str | None, FreeText()] = None
    recorded_at: ContractDatetime | None = None


class HotlineRecord(_Record):
    """One citizen call or message to the 12345-style hotline."""

    call_id: Text
    received_at: ContractDatetime
    district: Text
    category: str | None = None
    text: Annotated[str | None, FreeText()] = None
    channel: str | None = None
    case_id: str | None = None
    caller_name: Annotated[str | None, Personal()] = None
    caller_phone: Annotated[str | None, Personal()] = None
    recorded_at: ContractDatetime | None = None


class ListRow(_Record):
    """One row of the published daily risk list."""

    rank: Annotated[int, Field(ge=1)]
    case_id: Text
    district: Text
    town: str | None = None
    category: Text
    opened_at: datetime
    score: Annotated[float, Field(ge=0, le=1)]
    band: Literal["high", "medium", "low"]
    reasons: str
    model_version: Text
    as_of: date


RECORD_MODELS: dict[RecordKind, type[_Record]] = {
    RecordKind.CASES: CaseRecord,
    RecordKind.CASE_EVENTS: CaseEventRecord,
    RecordKind.HOTLINE: HotlineRecord,
}

RECORD_KEYS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.CASES: ("case_id",),
    RecordKind.CASE_EVENTS: ("case_id", "event_at", "event_type"),
    RecordKind.HOTLINE: ("call_id",),
}

EVENT_TIME_FIELD: dict[RecordKind, str] = {
    RecordKind.CASES: "opened_at",
    RecordKind.CASE_EVENTS: "event_at",
    RecordKind.HOTLINE: "received_at",
}

LIST_COLUMNS: tuple[str, ...] = tuple(ListRow.model_fields)


def check_list(frame: pd.DataFrame) -> None:
    """Raise ValueError naming the first list row and field that break the contract's list row."""
    if list(frame.columns) != list(LIST_COLUMNS):
        raise ValueError(
            f"list columns {list(frame.columns)} differ from the contract's {list(LIST_COLUMNS)}"
        )
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for number, row in enumerate(rows, start=1):
        try:
            ListRow.model_validate(row)
        except ValidationError as error:
            first = error.errors()[0]
            raise ValueError(f"list row {number}, field {first['loc'][0]}: {first['msg']}") from error
