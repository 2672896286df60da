"""Closed vocabularies of the contract: event types, categories, sources, channels, record kinds."""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    """The three input record kinds."""

    CASES = "cases"
    CASE_EVENTS = "case_events"
    HOTLINE = "hotline"


class EventType(StrEnum):
    """Event types of a case's status history."""

    REGISTERED = "registered"
    ASSIGNED = "assigned"
    VISIT = "visit"
    MEDIATION_SESSION = "mediation_session"
    MEDIATION_FAILED = "mediation_failed"
    MEDIATED = "mediated"
    AGREEMENT_BREACHED = "agreement_breached"
    REFERRED = "referred"
    REOPENED = "reopened"
    CLOSED = "closed"
    VIOLENCE = "violence"
    GROUP_INCIDENT = "group_incident"
    LITIGATION = "litigation"


DEFAULT_ESCALATION_EVENTS: tuple[EventType, ...] = (
    EventType.VIOLENCE,
    EventType.GROUP_INCIDENT,
    EventType.LITIGATION,
)

# Example categories named by the contract; category is an open string field, these are the usual ones.
CATEGORIES: tuple[str, ...] = (
    "邻里纠纷",
    "婚姻家庭",
    "劳资纠纷",
    "土地山林",
    "征地拆迁",
    "物业纠纷",
    "消费纠纷",
    "医疗纠纷",
    "交通事故",
    "其他",
)

SOURCES: tuple[str, ...] = (
    "hotline",
    "police",
    "mediation_committee",
    "court",
    "walk_in",
    "grid_worker",
)

CHANNELS: tuple[str, ...] = ("phone", "web", "app", "wechat")
