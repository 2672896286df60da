"""Text cue features: escalation cues (threats, self-harm, gatherings, lawsuits...) in the case's free text.

Three texts are read: the case description, the text of hotline calls linked to the case by case_id and
received since the case opened, and the notes of the case's events. Each is matched against a LEXICON
of cue groups, each a tuple of Chinese phrases or simple regular-expression fragments (alternations,
character classes and bounded gaps only, so that they run unchanged on Python's `re` and on Arrow's
RE2). A text "mentions" a group when any of the group's entries occurs in it outside a negation scope.

A cue inside a negation scope (`features.text_words`: 不会去上访, 没有起诉, 未发生肢体冲突) is not a
mention; the Arrow (RE2) match finds the candidate texts and only those holding a negator are looked at
word by word. Notes are counted both ever (a flag) and by window (how many notes in the last 7 and 30
days), as recent staff notes of confrontations are a signal of their own.

Limits: reported speech and conditionals still count (他说要去上访, 如果不解决就上访: a reported or
conditional threat is still a threat); negation is found by word rules, not by parsing; no spelling
variants beyond those listed. Entries that are common
in ordinary mediation records with a harmless sense are narrowed by context (e.g. "组织" only before
大家/工友/村民..., because "组织双方调解" is routine; "砍" only before 人/伤/他/你, because "林木砍伐" is
a land-dispute issue; "动手" not before 术).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from features.dictionary import FeatureDoc
from features.sources import Sources, positions
from features.text_words import NEGATOR_PATTERN, in_spans, negated_spans

PREFIX = "text_"
WINDOWS_DAYS = (7, 30)
CUE_WINDOW_DAYS = 30

_NUM = "[0-9一二两三四五六七八九十]"

LEXICON: dict[str, tuple[str, ...]] = {
    # Threats of violence, and reports of physical conflict (the usual forerunners of 民转刑).
    "violence": (
        "出人命",
        "弄死",
        "打死",
        "同归于尽",
        "报复",
        "不客气",
        "动刀",
        "整死",
        "搞死",
        "砍死",
        "捅死",
        "杀人",
        "杀了(?:他|她|你|他们)",
        "宰了",
        "一命换一命",
        "豁出去",
        "(?:跟|和|与)[^，。！？,.!?]{0,6}拼(?:命|了)",
        "找人(?:去|来|收拾|教训|打|砸)",
        "(?:自己|就|要|敢|先)动手(?:了|打|吧|啊|[，。！？,.!?]|$)",
        "动手打|动起手|打起来",
        "过激(?:行为|举动|行动)",
        "砍(?:人|伤|他|她|你)",
        "砸(?:了|烂|坏|他|她|你)",
        "拿刀|持刀|菜刀|持械|凶器",
        "放火|纵火|炸药",
        "威胁|恐吓",
        "打人|打伤|打架|斗殴|殴打|伤人",
        "肢体冲突|推搡",
        "家暴|家庭暴力",
    ),
    # Suicide or self-harm, said or threatened.
    "self_harm": (
        "跳楼",
        "自杀",
        "喝农药",
        "不想活",
        "寻死",
        "活不下去",
        "轻生",
        "寻短见",
        "想不开",
        "一死了之",
        "以死相逼",
        "跳(?:河|江|湖|桥|下去)",
        "喝敌敌畏|喝百草枯|服毒|吃安眠药",
        "上吊|割腕|自焚|卧轨",
        "死给(?:你|你们|他|他们|她)看",
        "死在(?:你们|他|他们|政府|门口|这里)",
        "撞死在",
    ),
    # Gathering people, petitions (上访) and other collective action.
    "gathering": (
        "大家一起",
        "上访",
        "拉横幅",
        "围堵",
        "堵路",
        "政府门口",
        "集体(?:上访|去|到|讨|维权|行动|停工|罢工|请愿|找)",
        "组织(?:大家|工友|工人|村民|业主|群众|家属|亲友|人员)",
        "一起去(?:政府|信访|讨|找|要|闹|上访|市里|区里|县里|镇里|北京|省里|公司|工地)",
        "(?:去|到|找)(?:区|市|县|镇|省)?(?:政府|信访)",
        "(?:拉|挂|打|举|扯)(?:横幅|条幅|标语)|举牌",
        "堵(?:门|路口|大门|马路)|封路|静坐|聚集|罢工|请愿",
        "越级|进京|赴京|群访|串联",
        "闹事|医闹",
        "(?:几十|上百|数十|数百|好几十)(?:个|名|户|号|位)?(?:人|工友|工人|村民|业主|户|家)",
    ),
    # Going to court, arbitration, lawyers.
    "legal": (
        "起诉",
        "打官司",
        "诉讼",
        "律师",
        "仲裁",
        "告(?:上|到)?法庭|上法庭|法庭上见|法院见",
        "(?:去|到|上|找|向)(?:人民)?法院",
        "法院(?:已)?(?:立案|受理|判决|开庭|传票)",
        "判决|开庭|传票|强制执行",
        "法律(?:途径|程序|手段)",
        "告(?:他|她|他们|她们|你们)",
    ),
    # Ultimatums: "if it is not solved (by then), I will ...".
    "ultimatum": (
        "再不解决就",
        "最后一次",
        "否则",
        "再不(?:解决|处理|给|还|赔|退|管|答复|回复|落实|兑现|发)",
        "(?:如果|要是|若|假如)(?:还是|再)?不(?:解决|处理|给|还|赔|退|管|答复)",
        "不(?:解决|处理|给钱|还钱|赔钱|退钱|赔偿|答复)(?:的话)?(?:我们|我)?就",
        "最后通牒|后果自负|看着办|别怪",
        "不然(?:的话|我|我们)|要不然",
        "再这样下去",
        f"限(?:你们|他|他们)?{_NUM}+天",
        f"{_NUM}+天之?内(?:不|再不|还不|如不|若不)",
    ),
    # Strong anger or exasperation.
    "anger": (
        "忍无可忍",
        "受够了",
        "气愤",
        "骗子",
        "受不了",
        "忍受不了|忍不下去",
        "愤怒|气死",
        "太过分|欺人太甚|欺负人",
        "无赖|黑心|不要脸|流氓",
        "(?:强烈|非常|很|十分|极其|极度)不满",
        "情绪(?:激动|失控|激烈|很大)",
    ),
    # Going to the media or exposing the dispute online.
    "media": (
        "曝光",
        "找媒体",
        "找记者",
        "记者|媒体|电视台",
        "网上(?:发|曝|说|投诉)",
        "发(?:到)?(?:网上|抖音|微博|朋友圈)",
        "抖音|微博|热搜",
    ),
}

CUE_LABELS: dict[str, tuple[str, str]] = {
    "violence": ("暴力威胁或冲突", "threats of violence or physical conflict"),
    "self_harm": ("轻生或自伤", "suicide or self-harm"),
    "gathering": ("群体聚集或上访", "gathering people, petitions (上访) or other group action"),
    "legal": ("起诉/打官司等法律途径", "lawsuits, arbitration or other legal action"),
    "ultimatum": ("“再不解决就……”之类的最后通牒", "an ultimatum ('if it is not solved, I will...')"),
    "anger": ("强烈不满或愤怒情绪", "strong anger or exasperation"),
    "media": ("找媒体或网上曝光", "going to the media or exposing it online"),
}
GROUPS: tuple[str, ...] = tuple(LEXICON)
PATTERNS: dict[str, str] = {group: "|".join(entries) for group, entries in LEXICON.items()}
_COMPILED = {group: re.compile(pattern) for group, pattern in PATTERNS.items()}


def examples(group: str, n: int = 5) -> str:
    """The first n plain phrases (no regex syntax) of a cue group, for the feature dictionary."""
    plain = [e for e in LEXICON[group] if not any(ch in e for ch in "()[]|?+*{}")]
    return ", ".join(plain[:n])


def _cue_docs(group: str) -> tuple[FeatureDoc, ...]:
    """The dictionary entries of one cue group: calls by window, the description, notes ever and by window."""
    zh, en = CUE_LABELS[group]
    about = f"{en} (e.g. {examples(group)})"
    calls = tuple(
        FeatureDoc(
            f"text_calls_{group}_{days}d",
            f"hotline calls linked to the case by case_id, received since the case opened and in the "
            f"last {days} days, whose text mentions {about}",
            f"{days} days",
            "numeric",
            f"近{days}天来电中{{value}}次提到{zh}",
            f"{{value}} calls in the last {days} days mentioned {en}",
        )
        for days in WINDOWS_DAYS
    )
    notes = tuple(
        FeatureDoc(
            f"text_notes_{group}_{days}d",
            f"number of the case's event notes of the last {days} days that mention {about}",
            f"{days} days",
            "numeric",
            f"近{days}天办理记录中{{value}}条提到{zh}",
            f"{{value}} event notes in the last {days} days mentioned {en}",
        )
        for days in WINDOWS_DAYS
    )
    return (
        *calls,
        FeatureDoc(
            f"text_description_{group}",
            f"1 if the case description mentions {about}, else 0",
            "-",
            "flag",
            f"案情描述中提到{zh}",
            f"the case description mentions {en}",
        ),
        FeatureDoc(
            f"text_notes_{group}",
            f"1 if the note of any of the case's events so far mentions {about}, else 0",
            "since opening",
            "flag",
            f"办理记录中提到{zh}",
            f"the case's event notes mention {en}",
        ),
        *notes,
    )


FEATURES: tuple[FeatureDoc, ...] = (
    *(doc for group in GROUPS for doc in _cue_docs(group)),
    FeatureDoc(
        "text_cue_groups_30d",
        f"number of distinct cue groups ({', '.join(GROUPS)}) mentioned in the last "
        f"{CUE_WINDOW_DAYS} days by linked calls received since the case opened or by its event notes",
        f"{CUE_WINDOW_DAYS} days",
        "numeric",
        f"近{CUE_WINDOW_DAYS}天来电和办理记录中出现{{value}}类升级信号",
        f"{{value}} kinds of escalation cues in calls and notes in the last {CUE_WINDOW_DAYS} days",
    ),
)


def cue_mentions(texts: pd.Series) -> pd.DataFrame:
    """Per text (same index) and cue group: does the text mention the group outside a negation scope
    (missing text: no).

    Each distinct text is matched once (records repeat standard phrasings), one regex per group; only the
    texts that match and hold a negator are looked at word by word.
    """
    codes, distinct = pd.factorize(texts)
    strings = pd.Series(np.asarray(distinct, dtype=object), dtype="string[pyarrow]")
    hits = {
        group: strings.str.contains(pattern, regex=True).to_numpy(dtype=bool)
        for group, pattern in PATTERNS.items()
    }
    matched = np.flatnonzero(np.logical_or.reduce([np.zeros(len(strings), bool), *hits.values()]))
    negatable = strings.iloc[matched].str.contains(NEGATOR_PATTERN, regex=True).to_numpy(dtype=bool)
    for position in matched[negatable]:
        _drop_negated(str(strings.iat[position]), position, hits)
    # A missing text has code -1: it indexes the False appended after the distinct texts' results.
    return pd.DataFrame(
        {group: np.append(hit, False)[codes] for group, hit in hits.items()}, index=texts.index
    )


def _drop_negated(text: str, position: int, hits: dict[str, np.ndarray]) -> None:
    """Unmark the groups whose every occurrence in the text (the distinct text at position) is negated."""
    spans = negated_spans(text)
    if not spans:
        return
    for group, hit in hits.items():
        if hit[position] and not _asserted(_COMPILED[group], text, spans):
            hit[position] = False


def _asserted(pattern: re.Pattern[str], text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether the pattern matches text starting outside every negated span."""
    start = 0
    while (match := pattern.search(text, start)) is not None:
        end = in_spans(match.start(), spans)
        if end is None:
            return True
        start = end
    return False


