"""The words of a Chinese text, with negated words marked: `words` for the model's term weighting,
`negated_spans` for the cue features.

A text is cut into clauses at punctuation and whitespace, and each clause into dictionary words by jieba
(HMM off: guessing new words could glue a negator to its verb, 不闹, or a subject to a modal, 他会).
Punctuation, numbers and the mask tokens that ingest puts in place of phones, ID numbers and names are
dropped; Latin letters are lower-cased.

Negation scope, after NegEx (Chapman et al., 2001: a window after the negator, terminating words,
pseudo-negations) with Mandarin's negation markers (Li & Thompson, 1981, ch. 12: 不, 没/没有, imperative
别/甭/勿/莫, written 未/无/非) and their usual compounds, plus verbs that deny what follows (放弃, 撤回,
避免, 防止...):
- a scope opens at a NEGATORS word and covers the words after it: at most MAX_SCOPE_WORDS, and it ends
  earlier at the clause's end or at a word that starts a new predicate (SCOPE_ENDS: contrast 但是/却,
  consequence 就/否则/的话, addition 还/也, necessity 只能/只好...); the first word is always in scope,
  it is the negated verb (不还钱: 还 is "give back");
- not negations: words that merely contain a negator (不满, 不断, 不仅, 受不了, 没想到, 无故, 未果...: they
  are other dictionary words), A-not-A questions (会不会, 是不是), and two negators in a row, which cancel
  (不会放弃起诉, 不是不想);
- after 不/没 + a verb of knowing or judging (不知道, 不清楚, 不满意, 不同意) only that verb is negated:
  what follows is what is not known or not accepted, and is left as it is (不满意处理结果要去上访).
A reported or hypothetical statement (他说要去上访, 如果不解决就上访) is left unchanged: a reported or
conditional threat is still a threat.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from contracts.masks import MASK_REGEX
from contracts.segmenter import tokenizer

NEGATED_PREFIX = "不_"
MAX_SCOPE_WORDS = 6
CLAUSE_CACHE_SIZE = 1 << 17

# Words as jieba's dictionary has them (with HMM off every token is a dictionary word; 不打算 is 不 + 打算).
NEGATORS = frozenset(
    (
        # 不 and its compounds (modal, aspectual and adverbial)
        *("不", "不会", "不想", "不再", "不要", "不用", "不必", "不能", "不敢", "不肯", "不是", "不曾"),
        *("不准", "不让", "不该", "不可", "不得", "不予", "从不", "从来不", "绝不", "决不", "永不", "毫不"),
        # 没(有): not (yet) done, there is no
        *("没", "没有", "从没"),
        # written and formal negators
        *("未", "未能", "未曾", "尚未", "并未", "从未", "无", "无人", "毫无", "无需", "无须", "无法"),
        *("并非", "绝非"),
        # imperative (prohibitive) negators
        *("别", "甭", "勿", "莫", "千万别"),
        # verbs that deny what follows: give up, withdraw, drop the idea, avoid, prevent
        *("放弃", "撤回", "打消", "避免", "防止", "杜绝"),
    )
)
# Words that start a new predicate and so end a scope (never its first word).
SCOPE_ENDS = frozenset(
    (
        # contrast
        *("但", "但是", "可是", "不过", "却", "然而", "只是", "而是", "而"),
        # consequence, condition, result
        *("就", "便", "才", "那就", "那么", "否则", "不然", "要不然", "要不", "的话"),
        *("所以", "因此", "于是", "结果"),
        # addition, sequence
        *("还", "还要", "还是", "也", "又", "并且", "而且", "甚至", "反而", "然后", "后来", "接着"),
        # necessity
        *("只能", "只好", "只得", "只有", "必须", "不得不", "非要", "硬要", "偏要", "执意"),
    )
)
# Verbs of knowing and judging: after 不/没 only they are negated, not what they are about.
SINGLE_WORD_SCOPE = frozenset(
    (
        *("知道", "清楚", "确定", "确认", "晓得", "了解", "记得"),
        *("满意", "同意", "认可", "服气", "甘心", "放心", "公平", "合理", "理解", "接受"),
    )
)
# A text can hold a negation only if one of these occurs in it (RE2 and Python syntax).
NEGATOR_PATTERN = "|".join(sorted(NEGATORS, key=len, reverse=True))

MASK_PATTERN = re.compile(MASK_REGEX)  # the ingest's mask tokens: [电话] [身份证号] [姓名]
_CLAUSE = re.compile(r"[^，。！？；：,.!?;:…（）()【】\s]+")
_PUNCTUATION = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d+")
_NEGATOR = re.compile(NEGATOR_PATTERN)


class _Token(NamedTuple):
    word: str | None  # None for a mask token, which counts in a scope but is never a word
    start: int
    end: int


class _Clause(NamedTuple):
    words: tuple[str, ...]
    negated: tuple[tuple[int, int], ...]  # character spans of the negated words, in the clause


def words(text: str) -> list[str]:
    """The words of text in order, those inside a negation scope prefixed with NEGATED_PREFIX."""
    return [word for clause in _CLAUSE.findall(text) for word in _analysed(clause).words]


def negated_spans(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of text that lie in a negation scope, sorted and not overlapping."""
    spans: list[tuple[int, int]] = []
    for match in _CLAUSE.finditer(text):
        if _NEGATOR.search(match.group()):
            offset = match.start()
            spans.extend((offset + a, offset + b) for a, b in _analysed(match.group()).negated)
    return spans


