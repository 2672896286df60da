"""The Model and Trends pages: charts drawn in the browser in the user's language, metrics named in words, an
analyst's districts and the city's totals only, the registry read once per model version; and the PNG
artefacts of training drawn with a packaged CJK font."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts, context, queries
from dashboards.labels import EN, ZH, labels
from dashboards.source import DataSource, open_source
from models import fairness_figure as fairness
from models.fairness import fairness_audit
from models.fairness_figure import fairness_figure
from pipelines.train_flow import feature_dictionary
from tests.dashboard_home import EAST, NORTH, USERS, build_home
from tests.test_dashboard_app import rendered
from warehouse.accounts import Account

PAGES = Path(__file__).resolve().parents[1] / "dashboards" / "views"
RAW_NAMES = (
    "folds.precision_at_k_mean",
    "precision_at_k",
    "recall_ratio",
    "share_listed_ratio",
    "n_listed",
    "calibration_ratio",
    "logistic_foundation",
    "roc_auc",
    "history_n_visit",
)
CARD = (
    "# 模型说明\n\n| 分组方式 | 组别 | 纠纷数 |\n|---|---|---|\n"
    f"| 区县 | {EAST} | 5 |\n| 区县 | {NORTH} | 4 |\n| 纠纷类型 | 劳资纠纷 | 9 |\n\n"
    f"审查结论：district={NORTH} (1.75).\n"
)


def _table(frame: pd.DataFrame) -> bytes:
    """A table as MLflow logs it (columns and data)."""
    return json.dumps({"columns": list(frame.columns), "data": frame.to_numpy().tolist()}).encode()


def _fairness() -> pd.DataFrame:
    """An audit with labels: the whole population, both districts (the north too small to judge), a
    category."""
    rows = [
        ("overall", "all", 900, "ok", ""),
        ("district", EAST, 500, "flagged", "recall_ratio,calibration_ratio"),
        ("district", NORTH, 40, "insufficient", ""),
        ("category", "劳资纠纷", 900, "ok", ""),
    ]
    frame = pd.DataFrame(rows, columns=["attribute", "group", "n", "status", "flagged"])
    frame["n_listed"] = [45, 20, 2, 45]
    frame["share_listed"] = frame["n_listed"] / frame["n"]
    frame["share_listed_ratio"] = frame["share_listed"] / 0.05
    frame["positives"] = [90.0, 60.0, 3.0, 90.0]
    for name, values in (("recall", [0.3, 0.2, 0.5, 0.3]), ("fpr", [0.03, 0.02, 0.05, 0.03])):
        frame[name] = values
        frame[f"{name}_ratio"] = frame[name] / values[0]
        frame[f"{name}_ratio_lo"] = frame[f"{name}_ratio"] * 0.9
        frame[f"{name}_ratio_hi"] = frame[f"{name}_ratio"] * 1.1
    frame["predicted"], frame["observed"] = 0.1, frame["positives"] / frame["n"]
    frame["calibration_ratio"] = frame["observed"] / frame["predicted"]
    frame["calibration_ratio_lo"] = frame["calibration_ratio"] * 0.9
    frame["calibration_ratio_hi"] = frame["calibration_ratio"] * 1.1
    return frame


def run_files() -> dict[str, bytes]:
    """A champion's run files as `Registry.run_files` returns them."""
    summary = {
        "model.precision_at_k": 0.39,
        "model.precision_at_k_std": 0.036,
        "rule.precision_at_k": 0.21,
        "rule.precision_at_k_std": 0.04,
        "model.roc_auc": 0.817,
        "rule.roc_auc": 0.673,
        "model.ece": 0.011,
        "lift_precision_at_k_over_rule": 1.8,
        "folds.precision_at_k_mean": 0.39,
    }
    grid = pd.DataFrame(
        [
            ["logistic", "lr", 0.35, 0.03, 0.01, False, "x"],
            ["logistic_foundation", "lr", 0.39, 0.03, 0.01, True, "y"],
        ],
        columns=[
            "candidate",
            "estimator",
            "precision_at_k",
            "precision_at_k_std",
            "precision_at_k_se",
            "chosen",
            "why",
        ],
    )
    subsets = pd.DataFrame(
        [
            ["new_vs_ongoing", "new", 30, 3, 1, 0.5, 0.3, 0.7],
            ["district", EAST, 500, 60, 20, 0.4, 0.2, 0.8],
            ["district", NORTH, 40, 3, 2, 0.5, 0.5, 0.9],
        ],
        columns=[
            "subset_kind",
            "subset",
            "n",
            "positives",
            "listed",
            "precision_at_k",
            "recall_at_k",
            "roc_auc",
        ],
    )
    validation = pd.DataFrame(
        [
            [1, "2025-01-10", "model", 0.4],
            [1, "2025-01-10", "rule", 0.2],
            [2, "2025-02-10", "model", 0.38],
            [2, "2025-02-10", "rule", 0.22],
        ],
        columns=["fold", "as_of", "scorer", "precision_at_k"],
    )
    return {
        "model_card.md": CARD.encode(),
        "model_card.en.md": CARD.replace("模型说明", "Model card").encode(),
        "fengqiao_model.json": json.dumps(
            {"as_of": "2025-02-20", "base_rate": 0.06, "summary": summary}
        ).encode(),
        "model_grid.json": _table(grid),
        "calibration.json": _table(
            pd.DataFrame({"bin": [0, 1], "predicted": [0.02, 0.2], "observed": [0.03, 0.18], "n": [50, 50]})
        ),
        "fairness.json": _table(_fairness()),
        "subsets.json": _table(subsets),
        "precision_by_depth.json": _table(
            pd.DataFrame(
                {
                    "scorer": ["model", "model", "rule", "rule"],
                    "fraction": [0.01, 0.02] * 2,
                    "precision": [0.5, 0.4, 0.3, 0.2],
                }
            )
        ),
        "validation_by_date.json": _table(validation),
        "feature_dictionary.json": _table(feature_dictionary(["profile_district"])),
    }


