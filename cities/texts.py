"""The Hawkes city's free texts: case descriptions, what callers say, staff notes (own phrasing).

Cues of risk appear with a probability rising with the case's intensity relative to a city's typical
level; calm texts carry negated cues ("不打算起诉", "没有动手") at the scenario's negation rate, and
background calls carry cue words in unrelated senses (decoys) at its decoy rate.
"""

from __future__ import annotations

import numpy as np

from cities.vocabulary import BACKGROUND_TOPICS, CATEGORIES

CUES: dict[str, tuple[str, ...]] = {
    "violence": (
        "逼急了我也不知道会干出什么事",
        "对方放话要找人收拾我们",
        "再这样下去迟早要出事",
        "昨天两家差点打起来",
        "他拿着棍子在我家门口转",
    ),
    "group_incident": (
        "我们几十户准备一起去政府讨说法",
        "工友们商量好了明天去堵大门",
        "大家已经建了群，约好一起去市里",
        "业主们准备拉横幅",
    ),
    "litigation": (
        "已经请好律师，准备去法院起诉",
        "再不解决就到法院告他",
        "律师函已经寄出去了",
        "打算申请仲裁",
    ),
}
NEGATED: tuple[str, ...] = (
    "我们不打算起诉，只想好好协商",
    "他没有动手，就是吵了几句",
    "不会去闹的，就想问问进度",
    "大家没打算去上访",
    "没想过要告他，能调解最好",
    "没有打架，双方都还算克制",
)
DECOYS: tuple[str, ...] = (
    "电视里天天放打架的节目，隔壁声音开得太大",
    "咨询一下起诉离婚需要准备什么材料",
    "小区里两条狗打起来了，没人管",
    "想问问请律师大概要多少钱",
    "广场上晚上很多人聚集跳舞，音响太吵",
    "游戏厅里小孩喊打喊杀的，影响学习",
    "看到新闻说有人去法院告物业，我们小区能不能也这样",
)
_TOPICS: dict[str, tuple[str, ...]] = {
    "借贷纠纷": ("借出去的钱一直要不回来", "借条到期了对方不认账"),
    "工程款纠纷": ("工程做完了款子还没结", "包工头拖着工程款不给"),
    "宅基地纠纷": ("宅基地的界址又被占了", "隔壁建房压了我家的地"),
    "邻里纠纷": ("楼上漏水一直不修", "邻居乱堆东西堵了通道"),
    "婚姻家庭": ("离婚后孩子抚养费不给", "家里老人赡养的事谈不拢"),
    "物业纠纷": ("物业乱收费还不开票", "电梯坏了物业不管"),
    "环境污染": ("厂里排的废水把田都污染了", "养猪场臭气熏天"),
    "劳资纠纷": ("厂里拖欠工资好几个月", "老板跑了工钱没着落"),
    "消费纠纷": ("预付卡的店关门了退不了钱", "买的家电坏了商家不认"),
    "交通事故": ("车祸的赔偿对方一直拖", "保险公司不肯赔"),
    "其他": ("之前反映的事还没解决", "事情拖了很久"),
}
_OPENINGS = ("您好，", "喂，", "我再反映一下，", "又是我，", "", "麻烦你们，")
_PROGRESS = ("到现在没人处理。", "上次答应的又没兑现。", "想问问调解进展。", "希望尽快处理。", "")
_CALM_NOTES = ("当事人情绪平稳。", "双方态度缓和。", "当事人表示愿意等待处理。", "现场秩序正常。")
_TENSE_NOTES = (
    "当事人情绪激动，扬言要讨个说法。",
    "对方态度强硬，现场气氛紧张。",
    "当事人称不解决就去市里。",
    "双方言语冲突，工作人员在场劝阻。",
)
_NOTES: dict[str, tuple[str, ...]] = {
    "registered": ("窗口登记受理", "网格员上报登记", "来电转办登记"),
    "assigned": ("分派至属地调委会", "指定专人跟进"),
    "visit": ("例行回访，", "上门走访，"),
    "conflict_visit": ("接报双方再起争执，到场处置，", "接群众反映有纠纷，前往查看，"),
    "mediation_session": ("组织双方面对面调解", "召集双方协商"),
    "mediation_failed": ("调解未果，双方分歧较大", "一方拒绝调解方案"),
    "agreement_breached": ("对方未按协议履行", "约定款项到期未付"),
    "mediated": ("双方达成调解协议", "签订和解书"),
    "referred": ("移交司法所", "转交劳动监察", "转派派出所"),
    "closed": ("结案归档", "办结", None),
    "reopened": ("当事人再次来访，重新受理", "协议未履行，恢复办理"),
    "violence": ("发生肢体冲突，民警到场处置", "一方受伤送医，已报警"),
    "group_incident": ("二十余人聚集讨要说法", "多名群众到镇政府聚集"),
    "litigation": ("当事人已向法院提起诉讼", "收到法院立案通知"),
}


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def cue_chance(level: np.ndarray, strength: float) -> np.ndarray:
    """Probability that a text carries a real cue, at relative intensity `level` (1 = typical)."""
    return 0.02 + strength * 0.6 * _sigmoid(2.5 * (level - 2.2))


