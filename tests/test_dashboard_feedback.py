"""Feedback is append-only, masked, and allowed only to analysts of the case's district and admins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from dashboards.feedback import record_feedback
from tests.dashboard_home import RAW_ID, RAW_PHONE, SECOND, USERS, build_home
from warehouse.dashboard_tables import feedback
from warehouse.store import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(build_home(tmp_path / "home").warehouse_url)


def test_feedback_is_stored_with_who_when_and_masked_numbers(warehouse: Warehouse) -> None:
    note = f"已联系当事人，电话{RAW_PHONE}，身份证 {RAW_ID}；约定周五调解"
    record_feedback(warehouse, USERS["ana"], "E1", "mediation_scheduled", note, SECOND)
    record_feedback(warehouse, USERS["admin"], "N1", "resolved")
    rows = warehouse.read_table(feedback).sort_values("id")
    assert rows["user_name"].tolist() == ["ana", "admin"]
    assert rows["district"].tolist() == ["东湖区", "江北区"]
    assert rows["note"].iloc[0] == "已联系当事人，电话[电话]，身份证 [身份证号]；约定周五调解"
    assert rows["note"].isna().iloc[1]
    assert rows["recorded_at"].notna().all() and rows["list_as_of"].iloc[0] == SECOND


def test_feedback_cannot_be_changed_or_deleted(warehouse: Warehouse) -> None:
    record_feedback(warehouse, USERS["ana"], "E1", "contacted", "first")
    for statement in (update(feedback).values(note="rewritten"), delete(feedback)):
        with pytest.raises(IntegrityError, match="append-only"), warehouse.transaction() as connection:
            connection.execute(statement)
    assert warehouse.read_table(feedback)["note"].tolist() == ["first"]


@pytest.mark.parametrize(
    ("user", "case_id", "action", "error"),
    [
        ("vic", "E1", "contacted", PermissionError),
        ("ana", "N1", "contacted", PermissionError),
        ("nora", "E1", "resolved", PermissionError),
        ("ana", "E1", "escalated", ValueError),
        ("ana", "nope", "contacted", ValueError),
    ],
)
def test_refused_feedback_stores_nothing(
    warehouse: Warehouse, user: str, case_id: str, action: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        record_feedback(warehouse, USERS[user], case_id, action, "note")
    assert warehouse.read_table(feedback).empty
