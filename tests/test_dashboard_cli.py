"""`fengqiao users add/list/remove` and `fengqiao dashboard`: hashed passwords, never an argument."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from pipelines import cli
from pipelines.cli import app, dashboard_command, dashboard_environment
from warehouse.accounts import authenticate, verify_password
from warehouse.dashboard_tables import users
from warehouse.store import Warehouse

runner = CliRunner()


def test_users_add_list_remove(settings: Settings) -> None:
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
    monkeypatch.setattr(cli.os, "execve", lambda path, command, env: calls.append((command, env)))
    result = runner.invoke(
        app, ["--home", str(settings.home), "--language", "en", "dashboard", "--port", "8611"]
    )
    assert result.exit_code == 0, result.output
    command, env = calls[0]
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]).name == "app.py"
    assert Path(command[4]).exists() and command[command.index("--server.port") + 1] == "8611"
    assert env["FENGQIAO_HOME"] == str(settings.home) and env["FENGQIAO_LANGUAGE"] == "en"
    assert "FENGQIAO_PSEUDONYM_KEY" not in dashboard_environment(settings)
    for name, value in dashboard_environment(settings).items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings()
    assert rebuilt.escalation_events == settings.escalation_events and rebuilt.home == settings.home
    assert "--browser.gatherUsageStats" in dashboard_command(1, "localhost")