def _cues(rng: np.random.Generator, leaning: np.ndarray) -> np.ndarray:
    """One real cue per row, its group drawn by the row's leaning over (violence, group, litigation)."""
    groups = list(CUES.values())
    cumulative = np.cumsum(leaning / leaning.sum(axis=1, keepdims=True), axis=1)
    group = (rng.random(len(leaning))[:, None] > cumulative).sum(axis=1).clip(0, len(groups) - 1)
    return np.array([groups[g][rng.integers(len(groups[g]))] for g in group], dtype=object)


def _leaning(category: np.ndarray) -> np.ndarray:
    return np.array([[c.violence, c.group, c.litigation] for c in CATEGORIES])[category]


def _with(texts: np.ndarray, where: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """texts with extra appended where `where` holds."""
    out = texts.copy()
    out[where] = out[where] + extra[where]
    return out


def call_texts(
    rng: np.random.Generator, category: np.ndarray, level: np.ndarray, strength: float, negation_rate: float
) -> np.ndarray:
    """What callers about cases say: the matter, progress, a cue when tense, a negated cue when calm."""
    n = len(category)
    topic = np.array([_TOPICS[CATEGORIES[c].name][rng.integers(2)] for c in category], dtype=object)
    texts = _pick(rng, _OPENINGS, n) + topic + "，" + _pick(rng, _PROGRESS, n)
    cued = rng.random(n) < cue_chance(level, strength)
    texts = _with(texts, cued, _cues(rng, _leaning(category)))
    negated = ~cued & (level < 1.5) & (rng.random(n) < negation_rate)
    return _with(texts, negated, _pick(rng, NEGATED, n))


def background_texts(rng: np.random.Generator, size: int, decoy_rate: float) -> np.ndarray:
    """Calls about no case: ordinary city matters, a share with cue words in unrelated senses."""
    texts = _pick(rng, BACKGROUND_TOPICS, size)
    decoy = rng.random(size) < decoy_rate
    texts[decoy] = _pick(rng, DECOYS, int(decoy.sum()))
    return texts


def notes(
    rng: np.random.Generator,
    kind: np.ndarray,
    kinds: tuple[str, ...],
    level: np.ndarray,
    strength: float,
    negation_rate: float,
) -> np.ndarray:
    """Staff notes per event: the event's own phrase, and for visits and sessions the mood (tense with a
    probability rising with the intensity, by `strength`), calm ones sometimes with a negated cue."""
    n = len(kind)
    out = np.empty(n, dtype=object)
    for k, name in enumerate(kinds):
        rows = np.flatnonzero(kind == k)
        out[rows] = _pick(rng, _NOTES[name], len(rows))
    moody = np.isin(kind, [kinds.index(k) for k in ("visit", "conflict_visit", "mediation_session")])
    tense = moody & (rng.random(n) < cue_chance(level, strength))
    calm = moody & ~tense
    out[tense] = out[tense] + _pick(rng, _TENSE_NOTES, int(tense.sum()))
    out[calm] = out[calm] + _pick(rng, _CALM_NOTES, int(calm.sum()))
    negated = calm & (level < 1.5) & (rng.random(n) < negation_rate)
    out[negated] = out[negated] + _pick(
        rng, ("当事人表示不打算起诉。", "经了解双方没有动手。"), int(negated.sum())
    )
    return out


def descriptions(
    rng: np.random.Generator,
    category: np.ndarray,
    parties: np.ndarray,
    amount: np.ndarray,
    agitation: np.ndarray,
) -> np.ndarray:
    """Case descriptions at intake: the matter, how many are involved, the money, the mood at intake."""
    n = len(category)
    topic = np.array([_TOPICS[CATEGORIES[c].name][rng.integers(2)] for c in category], dtype=object)
    who = np.where(parties > 2, np.char.add(np.char.add("涉及", parties.astype(str)), "户（人）。"), "")
    money = np.where(
        np.isnan(amount),
        "",
        np.char.add(np.char.add("涉及金额约", np.nan_to_num(amount).astype(int).astype(str)), "元。"),
    )
    texts = "申请人反映" + topic + "。" + who.astype(object) + money.astype(object)
    tense = rng.random(n) < 0.05 + 0.5 * _sigmoid(2.0 * (agitation - 2.0))
    texts[tense] = texts[tense] + "申请人情绪较为激动。"
    texts = _with(texts, ~tense & (rng.random(n) < 0.3), _pick(rng, ("希望调解解决。", "诉求明确。"), n))
    return texts
