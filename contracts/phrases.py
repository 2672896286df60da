"""Phrase tables: the words shown to users (the dashboard's labels, the model card's wording), one TOML
file per table and language beside the package that shows them (`<table>.<language>.toml`)."""

from __future__ import annotations

import tomllib
from importlib import resources


def read_phrases(package: str, table: str, language: str) -> dict[str, dict[str, str]]:
    """The sections of a phrase file, each its phrases by key, in file order."""
    name = f"{table}.{language}.toml"
    sections = tomllib.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))
    for section, phrases in sections.items():
        if not isinstance(phrases, dict) or not all(isinstance(p, str) for p in phrases.values()):
            raise ValueError(f"{package}/{name}: [{section}] must hold phrases (strings) only")
    return sections
