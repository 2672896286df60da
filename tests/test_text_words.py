"""The words of a text with negation scopes marked: exact outputs on hand-written sentences, the spans the cue
features use, and a vectorizer that uses the words pickles by reference."""

from __future__ import annotations

import pickle

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from features.text_words import MAX_SCOPE_WORDS, NEGATED_PREFIX, in_spans, negated_spans, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the scope runs to the contrast word; 上访 after it is asserted
        ("他说不打算起诉了，但是还要上访", "他 说 不 不_打算 不_起诉 不_了 但是 还要 上访"),
        # ... and to the clause's end
        ("没有人受伤。明天去法院起诉", "没有 不_人 不_受伤 明天 去 法院 起诉"),
        # no negator: plain words
        ("工友们准备明天一起去讨说法", "工友 们 准备 明天 一起 去 讨说法"),
        # mask tokens, numbers and punctuation are dropped
        ("[电话]来电反映[姓名]打人，已经3次了", "来电 反映 打人 已经 次 了"),
        # a mask inside a scope counts as a word of it but is not output
        ("没有和[姓名]打架", "没有 不_和 不_打架"),
        # whitespace ends a clause (texts of a case document are joined by a space)
        ("我没去 他去上访", "我 没 不_去 他 去 上访"),
        # a new predicate ends the scope: 还, 就, 的话, 只能
        ("不赔钱还打人", "不 不_赔钱 还 打人"),
        ("欠钱不还就起诉", "欠钱 不 不_还 就 起诉"),
        ("不赔钱的话我们去上访", "不 不_赔钱 的话 我们 去 上访"),
        ("实在没办法只能喝农药", "实在 没 不_办法 只能 喝 农药"),
        # not negations: other words holding 不/没/未, A-not-A questions, two negators in a row
        ("多次调解未果，当事人受不了要上访", "多次 调解 未果 当事人 受不了 要 上访"),
        ("他会不会去上访", "他 会 不会 去 上访"),
        ("不会放弃起诉", "不会 放弃 起诉"),
        # a verb of knowing or judging is negated alone
        ("不知道他要去上访", "不 不_知道 他 要 去 上访"),
        ("不满意处理结果要去上访", "不 不_满意 处理结果 要 去 上访"),
        # verbs that deny what follows; imperative negation
        ("双方未发生肢体冲突", "双方 未 不_发生 不_肢体冲突"),
        ("劝其不要上访", "劝 其 不要 不_上访"),
        # Latin letters lower-cased
        ("Hello 不OK", "hello 不 不_ok"),
        ("", ""),
    ],
)
def test_words_of_hand_written_sentences(text: str, expected: str) -> None:
    assert words(text) == expected.split()


def test_a_scope_is_at_most_max_scope_words_long() -> None:
    """An unpunctuated run (transcribed calls): only the first words after the negator are negated."""
    assert MAX_SCOPE_WORDS == 6
    assert words("他没有去区政府门口拉横幅堵路闹事讨说法") == [
        "他",
        "没有",
        *(NEGATED_PREFIX + w for w in ("去", "区政府", "门口", "拉", "横幅", "堵")),
        "路",
        "闹事",
        "讨说法",
    ]


def test_negated_spans_are_the_characters_of_the_negated_words() -> None:
    text = "他说不打算起诉了，但是还要上访。我没去 他去上访"
    spans = negated_spans(text)
    assert spans == [(3, 8), (18, 19)]
    assert [text[a:b] for a, b in spans] == ["打算起诉了", "去"]
    assert in_spans(text.index("起诉"), spans) == 8
    assert in_spans(2, spans) is None  # the negator itself is not negated
    assert in_spans(text.index("上访"), spans) is None
    assert negated_spans("说要去上访") == []


def test_words_are_pure_and_repeatable() -> None:
    first = words("他说不打算起诉了")
    first.append("changed")
    assert words("他说不打算起诉了") == ["他", "说", "不", "不_打算", "不_起诉", "不_了"]


def test_a_fitted_vectorizer_using_the_words_pickles_by_reference() -> None:
    documents = ["他说不打算起诉了，但是还要上访", "没有人受伤。明天去法院起诉", "我不会去上访的"]
    vectorizer = TfidfVectorizer(analyzer=words).fit(documents)
    assert {"不_起诉", "起诉", "不_上访", "上访"} <= set(vectorizer.vocabulary_)
    blob = pickle.dumps(vectorizer)
    assert b"features.text_words" in blob and b"words" in blob
    loaded = pickle.loads(blob)
    assert loaded.analyzer is words
    assert (loaded.transform(documents) != vectorizer.transform(documents)).nnz == 0
