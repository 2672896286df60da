"""The settings by group: every setting in one group, the reference page current, `fengqiao settings`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from contracts.settings_groups import SETTING_GROUPS, settings_markdown
from pipelines.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_exactly_one_group() -> None:
    grouped = [name for _, _, names in SETTING_GROUPS for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields)
    assert len(grouped) == len(set(grouped))


def test_every_setting_says_what_it_is_for() -> None:
    assert [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()] == []


def test_settings_page_is_current() -> None:
    """docs/settings.md is what `fengqiao settings --markdown` writes for the settings now."""
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == settings_markdown(), "run `fengqiao settings --markdown docs/settings.md` and commit it"


def test_the_command_shows_values_in_effect_and_never_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", "do-not-print-this-key")
    monkeypatch.setenv("FENGQIAO_LIST_K", "37")
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "settings"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "do-not-print-this-key" not in result.output
    line = next(ln for ln in result.output.splitlines() if " list_k " in ln)
    assert "37" in line and "100" in line  # in effect, and the default
    key_line = next(ln for ln in result.output.splitlines() if " pseudonym_key " in ln)
    assert "(set)" in key_line
    assert "存储与输入 Store and inputs" in result.output