class CountingRegistry:
    """A registry with a champion (version 3) that counts how often it is asked."""

    calls: ClassVar[dict[str, int]] = {"champion_version": 0, "run_files": 0}

    def champion_version(self) -> str | None:
        CountingRegistry.calls["champion_version"] += 1
        return "3"

    def run_files(self, names: Any, version: str | None = None) -> tuple[str, dict[str, bytes]]:
        CountingRegistry.calls["run_files"] += 1
        assert version == "3"
        return "fengqiao-escalation/v3", {name: data for name, data in run_files().items() if name in names}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> DataSource:
    return open_source(build_home(tmp_path_factory.mktemp("charts") / "home"))


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    monkeypatch.setattr(DataSource, "registry", lambda self: CountingRegistry())
    CountingRegistry.calls.update(champion_version=0, run_files=0)
    st.cache_data.clear()


def run_page(
    script: str, viewer: Account, source: DataSource, monkeypatch: pytest.MonkeyPatch, language: str = "zh"
) -> AppTest:
    """A page as the viewer sees it (the login itself is test_dashboard_app's business)."""
    monkeypatch.setattr(
        context, "page", lambda: context.PageContext(viewer, source, labels(language), language)
    )
    app = AppTest.from_file(str(PAGES / script), default_timeout=60).run()
    assert not app.exception, app.exception
    return app


def _titles(spec: Any) -> list[str]:
    """The titles and the text data values of a chart spec: what the chart writes on the screen."""
    if isinstance(spec, dict):
        found = [str(spec["title"])] if isinstance(spec.get("title"), str) else []
        return found + [text for key, value in spec.items() if key != "field" for text in _titles(value)]
    if isinstance(spec, list):
        return [text for value in spec for text in _titles(value)]
    return []


