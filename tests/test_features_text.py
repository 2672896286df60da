"""Text cue features on a hand-made city: the lexicon, negation, exact counts by window, point in time."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from cities.demo.texts import CUES as SIMULATED_CUES
from features import text_cues, text_terms
from features.matrix import COHORT_COLUMNS, build_features
from features.sources import Sources
from tests.builders import call_row, case_row, event_row, make_sources

T = date(2025, 2, 1)
SIMULATED_GROUP = {"threat": "violence", "crowd": "gathering", "court": "legal", "selfharm": "self_harm"}


def case(case_id: str, opened_at: str, description: str = "") -> dict[str, str]:
    return case_row(case_id, opened_at, description=description)


def ev(case_id: str, event_at: str, event_type: str, note: str, recorded_at: str = "") -> dict[str, str]:
    return event_row(case_id, event_at, event_type, note=note, recorded_at=recorded_at)


def call(call_id: str, received_at: str, case_id: str, text: str, recorded_at: str = "") -> dict[str, str]:
    return call_row(call_id, received_at, case_id=case_id, text=text, recorded_at=recorded_at)


CASES = [
    case("A", "2025-01-01 09:00", "张某反映公司拖欠工资，当事人扬言要采取过激行为，已多次上访。"),
    case("B", "2025-01-20", "李某称对方借款不还，要去法院起诉。"),
    case("C", "2025-01-25 10:00"),
    case("D", "2025-01-02", "要出人命了"),
]
EVENTS = [
    ev("A", "2025-01-01 09:00", "registered", "登记受理。"),
    ev("A", "2025-01-01 10:00", "visit", "双方发生肢体冲突，派出所已出警。"),
    ev("A", "2025-01-02 00:00", "visit", "当事人情绪激动，扬言要讨说法。"),
    ev("A", "2025-01-20", "mediation_session", "组织双方进行调解。"),
    ev("A", "2025-01-30", "visit", "当事人说要找记者曝光。", recorded_at="2025-02-02"),
    ev("D", "2025-01-02", "registered", "我不想活了"),
    ev("D", "2025-01-10", "closed", "结案。"),
]
CALLS = [
    call("h1", "2025-01-31 10:00", "A", "再不解决我就去法院起诉，找律师打官司！"),
    call("h2", "2025-01-25 00:00", "A", "我真的不想活了。"),
    call("h3", "2025-01-24 23:59", "A", "已经找好律师了。"),
    call("h4", "2025-01-02 00:00", "A", "工友们说好了明天一起去讨说法。"),
    call("h5", "2025-01-01 23:59", "A", "要出人命了！"),
    call("h6", "2025-01-31 12:00", "A", "我要弄死他。", recorded_at="2025-02-01 08:00"),
    call("h7", "2025-02-01 00:00", "A", "大家一起去政府门口。"),
    call("h8", "2025-01-31 09:00", "", "再不解决就拉横幅，要出人命了！"),
    call("h9", "2025-01-30 09:00", "A", ""),
    call("h10", "2025-01-20 09:00", "A", "我不会去起诉的。"),
    call("c1", "2025-01-25 09:00", "C", "要出人命了！"),
    call("c2", "2025-01-26 08:00", "C", "几十户村民准备集体去上访，拉横幅。"),
    call("c3", "2025-01-28 08:00", "C", "我受够了，太过分了。"),
    call("d1", "2025-01-05 08:00", "D", "再不解决就别怪我不客气了。"),
]

NAMES = [d.name for d in text_cues.FEATURES]
EXPECTED_NONZERO = {
    "A": {
        "text_calls_self_harm_7d": 1,
        "text_calls_self_harm_30d": 1,
        "text_calls_gathering_30d": 1,
        "text_calls_legal_7d": 1,
        "text_calls_legal_30d": 2,  # not h10 "我不会去起诉的": a negated cue is no mention
        "text_calls_ultimatum_7d": 1,
        "text_calls_ultimatum_30d": 1,
        "text_description_violence": 1,
        "text_description_gathering": 1,
        "text_notes_violence": 1,
        "text_notes_anger": 1,
        "text_notes_anger_30d": 1,  # the note at 2025-01-02 00:00, the first instant of the window
        "text_cue_groups_30d": 5,
    },
    "B": {"text_description_legal": 1},
    "C": {
        "text_calls_gathering_7d": 1,
        "text_calls_gathering_30d": 1,
        "text_calls_anger_7d": 1,
        "text_calls_anger_30d": 1,
        "text_cue_groups_30d": 2,
    },
}


def text_features(sources: Sources) -> pd.DataFrame:
    return build_features(sources, T, families=(text_cues,)).set_index("case_id")


def expected_frame(nonzero: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = {c: {name: float(values.get(name, 0)) for name in NAMES} for c, values in nonzero.items()}
    return pd.DataFrame.from_dict(rows, orient="index")[NAMES]


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, EVENTS, CALLS)


def test_every_feature_of_every_case_is_exact(sources: Sources) -> None:
    """Windows are half-open on received_at, calls before opening, late-known and unlinked ones are out."""
    features = text_features(sources)
    expected = expected_frame(EXPECTED_NONZERO)
    pd.testing.assert_frame_equal(features[NAMES], expected, check_names=False)


def test_output_has_the_dictionary_columns_in_order_as_floats(sources: Sources) -> None:
    features = build_features(sources, T, families=(text_cues,))
    assert list(features.columns) == ["as_of", *COHORT_COLUMNS, *NAMES]
    assert (features[NAMES].dtypes == "float64").all()
    assert not features[NAMES].isna().any().any()


def test_build_is_indexed_like_the_cohort(sources: Sources) -> None:
    instant = pd.Timestamp(T)
    cohort = sources.cases.set_index("case_id", drop=False).rename_axis(None).loc[["C", "A"]]
    out = text_cues.build(cohort, sources.known_before(instant), instant)
    assert out.index.tolist() == ["C", "A"]
    assert out.columns.tolist() == NAMES


def test_empty_hotline_leaves_descriptions_and_notes(sources: Sources) -> None:
    features = text_features(make_sources(CASES, EVENTS, []))
    no_calls = {
        c: {n: v for n, v in values.items() if not n.startswith("text_calls_")}
        for c, values in EXPECTED_NONZERO.items()
    }
    no_calls["A"]["text_cue_groups_30d"] = 1
    del no_calls["C"]["text_cue_groups_30d"]
    pd.testing.assert_frame_equal(features[NAMES], expected_frame(no_calls), check_names=False)


def test_records_known_after_the_instant_change_nothing(sources: Sources) -> None:
    later_cases = [case("E", "2025-01-10", "我要跳楼")]
    later_cases[0]["recorded_at"] = "2025-02-01 00:00"
    later_events = [ev("C", "2025-01-31", "visit", "当事人扬言报复", recorded_at="2025-02-03")]
    later_calls = [
        call("x1", "2025-01-31", "C", "要去法院起诉", recorded_at="2025-02-01 00:00"),
        call("x2", "2025-02-01 06:00", "A", "我要跳楼"),
    ]
    more = make_sources(CASES + later_cases, EVENTS + later_events, CALLS + later_calls)
    pd.testing.assert_frame_equal(text_features(sources), text_features(more))


def test_lexicon_patterns_agree_on_python_re_and_arrow() -> None:
    probes = pd.Series(
        [c for cues in SIMULATED_CUES.values() for c in cues]
        + ["限你们3天之内给答复", "三天内不解决就去市政府", "我要跳河", "上百名工人堵路", "准备申请劳动仲裁"]
    )
    arrow = text_cues.cue_mentions(probes)
    for group, pattern in text_cues.PATTERNS.items():
        compiled = re.compile(pattern)
        assert arrow[group].tolist() == [bool(compiled.search(p)) for p in probes], group


@pytest.mark.parametrize(("simulated", "cues"), list(SIMULATED_CUES.items()))
def test_every_simulated_cue_is_caught_by_its_group(simulated: str, cues: tuple[str, ...]) -> None:
    hits = text_cues.cue_mentions(pd.Series(cues))
    assert hits[SIMULATED_GROUP[simulated]].all()


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("他说要找人来收拾我，拿刀砍人", {"violence"}),
        ("实在没办法只能喝农药", {"self_harm"}),
        ("村民们准备拉横幅围堵项目工地", {"gathering"}),
        ("我已经申请劳动仲裁，也请了律师", {"legal"}),
        ("三天之内不给答复就后果自负", {"ultimatum"}),
        ("这家公司就是骗子，太欺负人了", {"anger"}),
        ("我要把这件事发到抖音上曝光", {"media"}),
        ("组织双方进行调解。", set()),
        ("因林木砍伐发生争执", set()),
        ("术后出现并发症，医生说要动手术", set()),
        ("再逼我，我就动手", {"violence"}),
        ("他每天拼命工作", set()),
        ("请告诉他明天来调解", set()),
        ("[电话]来电咨询社保转移", set()),
    ],
)
def test_lexicon_catches_real_phrasing_and_not_routine_wording(text: str, groups: set[str]) -> None:
    row = text_cues.cue_mentions(pd.Series([text])).iloc[0]
    assert set(row[row].index) == groups


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("我不会去起诉的", set()),
        ("不会去上访", set()),
        ("说要去上访", {"gathering"}),  # reported intent still counts
        ("他说不打算起诉了，但是还要上访", {"gathering"}),
        ("没有人受伤。明天去法院起诉", {"legal"}),
        ("双方未发生肢体冲突，劝其不要上访", set()),
        ("他没有起诉，但说下周要去法院起诉", {"legal"}),  # one asserted occurrence is enough
        ("不会放弃起诉", {"legal"}),  # two negators cancel
        ("如果不解决就去上访", {"gathering", "ultimatum"}),  # conditional: still a threat
        ("我真的不想活了", {"self_harm"}),  # the cue itself holds the negator
        ("再不解决就别怪我不客气了", {"violence", "ultimatum"}),
        ("实在没办法只能喝农药", {"self_harm"}),
    ],
)
def test_a_cue_inside_a_negation_scope_is_no_mention(text: str, groups: set[str]) -> None:
    row = text_cues.cue_mentions(pd.Series([text])).iloc[0]
    assert set(row[row].index) == groups


NOTED = [case("N", "2025-01-01")]
NOTES = [
    ev("N", "2025-01-01 12:00", "registered", "登记受理。"),
    ev("N", "2025-01-10", "visit", "对方已请律师。"),
    ev("N", "2025-01-24 23:59", "visit", "双方发生推搡。"),
    ev("N", "2025-01-25 00:00", "visit", "当事人扬言要找人来收拾对方。"),
    ev("N", "2025-01-28", "visit", "工友们准备集体上访，他说不打算起诉了。"),
    ev("N", "2025-01-31", "visit", "当事人称没有打人，也不会去上访。"),
]


def test_notes_are_counted_per_window_from_the_first_instant_of_the_window() -> None:
    """7 days before 2025-02-01 is 2025-01-25 00:00: that note is in, the one a minute earlier is not."""
    features = text_features(make_sources(NOTED, NOTES, []))[NAMES].loc["N"]
    nonzero = {
        "text_notes_violence": 1,
        "text_notes_violence_7d": 1,
        "text_notes_violence_30d": 2,
        "text_notes_gathering": 1,
        "text_notes_gathering_7d": 1,
        "text_notes_gathering_30d": 1,
        "text_notes_legal": 1,
        "text_notes_legal_30d": 1,
        "text_cue_groups_30d": 3,
    }
    assert features.to_dict() == {name: float(nonzero.get(name, 0)) for name in NAMES}


def test_notes_known_or_made_after_the_instant_change_nothing() -> None:
    later = [
        ev("N", "2025-01-31 08:00", "visit", "当事人扬言报复。", recorded_at="2025-02-01 00:00"),
        ev("N", "2025-02-01 00:00", "visit", "当事人扬言要去法院起诉。"),
    ]
    before = text_features(make_sources(NOTED, NOTES, []))
    pd.testing.assert_frame_equal(before, text_features(make_sources(NOTED, NOTES + later, [])))


def test_missing_and_empty_texts_mention_nothing() -> None:
    hits = text_cues.cue_mentions(pd.Series([None, "", float("nan")], index=[5, 6, 7], dtype=object))
    assert hits.index.tolist() == [5, 6, 7]
    assert not hits.to_numpy().any()
    assert text_cues.cue_mentions(pd.Series([], dtype=object)).shape == (0, len(text_cues.GROUPS))


def test_dictionary_documents_the_lexicon_and_reasons_read_naturally() -> None:
    assert set(text_cues.CUE_LABELS) == set(text_cues.LEXICON)
    assert len(NAMES) == len(set(NAMES)) == 6 * len(text_cues.GROUPS) + 1
    assert all(n.startswith(text_cues.PREFIX) for n in NAMES)
    by_name = {d.name: d for d in text_cues.FEATURES}
    assert "起诉" in by_name["text_calls_legal_7d"].meaning
    assert "跳楼" in by_name["text_description_self_harm"].meaning
    assert by_name["text_calls_legal_7d"].reason(2.0, "zh") == "近7天来电中2次提到起诉/打官司等法律途径"
    assert by_name["text_description_gathering"].reason(1.0, "zh") == "案情描述中提到群体聚集或上访"
    assert by_name["text_notes_violence_7d"].reason(2.0, "zh") == "近7天办理记录中2条提到暴力威胁或冲突"
    assert by_name["text_cue_groups_30d"].reason(3.0, "en") == (
        "3 kinds of escalation cues in calls and notes in the last 30 days"
    )
    for doc in text_cues.FEATURES:
        assert doc.kind in ("numeric", "flag")
        assert "{value}" in doc.reason_zh or doc.kind == "flag"


def test_cases_whose_texts_are_all_missing_have_no_cues() -> None:
    hits = text_cues.cue_mentions(pd.Series([None, None], dtype="object"))
    assert not hits.to_numpy().any()
    assert list(hits.index) == [0, 1]


def test_the_case_document_holds_its_own_words_known_before_the_instant(sources: Sources) -> None:
    documents = build_features(sources, T, families=(text_terms,)).set_index("case_id")[text_terms.DOCUMENT]
    assert documents.to_dict() == {
        "A": "[姓名]反映公司拖欠工资，当事人扬言要采取过激行为，已多次上访。 "
        "登记受理。 双方发生肢体冲突，派出所已出警。 当事人情绪激动，扬言要讨说法。 组织双方进行调解。 "
        "工友们说好了明天一起去讨说法。 我不会去起诉的。 已经找好律师了。 我真的不想活了。 "
        "再不解决我就去法院起诉，找律师打官司！",
        "B": "[姓名]称对方借款不还，要去法院起诉。",  # names in free text are masked at ingest
        "C": "要出人命了！ 几十户村民准备集体去上访，拉横幅。 我受够了，太过分了。",
    }
    later = [ev("B", "2025-01-31", "visit", "扬言报复", recorded_at="2025-02-03")]
    more = make_sources(CASES, EVENTS + later, [*CALLS, call("x", "2025-02-01 06:00", "B", "我要跳楼")])
    again = build_features(more, T, families=(text_terms,)).set_index("case_id")[text_terms.DOCUMENT]
    pd.testing.assert_series_equal(documents, again)


def test_a_long_document_keeps_its_latest_words() -> None:
    long = [case("L", "2025-01-01", "旧" * (text_terms.MAX_CHARS + 50))]
    latest = [call("l1", "2025-01-31", "L", "最新的话")]
    document = build_features(make_sources(long, [], latest), T, families=(text_terms,))[text_terms.DOCUMENT][
        0
    ]
    assert len(document) == text_terms.MAX_CHARS
    assert document.endswith("旧 最新的话")
