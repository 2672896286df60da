"""The phrase tables are read from their TOML files: sections and phrases in file order, strings only,
the same keys in every language."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from contracts.phrases import read_phrases


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable package folder for phrase files."""
    folder = tmp_path / "phrasebook"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "phrasebook", raising=False)
    return folder


def test_sections_and_phrases_come_in_file_order(package: Path) -> None:
    (package / "card.zh.toml").write_text(
        '[text]\nz = "第二"\na = """\n多行\n"引号"\\\\"""\n\n[names]\nb = "乙"\n', encoding="utf-8"
    )
    phrases = read_phrases("phrasebook", "card", "zh")
    assert list(phrases) == ["text", "names"]
    assert list(phrases["text"].items()) == [("z", "第二"), ("a", '多行\n"引号"\\')]
    assert phrases["names"] == {"b": "乙"}


@pytest.mark.parametrize("body", ['title = "x"\n', "[text]\nn = 3\n", "[text]\n[text.inner]\nx = 'y'\n"])
def test_anything_but_sections_of_strings_is_refused(package: Path, body: str) -> None:
    (package / "card.en.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=r"card\.en\.toml"):
        read_phrases("phrasebook", "card", "en")


@pytest.mark.parametrize(("package_name", "table"), [("dashboards", "labels"), ("models", "model_card")])
def test_every_language_has_the_same_sections_and_keys_in_the_same_order(
    package_name: str, table: str
) -> None:
    zh, en = (read_phrases(package_name, table, language) for language in ("zh", "en"))
    assert {name: list(keys) for name, keys in zh.items()} == {name: list(keys) for name, keys in en.items()}
