"""The feature dictionary: what each feature means, its window, and how it reads as a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["zh", "en"]


@dataclass(frozen=True)
class FeatureDoc:
    """One feature: its name, meaning, window, kind, and reason sentences (`{value}` is filled in)."""

    name: str
    meaning: str
    window: str
    kind: Literal["numeric", "categorical", "flag"]
    reason_zh: str
    reason_en: str

    def reason(self, value: object, language: Language) -> str:
        """The feature and its value as a sentence a mediator understands."""
        template = self.reason_zh if language == "zh" else self.reason_en
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, float):
            value = round(value, 1)
        if isinstance(value, int) and abs(value) >= 10_000:
            value = f"{value:,}"
        return template.format(value=value)
