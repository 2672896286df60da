"""Alerts to operators: a JSON POST to the configured webhook; an alert that fails never fails a run."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


def send_alert(webhook_url: str, event: str, as_of: str, details: dict[str, Any]) -> bool:
    """POST {"event", "as_of", "details"} to the webhook; whether it was accepted (False if none set)."""
    if not webhook_url:
        return False
    try:
        response = httpx.post(
            webhook_url,
            json={"source": "fengqiao", "event": event, "as_of": as_of, "details": details},
            timeout=10,
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        log.warning("alert '%s' for %s could not be sent: %s", event, as_of, error)
        return False
    return True
