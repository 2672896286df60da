"""Every word the dashboard shows, one dictionary per language (Chinese first, the default), read from
`labels.zh.toml` and `labels.en.toml`."""

from __future__ import annotations

from contracts.phrases import read_phrases

LANGUAGES = ("zh", "en")
ZH: dict[str, str] = read_phrases("dashboards", "labels", "zh")["labels"]
EN: dict[str, str] = read_phrases("dashboards", "labels", "en")["labels"]
LABELS: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}

__all__ = ["EN", "LABELS", "LANGUAGES", "ZH", "labels"]


def labels(language: str) -> dict[str, str]:
    """The labels of a language (Chinese for anything unknown)."""
    return LABELS.get(language, ZH)
