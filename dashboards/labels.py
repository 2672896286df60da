"""Every word the dashboard shows, one dictionary per language (Chinese first, the default)."""

from __future__ import annotations

from dashboards.labels_en import EN
from dashboards.labels_zh import ZH

LANGUAGES = ("zh", "en")
LABELS: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}

__all__ = ["EN", "LABELS", "LANGUAGES", "ZH", "labels"]


def labels(language: str) -> dict[str, str]:
    """The labels of a language (Chinese for anything unknown)."""
    return LABELS.get(language, ZH)