def in_spans(position: int, spans: list[tuple[int, int]]) -> int | None:
    """The end of the span (sorted, not overlapping) that holds position, None when none does."""
    at = bisect_right(spans, (position, float("inf"))) - 1
    return spans[at][1] if at >= 0 and spans[at][0] <= position < spans[at][1] else None


def _tokens(clause: str) -> list[_Token]:
    """The clause's words and mask tokens with their spans; punctuation left out, numbers kept (they
    count in a scope)."""
    segmenter, out, start = tokenizer(), [], 0
    for piece in [*MASK_PATTERN.finditer(clause), None]:
        end = len(clause) if piece is None else piece.start()
        for word, a, b in segmenter.tokenize(clause[start:end], HMM=False):
            if not _PUNCTUATION.fullmatch(word):
                out.append(_Token(word, start + a, start + b))
        if piece is not None:
            out.append(_Token(None, *piece.span()))
            start = piece.end()
    return out


def _opens_scope(tokens: list[_Token], at: int) -> bool:
    """Whether the word at `at` is a negator that negates (not one of an A-not-A question, 会不会)."""
    word = tokens[at].word
    if word not in NEGATORS:
        return False
    before = tokens[at - 1].word if at > 0 else None
    after = tokens[at + 1].word if at + 1 < len(tokens) else None
    question = before is not None and (
        (len(word) > 1 and word[0] in "不没" and before.endswith(word[1:]))
        or (len(word) == 1 and before == after)
    )
    return not question


def _scope(tokens: list[_Token], at: int) -> range:
    """Positions of the words negated by the negator at `at` (empty when the next word cancels it)."""
    first = at + 1
    if first >= len(tokens) or _opens_scope(tokens, first):
        return range(0)
    limit = (
        1 if tokens[at].word in ("不", "没") and tokens[first].word in SINGLE_WORD_SCOPE else MAX_SCOPE_WORDS
    )
    end = first + 1
    while end < min(len(tokens), first + limit):
        if tokens[end].word in SCOPE_ENDS or _opens_scope(tokens, end):
            break
        end += 1
    return range(first, end)


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _analysed(clause: str) -> _Clause:
    """The words and negated spans of one clause (no clause punctuation inside)."""
    tokens = _tokens(clause)
    negated = [False] * len(tokens)
    at = 0
    while at < len(tokens):
        if not _opens_scope(tokens, at):
            at += 1
            continue
        scope = _scope(tokens, at)
        for position in scope:
            negated[position] = True
        at = max(at + 1, scope.stop) if scope else at + 2  # a cancelled pair is skipped whole
    kept = [
        (NEGATED_PREFIX if negated[k] else "") + t.word.lower()
        for k, t in enumerate(tokens)
        if t.word is not None and not _NUMBER.fullmatch(t.word)
    ]
    return _Clause(tuple(kept), tuple(_merged(t for k, t in enumerate(tokens) if negated[k])))


def _merged(tokens: Iterable[_Token]) -> list[tuple[int, int]]:
    """Spans of consecutive negated tokens joined."""
    out: list[tuple[int, int]] = []
    for token in tokens:
        if out and token.start <= out[-1][1]:
            out[-1] = (out[-1][0], token.end)
        else:
            out.append((token.start, token.end))
    return out
