"""`fengqiao users add/list/remove` and `fengqiao dashboard`: hashed passwords, never an argument."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from pipelines import cli_dashboard
from pipelines.cli import app
from pipelines.cli_dashboard import DASHBOARD_SETTINGS, dashboard_command
from tests.builders import call_row, case_row, stored
from warehouse.accounts import authenticate, similar_districts, verify_password
from warehouse.dashboard_tables import users
from warehouse.store import Warehouse, append
from warehouse.tables import INPUT_TABLES

runner = CliRunner()


def _store_districts(settings: Settings) -> None:
    """Cases in 南城区 and 东湖区, and a call in 北山县 (a district named by calls alone counts too)."""
    warehouse = Warehouse(settings.warehouse_url)
    with warehouse.transaction() as connection:
        cases = [case_row("S1", "2025-03-01 09:00", district="南城区"), case_row("E1", "2025-03-02 09:00")]
        append(
            connection,
            INPUT_TABLES[RecordKind.CASES],
            stored(RecordKind.CASES, cases).assign(ingested_at=pd.Timestamp("2025-03-03")),
        )
        calls = [call_row("C1", "2025-03-01 10:00", district="北山县")]
        append(
            connection,
            INPUT_TABLES[RecordKind.HOTLINE],
            stored(RecordKind.HOTLINE, calls).assign(ingested_at=pd.Timestamp("2025-03-03")),
        )
    warehouse.engine.dispose()


def test_users_add_list_remove(settings: Settings) -> None:
    _store_districts(settings)
    home = ["--home", str(settings.home)]
    added = runner.invoke(
        app,
        [*home, "users", "add", "ana", "--role", "analyst", "--district", "东湖区"],
        input="s3cret-pass\n",
    )
    assert added.exit_code == 0, added.output
    assert "s3cret-pass" not in added.output
    stored = Warehouse(settings.warehouse_url).read_table(users)
    assert stored["name"].tolist() == ["ana"]
    assert stored["password_hash"].iloc[0].startswith("scrypt$")
    assert "s3cret-pass" not in stored["password_hash"].iloc[0]
    assert json.loads(stored["districts"].iloc[0]) == ["东湖区"]
    with Warehouse(settings.warehouse_url).engine.connect() as connection:
        assert authenticate(connection, "ana", "s3cret-pass").districts == ("东湖区",)
        assert authenticate(connection, "ana", "wrong-pass") is None
        assert authenticate(connection, "nobody", "s3cret-pass") is None

    listed = runner.invoke(app, [*home, "users", "list"])
    assert "ana" in listed.output and "analyst" in listed.output and "scrypt" not in listed.output
    again = runner.invoke(app, [*home, "users", "add", "ana", "--role", "viewer"], input="another-pass\n")
    assert again.exit_code == 1 and "exists already" in again.output
    assert runner.invoke(app, [*home, "users", "remove", "ana"]).exit_code == 0
    assert runner.invoke(app, [*home, "users", "remove", "ana"]).exit_code == 1


@pytest.mark.parametrize(
    ("arguments", "password", "message"),
    [
        (["bob", "--role", "analyst"], "long-enough-1", "at least one --district"),
        (["bob", "--role", "admin", "--district", "东湖区"], "long-enough-1", "every district"),
        (["bob", "--role", "viewer"], "short", "at least 8 characters"),
        (["bob", "--role", "boss"], "long-enough-1", "Invalid value"),
    ],
)
def test_users_add_refuses_unusable_accounts(
    settings: Settings, arguments: list[str], password: str, message: str
) -> None:
    result = runner.invoke(
        app, ["--home", str(settings.home), "users", "add", *arguments], input=password + "\n"
    )
    assert result.exit_code != 0 and message in result.output


def test_users_add_refuses_a_district_the_store_does_not_know(settings: Settings) -> None:
    """A typo (南成区 for 南城区) would leave an analyst an empty list: refused, with the close names."""
    _store_districts(settings)
    home = ["--home", str(settings.home)]

    def add(name: str, *more: str) -> object:
        return runner.invoke(
            app, [*home, "users", "add", name, "--role", "analyst", *more], input="long-enough-1\n"
        )

    typo = add("li", "--district", "南成区", "--district", "东湖区")
    assert typo.exit_code == 1
    assert "unknown district '南成区' (did you mean 南城区?)" in " ".join(typo.output.split())
    assert "--new-district" in typo.output and "东湖区'" not in typo.output
    assert Warehouse(settings.warehouse_url).read_table(users).empty
    assert add("bo", "--district", "北山县").exit_code == 0  # named by calls alone
    assert add("cy", "--district", "西郊区", "--new-district").exit_code == 0
    stored_users = Warehouse(settings.warehouse_url).read_table(users).set_index("name")
    assert json.loads(stored_users.loc["cy", "districts"]) == ["西郊区"]


def test_an_empty_store_refuses_every_district_until_told_it_is_new(settings: Settings) -> None:
    home = ["--home", str(settings.home)]
    refused = runner.invoke(
        app,
        [*home, "users", "add", "li", "--role", "viewer", "--district", "南城区"],
        input="long-enough-1\n",
    )
    assert refused.exit_code == 1 and "names no district yet" in " ".join(refused.output.split())
    accepted = runner.invoke(
        app,
        [*home, "users", "add", "li", "--role", "viewer", "--district", "南城区", "--new-district"],
        input="long-enough-1\n",
    )
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("南成区", ["南城区"]), ("东湖", ["东湖区"]), ("Nancheng", []), ("南城区", ["南城区"])],
)
def test_similar_districts(typed: str, expected: list[str]) -> None:
    assert similar_districts(typed, ["南城区", "东湖区", "北山县"]) == expected


def test_salts_differ_and_hashes_verify() -> None:
    from warehouse.accounts import hash_password

    first, second = hash_password("same-password"), hash_password("same-password")
    assert first != second
    assert verify_password("same-password", first) and not verify_password("other", first)
    assert not verify_password("same-password", "garbage")


def test_dashboard_runs_streamlit_with_the_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(cli_dashboard.os, "execve", lambda path, command, env: calls.append((command, env)))
    result = runner.invoke(
        app, ["--home", str(settings.home), "--language", "en", "dashboard", "--port", "8611"]
    )
    assert result.exit_code == 0, result.output
    command, env = calls[0]
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]).name == "app.py"
    assert Path(command[4]).exists() and command[command.index("--server.port") + 1] == "8611"
    assert env["FENGQIAO_HOME"] == str(settings.home) and env["FENGQIAO_LANGUAGE"] == "en"
    assert "FENGQIAO_PSEUDONYM_KEY" not in settings.environment(DASHBOARD_SETTINGS)
    for name, value in settings.environment(DASHBOARD_SETTINGS).items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings()
    assert rebuilt.escalation_events == settings.escalation_events and rebuilt.home == settings.home
    assert "--browser.gatherUsageStats" in dashboard_command(1, "localhost")