def visible(app: AppTest) -> str:
    """The words a user reads: texts, table headings and cells, chart titles and labels."""
    texts = [
        str(element.value)
        for kind in ("markdown", "caption", "subheader", "header")
        for element in app.get(kind)
    ]
    texts += [table.value.to_csv() for table in app.dataframe]
    texts += [text for spec in specs(app) for text in _titles(spec)]
    texts += [data.to_csv(index=False, header=False) for data in chart_data(app)]  # field names are unseen
    return "\n".join(texts)


def specs(app: AppTest) -> list[dict[str, Any]]:
    """The Vega-Lite specs of the page's charts (Streamlit sends their data apart, see `chart_data`)."""
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]


def chart_data(app: AppTest) -> list[pd.DataFrame]:
    """The data of each of the page's charts (all its datasets, one after the other)."""
    return [
        pd.concat([pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets])
        for chart in app.get("vega_lite_chart")
    ]


# --- charts ---------------------------------------------------------------------------------------------


def test_a_trend_chart_speaks_the_language_and_draws_chinese_names_as_text() -> None:
    frame = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-04-10"]),
            "district": [EAST, EAST, NORTH],
            "cases": [2, 1, 4],
        }
    )
    spec = charts.trend_chart(
        frame, "as_of", "cases", "district", ("名单日期", "案件数", "区县"), "zh"
    ).to_dict()
    assert spec["config"]["locale"]["time"]["shortMonths"][0] == "一月"
    assert spec["encoding"]["x"]["axis"]["format"] == charts.AXIS_DATES["zh"]
    assert spec["encoding"]["color"]["title"] == "区县" and spec["encoding"]["y"]["title"] == "案件数"
    data = next(iter(spec["datasets"].values()))
    assert {(row["district"], row["cases"]) for row in data} == {(EAST, 3), (NORTH, 4)}  # summed per date
    single = charts.trend_chart(frame.head(2), "as_of", "cases", "district", ("d", "n", "g"), "en").to_dict()
    assert single["mark"]["type"] == "bar" and single["config"]["locale"]["time"]["shortMonths"][0] == "Jan"


def _points(chart: Any) -> list[dict[str, Any]]:
    """The fairness chart's rows (one per group and ratio)."""
    return next(rows for rows in chart.to_dict()["datasets"].values() if rows and "ratio_name" in rows[0])


def test_fairness_chart_draws_ratios_per_group_faint_when_too_few() -> None:
    """Recall and calibration with labels; a zero ratio drawn at the axis' end, its value kept for the
    tooltip; only the listing share without labels."""
    words = labels("zh")
    districts = _fairness()[lambda f: f["attribute"] == "district"]
    districts.loc[districts["group"] == EAST, "recall_ratio"] = 0.0
    points = _points(charts.fairness_chart(districts, words, "zh"))
    assert {row["ratio_name"] for row in points} == {ZH["ratio_recall_ratio"], ZH["ratio_calibration_ratio"]}
    assert {(row["group"], row["judged"]) for row in points} == {
        (EAST, True),
        (NORTH + ZH["fairness_too_few"], False),
    }
    east_recall = next(
        r for r in points if r["group"] == EAST and r["ratio_name"] == ZH["ratio_recall_ratio"]
    )
    assert east_recall["ratio"] == 0.0 and east_recall["ratio_drawn"] == charts.RATIO_DOMAIN[0]
    unlabelled = districts.assign(positives=np.nan)
    points = _points(charts.fairness_chart(unlabelled, words, "zh"))
    assert {row["ratio_name"] for row in points} == {ZH["ratio_share_listed_ratio"]}
    assert charts.fairness_ratios(districts[["attribute", "group", "n", "status"]]) == ()  # nothing to draw


# --- the Model page ---------------------------------------------------------------------------------------


