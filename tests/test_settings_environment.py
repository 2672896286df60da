"""The settings as FENGQIAO_* variables: one rule for the dashboard, served runs and deployments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.settings import Settings
from pipelines.cli_dashboard import DASHBOARD_SETTINGS
from pipelines.deploy import deployment_environment


def test_the_dashboard_served_runs_and_deployments_get_the_same_variables() -> None:
    chosen = Settings(
        home=Path("/tmp/chosen"),
        escalation_events=("violence",),
        language="en",
        dormant_days=90,
        logistic_c_grid=(0.1,),
        pseudonym_key="k",
    )
    served = chosen.environment()
    dashboard = chosen.environment(DASHBOARD_SETTINGS)
    deployed, removed = deployment_environment(chosen)
    assert set(dashboard) == {f"FENGQIAO_{name.upper()}" for name in DASHBOARD_SETTINGS}
    assert dashboard == {name: served[name] for name in dashboard}
    assert deployed == served and removed == ()
    assert served["FENGQIAO_ESCALATION_EVENTS"] == json.dumps(["violence"])
    assert served["FENGQIAO_LOGISTIC_C_GRID"] == "[0.1]" and served["FENGQIAO_DORMANT_DAYS"] == "90"
    assert "FENGQIAO_ROUTING_FILE" not in served  # unset: left out, not "None"
    assert "FENGQIAO_PSEUDONYM_KEY" not in served
    assert "FENGQIAO_PSEUDONYM_KEY" not in chosen.environment({"pseudonym_key", "home"})


def test_the_variables_build_the_same_settings_again(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = Settings(home=Path("/tmp/chosen"), horizon_days=60, candidates=("trees",), language="en")
    for name, value in chosen.environment().items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == chosen  # type: ignore[call-arg]


def test_the_alert_webhook_is_a_secret_kept_out_of_variables_and_parameters() -> None:
    hook = "https://oapi.dingtalk.com/robot/send?access_token=SECRET-TOKEN"
    chosen = Settings(home=Path("/tmp/chosen"), alert_webhook_url=hook)
    assert chosen.alert_webhook_url is not None and chosen.alert_webhook_url.get_secret_value() == hook
    assert "FENGQIAO_ALERT_WEBHOOK_URL" not in chosen.environment()
    assert "FENGQIAO_ALERT_WEBHOOK_URL" not in deployment_environment(chosen)[0]
    assert "SECRET-TOKEN" not in json.dumps(chosen.model_dump(mode="json"))  # what Prefect records
    assert "SECRET-TOKEN" not in repr(chosen)
