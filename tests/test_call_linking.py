"""Call-to-case linking and the linked-call features on a hand-made city: exact links, decisions made
once with what was known the midnight after a call became known, no leakage, stored links."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pandas as pd
import pytest

from contracts.masking import mask_free_text
from contracts.timeparse import as_of_instant
from features import link_memo, linked_activity
from features.call_linking import LINK_COLUMNS, STORED_LINK_COLUMNS, candidate_signals, day_links, link_calls
from features.grievances import thing_mentions
from features.link_config import LinkConfig
from features.link_inputs import decision_instants
from features.link_scoring import confidence, scores
from features.link_text import named_things, ngram_counts
from features.matrix import build_features
from features.sources import Sources
from tests.builders import call_row, case_row, event_row, make_sources

T = date(2025, 4, 1)
INSTANT = as_of_instant(T)
CONFIG = LinkConfig()
P1, P2, P3, P4, P5, P9 = (f"1380000000{i}" for i in (1, 2, 3, 4, 5, 9))


def expected_confidence(z1: float, z2: float | None = None) -> float:
    """The documented confidence: a logit over no case, the best candidate and the runner-up."""
    runner_up = 0.0 if z2 is None else np.exp(z2)
    return float(np.exp(z1) / (1 + np.exp(z1) + runner_up))


def case(case_id: str, opened_at: str, phone: str = "", **fields: str) -> dict[str, str]:
    return case_row(case_id, opened_at, reporter_phone=phone, **fields)


def call(call_id: str, received_at: str, phone: str = "", text: str = "", **fields: str) -> dict[str, str]:
    return call_row(call_id, received_at, caller_phone=phone, text=text, **fields)


CASES = [
    case("A", "2025-03-01 09:00", P1, category="邻里纠纷", description="楼上邻居漏水。"),
    case("B", "2025-03-05 09:00", P2, category="婚姻家庭", description="夫妻因家庭琐事争吵。"),
    case(
        "C",
        "2025-03-10 09:00",
        P4,
        category="劳资纠纷",
        reporter_name="王建国",
        description="王建国反映在宏达服装厂工作期间被拖欠工资，要求公司支付35000元。",
    ),
    # one reporter, two open cases: a wage dispute and a land dispute
    case(
        "D", "2025-03-12 09:00", P5, category="劳资纠纷", description="反映鑫源物流有限公司拖欠工资8000元。"
    ),
    case("E", "2025-03-15 09:00", P5, category="土地山林", description="金桥村村民因承包地边界发生争执。"),
    case("W", "2025-03-01 09:00", P1, district="西山区", category="邻里纠纷"),  # another district
    case("X", "2025-02-01 09:00", P3, category="其他"),  # closed before the calls below
]
EVENTS = [event_row("X", "2025-02-20 10:00", "closed")]
CALLS = [
    call(
        "b1", "2025-03-06 10:00", P3, "我老婆又回娘家了。", case_id="B", category="家庭纠纷"
    ),  # linked by number
    call("u1", "2025-03-20 10:00", P1),  # the reporter of A (and of W, in another district)
    call("u2", "2025-03-21 10:00", P3),  # the caller of b1, without the number
    call("u3", "2025-03-22 10:00", P9, "宏达服装厂还欠我们工资35000元，家里等着用钱。", category="欠薪"),
    call("u4", "2025-03-23 10:00", P5, "金桥村那块地的事情对方又来闹了。", category="农业农村"),
    call("u5", "2025-03-24 10:00", P9, "咨询一下公司不给交社保怎么办。", category="劳动保障"),  # weak
    call("u6", "2025-02-25 10:00", P1),  # before A opened (P3 is X's reporter, closed: not a candidate)
    call("u7", "2025-03-25 10:00", P1, district="北山区"),  # a district without cases
    call("u8", "2025-02-25 11:00", P3),  # X's reporter, after X was closed
]


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, EVENTS, CALLS)


def links_of(sources: Sources, config: LinkConfig = CONFIG) -> pd.DataFrame:
    known = sources.known_before(INSTANT)
    return link_calls(known.hotline, known.cases, known.hotline, INSTANT, config, events=known.events)


def test_links_are_exactly_the_expected_ones(sources: Sources) -> None:
    links = links_of(sources)
    assert links.columns.tolist() == list(LINK_COLUMNS)
    assert dict(zip(links["call_id"], links["case_id"], strict=True)) == {
        "u1": "A",
        "u2": "B",
        "u3": "C",
        "u4": "E",
    }


def test_same_phone_as_the_reporter_links_with_the_documented_confidence(sources: Sources) -> None:
    row = links_of(sources).set_index("call_id").loc["u1"]
    z1, z_other = CONFIG.bias + CONFIG.w_reporter_phone, CONFIG.bias  # no text, no category
    assert row["confidence"] == pytest.approx(expected_confidence(z1, z_other))
    assert row["evidence"].startswith("same district; same phone as the case's reporter")


def test_same_caller_as_a_call_linked_by_case_number(sources: Sources) -> None:
    row = links_of(sources).set_index("call_id").loc["u2"]
    # the runner-up: X, closed, whose reporter's phone is the caller's
    runner_up = CONFIG.bias + CONFIG.w_reporter_phone + CONFIG.w_closed
    assert row["confidence"] == pytest.approx(
        expected_confidence(CONFIG.bias + CONFIG.w_linked_caller, runner_up)
    )
    assert "same caller as a call linked to the case" in row["evidence"]


def test_named_things_text_and_category_link_another_phone(sources: Sources) -> None:
    row = links_of(sources).set_index("call_id").loc["u3"]
    assert row["case_id"] == "C"
    assert "shared: 35000元、宏达服装厂" in row["evidence"]
    assert "category 欠薪~劳资纠纷" in row["evidence"]
    assert "phone" not in row["evidence"] and "caller" not in row["evidence"]
    assert row["confidence"] > 0.5


def test_a_weak_call_stays_unlinked_and_a_lower_threshold_links_it(sources: Sources) -> None:
    assert "u5" not in set(links_of(sources)["call_id"])
    loose = links_of(sources, LinkConfig(threshold=0.0)).set_index("call_id")
    assert loose.loc["u5", "confidence"] < CONFIG.threshold


def test_other_district_before_opening_and_closed_cases_are_never_candidates(sources: Sources) -> None:
    loose = links_of(sources, LinkConfig(threshold=0.0))
    assert "W" not in set(loose["case_id"]) and "X" not in set(loose["case_id"])
    assert {"u6", "u7", "u8"}.isdisjoint(loose["call_id"])  # no candidate at all


def test_a_closed_case_is_a_candidate_its_reporters_phone_links_and_an_open_one_wins(
    sources: Sources,
) -> None:
    """People call about a closed dispute (such calls come before a reopening): the closed case is a
    candidate when the call's phone is its reporter's (or an earlier number-quoting caller's), at
    w_closed, and linked with like wording; wording alone never makes it one; an open case of the same
    reporter wins a call that says nothing else."""
    p7, p8 = "13800000007", "13800000008"
    closed_case = case("Y", "2025-01-10 09:00", p7, category="邻里纠纷", description="楼下烧烤店油烟扰民。")
    calls = [
        call("u13", "2025-03-26 10:00", p7, "楼下烧烤店油烟又扰民了。"),
        call("u14", "2025-03-26 11:00", p8, "楼下烧烤店油烟又扰民了。"),
    ]
    closing = event_row("Y", "2025-02-10 10:00", "closed")
    linked = links_of(make_sources([*CASES, closed_case], [*EVENTS, closing], [*CALLS, *calls]))
    row = linked.set_index("call_id").loc["u13"]
    assert row["case_id"] == "Y" and row["confidence"] >= CONFIG.threshold
    assert "; case closed at the call's time" in row["evidence"]
    assert "u14" not in set(linked["call_id"])  # same words, another phone
    loose = links_of(
        make_sources([*CASES, closed_case], [*EVENTS, closing], [*CALLS, *calls]), LinkConfig(threshold=0.0)
    ).set_index("call_id")
    assert loose.loc["u14", "case_id"] != "Y"  # not even a candidate: a closed case needs a phone
    # the same reporter's open case takes a call without words
    open_case = case("Z", "2025-03-15 09:00", p7, category="借贷纠纷", description="借款到期不还。")
    silent = call("u15", "2025-03-27 10:00", p7)
    both = make_sources([*CASES, closed_case, open_case], [*EVENTS, closing], [*CALLS, silent])
    row = links_of(both).set_index("call_id").loc["u15"]
    assert row["case_id"] == "Z"
    z_open, z_closed = (
        CONFIG.bias + CONFIG.w_reporter_phone,
        CONFIG.bias + CONFIG.w_reporter_phone + CONFIG.w_closed,
    )
    assert row["confidence"] == pytest.approx(expected_confidence(z_open, z_closed))


def test_ambiguous_call_picks_the_better_case_and_says_so(sources: Sources) -> None:
    loose = links_of(sources, LinkConfig(threshold=0.0)).set_index("call_id")
    row = links_of(sources).set_index("call_id").loc["u4"]
    assert row["case_id"] == "E"  # both D and E have P5 as reporter; E names the village
    assert "same phone as the case's reporter" in row["evidence"] and "shared: 金桥村" in row["evidence"]
    assert "category 农业农村~土地山林" in row["evidence"]
    assert "4 other candidate(s), next" in row["evidence"]  # D, A, B and C (X is closed, another phone)
    assert row["confidence"] == loose.loc["u4", "confidence"]
    without_d = make_sources([c for c in CASES if c["case_id"] != "D"], EVENTS, CALLS)
    alone = links_of(without_d).set_index("call_id").loc["u4"]
    assert alone["case_id"] == "E" and alone["confidence"] > row["confidence"]  # D took a share


def test_records_known_after_the_instant_change_nothing(sources: Sources) -> None:
    late = "2025-04-01 00:00"
    more = make_sources(
        [*CASES, case("F", "2025-03-01 08:00", P9, category="劳资纠纷", recorded_at=late)],
        [*EVENTS, event_row("A", "2025-03-19 10:00", "closed", recorded_at="2025-04-02")],
        [
            *CALLS,
            call("b2", "2025-03-20 09:00", P9, "宏达服装厂", case_id="D", recorded_at=late),
            call("u9", "2025-03-31 10:00", P2, recorded_at=late),
            call("u10", "2025-04-01 00:00", P2),
        ],
    )
    pd.testing.assert_frame_equal(links_of(more), links_of(sources))


# ---------------------------------------------------------------- the issue's hand-made case


def test_the_issues_case_same_phone_same_company_and_an_unrelated_call_in_the_same_town() -> None:
    """Two open wage cases in one district, in two towns; calls without a case number: the reporter's
    own phone, another phone naming the same company, an unrelated call from the first case's town."""
    cases = [
        case(
            "K1",
            "2025-03-01 09:00",
            P1,
            town="甲镇",
            category="劳资纠纷",
            description="工人反映在宏达服装厂工作期间被拖欠工资35000元。",
        ),
        case(
            "K2",
            "2025-03-02 09:00",
            P2,
            town="乙镇",
            category="劳资纠纷",
            description="反映鑫源物流有限公司拖欠运费8000元。",
        ),
    ]
    calls = [
        call("same_phone", "2025-03-10 10:00", P1, "工资的事还没有人来处理。"),
        call(
            "same_company", "2025-03-11 10:00", P9, "宏达服装厂欠我们工资35000元，老板跑了。", category="欠薪"
        ),
        call("unrelated", "2025-03-12 10:00", P3, "甲镇路口的路灯坏了好几天了。", category="城市管理"),
    ]
    sources = make_sources(cases, [], calls)
    links = links_of(sources)
    assert dict(zip(links["call_id"], links["case_id"], strict=True)) == {
        "same_phone": "K1",
        "same_company": "K1",
    }
    evidence = links.set_index("call_id")["evidence"]
    assert "same phone as the case's reporter" in evidence["same_phone"]
    assert "shared: 35000元、宏达服装厂" in evidence["same_company"]
    # With towns on the calls (the contract's hotline has none; a mapped export may), a call from the
    # other town is never compared with the case.
    hotline = sources.hotline.assign(town=["乙镇", "乙镇", "甲镇"])
    loose = link_calls(hotline, sources.cases, hotline, INSTANT, LinkConfig(threshold=0.0))
    assert dict(zip(loose["call_id"], loose["case_id"], strict=True)) == {
        "same_phone": "K2",  # the only case of its town, with nothing in common
        "same_company": "K2",
        "unrelated": "K1",
    }
    assert loose.set_index("call_id").loc["same_company", "confidence"] < CONFIG.threshold


# ---------------------------------------------------------------- decided once, when known


def test_a_call_is_decided_at_the_midnight_after_it_became_known() -> None:
    known_at = pd.Series(
        pd.to_datetime(["2025-03-20 00:00:00", "2025-03-20 23:59:59", "2025-03-21 00:00:00"])
    )
    assert decision_instants(known_at).tolist() == [
        pd.Timestamp("2025-03-21").to_datetime64(),
        pd.Timestamp("2025-03-21").to_datetime64(),
        pd.Timestamp("2025-03-22").to_datetime64(),
    ]


def test_what_becomes_known_after_a_decision_never_revises_it() -> None:
    """u2 is decided on 03-22 00:00; a call quoting case B from the same phone, recorded on 03-25, is
    not known then (u2 stays unlinked whenever asked) but is for a later call from that phone."""
    late_number = call(
        "b1", "2025-03-06 10:00", P3, "我老婆又回娘家了。", case_id="B", recorded_at="2025-03-25"
    )
    calls = [late_number, *(c for c in CALLS if c["call_id"] != "b1")]
    calls.append(call("u11", "2025-03-26 10:00", P3))
    sources = make_sources(CASES, EVENTS, calls)
    links = links_of(sources).set_index("call_id")
    assert "u2" not in links.index
    assert links.loc["u11", "case_id"] == "B"
    # A closure recorded after a call's decision does not undo its link either.
    closed_late = make_sources(
        CASES, [*EVENTS, event_row("A", "2025-03-19 12:00", "closed", recorded_at="2025-03-23")], CALLS
    )
    assert links_of(closed_late).set_index("call_id").loc["u1", "case_id"] == "A"
    closed_early = make_sources(CASES, [*EVENTS, event_row("A", "2025-03-19 12:00", "closed")], CALLS)
    assert "u1" not in set(links_of(closed_early)["call_id"])


def test_day_links_are_the_decisions_of_one_run_ready_to_store(sources: Sources) -> None:
    stored = day_links(sources, date(2025, 3, 21))  # u1 became known on 03-20
    assert stored.columns.tolist() == list(STORED_LINK_COLUMNS)
    assert stored[["as_of", "call_id", "case_id", "threshold"]].to_dict("records") == [
        {"as_of": date(2025, 3, 21), "call_id": "u1", "case_id": "A", "threshold": CONFIG.threshold}
    ]
    window = links_of(sources).set_index("call_id")
    assert stored["confidence"].iloc[0] == window.loc["u1", "confidence"]
    assert stored["evidence"].iloc[0] == window.loc["u1", "evidence"]
    # Computed later, from more records, the same rows; a day without calls gives none.
    more = make_sources(CASES, EVENTS, [*CALLS, call("u12", "2025-03-21 08:00", P1)])
    pd.testing.assert_frame_equal(day_links(more, date(2025, 3, 21)), stored)
    assert day_links(sources, date(2025, 3, 19)).empty


def test_remembered_decisions_are_those_computed_afresh(sources: Sources) -> None:
    link_memo.MEMO.clear()
    fresh = links_of(sources)
    assert link_memo.MEMO.entries
    pd.testing.assert_frame_equal(links_of(sources), fresh)
    # Any change to what a day's decisions read changes the digest: nothing stale comes back.
    changed = make_sources(
        [{**c, "description": "宏达服装厂拖欠工资。"} if c["case_id"] == "B" else c for c in CASES],
        EVENTS,
        CALLS,
    )
    assert (
        links_of(changed).set_index("call_id").loc["u3", "confidence"]
        < fresh.set_index("call_id").loc["u3", "confidence"]
    )  # B now names the company too and shares the probability
    link_memo.MEMO.clear()


def test_candidate_signals_give_the_links_with_the_documented_score(sources: Sources) -> None:
    known = sources.known_before(INSTANT)
    pairs = candidate_signals(known.hotline, known.cases, known.hotline, INSTANT, CONFIG, events=known.events)
    assert set(pairs["call_id"]) == {"u1", "u2", "u3", "u4", "u5"}
    u1 = pairs[pairs["call_id"] == "u1"].set_index("case_id")
    assert bool(u1.loc["A", "same_reporter"]) and not u1.drop(index="A")["same_reporter"].any()
    u3 = pairs[pairs["call_id"] == "u3"].set_index("case_id")
    assert u3.loc["C", ["n_named", "n_amount", "category"]].tolist() == [1.0, 1.0, 1.0]
    # The documented score on these signals, best and runner-up per call, gives the links.
    pairs = pairs.assign(z=scores(pairs, CONFIG)).sort_values("z", ascending=False, kind="stable")
    best, runner_up = pairs.groupby("call_id").nth(0), pairs.groupby("call_id").nth(1)
    z2 = runner_up.set_index("call_id")["z"].reindex(best["call_id"]).fillna(-np.inf).to_numpy()
    chance, _ = confidence(best["z"].to_numpy(), z2)
    kept = best.assign(confidence=chance)[chance >= CONFIG.threshold].sort_values("call_id")
    links = links_of(sources)
    assert kept["case_id"].tolist() == links["case_id"].tolist()
    assert np.allclose(kept["confidence"], links["confidence"])


def test_evidence_never_shows_a_phone_pseudonym_or_a_name(sources: Sources) -> None:
    loose = links_of(sources, LinkConfig(threshold=0.0))
    pids = pd.concat(
        [
            sources.hotline[["caller_phone_pid", "caller_name_pid"]].stack(),
            sources.cases[["reporter_phone_pid", "reporter_name_pid"]].stack(),
        ]
    ).dropna()
    secrets = {*pids.astype(str), "王建国", *(p for p in (P1, P2, P3, P4, P5, P9))}
    assert not loose.empty
    for evidence in loose["evidence"]:
        assert not any(secret in evidence for secret in secrets)


def test_named_things_are_cut_from_their_context() -> None:
    assert named_things("12名工人反映宏达建筑工程有限公司拖欠工资共计3.5万元，多次讨要未果。") == {
        "宏达建筑工程有限公司",
        "35000元",
    }
    assert named_things("关于阳光花园的事情之前已经反映过") == {"阳光花园"}
    assert named_things("物业公司申请调解") == set()  # a generic word before the suffix is too short


def test_named_things_read_the_shared_grammar() -> None:
    """The grammar of features.named_things: schools, platforms and roads too, not ordinary words."""
    assert named_things("青山职业技术学院拖欠实习补贴3000元") == {"青山职业技术学院", "3000元"}
    assert named_things("反映快易贷APP，在金桥路也有人说") == {"快易贷APP", "金桥路"}
    assert named_things("工人们找不到出路，路灯也不亮") == set()


@pytest.mark.parametrize(
    ("text", "things"),
    [
        # a person's name with a workplace word is no thing, masked or not
        ("我在王建国工地干活，老板拖欠工资", set()),
        ("我在[姓名]工地干活，老板拖欠工资", set()),
        ("孙建国厂拖欠工资", set()),
        ("刘德明项目拖欠工资", set()),
        # registered names stay things
        ("华联食品有限公司拖欠工资", {"华联食品有限公司"}),
        ("鑫源建筑工程有限公司拖欠工资", {"鑫源建筑工程有限公司"}),
        ("锦绣片区棚户区改造项目补偿不到位", {"锦绣片区棚户区改造项目"}),
        ("富康花园停水", {"富康花园"}),
        ("华联厂拖欠工资", {"华联厂"}),
        ("在永盛服装厂打工", {"永盛服装厂"}),
        ("桂花中医院排队太久", {"桂花中医院"}),
    ],
)
def test_a_persons_name_is_never_a_named_thing(text: str, things: set[str]) -> None:
    assert named_things(text) == things
    found = thing_mentions(pd.Series([text, mask_free_text(text)]))
    assert set(found["thing"]) == things


def test_nothing_to_link_gives_an_empty_frame(sources: Sources) -> None:
    early = as_of_instant(date(2025, 1, 1))
    known = sources.known_before(early)
    links = link_calls(known.hotline, known.cases, known.hotline, early, CONFIG, events=known.events)
    assert links.empty and links.columns.tolist() == list(LINK_COLUMNS)


# ---------------------------------------------------------------- the feature family


def test_linked_features_count_the_linker_links(sources: Sources) -> None:
    frame = build_features(sources, T, families=(linked_activity,)).set_index("case_id")
    names = [d.name for d in linked_activity.FEATURES]
    links = links_of(sources).set_index("case_id")
    expected = pd.DataFrame(
        {
            "linked_calls_7d": [0.0, 0, 0, 0, 0, 0],
            "linked_calls_30d": [1.0, 1, 1, 0, 1, 0],
            "linked_callers_30d": [1.0, 1, 1, 0, 1, 0],
            "linked_max_confidence_30d": [100 * links["confidence"].get(c, 0.0) for c in "ABCDEW"],
        },
        index=pd.Index(list("ABCDEW"), name="case_id"),
    )
    pd.testing.assert_frame_equal(frame[names], expected)


def test_linked_dictionary_entries_are_complete() -> None:
    for doc in linked_activity.FEATURES:
        assert doc.name.startswith(linked_activity.PREFIX)
        assert doc.meaning and doc.window and doc.kind == "numeric"
        assert "{value}" in doc.reason_zh and "{value}" in doc.reason_en
    assert linked_activity.FEATURES[0].reason(2.0, "zh") == "近7天另有2次未提供案件编号的来电经比对关联到本案"


def test_linked_features_of_an_empty_cohort(sources: Sources) -> None:
    frame = build_features(sources, date(2024, 1, 1), families=(linked_activity,))
    assert frame.empty


def test_a_days_digest_does_not_depend_on_the_other_days_decided_with_it() -> None:
    """A case closed for good before the calls stays out of a day's inputs unless it shares a phone with
    that day's calls, so the day's digest (and its remembered decisions) is the same whether the day is
    decided alone or in a window with a day whose caller is that closed case's reporter."""
    p7 = "13800000007"
    cases = [
        *CASES,
        case("Y", "2025-01-10 09:00", p7, category="邻里纠纷", description="楼下烧烤店油烟扰民。"),
    ]
    events = [*EVENTS, event_row("Y", "2025-02-10 10:00", "closed")]
    calls = [*CALLS, call("u16", "2025-03-26 10:00", p7, "楼下烧烤店油烟又扰民了。")]  # decided 03-27
    sources = make_sources(cases, events, calls)
    link_memo.MEMO.clear()
    alone = day_links(sources, date(2025, 3, 21))  # u1's day, without u16
    assert alone["call_id"].tolist() == ["u1"]
    link_memo.MEMO.clear()
    window = links_of(sources).set_index("call_id")
    assert window.loc["u16", "case_id"] == "Y"  # the closed case is u16's candidate through its phone
    assert link_memo.MEMO.get(bytes.fromhex(alone["digest"].iloc[0])) is not None
    link_memo.MEMO.clear()


def _grams(text: str) -> Counter[str]:
    return Counter(text[i : i + n] for n in (2, 3) for i in range(len(text) - n + 1))


def _key(gram: str) -> int:
    """The linker's 63-bit key of an n-gram: its code points, 21 bits each."""
    return sum(ord(c) << (21 * (len(gram) - 1 - i)) for i, c in enumerate(gram))


@pytest.mark.parametrize(
    "texts", [["拖欠工资工资", "工资未付", "物业漏水"], ["工资未付"], ["物业漏水", "拖欠工资工资"]]
)
def test_ngram_columns_are_the_texts_ngrams_in_key_order(texts: list[str]) -> None:
    """Columns are numbered in key order (so any subset of texts numbers its n-grams in the same relative
    order, and a district read alone sums its products in the same order), each row in column order."""
    counts = ngram_counts(texts, (2, 3))
    columns = sorted(set().union(*(_grams(t) for t in texts)), key=_key)
    assert counts.shape == (len(texts), len(columns)) and counts.has_sorted_indices
    for row, text in enumerate(texts):
        entries = counts[row]
        assert [columns[i] for i in entries.indices] == sorted(_grams(text), key=_key)
        assert entries.data.tolist() == [_grams(text)[columns[i]] for i in entries.indices]


def test_texts_too_short_for_an_ngram_give_rows_without_entries() -> None:
    assert ngram_counts(["", "a"], (2, 3)).shape == (2, 0)
