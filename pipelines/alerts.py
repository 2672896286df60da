"""Alerts to operators: a JSON POST to the configured webhook; an alert that fails never fails a run."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

log = logging.getLogger(__name__)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def send_alert(webhook_url: SecretStr | str | None, event: str, as_of: str, details: dict[str, Any]) -> bool:
    """POST {"event", "as_of", "details"} to the webhook; whether it was accepted (False if none set).

    A failure is logged with the webhook's scheme and host only: its path and query often carry a
    token (``?access_token=...``)."""
    url = webhook_url.get_secret_value() if isinstance(webhook_url, SecretStr) else webhook_url
    if not url:
        return False
    try:
        response = httpx.post(
            url,
            json={"source": "fengqiao", "event": event, "as_of": as_of, "details": details},
            timeout=10,
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        log.warning(
            "alert '%s' for %s could not be sent to %s: %s", event, as_of, origin(url), _without_urls(error)
        )
        return False
    return True


def origin(url: str) -> str:
    """A URL's scheme and host (and port), nothing that may be secret: no user, path or query."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable URL)"
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def _without_urls(error: httpx.HTTPError) -> str:
    """The error's type and text with every URL in it cut to its scheme and host."""
    text = _URL.sub(lambda match: origin(match.group(0)), str(error))
    return f"{type(error).__name__}: {text}"
