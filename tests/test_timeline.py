"""A district over time and by category, counted from hand-made sources."""

from __future__ import annotations

import pandas as pd
import pytest

from features.sources import Sources
from features.timeline import TIMELINE_COLUMNS, district_categories, district_timeline, districts
from tests.builders import call_row, case_row, event_row, make_sources


def city() -> Sources:
    """Two cases in 东湖区 (one escalates, one closes), one in 江北区; calls in both districts."""
    return Sources.ordered(
        **vars(
            make_sources(
                cases=[
                    case_row("A", "2026-03-02 09:00", amount="1000"),
                    case_row("B", "2026-03-10 09:00", category="邻里纠纷"),
                    case_row("C", "2026-03-03 09:00", district="江北区"),
                ],
                events=[
                    event_row("A", "2026-03-11 10:00", "violence"),
                    event_row("A", "2026-03-12 10:00", "litigation"),
                    event_row("B", "2026-03-12 10:00", "closed"),
                    event_row("C", "2026-03-04 10:00", "group_incident"),
                ],
                hotline=[
                    call_row("H1", "2026-03-03 08:00"),
                    call_row("H2", "2026-03-11 08:00", case_id="A"),
                    call_row("H3", "2026-03-04 08:00", district="江北区"),
                ],
            )
        )
    )


def test_districts_most_cases_first() -> None:
    assert districts(city()) == ["东湖区", "江北区"]


def test_weekly_timeline_counts_the_district_only() -> None:
    timeline = district_timeline(city(), "东湖区")
    assert list(timeline.index) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")]
    assert set(TIMELINE_COLUMNS) <= set(timeline.columns)
    first, second = timeline.iloc[0], timeline.iloc[1]
    assert (first["opened"], second["opened"]) == (1, 1)
    assert (first["open_at_start"], second["open_at_start"]) == (0, 1)  # A opened on Monday 09:00
    assert (first["escalations"], second["escalations"]) == (0, 2)
    assert second["escalation_violence"] == 1 and second["escalation_litigation"] == 1
    assert timeline["escalation_group_incident"].sum() == 0  # C's is in 江北区
    assert second["closed"] == 1
    assert (first["hotline_calls"], second["hotline_calls"]) == (1, 1)
    assert (first["hotline_linked"], second["hotline_linked"]) == (0, 1)


def test_daily_timeline_and_chosen_escalation_types() -> None:
    timeline = district_timeline(city(), "东湖区", freq="D", escalation_types=["litigation"])
    assert timeline.index[0] == pd.Timestamp("2026-03-02") and timeline.index[-1] == pd.Timestamp(
        "2026-03-12"
    )
    assert timeline["escalations"].sum() == 1
    assert [c for c in timeline.columns if c.startswith("escalation_")] == ["escalation_litigation"]
    assert timeline.loc[pd.Timestamp("2026-03-11"), "open_at_start"] == 2


def test_categories_of_a_district() -> None:
    table = district_categories(city(), "东湖区")
    assert table.loc["劳资纠纷", "escalated"] == 1 and table.loc["劳资纠纷", "escalated_share"] == 1.0
    assert table.loc["劳资纠纷", "linked_calls"] == 1 and table.loc["劳资纠纷", "median_amount"] == 1000
    assert table.loc["邻里纠纷", "escalated"] == 0 and table.loc["邻里纠纷", "cases"] == 1


def test_unknown_district_is_explained() -> None:
    with pytest.raises(ValueError, match="known districts"):
        district_timeline(city(), "无此区")
    with pytest.raises(ValueError, match="known districts"):
        district_categories(city(), "无此区")


# ---------------------------------------------------------------- a case's timeline as the dashboard shows it


def test_a_case_timeline_is_shown_newest_first_in_words_with_empty_texts_blank() -> None:
    from dashboards.labels import EN, ZH
    from dashboards.present import timeline_table

    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-03-02 09:00", "2026-03-11 10:00", "2026-03-05 08:30", None]),
            "kind": ["event", "event", "call", "event"],
            "what": ["registered", "violence", "wechat", "an_unknown_code"],
            "text": [None, "打伤", float("nan"), "某事"],
            "district": ["东湖区"] * 4,
        }
    )
    shown = timeline_table(frame, EN)
    assert list(shown.columns) == [EN["at"], EN["kind"], EN["what"], EN["text"]]
    assert shown[EN["at"]].tolist() == ["2026-03-11 10:00", "2026-03-05 08:30", "2026-03-02 09:00", ""]
    assert shown[EN["kind"]].tolist() == ["event", "call", "event", "event"]
    assert shown[EN["what"]].tolist() == ["violence", "WeChat", "registered", "an_unknown_code"]
    assert shown[EN["text"]].tolist() == ["打伤", "", "", "某事"]
    assert timeline_table(frame, ZH)[ZH["what"]].tolist() == ["民转刑", "微信", "受理登记", "an_unknown_code"]


@pytest.mark.parametrize(
    ("amount", "text"),
    [(209500.0, "¥209,500"), (1234.5, "¥1,234.50"), (0, "¥0"), (None, ""), (float("nan"), "")],
)
def test_amounts_are_written_in_yuan(amount: float | None, text: str) -> None:
    from dashboards.present import money

    assert money(amount) == text