def _per_case(case: np.ndarray, hits: pd.DataFrame, size: int, how: str) -> np.ndarray:
    """Per case position (0..size-1) and group: the number ('sum') or presence ('any') of its texts' hits."""
    counts = np.stack([np.bincount(case, hits[group].to_numpy(), minlength=size) for group in GROUPS], axis=1)
    return np.minimum(counts, 1.0) if how == "any" else counts


def _per_window(
    case: np.ndarray, at: pd.Series, hits: pd.DataFrame, size: int, instant: pd.Timestamp
) -> dict[int, np.ndarray]:
    """Per window (days): per case position and group, how many of its texts dated in the window hit."""
    out = {}
    for days in WINDOWS_DAYS:
        within = (at >= instant - pd.Timedelta(days=days)).to_numpy()
        out[days] = _per_case(case[within], hits[within], size, "sum")
    return out


def _recent_calls(cohort: pd.DataFrame, hotline: pd.DataFrame, instant: pd.Timestamp) -> pd.DataFrame:
    """Calls linked to a cohort case, received in the widest window before the instant and since it opened,
    with the case's position in the cohort as `case`."""
    received = hotline["received_at"]
    start = instant - pd.Timedelta(days=max(WINDOWS_DAYS))
    calls = hotline.loc[(received >= start) & (received < instant), ["case_id", "received_at", "text"]]
    case = positions(calls["case_id"], cohort.index)
    calls = calls[case >= 0].assign(case=case[case >= 0])
    return calls[calls["received_at"].to_numpy() >= cohort["opened_at"].to_numpy()[calls["case"].to_numpy()]]


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Cue mentions in the cohort's recent call texts, descriptions and event notes before the instant."""
    index, size = cohort.index, len(cohort)
    calls = _recent_calls(cohort, known.hotline, instant)
    calls_per_window = _per_window(
        calls["case"].to_numpy(), calls["received_at"], cue_mentions(calls["text"]), size, instant
    )
    events = known.events.loc[known.events["event_at"] < instant, ["case_id", "event_at", "note"]]
    case = positions(events["case_id"], index)
    events = events[case >= 0].assign(case=case[case >= 0])
    note_hits = cue_mentions(events["note"])
    notes = _per_case(events["case"].to_numpy(), note_hits, size, "any")
    notes_per_window = _per_window(events["case"].to_numpy(), events["event_at"], note_hits, size, instant)
    description = cue_mentions(cohort["description"]).astype(float)

    columns: dict[str, pd.Series | np.ndarray] = {}
    for at, group in enumerate(GROUPS):
        for days in WINDOWS_DAYS:
            columns[f"text_calls_{group}_{days}d"] = calls_per_window[days][:, at]
            columns[f"text_notes_{group}_{days}d"] = notes_per_window[days][:, at]
        columns[f"text_description_{group}"] = description[group]
        columns[f"text_notes_{group}"] = notes[:, at]
    seen = (calls_per_window[CUE_WINDOW_DAYS] > 0) | (notes_per_window[CUE_WINDOW_DAYS] > 0)
    columns["text_cue_groups_30d"] = seen.sum(axis=1).astype(float)
    return pd.DataFrame(columns, index=index)[[d.name for d in FEATURES]].astype(float)