def test_model_view_leaves_out_other_districts(source: DataSource) -> None:
    ana = queries.model_view(USERS["ana"], source, "en", mask="another district")
    assert ana is not None and ana.version == "fengqiao-escalation/v3" and ana.trained_as_of == "2025-02-20"
    assert (
        ana.card.startswith("# Model card") and NORTH not in ana.card and f"| 区县 | {EAST} | 5 |" in ana.card
    )
    assert "district=another district" in ana.card
    assert ana.tables["fairness"]["group"].tolist() == ["all", EAST, "劳资纠纷"]
    assert ana.tables["subsets"]["subset"].tolist() == ["new", EAST]
    admin = queries.model_view(USERS["admin"], source, "zh")
    assert admin is not None and admin.card == CARD and len(admin.tables["fairness"]) == 4
    assert admin.summary["metric"].tolist() == ["precision_at_k", "roc_auc", "ece", "lift"]
    assert set(admin.tables) == set(queries.LOGGED_TABLES) and admin.base_rate == 0.06


def test_the_model_page_names_every_metric_in_words(
    source: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_page("model.py", USERS["admin"], source, monkeypatch)
    text = visible(app)
    assert not [name for name in RAW_NAMES if name in text]
    summary = app.dataframe[0].value.set_index(ZH["metric"])
    assert summary.loc["前5%精确率", ZH["model_model"]] == "39.0% ± 3.6%"
    assert summary.loc["前5%精确率", ZH["model_rule"]] == "21.0% ± 4.0%"
    assert summary.loc[ZH["metric_roc_auc"], ZH["model_model"]] == "0.817"
    assert summary.loc[ZH["metric_lift"], ZH["model_model"]] == "×1.80"
    assert summary.loc[ZH["metric_ece"], ZH["model_rule"]] == "—"
    assert "越高越好" in summary.loc["前5%精确率", ZH["model_explanation"]]
    grid = next(t.value for t in app.dataframe if ZH["model_candidate"] in t.value.columns)
    assert grid[ZH["model_candidate"]].tolist() == [
        ZH["candidate_logistic"],
        ZH["candidate_logistic_foundation"],
    ]
    assert grid[ZH["model_chosen"]].tolist() == ["", ZH["model_chosen_mark"]]
    assert len(specs(app)) >= 4 and all(
        spec["config"]["locale"]["time"]["months"][0] == "一月" for spec in specs(app)
    )


def test_the_drift_table_names_features_by_the_champions_dictionary(
    source: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = {
        "as_of": "2025-04-12",
        "status": "published",
        "model_version": "fengqiao-escalation/v3",
        "open_cases": 9,
        "bands": {"high": 2},
        "drift": [  # as the daily run writes them, with what moved most
            {"column": "profile_district", "kind": "categorical", "psi": 0.3, "status": "drift"},
            {"column": "history_n_visit", "kind": "numeric", "psi": 0.01, "status": "ok"},
        ],
    }
    for row in report["drift"]:
        row["top_shift"] = ""
    path = source.settings.reports_dir / "2025-04-12.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    try:
        app = run_page("model.py", USERS["admin"], source, monkeypatch)
    finally:
        path.unlink()
    drift = next(t.value for t in app.dataframe if ZH["drift_feature"] in t.value.columns)
    # the champion's dictionary names its features; a column it does not know keeps its name
    assert drift[ZH["drift_feature"]].tolist() == ["所在区县为…", "history_n_visit"]


def test_an_analyst_sees_their_districts_and_the_city_totals_only(
    source: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_page("model.py", USERS["ana"], source, monkeypatch)
    text = rendered(app)
    assert NORTH not in text and EAST in text and "劳资纠纷" in text
    assert ZH["other_district"] in text  # the card's verdict naming the north is masked, its row left out
    fairness = next(t.value for t in app.dataframe if ZH["fairness_verdict"] in t.value.columns)
    assert fairness[ZH["fairness_group"]].tolist() == [ZH["fairness_all"], EAST, "劳资纠纷"]
    assert fairness[ZH["fairness_verdict"]].tolist() == ["无显著差异", "需关注", "无显著差异"]
    assert fairness[ZH["fairness_flagged"]].tolist() == ["", "召回率、校准", ""]
    admin = rendered(run_page("model.py", USERS["admin"], source, monkeypatch, "en"))
    assert NORTH in admin and EN["fairness_status_insufficient"] in admin


def test_the_registry_is_read_once_per_model_version(
    source: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    for viewer, language in ((USERS["admin"], "zh"), (USERS["ana"], "en"), (USERS["nora"], "zh")):
        run_page("model.py", viewer, source, monkeypatch, language)
    assert CountingRegistry.calls == {"champion_version": 1, "run_files": 1}


def test_the_model_page_in_english(source: DataSource, monkeypatch: pytest.MonkeyPatch) -> None:
    app = run_page("model.py", USERS["nora"], source, monkeypatch, "en")
    summary = app.dataframe[0].value
    assert summary.columns.tolist() == [
        EN["metric"],
        EN["model_model"],
        EN["model_rule"],
        EN["model_explanation"],
    ]
    assert summary[EN["metric"]].iloc[0] == "Precision in the top 5%"
    assert EAST not in rendered(app)
    reports = next(t.value for t in app.dataframe if EN["model_held_reasons"] in t.value.columns)
    assert reports[EN["status"]].tolist() == [EN["run_status_held"]]


# --- the Trends page --------------------------------------------------------------------------------------


def test_trends_are_drawn_in_the_language_for_the_viewers_districts(
    source: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_page("trends.py", USERS["ana"], source, monkeypatch)
    drawn = specs(app)
    assert drawn and NORTH not in rendered(app)
    assert {spec["encoding"]["color"]["title"] for spec in drawn} >= {ZH["district"], ZH["band"]}
    realised = [title["encoding"]["color"]["title"] for title in drawn].index(ZH["band"])
    assert set(chart_data(app)[realised]["band"]) == {"高", "中"}
    outcomes = app.dataframe[-1].value  # city totals: shown to analysts too
    assert ZH["outcome_precision"] in outcomes.columns
    english = run_page("trends.py", USERS["admin"], source, monkeypatch, "en")
    assert {spec["encoding"]["x"]["title"] for spec in specs(english)} >= {EN["list_date"], EN["trend_week"]}


def test_an_analyst_without_data_reads_no_data(source: DataSource, monkeypatch: pytest.MonkeyPatch) -> None:
    nobody = Account("x", USERS["ana"].role, ("无此区",))
    app = run_page("trends.py", nobody, source, monkeypatch)
    assert not specs(app)
    assert [c.value for c in app.caption].count(ZH["no_data"]) == 3


# --- PNG artefacts ----------------------------------------------------------------------------------------


def _fairness_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"district": rng.choice([EAST, NORTH], 400), "category": "劳资纠纷"})
    frame["score"] = rng.uniform(0, 0.3, 400)
    frame["label"] = (rng.uniform(size=400) < frame["score"]).astype(int)
    frame["listed"] = frame["score"] > 0.25
    return fairness_audit(frame, n_boot=20, min_cases=10, min_positives=1)


def _drawn(figure: object) -> list[str]:
    """The figure's group labels, drawn with a missing glyph treated as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from every font is a warning
        figure.savefig(io.BytesIO(), format="png", dpi=60)  # type: ignore[attr-defined]
    return [t.label1.get_text() for axes in figure.axes for t in axes.yaxis.get_major_ticks()]  # type: ignore[attr-defined]


def test_the_fairness_png_draws_chinese_names_with_an_installed_cjk_font() -> None:
    if fairness.label_fonts() is None:
        pytest.skip("no CJK font is installed (apt-get install fonts-noto-cjk)")
    labels = _drawn(fairness_figure(_fairness_table()))
    assert {t.split(" ")[0] for t in labels} == {EAST, NORTH, "劳资纠纷"}


def test_the_fairness_png_names_groups_in_pinyin_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a server without any CJK font, group names are drawn in pinyin, never as boxes."""
    monkeypatch.setattr(fairness, "label_fonts", lambda: None)
    labels = _drawn(fairness_figure(_fairness_table()))
    assert {t.split(" (n=")[0] for t in labels} == {
        fairness.drawable_name(EAST, None),
        fairness.drawable_name(NORTH, None),
        "Lao Zi Jiu Fen",
    }
    assert all(t.isascii() for t in labels)
