"""Demo-city simulator: synthetic exports of a prefecture-level city (清江市) and the hidden truth behind.

The city has seven districts (区/县) with towns/streets of different sizes. Each case carries a HIDDEN
daily "tension" x: a mean-reverting random walk around a per-case baseline (category, money at stake,
parties and an unobserved temperament) that jumps with the case's own events (a failed mediation or a
breached agreement raises it and its baseline, a mediated agreement or closing lowers them). The case
process is simulated day by day, vectorised over the live cases: at most one process event per case and
day (assigned, visit, mediation_session [+ its outcome], referred, closed, reopened), and, while the case
is open, each escalation type k fires with daily hazard ``h_k = exp(static_k + slope_k * x)`` where
``static_k`` holds the category, party-count (group_incident) and amount (litigation) terms. Hotline
calls about a case are Poisson with a rate rising with x and with a per-case propensity to call; ~45%
are linked by case_id, the rest come mostly from the reporter's phone (in another format) or from other
parties; background calls (~40% of all) concern no case. Escalation cues in call texts, night calls and
agitated notes become likelier as x rises.

Truth: for an as-of date D (the instant D 00:00) and a case open then (opened before D, and its last
closed/reopened event before D, if any, is not closed), ``p_escalation = 1 - exp(-30 * sum_k h_k)``
with the hidden state FROZEN at its value at D 00:00 (the case assumed to stay open, no further events,
no noise): the hazard-implied probability, not a Monte-Carlo one, so it somewhat overstates the risk of
cases about to close. ``escalated`` says whether a default escalation event actually happened in
[D, D + 30 days) in this run.

Exports: all columns are text, as they'd appear in an export (missing values NA). Times are naive
Asia/Shanghai within [start, start + days); most are written "YYYY-MM-DD HH:MM:SS", ~5% in the other
contract formats; a case's registered event carries the case's own opened_at/recorded_at text. With
messiness > 0, that share of rows of each file gets one contract violation, and ~1% of (clean) rows are
repeated later in the file; truth_corruptions lists them by file name, 1-based data row of the written
file, field (``*`` for a duplicate row) and kind. The clean content does not depend on messiness.

Group grievances (``config.grievances``, from their own random stream, appended after everything else
and never made messy, so every other row is the same with or without them): a company stops paying
wages (then a land project's compensation, an estate's developer, and with ``grievance_more_kinds`` a
college's internships, a loan platform, road or metro works, in turn). From its onset, calls
naming it come in at a rate rising exponentially from 0.5 to 6-10 a day over 16-25 days, three in four
from someone who has not called about it yet (a new phone); 2-4 cases naming it are opened from a
third of the way on, and a group_incident happens on the largest on the last day of the rise, after
which calls halve every two days. With several grievances, the last one starts 10-14 days before the
end of the period and is still rising there (its incident, if it falls in the period, is exported).
truth_grievances lists each grievance's thing, district, onset, first escalation (time and case) and
its records (record_kind ``cases`` or ``hotline``, record_id, and named_as: how the record names the
thing, empty for a call that names none); the grievance's cases also have rows in truth_escalation
(their p_escalation is the hazard at a scripted tension rising to the incident) and its calls in
truth_links (about a caller's case once it is open).

Callers name a grievance's thing as they would on a real message board (issue 17): with
``grievance_name_variety`` a call names it another way than by its full name (a short form such as the
name without its suffix, "宏达建工", "锦绣小区", "棚改项目"; a province, city, district or town before it;
"商品房"/"安置房" before an estate; a building, unit or room number after it, "3幢2单元", sometimes in
full-width digits), with ``grievance_typo_rate`` one of its characters is a homophone or near form, and
with ``grievance_topic_only`` the call names no thing, only what is wrong ("晚上施工噪音太大"). With
``grievance_more_kinds`` the fourth to sixth grievances are about things without an organisation or place
suffix: a college's internship programme (XX职业技术学院), a loan platform (XX网贷平台 / XX金融APP, a
quarter of its calls from other districts) and road or metro works. ``generic_call_share`` adds
background calls naming generic things (GENERIC_THINGS: 整个小区, 导致小区, 建设项目, 自来水公司 ...)
over every district and several hotline categories, some in outage bursts from one town. These come from
streams of their own (the generic calls are appended before the grievances' rows): with
``config.plain_grievances()`` the exports are those of the simulator before issue 17.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from string import Formatter

import numpy as np
import pandas as pd

from contracts.vocabulary import (
    CATEGORIES,
    CHANNELS,
    DEFAULT_ESCALATION_EVENTS,
    SOURCES,
    EventType,
    RecordKind,
)

CASE_COLUMNS: tuple[str, ...] = (
    "case_id",
    "opened_at",
    "district",
    "town",
    "category",
    "source",
    "description",
    "party_count",
    "amount",
    "reporter_name",
    "reporter_phone",
    "reporter_id_number",
    "address",
    "recorded_at",
)
EVENT_COLUMNS: tuple[str, ...] = ("case_id", "event_at", "event_type", "note", "recorded_at")
HOTLINE_COLUMNS: tuple[str, ...] = (
    "call_id",
    "received_at",
    "district",
    "category",
    "text",
    "channel",
    "case_id",
    "caller_name",
    "caller_phone",
    "recorded_at",
)
FILE_NAMES: dict[RecordKind, str] = {
    RecordKind.CASES: "cases.csv",
    RecordKind.CASE_EVENTS: "case_events.csv",
    RecordKind.HOTLINE: "hotline.csv",
}
HORIZON_DAYS = 30
DUPLICATE_FIELD = "*"

_DAY = 86_400
_EVENT_TYPES: tuple[EventType, ...] = tuple(EventType)
_CODE: dict[EventType, int] = {e: i for i, e in enumerate(_EVENT_TYPES)}
_ESCALATION_CODES = np.array([_CODE[e] for e in DEFAULT_ESCALATION_EVENTS])


# ---------------------------------------------------------------- configuration and results


@dataclass(frozen=True)
class SimulationConfig:
    """Size, period, seed and messiness of a simulated city."""

    seed: int = 7
    n_cases: int = 20_000
    days: int = 540
    start: date = date(2025, 1, 1)
    messiness: float = 0.0
    truth_every_days: int = 7
    grievances: int = 2  # group grievances added to the city (the last of several still emerging at the end)
    # How callers on a real message board name a grievance's thing (`plain_grievances()`: all off, the
    # simulator before issue 17, each thing named one clean way).
    grievance_name_variety: float = 0.6  # share of its calls naming the thing other than by its full name
    grievance_typo_rate: float = 0.03  # share of its calls with a character of the name miswritten
    grievance_topic_only: float = 0.15  # share of its calls naming no thing, only what is wrong
    grievance_more_kinds: bool = True  # grievances 4-6 about a college's internships, a loan platform, works
    generic_call_share: float = 0.03  # more background calls naming generic words (整个小区 ...), x calls

    def __post_init__(self) -> None:
        if self.n_cases < 1 or self.days < 1 or self.truth_every_days < 1:
            raise ValueError("n_cases, days and truth_every_days must be positive")
        if self.grievances < 0:
            raise ValueError("grievances must be zero or more")
        if not 0.0 <= self.messiness <= 0.5:
            raise ValueError("messiness must be within [0, 0.5]")
        shares = (
            self.grievance_name_variety,
            self.grievance_typo_rate,
            self.grievance_topic_only,
            self.generic_call_share,
        )
        if not all(0.0 <= share <= 1.0 for share in shares):
            raise ValueError("grievance name shares and generic_call_share must be within [0, 1]")

    def plain_grievances(self) -> SimulationConfig:
        """This config with every thing named one clean way, three kinds of grievance and no generic calls:
        the exports of the simulator before issue 17 (its grievance truth has the `named_as` column more)."""
        return replace(
            self,
            grievance_name_variety=0.0,
            grievance_typo_rate=0.0,
            grievance_topic_only=0.0,
            grievance_more_kinds=False,
            generic_call_share=0.0,
        )


@dataclass(frozen=True)
class SimulatedCity:
    """The three exports of a simulated city and the truth tables behind them."""

    cases: pd.DataFrame
    case_events: pd.DataFrame
    hotline: pd.DataFrame
    truth_escalation: pd.DataFrame
    truth_links: pd.DataFrame
    truth_corruptions: pd.DataFrame
    truth_grievances: pd.DataFrame


# ---------------------------------------------------------------- the city: geography and categories


def _words(text: str) -> tuple[str, ...]:
    """A tuple of the space-separated words of text (compact literal lists)."""
    return tuple(text.split())


@dataclass(frozen=True)
class _District:
    name: str
    weight: float
    kind: str  # urban | industrial | rural
    towns: tuple[str, ...]


_CITY = "清江市"
_DISTRICTS: tuple[_District, ...] = (
    _District("东湖区", 0.21, "urban", ("东湖街道", "湖滨街道", "新桥街道", "梅园街道", "滨江街道")),
    _District("江北区", 0.17, "urban", ("江北街道", "望江街道", "柳林街道", "北城街道")),
    _District("南城区", 0.14, "urban", ("南门街道", "文昌街道", "桂花街道", "高新街道")),
    _District("河口区", 0.13, "industrial", ("河口街道", "临港街道", "工业园街道", "沙洲镇")),
    _District("青山县", 0.13, "rural", ("城关街道", "青山镇", "石门镇", "白沙镇", "竹林镇", "凤岭镇")),
    _District("临川县", 0.12, "rural", ("临川镇", "马坪镇", "双河镇")),
    _District("云溪县", 0.10, "rural", ("云溪镇", "黄土岭镇", "清水镇", "金鸡镇")),
)


@dataclass(frozen=True)
class _Category:
    share: float
    amount_median: float
    amount_sigma: float
    amount_missing: float
    crowd: bool  # heavy-tailed party_count
    entity: str  # company | estate | village | project | hospital | road | store | none
    tension: float
    violence: float  # log-hazard offsets of the escalation types
    group: float
    litigation: float
    hotline_labels: tuple[str, ...]


_CATEGORY_PROFILES: dict[str, _Category] = {
    "邻里纠纷": _Category(
        0.26, 2_000, 1.2, 0.55, False, "estate", 0.1, 0.9, -3.0, -1.0, ("城市管理", "邻里矛盾")
    ),
    "婚姻家庭": _Category(
        0.20, 50_000, 1.4, 0.55, False, "none", 0.1, 0.9, -3.5, 0.0, ("家庭纠纷", "妇女儿童")
    ),
    "劳资纠纷": _Category(
        0.11, 30_000, 0.9, 0.20, True, "company", 0.2, -1.0, 0.6, 0.0, ("劳动保障", "欠薪")
    ),
    "土地山林": _Category(
        0.07, 20_000, 1.1, 0.35, False, "village", 0.2, 0.3, -0.8, -0.8, ("农业农村", "自然资源")
    ),
    "征地拆迁": _Category(
        0.04, 200_000, 1.2, 0.25, True, "project", 0.4, 0.0, 0.8, -0.3, ("征地拆迁", "住房城乡建设")
    ),
    "物业纠纷": _Category(
        0.08, 3_000, 1.0, 0.30, True, "estate", 0.0, -1.2, -0.2, -0.8, ("物业管理", "住房城乡建设")
    ),
    "消费纠纷": _Category(
        0.07, 5_000, 1.1, 0.25, False, "store", -0.2, -2.0, -1.5, -0.2, ("市场监管", "消费维权")
    ),
    "医疗纠纷": _Category(0.03, 80_000, 1.0, 0.30, False, "hospital", 0.3, -0.3, -1.5, 0.6, ("卫生健康",)),
    "交通事故": _Category(
        0.06, 30_000, 1.0, 0.25, False, "road", 0.0, -1.5, -3.5, 0.7, ("交通运输", "公安交管")
    ),
    "其他": _Category(0.08, 10_000, 1.3, 0.40, False, "none", -0.1, -0.8, -2.5, 0.0, ("其他", "咨询")),
}
_KIND_MULTIPLIERS: dict[str, dict[str, float]] = {
    "urban": {"土地山林": 0.15, "征地拆迁": 0.6, "物业纠纷": 1.7, "消费纠纷": 1.4, "医疗纠纷": 1.3},
    "industrial": {"劳资纠纷": 2.2, "土地山林": 0.4, "物业纠纷": 0.8},
    "rural": {"土地山林": 2.4, "征地拆迁": 1.6, "物业纠纷": 0.25, "消费纠纷": 0.6, "劳资纠纷": 0.8},
}
_SOURCE_SHARES = np.array([0.24, 0.14, 0.26, 0.05, 0.16, 0.15])  # in SOURCES order
_SOURCE_OVERRIDES: dict[str, np.ndarray] = {
    "交通事故": np.array([0.10, 0.55, 0.10, 0.10, 0.10, 0.05]),
    "婚姻家庭": np.array([0.15, 0.10, 0.30, 0.05, 0.30, 0.10]),
    "医疗纠纷": np.array([0.25, 0.05, 0.35, 0.10, 0.20, 0.05]),
}
_SPRING_FESTIVAL: dict[int, date] = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}

# ---------------------------------------------------------------- people

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏"
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红海波"
    "春梅金凤文斌辉鹏宇浩雪琴云飞龙燕玲婷晨欣佳怡俊峰"
)
_PHONE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 170 173 176 "
    "177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 196 198 199"
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_OUTSIDE_AREAS = ("360102", "430105", "420106", "350203", "441303", "510104", "411302", "340111")

# ---------------------------------------------------------------- names of places and organisations

_WORDS = _words(
    "宏达 鑫源 华联 永盛 金鹰 恒泰 东方 新世纪 锦绣 翠苑 富康 兴旺 长青 "
    "明珠 阳光 盛世 天成 瑞丰 嘉禾 福临 远大 顺发 康乐 金桥 绿洲 星河"
)
_ENTITY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "company": (
        "建筑工程有限公司",
        "服装厂",
        "电子科技有限公司",
        "物流有限公司",
        "食品有限公司",
        "家具厂",
        "装饰工程有限公司",
        "机械制造有限公司",
    ),
    "estate": ("花园", "小区", "家园", "苑", "新村", "公寓"),
    "village": ("村",),
    "project": ("片区棚户区改造项目", "高速公路征迁项目", "工业园区征地项目", "旧城改造项目"),
    "store": ("超市", "家电城", "健身会所", "教育培训中心", "汽车4S店", "装修公司"),
    "road": ("路", "大道", "路口"),
}
_DEPARTMENTS = ("派出所", "人民法院", "劳动监察大队", "信访局", "住建局", "司法所")
_GATHER_PLACES = ("区政府门口", "镇政府", "公司门口", "项目工地", "市信访局", "售楼部")

# ---------------------------------------------------------------- text templates

_ISSUES: dict[str, tuple[str, ...]] = {
    "邻里纠纷": (
        "房屋漏水",
        "装修噪音",
        "宅基地边界",
        "排水沟堵塞",
        "楼道堆放杂物",
        "树木遮挡采光",
        "养狗扰民",
    ),
    "婚姻家庭": ("家庭琐事", "子女抚养", "赡养老人", "财产分割", "彩礼返还", "家庭暴力"),
    "劳资纠纷": ("被拖欠工资", "工伤未获赔偿", "被无故辞退", "未签劳动合同", "加班费未支付"),
    "土地山林": ("山林界址", "承包地边界", "宅基地使用", "灌溉水源", "林木砍伐"),
    "征地拆迁": ("补偿标准", "房屋面积认定", "安置房分配", "青苗补偿"),
    "物业纠纷": ("服务不到位", "乱收费", "电梯长期故障", "车位管理混乱", "公共收益不公开"),
    "消费纠纷": ("商品质量问题", "预付卡无法退费", "虚假宣传", "售后不履行"),
    "医疗纠纷": ("术后出现并发症", "误诊", "用药不当", "住院期间摔伤"),
    "交通事故": ("追尾", "剐蹭", "行人受伤", "电动车相撞"),
    "其他": ("借贷", "合同", "合伙经营", "房屋租赁"),
}
_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "邻里纠纷": (
        "{reporter}反映与邻居{other}因{issue}发生矛盾，双方多次争吵，请求调解。",
        "{entity}住户{reporter}反映楼上邻居{issue}问题已持续{months}个月，协商未果。",
        "申请人与被申请人{other}系邻居，因{issue}问题产生纠纷，申请人要求赔偿损失{amount}。",
    ),
    "婚姻家庭": (
        "{reporter}反映与配偶因{issue}长期争吵，要求调解。",
        "申请人与{other}婚后感情不和，现就{issue}问题发生争议，涉及金额{amount}。",
        "{reporter}称兄弟姐妹在{issue}问题上互相推诿，家庭矛盾激化。",
    ),
    "劳资纠纷": (
        "{n}名工人反映{entity}拖欠工资共计{amount}，多次讨要未果。",
        "{reporter}反映在{entity}工作期间{issue}，要求公司支付{amount}。",
        "{entity}承建的项目完工后包工头失联，{n}名农民工工资{amount}无着落。",
        "{reporter}等{n}人反映{entity}{issue}，已向劳动监察部门反映。",
    ),
    "土地山林": (
        "{entity}村民{reporter}与{other}因{issue}发生争执，要求确权。",
        "{entity}两个村民小组因{issue}问题产生纠纷，涉及约{n}户村民。",
        "{reporter}反映其承包的土地被{other}占用，要求返还并赔偿{amount}。",
    ),
    "征地拆迁": (
        "{entity}涉及的{n}户村民对{issue}有异议，要求提高补偿，涉及金额{amount}。",
        "{reporter}反映{entity}拆迁时{issue}有误，少补偿约{amount}。",
        "{entity}征地款{amount}迟迟未发放到位，{n}户村民意见较大。",
    ),
    "物业纠纷": (
        "{entity}业主{n}户反映物业公司{issue}，要求退还物业费{amount}。",
        "物业公司申请调解，{entity}业主{reporter}拖欠物业费{amount}。",
        "{entity}业主与物业因{issue}发生冲突，{n}户业主联名投诉。",
    ),
    "消费纠纷": (
        "{reporter}在{entity}消费后发现{issue}，要求退款{amount}。",
        "{n}名消费者反映{entity}突然关门，预付款共约{amount}无法退还。",
        "{reporter}与{entity}就{issue}发生争议，协商未果。",
    ),
    "医疗纠纷": (
        "{reporter}反映其家属在{entity}治疗期间{issue}，要求赔偿{amount}。",
        "患者家属与{entity}就{issue}责任认定存在分歧，家属多次到院交涉。",
        "{entity}医疗纠纷，患方要求赔偿{amount}，院方认为无过错。",
    ),
    "交通事故": (
        "{reporter}驾驶电动车在{entity}与{other}驾驶的小轿车发生碰撞，双方就赔偿{amount}协商未果。",
        "{entity}发生交通事故，{reporter}受伤住院，要求对方赔偿医疗费等{amount}。",
        "{reporter}与{other}因{issue}事故责任划分产生争议。",
    ),
    "其他": (
        "{reporter}反映与{other}之间存在{issue}纠纷，请求调解。",
        "{reporter}称{other}借款{amount}到期不还，多次催讨未果。",
        "{reporter}与{other}因{issue}产生矛盾，涉及{amount}。",
    ),
}
_TENSION_HINTS = ("当事人情绪激动。", "当事人扬言要采取过激行为。", "双方曾发生推搡。", "当事人已多次上访。")
_PII_SNIPPETS = ("联系电话{phone}。", "联系方式：{phone}", "身份证号{id_number}。")

_CALL_GENERIC = (
    "关于{entity}的事情之前已经反映过，到现在还没有结果。",
    "我上次反映的{issue}问题一直没人处理，请尽快安排。",
    "调解员说会处理，但是已经过去{days}天了，没有任何进展。",
    "{entity}那边还是没有解决，我们要求给个说法。",
    "对方根本不理会，{issue}的问题还在。",
    "想问一下我们那个{issue}的事情现在进展到哪一步了。",
)
_CALL_BY_CATEGORY: dict[str, str] = {
    "邻里纠纷": "邻居又开始{issue}了，实在受不了。",
    "婚姻家庭": "家里又吵起来了，{issue}的事情谈不拢。",
    "劳资纠纷": "{entity}还欠我们工资{amount}，家里等着用钱。",
    "土地山林": "{entity}那块地的事情对方又来闹了。",
    "征地拆迁": "{entity}的补偿款到现在都没有发，村里很多人有意见。",
    "物业纠纷": "{entity}物业还是老样子，业主都很不满。",
    "消费纠纷": "{entity}还是不给退钱，一共{amount}。",
    "医疗纠纷": "{entity}到现在都不给个说法，人都这样了。",
    "交通事故": "对方一直拖着不赔，医药费{amount}都是我们自己垫的。",
    "其他": "{issue}的钱对方还是不还，一共{amount}。",
}
_CUES: dict[str, tuple[str, ...]] = {
    "threat": (
        "再不解决就别怪我不客气了。",
        "要出人命了！",
        "我们要找人去他家。",
        "再这样下去我就自己动手了。",
    ),
    "crowd": ("大家准备一起去政府门口。", "工友们说好了明天一起去讨说法。", "几十户人准备集体去上访。"),
    "court": ("我要去法院起诉。", "已经找好律师了，准备打官司。"),
    "selfharm": ("我真的不想活了。", "再不给钱我就从楼上跳下去。"),
}
_CALL_PII = ("我的电话是{phone}。", "回电{phone}。", "我的身份证号是{id_number}。")

_BACKGROUND: tuple[tuple[str, str], ...] = (
    ("城市管理", "{estate}附近工地晚上施工，噪音太大。"),
    ("城市管理", "{road}的路灯坏了好几天了。"),
    ("城市管理", "{estate}门口占道经营，车都过不去。"),
    ("城市管理", "楼上邻居半夜装修，太吵了。"),
    ("公用事业", "{estate}停水两天了，什么时候恢复？"),
    ("公用事业", "{estate}最近频繁停电。"),
    ("咨询", "咨询一下医保异地报销怎么办理。"),
    ("咨询", "想问一下社保转移需要什么材料。"),
    ("咨询", "咨询办理居住证需要哪些材料。"),
    ("环境保护", "{company}排放的废气有刺鼻气味。"),
    ("交通运输", "{road}附近公交车班次太少。"),
    ("市场监管", "{store}卖的东西过期了。"),
    ("安全隐患", "{estate}的井盖丢了，要出人命了！"),
    ("劳动保障", "咨询一下公司不给交社保怎么办。"),
)

_NOTES: dict[EventType, tuple[str, ...]] = {
    EventType.REGISTERED: ("受理登记。", "当事人来访，登记受理。", "登记受理，告知调解程序。"),
    EventType.ASSIGNED: ("已分派至{town}人民调解委员会。", "指派调解员{mediator}跟进。"),
    EventType.VISIT: (
        "调解员{mediator}上门走访，当事人{mood}。",
        "走访双方当事人了解情况，{mood}。",
        "电话回访当事人{phone}，{mood}。",
    ),
    EventType.MEDIATION_SESSION: (
        "组织双方进行调解。",
        "召开调解会，双方均到场。",
        "邀请村（居）委会干部参与调解。",
    ),
    EventType.MEDIATION_FAILED: (
        "双方分歧较大，调解未成功。",
        "被申请人拒不到场，调解终止。",
        "对赔偿金额未能达成一致。",
    ),
    EventType.MEDIATED: ("达成调解协议，约定分期履行。", "双方达成一致，签订调解协议书。", "当场履行完毕。"),
    EventType.AGREEMENT_BREACHED: ("对方未按协议履行，当事人再次来访。", "约定款项逾期未付。"),
    EventType.REFERRED: ("移交{dept}处理。", "引导当事人通过{dept}解决。"),
    EventType.REOPENED: ("当事人再次反映，重新受理。", "矛盾反复，重新立案跟进。"),
    EventType.CLOSED: ("结案。", "已履行完毕，结案归档。", "当事人撤回申请，结案。"),
    EventType.VIOLENCE: (
        "双方发生肢体冲突，派出所已出警。",
        "一方持械伤人，已移交公安机关。",
        "发生打架事件，有人受伤。",
    ),
    EventType.GROUP_INCIDENT: ("约{crowd}人聚集在{place}讨要说法。", "{crowd}余名群众到{place}聚集。"),
    EventType.LITIGATION: ("当事人已向人民法院提起诉讼。", "法院已立案受理。"),
}
_MOOD_HIGH = ("情绪激动", "态度强硬", "扬言要讨说法")
_MOOD_LOW = ("情绪平稳", "表示愿意调解", "态度缓和")

# ---------------------------------------------------------------- hidden dynamics parameters

_ESCALATION_INTERCEPTS = np.array([-9.0, -10.1, -8.3])  # violence, group_incident, litigation
_ESCALATION_SLOPES = np.array([1.25, 1.05, 0.75])
_TENSION_PULL = 0.04
_TENSION_NOISE = 0.12
_TENSION_RANGE = (-3.0, 4.0)
_BASE_RANGE = (-2.5, 3.0)
_CALL_INTERCEPT = -3.6
_CALL_SLOPE = 0.7
_CLOSED_CALL_FACTOR = 0.25
_REOPEN_WINDOW_DAYS = 60
_LINK_SHARE = 0.45
_BACKGROUND_SHARE = 0.40
_TENSION_JUMPS: dict[EventType, tuple[float, float]] = {  # (jump of x, shift of baseline)
    EventType.VISIT: (-0.1, 0.0),
    EventType.MEDIATION_SESSION: (-0.05, 0.0),
    EventType.MEDIATION_FAILED: (0.5, 0.3),
    EventType.MEDIATED: (-0.9, -0.4),
    EventType.AGREEMENT_BREACHED: (0.9, 0.5),
    EventType.REFERRED: (0.0, -0.1),
    EventType.CLOSED: (-0.3, -0.3),
    EventType.REOPENED: (0.5, 0.2),
    EventType.VIOLENCE: (0.2, 0.0),
    EventType.GROUP_INCIDENT: (0.1, 0.0),
    EventType.LITIGATION: (-0.3, -0.2),
}

# stages of the hidden case process
_REGISTERED, _WORKING, _AGREED, _CLOSED, _RETIRED, _NOT_OPEN = 0, 1, 2, 3, 4, 5

_OFFICE_HOURS = np.array(
    [1, 1, 1, 1, 1, 2, 4, 10, 30, 40, 40, 35, 20, 30, 40, 40, 35, 25, 12, 8, 6, 4, 2, 1.0]
)
_ANY_HOURS = np.array([3, 2, 2, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 9, 10, 11, 12, 13, 12, 10, 7, 5.0])
_NIGHT_HOURS = np.array([8, 6, 4, 3, 2, 2] + [0.0] * 16 + [10, 9])


# ---------------------------------------------------------------- public API


def simulate_city(config: SimulationConfig) -> SimulatedCity:
    """Simulates a city's exports and truth tables for config (deterministic in config)."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(6)]
    places = _draw_places(streams[0])
    cases = _draw_cases(streams[1], config, places)
    history = _simulate_history(streams[2], cases, config)
    case_times = _draw_case_times(streams[3], cases, config)
    cases_frame = _cases_frame(streams[3], cases, case_times, places)
    events_frame = _events_frame(streams[4], cases, history, case_times, places, config)
    calls = _draw_calls(streams[5], cases, history, places, config)
    frames = {
        RecordKind.CASES: cases_frame,
        RecordKind.CASE_EVENTS: events_frame,
        RecordKind.HOTLINE: _hotline_frame(streams[5], calls, cases, config.start),
    }
    frames, corruptions = _make_messy(
        np.random.default_rng(np.random.SeedSequence([config.seed, 1])), frames, config
    )
    city = SimulatedCity(
        cases=frames[RecordKind.CASES],
        case_events=frames[RecordKind.CASE_EVENTS],
        hotline=frames[RecordKind.HOTLINE],
        truth_escalation=_truth_escalation(history, cases, config),
        truth_links=_truth_links(calls, cases),
        truth_corruptions=corruptions,
        truth_grievances=pd.DataFrame({c: pd.Series(dtype=object) for c in GRIEVANCE_COLUMNS}),
    )
    # Generic calls, then group grievances, come from their own streams and are appended (clean) after
    # the messiness, so every other row is the same with or without them.
    generic = _generic_calls(np.random.default_rng([config.seed, 12]), len(calls.call_id), places, config)
    grievances = _simulate_grievances(
        np.random.default_rng([config.seed, 10]),
        cases.case_id,
        len(calls.call_id) + len(generic.hotline),
        places,
        config,
    )
    return _with_grievances(_with_generic_calls(city, generic), grievances)


def write_city(city: SimulatedCity, out_dir: Path) -> dict[str, Path]:
    """Writes out_dir/cases.csv, out_dir/case_events.csv, out_dir/hotline.csv (UTF-8, header,
    pandas to_csv index=False) and out_dir/truth/{escalation,links,corruptions,grievances}.csv;
    returns the paths by name."""
    targets = {
        "cases": (city.cases, out_dir / FILE_NAMES[RecordKind.CASES]),
        "case_events": (city.case_events, out_dir / FILE_NAMES[RecordKind.CASE_EVENTS]),
        "hotline": (city.hotline, out_dir / FILE_NAMES[RecordKind.HOTLINE]),
        "truth_escalation": (city.truth_escalation, out_dir / "truth" / "escalation.csv"),
        "truth_links": (city.truth_links, out_dir / "truth" / "links.csv"),
        "truth_corruptions": (city.truth_corruptions, out_dir / "truth" / "corruptions.csv"),
        "truth_grievances": (city.truth_grievances, out_dir / "truth" / "grievances.csv"),
    }
    for frame, path in targets.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, encoding="utf-8")
    return {name: path for name, (_, path) in targets.items()}


def truth_as_of_dates(config: SimulationConfig) -> list[date]:
    """The as-of dates of the truth table: every truth_every_days from start+30d to end-30d."""
    first, last = HORIZON_DAYS, config.days - HORIZON_DAYS
    return [config.start + timedelta(days=d) for d in range(first, last + 1, config.truth_every_days)]


# ---------------------------------------------------------------- small random helpers


def _choose(
    rng: np.random.Generator, options: Sequence[str], size: int, p: np.ndarray | None = None
) -> np.ndarray:
    """size strings drawn from options (with probabilities p), as an object array."""
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _choose_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of a (rows, k) probability matrix."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probs.shape[1] - 1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _seconds_of_day(rng: np.random.Generator, hour_weights: np.ndarray, size: int) -> np.ndarray:
    """Random seconds within a day, hours weighted by hour_weights."""
    hours = rng.choice(24, size=size, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size)


def _draw_names(rng: np.random.Generator, size: int) -> np.ndarray:
    """Chinese personal names: a common surname and one or two given characters."""
    surname_weights = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.7
    surnames = np.array(list(_SURNAMES))[
        rng.choice(len(_SURNAMES), size, p=surname_weights / surname_weights.sum())
    ]
    given = np.array(list(_GIVEN))
    first = given[rng.integers(0, len(given), size)]
    second = np.where(rng.random(size) < 0.7, given[rng.integers(0, len(given), size)], "")
    return np.array([s + a + b for s, a, b in zip(surnames, first, second, strict=True)], dtype=object)


def _draw_phones(rng: np.random.Generator, size: int) -> np.ndarray:
    """11-digit mainland mobile numbers (plain digits)."""
    prefixes = _choose(rng, _PHONE_PREFIXES, size)
    rest = rng.integers(0, 10**8, size)
    return np.array([f"{p}{r:08d}" for p, r in zip(prefixes, rest, strict=True)], dtype=object)


def _phone_plain(p: str) -> str:
    return p


def _phone_spaced(p: str) -> str:
    return f"{p[:3]} {p[3:7]} {p[7:]}"


def _phone_international(p: str) -> str:
    return f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"


def _phone_dashed(p: str) -> str:
    return f"{p[:3]}-{p[3:7]}-{p[7:]}"


_PHONE_STYLES: tuple[Callable[[str], str], ...] = (
    _phone_plain,
    _phone_spaced,
    _phone_international,
    _phone_dashed,
)


def _format_phones(rng: np.random.Generator, phones: np.ndarray, plain_share: float = 0.7) -> np.ndarray:
    """phones written in a random export style: mostly plain digits, else spaced, +86 or dashed."""
    rest = (1.0 - plain_share) / (len(_PHONE_STYLES) - 1)
    styles = rng.choice(len(_PHONE_STYLES), len(phones), p=[plain_share] + [rest] * (len(_PHONE_STYLES) - 1))
    return np.array([_PHONE_STYLES[s](p) for s, p in zip(styles, phones, strict=True)], dtype=object)


def _id_check_chars(bodies: np.ndarray) -> np.ndarray:
    """GB 11643 check characters of 17-digit ID bodies."""
    digits = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(len(bodies), 17) - 48
    return _ID_CHECK[(digits.astype(np.int64) @ _ID_WEIGHTS) % 11]


def _draw_id_numbers(rng: np.random.Generator, areas: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers with valid checksums, one per area code."""
    size = len(areas)
    births = np.datetime64("1950-01-01") + rng.integers(0, 56 * 365, size).astype("timedelta64[D]")
    birth_text = np.datetime_as_string(births, unit="D")
    sequence = rng.integers(0, 1000, size)
    bodies = np.array(
        [f"{a}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}" for a, b, s in zip(areas, birth_text, sequence, strict=True)]
    )
    checks = _id_check_chars(bodies)
    return np.array([b + c for b, c in zip(bodies, checks, strict=True)], dtype=object)


def _iso_slash_date(iso: str) -> str:
    return iso[:10].replace("-", "/")


def _iso_minutes(iso: str) -> str:
    return f"{iso[:10]} {iso[11:16]}"


def _iso_chinese(iso: str) -> str:
    return f"{iso[:4]}年{iso[5:7]}月{iso[8:10]}日 {iso[11:16]}"


_ALT_DATETIME_STYLES: tuple[Callable[[str], str], ...] = (_iso_slash_date, _iso_minutes, _iso_chinese)


def _format_datetimes(
    rng: np.random.Generator, seconds: np.ndarray, start: date, alt_share: float = 0.05
) -> np.ndarray:
    """Seconds since start as text: mostly 'YYYY-MM-DD HH:MM:SS', alt_share in the other contract formats."""
    stamps = np.datetime64(start, "s") + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")
    iso = np.datetime_as_string(stamps, unit="s").tolist()
    out = np.array([s.replace("T", " ") for s in iso], dtype=object)
    alternates = np.flatnonzero(rng.random(len(iso)) < alt_share)
    styles = rng.integers(0, len(_ALT_DATETIME_STYLES), alternates.size)
    for i, s in zip(alternates, styles, strict=True):
        out[i] = _ALT_DATETIME_STYLES[s](iso[i])
    return out


def _format_late(
    rng: np.random.Generator,
    seconds: np.ndarray,
    share: float,
    min_days: float,
    max_days: float,
    config: SimulationConfig,
) -> np.ndarray:
    """recorded_at text: empty, except for share of rows entered min..max days late (within the period)."""
    late = seconds + (rng.uniform(min_days, max_days, len(seconds)) * _DAY).astype(np.int64)
    chosen = (rng.random(len(seconds)) < share) & (late < config.days * _DAY)
    out = np.full(len(seconds), None, dtype=object)
    out[chosen] = _format_datetimes(rng, late[chosen], config.start)
    return out


def _render(templates: Sequence[str], picks: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """templates[picks[i]] filled with row i of fields (fields a template does not use are ignored)."""
    out = np.empty(len(picks), dtype=object)
    for t in np.unique(picks).tolist():
        rows = np.flatnonzero(picks == t)
        names = list(dict.fromkeys(name for _, name, _, _ in Formatter().parse(templates[t]) if name))
        positional = templates[t]
        for i, name in enumerate(names):
            positional = positional.replace("{" + name + "}", "{" + str(i) + "}")
        columns = [np.asarray(fields[name], dtype=object)[rows].tolist() for name in names]
        out[rows] = (
            [positional.format(*values) for values in zip(*columns, strict=True)] if names else positional
        )
    return out


def _grouped_templates(
    rng: np.random.Generator, groups: np.ndarray, table: Sequence[Sequence[str]]
) -> tuple[tuple[str, ...], np.ndarray]:
    """All templates flattened, and for each row a random template of its group."""
    counts = np.array([len(t) for t in table])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = offsets[groups] + (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    return tuple(t for group in table for t in group), picks


def _append_where(
    rng: np.random.Generator,
    texts: np.ndarray,
    mask: np.ndarray,
    snippets: Sequence[str],
    fields: dict[str, np.ndarray],
) -> np.ndarray:
    """texts with a random snippet (filled from fields) appended on rows where mask holds."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return texts
    picks = rng.integers(0, len(snippets), rows.size)
    extra = _render(snippets, picks, {k: np.asarray(v, dtype=object)[rows] for k, v in fields.items()})
    out = texts.copy()
    out[rows] = [a + b for a, b in zip(texts[rows], extra, strict=True)]
    return out


def _amount_text(amounts: np.ndarray) -> np.ndarray:
    """Money as it is written in Chinese free text."""
    return np.array(
        [f"{a / 10_000:.1f}万元" if a >= 100_000 else f"{a:.0f}元" for a in amounts.tolist()], dtype=object
    )


# ---------------------------------------------------------------- places


@dataclass(frozen=True)
class _Places:
    """Towns of the city and the named entities (companies, estates, ...) in each."""

    town_names: np.ndarray  # global town index -> name
    town_district: np.ndarray  # global town index -> district index
    town_weight: np.ndarray  # within-district weight
    entities: dict[str, list[np.ndarray]]  # kind -> per town, names
    mediators: list[np.ndarray]  # per town, mediator names


def _draw_places(rng: np.random.Generator) -> _Places:
    """The towns of the city with pools of named companies, estates, villages... per town."""
    names, districts, weights = [], [], []
    for d, district in enumerate(_DISTRICTS):
        for rank, town in enumerate(district.towns):
            names.append(town)
            districts.append(d)
            weights.append(1.0 / np.sqrt(rank + 1.0))
    n_towns = len(names)
    entities: dict[str, list[np.ndarray]] = {kind: [] for kind in _ENTITY_SUFFIXES}
    for _ in range(n_towns):
        for kind, suffixes in _ENTITY_SUFFIXES.items():
            size = int(rng.integers(3, 9))
            words, ends = _choose(rng, _WORDS, size), _choose(rng, suffixes, size)
            entities[kind].append(np.unique(words + ends))
    district_names = np.array([_DISTRICTS[d].name for d in districts], dtype=object)
    town_arr = np.array(names, dtype=object)
    entities["hospital"] = [
        np.array(
            [district_names[t][:-1] + "人民医院", town_arr[t][:-2] + "卫生院", town_arr[t][:-2] + "中医院"],
            dtype=object,
        )
        for t in range(n_towns)
    ]
    mediators = [_draw_names(rng, 3) for _ in range(n_towns)]
    return _Places(town_arr, np.array(districts), np.array(weights), entities, mediators)


# ---------------------------------------------------------------- cases (hidden profile)


@dataclass(frozen=True)
class _Cases:
    """Hidden per-case truth, index-aligned and sorted by opening time."""

    case_id: np.ndarray
    opened_sec: np.ndarray
    district: np.ndarray
    town: np.ndarray
    category: np.ndarray
    source: np.ndarray
    party_count: np.ndarray
    amount: np.ndarray
    amount_shown: np.ndarray
    base_tension: np.ndarray
    initial_tension: np.ndarray
    call_propensity: np.ndarray
    entity: np.ndarray
    address: np.ndarray
    reporter_name: np.ndarray
    reporter_phone: np.ndarray
    reporter_id: np.ndarray
    contact_names: np.ndarray  # (n, 3) other parties, neighbours, co-workers
    contact_phones: np.ndarray  # (n, 3)


def _profile_array(attribute: str) -> np.ndarray:
    """One attribute of every category profile, in CATEGORIES order."""
    return np.array([getattr(_CATEGORY_PROFILES[c], attribute) for c in CATEGORIES])


def _category_matrix() -> np.ndarray:
    """Category probabilities per district (rows: districts, columns: CATEGORIES)."""
    shares = _profile_array("share")
    rows = [
        shares * np.array([_KIND_MULTIPLIERS[d.kind].get(c, 1.0) for c in CATEGORIES]) for d in _DISTRICTS
    ]
    matrix = np.array(rows)
    return matrix / matrix.sum(axis=1, keepdims=True)


def _festival_offsets(config: SimulationConfig) -> np.ndarray:
    """Day offsets (from start) of the Spring Festivals around the simulated period."""
    years = range(config.start.year - 1, (config.start + timedelta(days=config.days)).year + 2)
    festivals = [_SPRING_FESTIVAL.get(y, date(y, 2, 5)) for y in years]
    return np.array([(f - config.start).days for f in festivals])


def _day_intensity(config: SimulationConfig, category: str) -> np.ndarray:
    """Relative daily intake of a category: season, mild trend, weekends, Spring Festival."""
    days = np.arange(config.days)
    dates = np.datetime64(config.start, "D") + days
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    weekday = (dates.astype(np.int64) + 3) % 7  # 0 = Monday
    intensity = (1 + 0.12 * np.sin(2 * np.pi * (day_of_year - 80) / 365)) * (1 + 0.15 * days / 365)
    intensity *= np.where(weekday >= 5, 0.6, 1.0)
    festivals = _festival_offsets(config)
    since = days[:, None] - festivals[None, :]
    intensity *= np.where(((since >= 0) & (since < 7)).any(axis=1), 0.5, 1.0)
    if category == "劳资纠纷":
        before = np.where(since < 0, -since, 10_000).min(axis=1)
        intensity *= 1 + 1.5 * np.exp(-(((before - 20) / 12.0) ** 2))
    return intensity / intensity.sum()


def _draw_open_days(rng: np.random.Generator, category: np.ndarray, config: SimulationConfig) -> np.ndarray:
    """Opening day of each case, following its category's daily intensity."""
    days = np.empty(len(category), dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(category == c)
        days[rows] = rng.choice(config.days, size=rows.size, p=_day_intensity(config, name))
    return days


def _draw_party_counts(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """People or households involved: mostly 2, heavy-tailed for crowd categories."""
    n = len(category)
    crowd = _profile_array("crowd")[category]
    usual = 1 + rng.geometric(0.8, n)
    usual = np.where(rng.random(n) < 0.1, 1, usual)
    many = np.clip(np.ceil(np.exp(rng.normal(1.3, 0.9, n))) + 1, 2, 300).astype(np.int64)
    return np.where(crowd, many, usual)


def _draw_amounts(rng: np.random.Generator, category: np.ndarray, parties: np.ndarray) -> np.ndarray:
    """Money at stake (CNY): log-normal by category, growing with parties for wage arrears."""
    median = _profile_array("amount_median")[category]
    sigma = _profile_array("amount_sigma")[category]
    amount = np.exp(rng.normal(np.log(median), sigma))
    amount *= np.where(category == CATEGORIES.index("劳资纠纷"), parties**0.6, 1.0)
    step = np.where(amount < 1_000, 10.0, 100.0)
    return np.maximum(np.round(amount / step) * step, 10.0)


def _draw_towns(rng: np.random.Generator, district: np.ndarray, places: _Places) -> np.ndarray:
    """A town of its district for each row, weighted by town size."""
    probs = np.where(
        places.town_district[None, :] == np.arange(len(_DISTRICTS))[:, None], places.town_weight, 0
    )
    return _choose_rows(rng, probs[district])


def _pick_in_town(rng: np.random.Generator, pools: list[np.ndarray], town: np.ndarray) -> np.ndarray:
    """One name from each row's town pool."""
    u = rng.random(len(town))
    return np.array(
        [pools[t][int(x * len(pools[t]))] for t, x in zip(town.tolist(), u.tolist(), strict=True)],
        dtype=object,
    )


def _draw_entities(
    rng: np.random.Generator, category: np.ndarray, town: np.ndarray, others: np.ndarray, places: _Places
) -> np.ndarray:
    """The company / estate / village / project ... a case is about (the other party when none fits)."""
    kinds = _profile_array("entity")[category]
    out = others.astype(object).copy()
    for kind, pools in places.entities.items():
        rows = np.flatnonzero(kinds == kind)
        out[rows] = _pick_in_town(rng, pools, town[rows])
    return out


def _draw_addresses(
    rng: np.random.Generator,
    district: np.ndarray,
    town: np.ndarray,
    entity: np.ndarray,
    category: np.ndarray,
    places: _Places,
) -> np.ndarray:
    """Reporters' addresses: estate flats in urban districts, village groups in rural ones."""
    n = len(district)
    rural = np.array([_DISTRICTS[d].kind == "rural" for d in district])
    kinds = _profile_array("entity")[category]
    home = np.where(
        rural,
        _pick_in_town(rng, places.entities["village"], town),
        _pick_in_town(rng, places.entities["estate"], town),
    )
    home = np.where((kinds == "estate") | (kinds == "village"), entity, home)
    a, b, c = rng.integers(1, 30, n), rng.integers(1, 7, n), rng.integers(101, 2_600, n)
    city = np.where(rng.random(n) < 0.5, _CITY, "")
    district_names = np.array([d.name for d in _DISTRICTS], dtype=object)[district]
    town_names = places.town_names[town]
    return np.array(
        [
            f"{ci}{dn}{tn}{h}{x}组{z % 100 + 1}号" if r else f"{ci}{dn}{tn}{h}{x}栋{y}单元{z}室"
            for ci, dn, tn, h, x, y, z, r in zip(
                city, district_names, town_names, home, a, b, c, rural, strict=True
            )
        ],
        dtype=object,
    )


def _draw_cases(rng: np.random.Generator, config: SimulationConfig, places: _Places) -> _Cases:
    """The hidden profile of every case, sorted by opening time."""
    n = config.n_cases
    weights = np.array([d.weight for d in _DISTRICTS])
    district = rng.choice(len(_DISTRICTS), n, p=weights / weights.sum())
    category = _choose_rows(rng, _category_matrix()[district])
    opened = _draw_open_days(rng, category, config) * _DAY + _seconds_of_day(rng, _OFFICE_HOURS, n)
    order = np.argsort(opened, kind="stable")
    district, category, opened = district[order], category[order], opened[order]
    town = _draw_towns(rng, district, places)
    source_probs = np.array([_SOURCE_OVERRIDES.get(c, _SOURCE_SHARES) for c in CATEGORIES])
    parties = _draw_party_counts(rng, category)
    amount = _draw_amounts(rng, category, parties)
    base = _baseline_tension(rng, category, amount, parties)
    contacts = _draw_names(rng, 3 * n).reshape(n, 3)
    entity = _draw_entities(rng, category, town, contacts[:, 0], places)
    areas = np.where(
        rng.random(n) < 0.8,
        np.array([f"3699{2 * d + 2:02d}" for d in district], dtype=object),
        _choose(rng, _OUTSIDE_AREAS, n),
    )
    return _Cases(
        case_id=_case_ids(opened, config.start),
        opened_sec=opened,
        district=district,
        town=town,
        category=category,
        source=_choose_rows(rng, source_probs[category]),
        party_count=parties,
        amount=amount,
        amount_shown=rng.random(n) >= _profile_array("amount_missing")[category],
        base_tension=base,
        initial_tension=base + rng.normal(0, 0.5, n),
        call_propensity=rng.normal(0, 0.7, n),
        entity=entity,
        address=_draw_addresses(rng, district, town, entity, category, places),
        reporter_name=_draw_names(rng, n),
        reporter_phone=_draw_phones(rng, n),
        reporter_id=_draw_id_numbers(rng, areas),
        contact_names=contacts,
        contact_phones=_draw_phones(rng, 3 * n).reshape(n, 3),
    )


def _baseline_tension(
    rng: np.random.Generator, category: np.ndarray, amount: np.ndarray, parties: np.ndarray
) -> np.ndarray:
    """Hidden baseline tension: category, relative money at stake, parties, and an unseen temperament."""
    median, sigma = _profile_array("amount_median")[category], _profile_array("amount_sigma")[category]
    relative_amount = (np.log(amount) - np.log(median)) / sigma
    temperament = rng.normal(0, 0.55, len(category))
    return _profile_array("tension")[category] + 0.2 * relative_amount + 0.2 * np.log(parties) + temperament


def _case_ids(opened_sec: np.ndarray, start: date) -> np.ndarray:
    """Case ids 'FQ<year>-<6-digit sequence within the year>' in opening order."""
    years = (np.datetime64(start, "D") + (opened_sec // _DAY)).astype("datetime64[Y]").astype(np.int64) + 1970
    out = np.empty(len(years), dtype=object)
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        out[rows] = [f"FQ{year}-{i:06d}" for i in range(1, rows.size + 1)]
    return out


# ---------------------------------------------------------------- hidden dynamics


def _static_log_hazards(cases: _Cases) -> np.ndarray:
    """Per-case part of the log daily hazards of (violence, group_incident, litigation)."""
    c = cases.category
    violence = _profile_array("violence")[c]
    group = _profile_array("group")[c] + 0.6 * np.log(cases.party_count)
    litigation = _profile_array("litigation")[c] + 0.35 * np.log1p(cases.amount / 10_000)
    return _ESCALATION_INTERCEPTS + np.column_stack([violence, group, litigation])


def _escalation_hazards(static: np.ndarray, tension: np.ndarray) -> np.ndarray:
    """Daily hazards (rows x escalation types) given the static part and the tension."""
    return np.exp(static + _ESCALATION_SLOPES * tension[:, None])


@dataclass
class _State:
    """The evolving hidden state of all cases."""

    tension: np.ndarray
    base: np.ndarray
    stage: np.ndarray
    closed_day: np.ndarray
    escalated: np.ndarray
    pending_referral: np.ndarray
    referred: np.ndarray


@dataclass
class _Recorder:
    """Collects events (case, day, type, order of generation, tension) during the day loop."""

    chunks: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    seq: int = 0

    def add(self, rows: np.ndarray, day: int, event: EventType, tension: np.ndarray) -> None:
        if rows.size:
            self.chunks.append(
                (
                    rows,
                    np.full(rows.size, day),
                    np.full(rows.size, _CODE[event]),
                    np.full(rows.size, self.seq),
                    tension[rows].copy(),
                )
            )
            self.seq += 1

    def arrays(self) -> tuple[np.ndarray, ...]:
        return _concat(self.chunks, (np.int64, np.int64, np.int64, np.int64, float))


@dataclass(frozen=True)
class _History:
    """What happened: events, calls about cases, and the truth snapshots at as-of dates."""

    event_case: np.ndarray
    event_day: np.ndarray
    event_code: np.ndarray
    event_seq: np.ndarray
    event_tension: np.ndarray
    call_case: np.ndarray
    call_day: np.ndarray
    call_tension: np.ndarray
    truth_day: np.ndarray
    truth_case: np.ndarray
    truth_p: np.ndarray


_STAGE_AFTER: dict[EventType, int] = {
    EventType.ASSIGNED: _WORKING,
    EventType.MEDIATED: _AGREED,
    EventType.AGREEMENT_BREACHED: _WORKING,
    EventType.REOPENED: _WORKING,
    EventType.CLOSED: _CLOSED,
}


def _apply(state: _State, rows: np.ndarray, event: EventType, day: int, recorder: _Recorder) -> None:
    """Records event for rows and applies its effect on their hidden state."""
    recorder.add(rows, day, event, state.tension)
    jump, shift = _TENSION_JUMPS.get(event, (0.0, 0.0))
    state.tension[rows] += jump
    state.base[rows] += shift
    if event in _STAGE_AFTER:
        state.stage[rows] = _STAGE_AFTER[event]
    if event == EventType.CLOSED:
        state.closed_day[rows] = day
    if event == EventType.REFERRED:
        state.referred[rows] = True
        state.pending_referral[rows] = False


def _step_escalations(
    rng: np.random.Generator,
    state: _State,
    static: np.ndarray,
    rows: np.ndarray,
    day: int,
    recorder: _Recorder,
) -> None:
    """Escalation events of open cases for one day, from their hazards."""
    hazards = _escalation_hazards(static[rows], state.tension[rows])
    fired = rng.random(hazards.shape) < -np.expm1(-hazards)
    for k, event in enumerate(DEFAULT_ESCALATION_EVENTS):
        hit = rows[fired[:, k]]
        _apply(state, hit, event, day, recorder)
        state.escalated[hit] = True
        state.pending_referral[hit] |= rng.random(hit.size) < 0.6


_Options = tuple[tuple[EventType, ...], np.ndarray]


def _closing_speed(state: _State, rows: np.ndarray) -> np.ndarray:
    """Multiplier of the closing rate: escalated or referred cases are wound up faster."""
    return 1.0 + 3.0 * state.escalated[rows] + 2.0 * state.referred[rows]


def _registered_options(state: _State, rows: np.ndarray) -> _Options:
    """Registered, not yet assigned: usually assigned within days, rarely withdrawn."""
    ones = np.ones(rows.size)
    return (EventType.ASSIGNED, EventType.CLOSED), np.column_stack([0.45 * ones, 0.004 * ones])


def _working_options(state: _State, rows: np.ndarray) -> _Options:
    """Being worked on: visits, mediation sessions, referral, closing (slower when tense)."""
    x, ones = state.tension[rows], np.ones(rows.size)
    events = (EventType.VISIT, EventType.MEDIATION_SESSION, EventType.REFERRED, EventType.CLOSED)
    probs = [
        0.05 * ones,
        0.07 * ones,
        0.002 + 0.35 * state.pending_referral[rows],
        0.006 * np.exp(-0.4 * x) * _closing_speed(state, rows),
    ]
    return events, np.column_stack(probs)


def _agreed_options(state: _State, rows: np.ndarray) -> _Options:
    """Mediated agreement in place: usually closed within weeks, sometimes breached (when tense)."""
    x, ones = state.tension[rows], np.ones(rows.size)
    events = (EventType.VISIT, EventType.AGREEMENT_BREACHED, EventType.REFERRED, EventType.CLOSED)
    probs = [
        0.015 * ones,
        0.006 * np.exp(0.8 * x),
        0.3 * state.pending_referral[rows],
        0.06 * np.exp(-0.3 * x) * _closing_speed(state, rows),
    ]
    return events, np.column_stack(probs)


def _closed_options(state: _State, rows: np.ndarray) -> _Options:
    """Closed (within the reopening window): sometimes reopened, more so when tense."""
    return (EventType.REOPENED,), (0.0015 * np.exp(0.6 * state.tension[rows]))[:, None]


_STAGE_OPTIONS: dict[int, Callable[[_State, np.ndarray], _Options]] = {
    _REGISTERED: _registered_options,
    _WORKING: _working_options,
    _AGREED: _agreed_options,
    _CLOSED: _closed_options,
}


def _draw_transitions(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """For each row, the index of the event that happens today (probs columns), or -1 for none."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))
    picked = (u[:, None] >= cumulative).sum(axis=1)
    return np.where(picked < probs.shape[1], picked, -1)


def _step_process(
    rng: np.random.Generator, state: _State, rows: np.ndarray, day: int, recorder: _Recorder
) -> None:
    """At most one process event per case and day (plus a session's outcome), by stage."""
    stages = state.stage[rows]
    sessions = np.empty(0, dtype=np.int64)
    for stage, options in _STAGE_OPTIONS.items():
        members = rows[stages == stage]
        if members.size == 0:
            continue
        events, probs = options(state, members)
        picked = _draw_transitions(rng, probs)
        for k, event in enumerate(events):
            hit = members[picked == k]
            _apply(state, hit, event, day, recorder)
            if event == EventType.MEDIATION_SESSION:
                sessions = hit
    resolved = sessions[rng.random(sessions.size) < 0.6]
    success = rng.random(resolved.size) < _sigmoid(1.0 - 1.1 * state.tension[resolved])
    _apply(state, resolved[success], EventType.MEDIATED, day, recorder)
    _apply(state, resolved[~success], EventType.MEDIATION_FAILED, day, recorder)


def _step_calls(
    rng: np.random.Generator, state: _State, propensity: np.ndarray, rows: np.ndarray, is_open: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hotline calls about cases for one day: (case per call, tension at the call)."""
    rate = np.exp(_CALL_INTERCEPT + propensity[rows] + _CALL_SLOPE * state.tension[rows])
    counts = rng.poisson(rate * np.where(is_open, 1.0, _CLOSED_CALL_FACTOR))
    callers = np.repeat(rows, counts)
    return callers, state.tension[callers]


def _step_tension(rng: np.random.Generator, state: _State, rows: np.ndarray) -> None:
    """One day of mean reversion plus noise of the tension (both kept within plausible bounds)."""
    base = np.clip(state.base[rows], *_BASE_RANGE)
    x = state.tension[rows]
    x = x + _TENSION_PULL * (base - x) + _TENSION_NOISE * rng.standard_normal(rows.size)
    state.base[rows] = base
    state.tension[rows] = np.clip(x, *_TENSION_RANGE)


def _simulate_history(rng: np.random.Generator, cases: _Cases, config: SimulationConfig) -> _History:
    """Runs the hidden day-by-day process over the period (vectorised over live cases)."""
    n = len(cases.case_id)
    open_day = cases.opened_sec // _DAY
    state = _State(
        tension=cases.initial_tension.copy(),
        base=cases.base_tension.copy(),
        stage=np.full(n, _NOT_OPEN, dtype=np.int8),
        closed_day=np.full(n, -1),
        escalated=np.zeros(n, bool),
        pending_referral=np.zeros(n, bool),
        referred=np.zeros(n, bool),
    )
    static = _static_log_hazards(cases)
    truth_days = {(d - config.start).days for d in truth_as_of_dates(config)}
    recorder = _Recorder()
    calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    truth: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    opened = 0
    for day in range(config.days):
        live_end = int(np.searchsorted(open_day, day, side="left"))
        state.stage[opened:live_end] = _REGISTERED
        opened = live_end
        alive = np.flatnonzero(state.stage[:live_end] <= _CLOSED)
        is_open = state.stage[alive] <= _AGREED
        open_rows = alive[is_open]
        if day in truth_days:
            hazard = _escalation_hazards(static[open_rows], state.tension[open_rows]).sum(axis=1)
            truth.append((np.full(open_rows.size, day), open_rows, -np.expm1(-HORIZON_DAYS * hazard)))
        _step_escalations(rng, state, static, open_rows, day, recorder)
        _step_process(rng, state, alive, day, recorder)
        callers, tension = _step_calls(rng, state, cases.call_propensity, alive, is_open)
        calls.append((np.full(callers.size, day), callers, tension))
        _step_tension(rng, state, alive)
        expired = alive[
            (state.stage[alive] == _CLOSED) & (day - state.closed_day[alive] >= _REOPEN_WINDOW_DAYS)
        ]
        state.stage[expired] = _RETIRED
    event_case, event_day, event_code, event_seq, event_tension = recorder.arrays()
    call_day, call_case, call_tension = _concat(calls, (np.int64, np.int64, float))
    truth_day, truth_case, truth_p = _concat(truth, (np.int64, np.int64, float))
    return _History(
        event_case,
        event_day,
        event_code,
        event_seq,
        event_tension,
        call_case,
        call_day,
        call_tension,
        truth_day,
        truth_case,
        truth_p,
    )


def _concat(chunks: list[tuple[np.ndarray, ...]], dtypes: tuple[type, ...]) -> tuple[np.ndarray, ...]:
    """Column-wise concatenation of chunks of equal-length arrays (empty arrays when no chunk)."""
    if not chunks:
        return tuple(np.empty(0, dtype=t) for t in dtypes)
    return tuple(
        np.concatenate(parts).astype(t) for parts, t in zip(zip(*chunks, strict=True), dtypes, strict=True)
    )


# ---------------------------------------------------------------- exports: cases


@dataclass(frozen=True)
class _CaseTimes:
    """Export text of each case's opened_at and recorded_at (shared with its registered event)."""

    opened: np.ndarray
    recorded: np.ndarray


def _draw_case_times(rng: np.random.Generator, cases: _Cases, config: SimulationConfig) -> _CaseTimes:
    """Opened-at text and, for ~5% of cases, a late recorded-at 1-10 days after opening."""
    return _CaseTimes(
        opened=_format_datetimes(rng, cases.opened_sec, config.start),
        recorded=_format_late(rng, cases.opened_sec, 0.05, 1.0, 10.0, config),
    )


def _descriptions(rng: np.random.Generator, cases: _Cases) -> np.ndarray:
    """Free-text complaints: category templates, tension hints, sometimes the reporter's phone or ID."""
    n = len(cases.case_id)
    templates, picks = _grouped_templates(rng, cases.category, [_DESCRIPTIONS[c] for c in CATEGORIES])
    issues, issue_picks = _grouped_templates(rng, cases.category, [_ISSUES[c] for c in CATEGORIES])
    texts = _render(
        templates,
        picks,
        {
            "reporter": cases.reporter_name,
            "other": cases.contact_names[:, 0],
            "entity": cases.entity,
            "issue": np.array(issues, dtype=object)[issue_picks],
            "amount": _amount_text(cases.amount),
            "n": cases.party_count,
            "months": rng.integers(1, 13, n),
        },
    )
    hinted = rng.random(n) < _sigmoid(2.0 * (cases.initial_tension - 1.5))
    texts = _append_where(rng, texts, hinted, _TENSION_HINTS, {})
    with_pii = rng.random(n) < 0.03
    return _append_where(
        rng,
        texts,
        with_pii,
        _PII_SNIPPETS,
        {
            "phone": _format_phones(rng, cases.reporter_phone),
            "id_number": cases.reporter_id,
        },
    )


def _cases_frame(rng: np.random.Generator, cases: _Cases, times: _CaseTimes, places: _Places) -> pd.DataFrame:
    """The cases export (all columns text, missing as NA)."""
    district_names = np.array([d.name for d in _DISTRICTS], dtype=object)
    amount = np.where(cases.amount_shown, [f"{a:.0f}" for a in cases.amount], None)
    return _text_frame(
        CASE_COLUMNS,
        {
            "case_id": cases.case_id,
            "opened_at": times.opened,
            "district": district_names[cases.district],
            "town": _blank(rng, places.town_names[cases.town], 0.03),
            "category": np.array(CATEGORIES, dtype=object)[cases.category],
            "source": _blank(rng, np.array(SOURCES, dtype=object)[cases.source], 0.05),
            "description": _descriptions(rng, cases),
            "party_count": np.array([str(p) for p in cases.party_count], dtype=object),
            "amount": amount,
            "reporter_name": _blank(rng, cases.reporter_name, 0.05),
            "reporter_phone": _blank(rng, _format_phones(rng, cases.reporter_phone), 0.05),
            "reporter_id_number": _blank(rng, cases.reporter_id, 0.15),
            "address": _blank(rng, cases.address, 0.10),
            "recorded_at": times.recorded,
        },
    )


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """values with a random share left empty (optional fields are not always filled in)."""
    out = np.asarray(values, dtype=object).copy()
    out[rng.random(len(out)) < share] = None
    return out


def _text_frame(columns: Sequence[str], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of text columns in the given order."""
    return pd.DataFrame({c: pd.array(np.asarray(values[c], dtype=object), dtype="str") for c in columns})


# ---------------------------------------------------------------- exports: case events


def _within_day_times(
    rng: np.random.Generator, case: np.ndarray, day: np.ndarray, seq: np.ndarray, hours: np.ndarray
) -> np.ndarray:
    """Seconds of the event times: random times of day, ordered within a case's day as generated."""
    seconds = np.empty(len(case), dtype=np.int64)
    for profile in np.unique(hours):
        rows = np.flatnonzero(hours == profile)
        seconds[rows] = _seconds_of_day(rng, _ANY_HOURS if profile else _OFFICE_HOURS, rows.size)
    by_seq = np.lexsort((seq, day, case))
    by_time = np.lexsort((seconds, day, case))
    ordered = np.empty_like(seconds)
    ordered[by_seq] = seconds[by_time]
    return day * _DAY + ordered


def _event_notes(
    rng: np.random.Generator,
    cases: _Cases,
    places: _Places,
    rows: np.ndarray,
    codes: np.ndarray,
    tension: np.ndarray,
) -> np.ndarray:
    """Short Chinese notes for ~60% of events (a few mention a phone number)."""
    n = len(rows)
    templates, picks = _grouped_templates(rng, codes, [_NOTES[e] for e in _EVENT_TYPES])
    agitated = (tension > 1.0) & (rng.random(n) < 0.7)
    moods = np.where(agitated, _choose(rng, _MOOD_HIGH, n), _choose(rng, _MOOD_LOW, n))
    town = cases.town[rows]
    mediators = np.array(
        [places.mediators[t][i] for t, i in zip(town.tolist(), rng.integers(0, 3, n).tolist(), strict=True)],
        dtype=object,
    )
    notes = _render(
        templates,
        picks,
        {
            "town": places.town_names[town],
            "mediator": mediators,
            "mood": moods,
            "phone": _format_phones(rng, cases.reporter_phone[rows]),
            "dept": _choose(rng, _DEPARTMENTS, n),
            "crowd": np.maximum(cases.party_count[rows], 10),
            "place": _choose(rng, _GATHER_PLACES, n),
        },
    )
    notes[rng.random(n) >= 0.6] = None
    return notes


def _events_frame(
    rng: np.random.Generator,
    cases: _Cases,
    history: _History,
    times: _CaseTimes,
    places: _Places,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The case_events export: registered at opening, then the simulated history, in time order."""
    n = len(cases.case_id)
    escalation = np.isin(history.event_code, _ESCALATION_CODES)
    seconds = _within_day_times(rng, history.event_case, history.event_day, history.event_seq, escalation)
    rows = np.concatenate([np.arange(n), history.event_case])
    codes = np.concatenate([np.full(n, _CODE[EventType.REGISTERED]), history.event_code])
    when = np.concatenate([cases.opened_sec, seconds])
    event_at = np.concatenate([times.opened, _format_datetimes(rng, seconds, config.start)])
    recorded = np.concatenate([times.recorded, _format_late(rng, seconds, 0.05, 1.0, 14.0, config)])
    tension = np.concatenate([cases.initial_tension, history.event_tension])
    order = np.lexsort((np.arange(len(rows)), when))
    rows, codes, event_at, recorded, tension = (
        rows[order],
        codes[order],
        event_at[order],
        recorded[order],
        tension[order],
    )
    return _text_frame(
        EVENT_COLUMNS,
        {
            "case_id": cases.case_id[rows],
            "event_at": event_at,
            "event_type": np.array([e.value for e in _EVENT_TYPES], dtype=object)[codes],
            "note": _event_notes(rng, cases, places, rows, codes, tension),
            "recorded_at": recorded,
        },
    )


# ---------------------------------------------------------------- exports: hotline


@dataclass(frozen=True)
class _Calls:
    """All hotline calls in time order, with the case truly behind each (-1: background)."""

    call_id: np.ndarray
    seconds: np.ndarray
    true_case: np.ndarray
    linked: np.ndarray
    district: np.ndarray
    category: np.ndarray
    text: np.ndarray
    channel: np.ndarray
    caller_name: np.ndarray
    caller_phone: np.ndarray
    recorded: np.ndarray


def _call_seconds(rng: np.random.Generator, day: np.ndarray, night_share: np.ndarray) -> np.ndarray:
    """Call times: night (22:00-06:00) with probability night_share, else daytime-weighted."""
    night = rng.random(len(day)) < night_share
    seconds = _seconds_of_day(rng, _OFFICE_HOURS, len(day))
    seconds[night] = _seconds_of_day(rng, _NIGHT_HOURS, int(night.sum()))
    return day * _DAY + seconds


def _hotline_labels(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """The hotline's own category for calls about cases of the given categories."""
    table = [_CATEGORY_PROFILES[c].hotline_labels for c in CATEGORIES]
    labels, picks = _grouped_templates(rng, category, table)
    out = np.array(labels, dtype=object)[picks]
    out[rng.random(len(out)) < 0.08] = "咨询"
    return out


def _cue_matrix() -> tuple[tuple[str, ...], np.ndarray]:
    """All escalation cues, and per category the probability of each (by the category's leanings)."""
    cues = tuple(c for group in _CUES.values() for c in group)
    leaning = np.column_stack(
        [
            np.exp(_profile_array("violence")),
            np.exp(_profile_array("group")),
            np.exp(_profile_array("litigation")),
            np.full(len(CATEGORIES), 0.3),
        ]
    )
    per_cue = np.column_stack(
        [leaning[:, k] / len(group) for k, group in enumerate(_CUES.values()) for _ in group]
    )
    return cues, per_cue / per_cue.sum(axis=1, keepdims=True)


def _case_call_texts(
    rng: np.random.Generator, cases: _Cases, rows: np.ndarray, tension: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """What callers about a case say: follow-ups, complaints, escalation cues when tension is high."""
    n = len(rows)
    category = cases.category[rows]
    table = [(*_CALL_GENERIC, _CALL_BY_CATEGORY[c], _CALL_BY_CATEGORY[c]) for c in CATEGORIES]
    templates, picks = _grouped_templates(rng, category, table)
    issues, issue_picks = _grouped_templates(rng, category, [_ISSUES[c] for c in CATEGORIES])
    texts = _render(
        templates,
        picks,
        {
            "entity": cases.entity[rows],
            "issue": np.array(issues, dtype=object)[issue_picks],
            "amount": _amount_text(cases.amount[rows]),
            "days": day - cases.opened_sec[rows] // _DAY,
        },
    )
    cues, cue_probs = _cue_matrix()
    cued = np.flatnonzero(rng.random(n) < _sigmoid(2.0 * (tension - 1.8)))
    picked = _choose_rows(rng, cue_probs[category[cued]])
    texts[cued] = [t + cues[k] for t, k in zip(texts[cued], picked, strict=True)]
    return _append_where(
        rng,
        texts,
        rng.random(n) < 0.04,
        _CALL_PII,
        {
            "phone": _format_phones(rng, cases.reporter_phone[rows]),
            "id_number": cases.reporter_id[rows],
        },
    )


def _case_callers(
    rng: np.random.Generator, cases: _Cases, rows: np.ndarray, linked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Caller names and phones: mostly the reporter (phone in any style), else another party."""
    n = len(rows)
    reporter = rng.random(n) < np.where(linked, 0.8, 0.65)
    other = rng.integers(0, 3, n)
    names = np.where(reporter, cases.reporter_name[rows], cases.contact_names[rows, other])
    phones = np.where(reporter, cases.reporter_phone[rows], cases.contact_phones[rows, other])
    return _caller_names(rng, names), _blank(rng, _format_phones(rng, phones, plain_share=0.5), 0.05)


def _caller_names(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """Names as the hotline writes them: full name, 'Mr/Ms surname', or nothing."""
    u = rng.random(len(names))
    titles = _choose(rng, ("先生", "女士"), len(names))
    polite = np.array([n[0] + t for n, t in zip(names, titles, strict=True)], dtype=object)
    return np.where(u < 0.75, names, np.where(u < 0.9, polite, None))


def _background_calls(
    rng: np.random.Generator, size: int, places: _Places, config: SimulationConfig
) -> dict[str, np.ndarray]:
    """Calls about nothing in the case log: noise, utilities, consultations... with their own callers."""
    weights = np.array([d.weight for d in _DISTRICTS])
    district = rng.choice(len(_DISTRICTS), size, p=weights / weights.sum())
    town = _draw_towns(rng, district, places)
    picks = rng.integers(0, len(_BACKGROUND), size)
    fields = {
        kind: _pick_in_town(rng, places.entities[kind], town)
        for kind in ("estate", "road", "company", "store")
    }
    texts = _render(tuple(t for _, t in _BACKGROUND), picks, fields)
    phones = _draw_phones(rng, size)
    texts = _append_where(rng, texts, rng.random(size) < 0.03, _CALL_PII[:2], {"phone": phones})
    return {
        "seconds": _call_seconds(rng, rng.integers(0, config.days, size), np.full(size, 0.07)),
        "district": district,
        "category": np.array([c for c, _ in _BACKGROUND], dtype=object)[picks],
        "text": texts,
        "caller_name": _caller_names(rng, _draw_names(rng, size)),
        "caller_phone": _blank(rng, _format_phones(rng, phones, plain_share=0.5), 0.05),
    }


def _draw_calls(
    rng: np.random.Generator, cases: _Cases, history: _History, places: _Places, config: SimulationConfig
) -> _Calls:
    """Calls about cases (partly linked by case_id) mixed with background calls, in time order."""
    rows, day, tension = history.call_case, history.call_day, history.call_tension
    n = len(rows)
    linked = rng.random(n) < _LINK_SHARE
    names, phones = _case_callers(rng, cases, rows, linked)
    about_cases = {
        "seconds": _call_seconds(rng, day, _sigmoid(-2.6 + 0.6 * tension)),
        "district": cases.district[rows],
        "category": _hotline_labels(rng, cases.category[rows]),
        "text": _case_call_texts(rng, cases, rows, tension, day),
        "caller_name": names,
        "caller_phone": phones,
    }
    n_background = round(n * _BACKGROUND_SHARE / (1 - _BACKGROUND_SHARE))
    background = _background_calls(rng, n_background, places, config)
    merged = {k: np.concatenate([about_cases[k], background[k]]) for k in about_cases}
    true_case = np.concatenate([rows, np.full(n_background, -1)])
    is_linked = np.concatenate([linked, np.zeros(n_background, bool)])
    order = np.lexsort((np.arange(len(true_case)), merged["seconds"]))
    total = len(true_case)
    return _Calls(
        call_id=np.array([f"HL{i:08d}" for i in range(1, total + 1)], dtype=object),
        seconds=merged["seconds"][order],
        true_case=true_case[order],
        linked=is_linked[order],
        district=merged["district"][order],
        category=merged["category"][order],
        text=merged["text"][order],
        channel=_choose(rng, CHANNELS, total, p=np.array([0.65, 0.08, 0.12, 0.15])),
        caller_name=merged["caller_name"][order],
        caller_phone=merged["caller_phone"][order],
        recorded=_format_late(rng, merged["seconds"][order], 0.03, 1.0, 3.0, config),
    )


def _hotline_frame(rng: np.random.Generator, calls: _Calls, cases: _Cases, start: date) -> pd.DataFrame:
    """The hotline export (all columns text, missing as NA)."""
    district_names = np.array([d.name for d in _DISTRICTS], dtype=object)
    true_case = calls.true_case.astype(np.int64)
    case_ids = np.where(calls.linked, cases.case_id[np.maximum(true_case, 0)], None)
    return _text_frame(
        HOTLINE_COLUMNS,
        {
            "call_id": calls.call_id,
            "received_at": _format_datetimes(rng, calls.seconds, start),
            "district": district_names[calls.district.astype(np.int64)],
            "category": calls.category,
            "text": calls.text,
            "channel": calls.channel,
            "case_id": case_ids,
            "caller_name": calls.caller_name,
            "caller_phone": calls.caller_phone,
            "recorded_at": calls.recorded,
        },
    )


# ---------------------------------------------------------------- truth


def _truth_escalation(history: _History, cases: _Cases, config: SimulationConfig) -> pd.DataFrame:
    """Per as-of date and open case: hazard-implied p of escalation within 30 days, and what happened."""
    span = config.days + HORIZON_DAYS + 1
    escalations = np.isin(history.event_code, _ESCALATION_CODES)
    keys = np.sort(history.event_case[escalations] * span + history.event_day[escalations])
    start_keys = history.truth_case * span + history.truth_day
    counts = np.searchsorted(keys, start_keys + HORIZON_DAYS) - np.searchsorted(keys, start_keys)
    as_of = [config.start + timedelta(days=int(d)) for d in history.truth_day]
    frame = pd.DataFrame(
        {
            "as_of": pd.Series(as_of, dtype=object),
            "case_id": pd.array(cases.case_id[history.truth_case].astype(object), dtype="str"),
            "p_escalation": history.truth_p.astype(float),
            "escalated": counts > 0,
        }
    )
    return frame.sort_values(["as_of", "case_id"], kind="stable").reset_index(drop=True)


def _truth_links(calls: _Calls, cases: _Cases) -> pd.DataFrame:
    """For every call: the case truly behind it (None for background calls) and whether it was linked."""
    true_case = calls.true_case.astype(np.int64)
    return pd.DataFrame(
        {
            "call_id": pd.array(calls.call_id, dtype="str"),
            "true_case_id": pd.Series(
                np.where(true_case >= 0, cases.case_id[np.maximum(true_case, 0)], None), dtype=object
            ),
            "linked_in_export": calls.linked.astype(bool),
        }
    )


# ---------------------------------------------------------------- group grievances


@dataclass(frozen=True)
class _Scenario:
    """A kind of group grievance: what is named, by whom, and what the calls and cases say."""

    category: str  # dispute category of its cases
    entity: str  # kind of place pool the named thing comes from
    district_kind: str  # where it happens (urban | industrial | rural)
    hotline_labels: tuple[str, ...]
    calls: tuple[str, ...]  # what callers say ({entity}, {amount}, {months})
    crowd: tuple[str, ...]  # what they add as the day of the incident nears
    descriptions: tuple[str, ...]  # case descriptions ({entity}, {n}, {amount}, {reporter}, {months})
    people: str  # who gathers (工人, 村民, 业主)
    place: str  # where they gather
    per_party: float  # money at stake per party (CNY)
    topics: tuple[str, ...] = ()  # what callers say naming no thing ({amount}, {months})
    names: tuple[str, ...] = ()  # suffixes of its thing's name when the city has no pool of such things
    spread: float = 0.0  # share of its calls made from other districts (a thing known across the city)


_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario(
        "劳资纠纷",
        "company",
        "industrial",
        ("欠薪", "劳动保障"),
        (
            "在{entity}干活的工人反映，老板已经{months}个月没发工资了。",
            "反映{entity}拖欠工资，我一个人就被欠了{amount}，找不到老板。",
            "关于{entity}欠薪的事，我们很多工友都没拿到钱，家里等着用钱。",
            "我是{entity}的工人，工资一直拖着不发，车间已经停工了。",
            "投诉{entity}拖欠农民工工资{amount}，包工头说公司没给钱。",
        ),
        (
            "工友们说好了明天一起去讨说法。",
            "几十个工人准备集体去区政府上访。",
            "再不发工资我们就去政府门口拉横幅。",
        ),
        (
            "{n}名工人反映{entity}拖欠工资共计{amount}，老板失联，多次讨要未果。",
            "{reporter}等{n}人反映在{entity}工作期间工资被拖欠{months}个月，涉及金额{amount}。",
            "{entity}停工后拖欠{n}名工人工资{amount}，工人情绪激动，要求尽快解决。",
        ),
        "工人",
        "公司门口",
        9_000.0,
        topics=(
            "老板拖欠工资{months}个月了，工友们都找不到人。",
            "厂里停工好几天了，工资一直没发，怎么办？",
            "我们一起干活的几十个人都没拿到工资，包工头也联系不上。",
            "反映拖欠农民工工资的问题，一共{amount}。",
        ),
    ),
    _Scenario(
        "征地拆迁",
        "project",
        "rural",
        ("征地拆迁", "住房城乡建设"),
        (
            "反映{entity}的补偿款到现在都没有发，拖了{months}个月了。",
            "关于{entity}征地补偿的问题，我家被少补了{amount}。",
            "我是{entity}涉及的村民，安置房一直没有落实。",
            "投诉{entity}强行施工，补偿标准没谈好就开始挖地了。",
        ),
        (
            "村里很多人准备一起去镇政府讨说法。",
            "几十户村民说好了要去堵路。",
            "再不给说法我们就集体去市信访局。",
        ),
        (
            "{entity}涉及的{n}户村民反映补偿款{amount}迟迟未发放，多次协商未果。",
            "{reporter}等{n}户村民对{entity}的补偿标准有异议，涉及金额{amount}。",
        ),
        "村民",
        "项目工地",
        40_000.0,
        topics=(
            "村里征地的补偿款一直没发下来，拖了{months}个月了。",
            "我家的地被征了，补偿标准太低，只给了{amount}。",
            "挖掘机已经开进地里了，补偿还没谈好。",
            "拆迁安置房迟迟不落实，村民意见很大。",
        ),
    ),
    _Scenario(
        "物业纠纷",
        "estate",
        "urban",
        ("物业管理", "住房城乡建设"),
        (
            "反映{entity}的电梯坏了{months}个月了，物业一直不修。",
            "关于{entity}物业乱收费的问题，每户多收了{amount}。",
            "我是{entity}的业主，开发商承诺的车位到现在没兑现。",
            "投诉{entity}停水停电，物业说是开发商欠费。",
        ),
        (
            "业主们准备一起去区政府门口拉横幅。",
            "几十户业主说好了明天集体去售楼部维权。",
            "再不解决我们就堵小区大门。",
        ),
        (
            "{entity}业主{n}户反映物业公司长期不作为，要求退还物业费{amount}。",
            "{reporter}等{n}户业主反映{entity}开发商未兑现承诺，涉及金额{amount}。",
        ),
        "业主",
        "售楼部",
        3_000.0,
        topics=(
            "电梯又坏了，老人上不了楼，物业不管。",
            "楼里停水两天了，物业说是开发商欠费。",
            "物业乱收费，每户多收了{amount}，业主都很不满意。",
            "开发商承诺的车位到现在没兑现，业主要求退钱。",
        ),
    ),
    # More kinds of things (config.grievance_more_kinds): names without an organisation or place suffix.
    _Scenario(
        "劳资纠纷",
        "school",
        "urban",
        ("教育", "劳动保障"),
        (
            "我孩子是{entity}的学生，被学校安排到外地工厂实习，工资被扣了{amount}。",
            "反映{entity}组织的顶岗实习，每天上班十二个小时，不去就不给毕业证。",
            "关于{entity}实习的问题，学生在厂里上夜班，实习补贴{months}个月没发。",
            "投诉{entity}强制学生去电子厂实习，学生都不愿意。",
        ),
        (
            "家长们准备一起去学校讨说法。",
            "几十个家长说好了明天去教育局上访。",
            "再不解决我们就去学校门口拉横幅。",
        ),
        (
            "{n}名学生家长反映{entity}组织的顶岗实习拖欠实习补贴共计{amount}，要求学校解决。",
            "{reporter}等{n}人反映{entity}强制安排学生实习，实习补贴{months}个月未发放。",
        ),
        "家长",
        "学校门口",
        4_000.0,
        topics=(
            "学校安排孩子去厂里顶岗实习，每天上十二个小时班。",
            "实习工资被学校扣了一大半，孩子一个月只拿到几百块。",
            "不去实习就不给毕业证，这合理吗？",
            "学生实习被安排上夜班，还不给加班费。",
        ),
        names=("职业技术学院",),
    ),
    _Scenario(
        "其他",
        "platform",
        "urban",
        ("金融", "市场监管"),
        (
            "我在{entity}上投了{amount}，现在提不出来了。",
            "反映{entity}无法提现的问题，客服电话一直打不通。",
            "关于{entity}爆雷的事，我们很多人的本金都取不出来。",
            "投诉{entity}，说好的{months}个月到期还本，现在人找不到了。",
        ),
        (
            "投资人准备一起去市公安局报案。",
            "几十个投资人说好了明天去市政府门口。",
            "再不还钱我们就集体上访。",
        ),
        (
            "{n}名投资人反映{entity}无法提现，涉及金额{amount}，要求追回本金。",
            "{reporter}等{n}人反映在{entity}投资的本金{amount}到期未兑付。",
        ),
        "投资人",
        "市政府门口",
        50_000.0,
        topics=(
            "在网上投的钱提不出来了，客服也联系不上。",
            "理财平台爆雷了，我投了{amount}。",
            "借贷平台关停了，本金一直不退。",
            "网贷突然无法提现，很多人的钱都取不出来。",
        ),
        names=("网贷平台", "金融APP"),
        spread=0.25,
    ),
    _Scenario(
        "其他",
        "works",
        "urban",
        ("城市管理", "住房城乡建设"),
        (
            "{entity}晚上一直施工，噪音太大，吵得睡不着。",
            "反映{entity}施工把我家的墙震裂了，要求赔偿{amount}。",
            "关于{entity}的扬尘问题，整条街都是灰。",
            "投诉{entity}夜间施工扰民，已经持续{months}个月了。",
        ),
        (
            "居民们准备一起去项目部讨说法。",
            "几十户居民说好了明天去区政府反映。",
            "再不停工我们就去堵工地大门。",
        ),
        (
            "{n}户居民反映{entity}施工导致房屋开裂，要求赔偿{amount}。",
            "{reporter}等{n}户居民反映{entity}夜间施工扰民{months}个月，多次协商未果。",
        ),
        "居民",
        "项目部",
        8_000.0,
        topics=(
            "晚上施工噪音太大，吵得睡不着。",
            "附近修路灰尘太大，窗户都不敢开。",
            "修地铁把我家墙震裂了，没人来管。",
            "工地上有股刺鼻的气味，居民都很难受。",
        ),
        names=("路改造工程", "大道拓宽工程", "地铁站项目"),
    ),
)
_PLAIN_SCENARIOS = 3  # the kinds of the simulator before issue 17 (config.grievance_more_kinds off)
GRIEVANCE_COLUMNS: tuple[str, ...] = (
    "grievance",
    "thing",
    "thing_kind",
    "district",
    "onset",
    "first_escalation_at",
    "escalation_case_id",
    "record_kind",
    "record_id",
    "named_as",
)
_GRIEVANCE_BASELINE_DAYS = 63  # history before the onset, when the period allows (a detector's baseline)
_GRIEVANCE_FIRST_RATE = 0.5  # calls a day at the onset ...
_GRIEVANCE_PEAK_RATE = (6.0, 10.0)  # ... growing exponentially to this on the day of the incident
_GRIEVANCE_RAMP_DAYS = (16, 25)  # onset to incident
_GRIEVANCE_AFTER_DAYS = 14  # calls go on, halving every two days, after the incident
_GRIEVANCE_NEW_CALLER = 0.75  # share of calls from someone who has not called about it yet
_GRIEVANCE_EMERGING_DAYS = (10, 15)  # the last of several grievances starts this long before the end


# How callers name a grievance's thing, given that they name it other than by its full name: a short
# form (its word with one of the endings below, or without the first character of a long word) with
# _SHORT_SHARE, a property word before an estate with _PROPERTY_SHARE, a building, unit or room number
# after it with _UNIT_SHARE (in full-width digits with _FULL_WIDTH_SHARE), a place before it with
# _PLACE_SHARE; a short form when none of these applies.
_SHORT_ENDINGS: dict[str, tuple[str, ...]] = {
    "建筑工程有限公司": ("建筑公司", "建筑", "建工", "公司", "工程公司"),
    "服装厂": ("服装", "厂", "制衣厂", "服装公司"),
    "电子科技有限公司": ("电子", "科技", "电子公司", "科技公司", "电子厂"),
    "物流有限公司": ("物流", "物流公司"),
    "食品有限公司": ("食品", "食品厂", "食品公司"),
    "家具厂": ("家具", "厂", "家具公司"),
    "装饰工程有限公司": ("装饰", "装饰公司", "装修公司"),
    "机械制造有限公司": ("机械", "机械厂", "机械公司"),
    "花园": ("", "小区"),
    "小区": ("",),
    "家园": ("", "小区"),
    "苑": ("小区", "苑小区"),
    "新村": ("", "小区"),
    "公寓": ("", "小区"),
    "片区棚户区改造项目": ("棚改项目", "片区棚改", "棚改", "片区改造项目"),
    "高速公路征迁项目": ("高速征迁", "高速项目", "征迁项目", "高速公路项目"),
    "工业园区征地项目": ("工业园征地", "工业园", "征地项目", "园区项目"),
    "旧城改造项目": ("旧改项目", "旧改", "改造项目"),
    "职业技术学院": ("职院", "职业学院", "技术学院", "职校"),
    "网贷平台": ("网贷", "平台", "理财平台", "APP"),
    "金融APP": ("金融", "金融app", "金融平台", "APP"),
    "路改造工程": ("路", "路施工", "路工地", "路改造"),
    "大道拓宽工程": ("大道", "大道施工", "大道工地"),
    "地铁站项目": ("地铁站", "站工地", "地铁站施工"),
}
_UNITS: dict[str, tuple[str, ...]] = {
    "estate": ("{a}幢{b}单元", "{a}栋", "{a}号楼", "{a}栋{b}单元{c}室", "二期", "{a}幢"),
    "company": ("{a}号厂房", "二车间", "{a}号车间", "宿舍"),
    "project": ("{a}标段", "工地", "二期"),
    "works": ("{a}标段", "工地"),
}
_PROPERTY_WORDS = ("商品房", "安置房", "还建房")
_PROVINCE = "江南省"
_SHORT_SHARE, _PROPERTY_SHARE, _UNIT_SHARE, _FULL_WIDTH_SHARE, _PLACE_SHARE = 0.5, 0.25, 0.3, 0.3, 0.4
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# A character of a name and one a caller (or the operator typing the call) writes for it by mistake: a
# homophone or a near form.
_MISWRITTEN = dict(
    zip(
        "宏达鑫源华联永盛金鹰恒泰东方新世纪锦绣翠苑富康兴旺长青明珠阳光天成瑞丰嘉禾福临远大顺发乐桥绿洲星河湖园",
        "洪大新原化连勇胜今英衡太冬芳欣市记金秀萃院福慷星望常清鸣株杨广添城睿峰佳和富林源达舜法勒乔禄州兴和胡元",
        strict=True,
    )
)


@dataclass(frozen=True)
class _Naming:
    """A grievance's thing and what callers may write for it."""

    full: str
    word: str  # the distinctive part before the suffix
    suffix: str
    kind: str
    places: tuple[str, ...]  # places written before it (province, city, district, town ...)


def _naming(thing: str, scenario: _Scenario, district: int, town: int, places: _Places) -> _Naming:
    """How the grievance's thing is built (its word and suffix) and the places that may precede it."""
    suffixes = sorted((*_ENTITY_SUFFIXES.get(scenario.entity, ()), *scenario.names), key=len, reverse=True)
    suffix = next((x for x in suffixes if thing.endswith(x) and len(thing) > len(x)), "")
    d, t = _DISTRICTS[district].name, str(places.town_names[town])
    where = (_PROVINCE + _CITY, _CITY, d, d[:-1], t, _CITY + d, d + t, _PROVINCE + _CITY + d + t)
    return _Naming(thing, thing[: len(thing) - len(suffix)], suffix, scenario.entity, where)


def _short_forms(naming: _Naming) -> tuple[str, ...]:
    """The thing's short forms: its word with a shorter ending, or a long word without its first
    character."""
    forms = [naming.word + e for e in _SHORT_ENDINGS.get(naming.suffix, ("",))]
    if len(naming.word) >= 3:
        forms.append(naming.word[1:] + naming.suffix)
    return tuple(dict.fromkeys(f for f in forms if f != naming.full))


def _unit(rng: np.random.Generator, kind: str) -> str:
    """A building, unit, room, workshop or section number written after the thing."""
    options = _UNITS[kind]
    text = options[int(rng.integers(len(options)))].format(
        a=int(rng.integers(1, 31)), b=int(rng.integers(1, 7)), c=int(rng.integers(101, 2_601))
    )
    return text.translate(_FULL_WIDTH) if rng.random() < _FULL_WIDTH_SHARE else text


def _varied_name(rng: np.random.Generator, naming: _Naming) -> str:
    """One way of naming the thing other than its full name (see _SHORT_ENDINGS)."""
    short = _short_forms(naming)
    name = short[int(rng.integers(len(short)))] if rng.random() < _SHORT_SHARE else naming.full
    if naming.kind == "estate" and rng.random() < _PROPERTY_SHARE:
        name = _PROPERTY_WORDS[int(rng.integers(len(_PROPERTY_WORDS)))] + name
    if naming.kind in _UNITS and rng.random() < _UNIT_SHARE:
        name += _unit(rng, naming.kind)
    if rng.random() < _PLACE_SHARE:
        name = naming.places[int(rng.integers(len(naming.places)))] + name
    return name if name != naming.full else short[int(rng.integers(len(short)))]


def _miswritten(rng: np.random.Generator, name: str) -> str:
    """The name with one of its characters written as a homophone or near form (unchanged when none has
    one)."""
    positions = [i for i, c in enumerate(name) if c in _MISWRITTEN]
    if not positions:
        return name
    i = positions[int(rng.integers(len(positions)))]
    return name[:i] + _MISWRITTEN[name[i]] + name[i + 1 :]


def _call_names(rng: np.random.Generator, naming: _Naming, n: int, config: SimulationConfig) -> np.ndarray:
    """Per call of a grievance, how it names the thing: by its full name, another way (with
    config.grievance_name_variety), with a character miswritten (config.grievance_typo_rate), or not at
    all (None, with config.grievance_topic_only)."""
    topic_only = rng.random(n) < config.grievance_topic_only
    varied = rng.random(n) < config.grievance_name_variety
    typo = rng.random(n) < config.grievance_typo_rate
    out = np.full(n, naming.full, dtype=object)
    for i in np.flatnonzero(varied).tolist():
        out[i] = _varied_name(rng, naming)
    for i in np.flatnonzero(typo).tolist():
        out[i] = _miswritten(rng, out[i])
    out[topic_only] = None
    return out


def _topic_texts(rng: np.random.Generator, scenario: _Scenario, names: np.ndarray) -> np.ndarray:
    """What the calls naming no thing (names None) say instead: the issue in their own words."""
    rows = np.flatnonzero(pd.isna(names))
    out = np.full(len(names), None, dtype=object)
    if rows.size:
        amounts = _amount_text(np.round(rng.uniform(0.3, 1.5, rows.size) * scenario.per_party / 100) * 100)
        out[rows] = _render(
            scenario.topics,
            rng.integers(0, len(scenario.topics), rows.size),
            {"amount": amounts, "months": rng.integers(2, 7, rows.size)},
        )
    return out


def _call_districts(rng: np.random.Generator, scenario: _Scenario, district: int, n: int) -> np.ndarray:
    """The district of each call: the grievance's, or with scenario.spread another (by size)."""
    weights = np.array([d.weight for d in _DISTRICTS])
    weights[district] = 0.0
    elsewhere = rng.choice(len(_DISTRICTS), n, p=weights / weights.sum())
    return np.where(rng.random(n) < scenario.spread, elsewhere, district)


@dataclass(frozen=True)
class _Grievances:
    """The rows a city's group grievances add (export text, like the rest) and their truth."""

    cases: pd.DataFrame
    case_events: pd.DataFrame
    hotline: pd.DataFrame
    truth_escalation: pd.DataFrame
    truth_links: pd.DataFrame
    truth: pd.DataFrame


@dataclass
class _GrievanceRows:
    """Column lists of the added rows, filled grievance by grievance."""

    cases: list[pd.DataFrame] = field(default_factory=list)
    events: list[pd.DataFrame] = field(default_factory=list)
    calls: list[pd.DataFrame] = field(default_factory=list)
    links: list[pd.DataFrame] = field(default_factory=list)
    escalation: list[pd.DataFrame] = field(default_factory=list)
    truth: list[pd.DataFrame] = field(default_factory=list)


def _grievance_onsets(rng: np.random.Generator, config: SimulationConfig) -> list[tuple[int, int, bool]]:
    """(onset day, days to the incident, incident within the period) per grievance that fits: the
    last of several is still emerging at the end of the period; the others escalate within it, their
    onsets in consecutive parts of the period after a baseline."""
    n = config.grievances
    emerging = 1 if n >= 2 else 0
    ramps = rng.integers(_GRIEVANCE_RAMP_DAYS[0], _GRIEVANCE_RAMP_DAYS[1] + 1, n)
    first = min(_GRIEVANCE_BASELINE_DAYS, config.days // 2)
    last = config.days - _GRIEVANCE_RAMP_DAYS[1] - 5
    plans = []
    bounds = np.linspace(first, max(last, first), n - emerging + 1)
    for g in range(n - emerging):
        low, high = int(bounds[g]), int(max(bounds[g + 1], bounds[g] + 1))
        if last >= first:
            plans.append((int(rng.integers(low, high)), int(ramps[g]), True))
    if emerging:
        onset = config.days - int(rng.integers(*_GRIEVANCE_EMERGING_DAYS))
        if onset > 0:
            plans.append((onset, int(ramps[-1]), onset + int(ramps[-1]) < config.days))
    return plans


def _grievance_call_days(
    rng: np.random.Generator, onset: int, ramp: int, config: SimulationConfig
) -> np.ndarray:
    """The day of each call: a Poisson count per day, rising exponentially to the incident, then halving
    every two days."""
    peak = rng.uniform(*_GRIEVANCE_PEAK_RATE)
    days = np.arange(onset, min(onset + ramp + _GRIEVANCE_AFTER_DAYS, config.days))
    since = days - onset
    rate = np.where(
        since <= ramp,
        _GRIEVANCE_FIRST_RATE * (peak / _GRIEVANCE_FIRST_RATE) ** (since / ramp),
        peak * 0.5 ** ((since - ramp) / 2.0),
    )
    counts = rng.poisson(rate)
    counts[0] = max(counts[0], 1)
    return np.repeat(days, counts)


def _grievance_callers(rng: np.random.Generator, n_calls: int) -> np.ndarray:
    """Per call, the index of its caller: mostly someone new, else one who called before."""
    new = rng.random(n_calls) < _GRIEVANCE_NEW_CALLER
    new[0] = True
    seen_before = np.cumsum(new) - new  # new callers before each call
    again = np.minimum((rng.random(n_calls) * np.maximum(seen_before, 1)).astype(np.int64), seen_before - 1)
    return np.where(new, seen_before, np.maximum(again, 0))


def _grievance_case_ids(
    existing: np.ndarray, taken: list[str], opened_sec: np.ndarray, start: date
) -> np.ndarray:
    """Ids for added cases: the next numbers of their year after every id already used."""
    years = (np.datetime64(start, "D") + opened_sec // _DAY).astype("datetime64[Y]").astype(np.int64) + 1970
    used = pd.Series(np.concatenate([existing.astype(object), np.array(taken, dtype=object)]), dtype=object)
    parts = used.str.extract(r"^FQ(\d{4})-(\d{6})$").dropna().astype(int)
    top = parts.groupby(0)[1].max().to_dict()
    out = []
    for year in years.tolist():
        top[year] = top.get(year, 0) + 1
        out.append(f"FQ{year}-{top[year]:06d}")
    return np.array(out, dtype=object)


def _grievance_place(rng: np.random.Generator, scenario: _Scenario, places: _Places) -> tuple[int, int, str]:
    """District, town and the named thing of a grievance (a thing of the town's pool, or a word and one
    of the scenario's suffixes for kinds the city keeps no pool of)."""
    weights = np.array([d.weight * (d.kind == scenario.district_kind) for d in _DISTRICTS])
    district = int(rng.choice(len(_DISTRICTS), p=weights / weights.sum()))
    town = int(_draw_towns(rng, np.array([district]), places)[0])
    if scenario.entity not in places.entities:
        word = _WORDS[int(rng.integers(len(_WORDS)))]
        return district, town, word + scenario.names[int(rng.integers(len(scenario.names)))]
    pool = places.entities[scenario.entity][town]
    return district, town, str(pool[rng.integers(0, len(pool))])


def _grievance_texts(
    rng: np.random.Generator,
    scenario: _Scenario,
    names: np.ndarray,
    topics: np.ndarray,
    heat: np.ndarray,
    phones: np.ndarray,
) -> np.ndarray:
    """What the callers say: the thing as each names it and its issue (the topic text where a call names
    no thing), crowd talk as the incident nears, a few phones."""
    n = len(heat)
    picks = rng.integers(0, len(scenario.calls), n)
    amounts = _amount_text(np.round(rng.uniform(0.3, 1.5, n) * scenario.per_party / 100) * 100)
    unnamed = pd.isna(names)
    texts = _render(
        scenario.calls,
        picks,
        {"entity": np.where(unnamed, "", names), "amount": amounts, "months": rng.integers(2, 7, n)},
    )
    texts[unnamed] = topics[unnamed]
    crowd = rng.random(n) < 0.6 * heat**2
    texts = _append_where(rng, texts, crowd, scenario.crowd, {})
    return _append_where(rng, texts, rng.random(n) < 0.04, _CALL_PII[:2], {"phone": phones})


@dataclass(frozen=True)
class _GrievanceCases:
    """The cases a grievance opens: positions of their reporters among the callers, days, sizes."""

    reporter: np.ndarray
    day: np.ndarray
    parties: np.ndarray
    main: int  # the case on which the incident happens


def _grievance_cases(
    rng: np.random.Generator, onset: int, ramp: int, n_callers: int, config: SimulationConfig
) -> _GrievanceCases:
    """2-4 cases opened from a third of the way to the incident until a week before it; the incident
    happens on the largest."""
    k = int(rng.integers(2, 5))
    first, last = onset + max(ramp // 3, 1), onset + ramp - 7
    day = np.sort(rng.integers(first, max(last, first) + 1, k))
    parties = rng.integers(12, 60, k)
    keep = day < config.days
    day, parties = day[keep], parties[keep]
    reporter = np.minimum(np.arange(day.size), max(n_callers - 1, 0))
    return _GrievanceCases(reporter, day, parties, int(np.argmax(parties)) if day.size else -1)


def _grievance_events(
    rng: np.random.Generator, cases: _GrievanceCases, incident: int | None, config: SimulationConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(case position, seconds, event code) of the cases' events after registration, in the period."""
    rows, days, codes = [], [], []

    def add(case: int, day: int, event: EventType) -> None:
        if day < config.days:
            rows.append(case)
            days.append(day)
            codes.append(_CODE[event])

    for case, opened in enumerate(cases.day.tolist()):
        before = [(1, EventType.ASSIGNED), (3, EventType.VISIT), (5, EventType.MEDIATION_SESSION)]
        for offset, event in before:
            if incident is None or opened + offset < incident:
                add(case, opened + offset, event)
        if incident is None or opened + 5 < incident:
            add(case, opened + 5, EventType.MEDIATION_FAILED)
        if incident is None:
            continue
        if case == cases.main:
            add(case, incident, EventType.GROUP_INCIDENT)
            add(case, incident + 1, EventType.REFERRED)
            later = ((6, EventType.MEDIATION_SESSION), (6, EventType.MEDIATED), (20, EventType.CLOSED))
        else:
            later = ((4, EventType.MEDIATION_SESSION), (4, EventType.MEDIATED), (18, EventType.CLOSED))
        for offset, event in later:
            add(case, incident + offset, event)
    case_at, day_at = np.array(rows, dtype=np.int64), np.array(days, dtype=np.int64)
    code_at = np.array(codes, dtype=np.int64)
    escalation = code_at == _CODE[EventType.GROUP_INCIDENT]
    seconds = day_at * _DAY + _seconds_of_day(rng, _OFFICE_HOURS, len(day_at))
    seconds[escalation] = day_at[escalation] * _DAY + _seconds_of_day(rng, _ANY_HOURS, int(escalation.sum()))
    outcome = np.isin(code_at, [_CODE[EventType.MEDIATION_FAILED], _CODE[EventType.MEDIATED]])
    # An outcome follows its session on the same day (the session is the row before it).
    seconds[outcome] = np.minimum(
        seconds[np.flatnonzero(outcome) - 1] + 3600, day_at[outcome] * _DAY + _DAY - 1
    )
    return case_at, seconds, code_at


def _grievance_notes(
    rng: np.random.Generator, scenario: _Scenario, thing: str, codes: np.ndarray, parties: np.ndarray
) -> np.ndarray:
    """Short notes of the grievance cases' events."""
    people = scenario.people
    templates = {
        EventType.REGISTERED: "受理登记。",
        EventType.ASSIGNED: "已分派至人民调解委员会。",
        EventType.VISIT: f"走访{thing}及{people}代表，{people}情绪激动。",
        EventType.MEDIATION_SESSION: f"组织{thing}与{people}代表进行调解。",
        EventType.MEDIATION_FAILED: f"{thing}负责人未到场，调解未成功。",
        EventType.GROUP_INCIDENT: f"约{{crowd}}名{people}聚集在{scenario.place}讨要说法。",
        EventType.REFERRED: "移交相关部门处理。",
        EventType.MEDIATED: "达成分期支付协议。",
        EventType.CLOSED: "已履行完毕，结案归档。",
    }
    order = tuple(templates)
    picks = np.array([order.index(_EVENT_TYPES[c]) for c in codes.tolist()], dtype=np.int64)
    notes = _render(tuple(templates.values()), picks, {"crowd": np.maximum(parties, 10)})
    notes[rng.random(len(codes)) >= 0.8] = None
    return notes


def _grievance_truth_p(
    scenario: _Scenario, parties: np.ndarray, amount: np.ndarray, heat: np.ndarray
) -> np.ndarray:
    """Hazard-implied probability of escalation within the horizon at the scripted tension: rising from
    -0.5 at the onset to 2.5 on the day of the incident, 0.5 after it."""
    c = CATEGORIES.index(scenario.category)
    static = _ESCALATION_INTERCEPTS + np.column_stack(
        [
            np.full(len(parties), _profile_array("violence")[c]),
            _profile_array("group")[c] + 0.6 * np.log(parties),
            _profile_array("litigation")[c] + 0.35 * np.log1p(amount / 10_000),
        ]
    )
    tension = np.where(heat > 1, 0.5, -0.5 + 3.0 * np.clip(heat, 0, 1))
    return -np.expm1(-HORIZON_DAYS * _escalation_hazards(static, tension).sum(axis=1))


def _one_grievance(
    rng: np.random.Generator,
    g: int,
    plan: tuple[int, int, bool],
    ids: tuple[np.ndarray, int, list[str]],
    places: _Places,
    config: SimulationConfig,
    out: _GrievanceRows,
) -> int:
    """Adds one grievance's rows to out; returns the number of calls it added. How its calls name the
    thing (and from which districts) is drawn from a stream of its own, so that everything else is the
    same whatever the config's naming shares."""
    onset, ramp, escalates = plan
    scenarios = _SCENARIOS if config.grievance_more_kinds else _SCENARIOS[:_PLAIN_SCENARIOS]
    scenario = scenarios[g % len(scenarios)]
    district, town, thing = _grievance_place(rng, scenario, places)
    existing_cases, first_call, taken = ids
    incident = onset + ramp if escalates else None

    day = _grievance_call_days(rng, onset, ramp, config)
    caller = _grievance_callers(rng, day.size)
    n_callers = int(caller.max()) + 1
    names, phones = _draw_names(rng, n_callers), _draw_phones(rng, n_callers)
    cases = _grievance_cases(rng, onset, ramp, n_callers, config)
    n_cases = cases.day.size

    # Cases: each caller belongs to one of them; the first callers report them.
    opened_sec = cases.day * _DAY + _seconds_of_day(rng, _OFFICE_HOURS, n_cases)
    case_ids = _grievance_case_ids(existing_cases, taken, opened_sec, config.start)
    taken.extend(case_ids.tolist())
    amount = np.round(cases.parties * scenario.per_party * rng.uniform(0.7, 1.3, n_cases) / 100) * 100
    category = CATEGORIES.index(scenario.category)
    towns, districts = np.full(n_cases, town), np.full(n_cases, district)
    reporter_names, reporter_phones = names[cases.reporter], phones[cases.reporter]
    descriptions = _render(
        scenario.descriptions,
        rng.integers(0, len(scenario.descriptions), n_cases),
        {
            "entity": np.full(n_cases, thing, dtype=object),
            "n": cases.parties,
            "amount": _amount_text(amount),
            "reporter": reporter_names,
            "months": rng.integers(2, 7, n_cases),
        },
    )
    opened_text = _format_datetimes(rng, opened_sec, config.start)
    district_name = _DISTRICTS[district].name
    out.cases.append(
        _text_frame(
            CASE_COLUMNS,
            {
                "case_id": case_ids,
                "opened_at": opened_text,
                "district": np.full(n_cases, district_name, dtype=object),
                "town": places.town_names[towns],
                "category": np.full(n_cases, scenario.category, dtype=object),
                "source": _choose(rng, ("hotline", "walk_in", "grid_worker"), n_cases),
                "description": descriptions,
                "party_count": np.array([str(p) for p in cases.parties], dtype=object),
                "amount": np.array([f"{a:.0f}" for a in amount], dtype=object),
                "reporter_name": reporter_names,
                "reporter_phone": _format_phones(rng, reporter_phones),
                "reporter_id_number": _draw_id_numbers(
                    rng, np.array([f"3699{2 * district + 2:02d}"] * n_cases, dtype=object)
                ),
                "address": _draw_addresses(
                    rng,
                    districts,
                    towns,
                    np.full(n_cases, thing, dtype=object),
                    np.full(n_cases, category),
                    places,
                ),
                "recorded_at": np.full(n_cases, None, dtype=object),
            },
        )
    )

    # Events: registered (with the case's own opened_at text), the scripted process, the incident.
    event_case, event_sec, event_code = _grievance_events(rng, cases, incident, config)
    rows = np.concatenate([np.arange(n_cases), event_case])
    seconds = np.concatenate([opened_sec, event_sec])
    codes = np.concatenate([np.full(n_cases, _CODE[EventType.REGISTERED]), event_code])
    texts = np.concatenate([opened_text, _format_datetimes(rng, event_sec, config.start)])
    order = np.lexsort((np.arange(len(rows)), seconds))
    rows, seconds, codes, texts = rows[order], seconds[order], codes[order], texts[order]
    notes = _grievance_notes(rng, scenario, thing, codes, cases.parties[rows])
    out.events.append(
        _text_frame(
            EVENT_COLUMNS,
            {
                "case_id": case_ids[rows],
                "event_at": texts,
                "event_type": np.array([e.value for e in _EVENT_TYPES], dtype=object)[codes],
                "note": notes,
                "recorded_at": np.full(len(rows), None, dtype=object),
            },
        )
    )

    # Calls: in time order; a caller's call is about their case once it is open, linked by case_id
    # in about _LINK_SHARE of those.
    call_sec = _call_seconds(rng, day, np.full(day.size, 0.07))
    order = np.argsort(call_sec, kind="stable")
    call_sec, caller = call_sec[order], caller[order]
    member = caller % max(n_cases, 1)
    about = call_sec > opened_sec[member] if n_cases else np.zeros(day.size, dtype=bool)
    linked = about & (rng.random(day.size) < _LINK_SHARE)
    heat = (call_sec / _DAY - onset) / ramp
    call_ids = np.array([f"HL{first_call + i:08d}" for i in range(1, day.size + 1)], dtype=object)
    case_of_call = case_ids[member] if n_cases else np.full(day.size, None, dtype=object)
    naming_rng = np.random.default_rng([config.seed, 11, g])
    named_as = _call_names(naming_rng, _naming(thing, scenario, district, town, places), day.size, config)
    topics = _topic_texts(naming_rng, scenario, named_as)
    call_districts = _call_districts(naming_rng, scenario, district, day.size)
    out.calls.append(
        _text_frame(
            HOTLINE_COLUMNS,
            {
                "call_id": call_ids,
                "received_at": _format_datetimes(rng, call_sec, config.start),
                "district": np.array([d.name for d in _DISTRICTS], dtype=object)[call_districts],
                "category": _choose(rng, scenario.hotline_labels, day.size),
                "text": _grievance_texts(rng, scenario, named_as, topics, heat, phones[caller]),
                "channel": _choose(rng, CHANNELS, day.size, p=np.array([0.65, 0.08, 0.12, 0.15])),
                "case_id": np.where(linked, case_of_call, None),
                "caller_name": _caller_names(rng, names[caller]),
                "caller_phone": _blank(rng, _format_phones(rng, phones[caller], plain_share=0.5), 0.05),
                "recorded_at": _format_late(rng, call_sec, 0.03, 1.0, 3.0, config),
            },
        )
    )
    out.links.append(
        pd.DataFrame(
            {
                "call_id": pd.array(call_ids, dtype="str"),
                "true_case_id": pd.Series(np.where(about, case_of_call, None), dtype=object),
                "linked_in_export": linked.astype(bool),
            }
        )
    )

    # Truth: the escalation table's rows for the cases open at its dates, and the grievance's records.
    truth_days = np.array([(d - config.start).days for d in truth_as_of_dates(config)], dtype=np.int64)
    span_case, span_day = np.meshgrid(np.arange(n_cases), truth_days, indexing="ij")
    span_case, span_day = span_case.ravel(), span_day.ravel()
    closed_sec = np.full(n_cases, np.iinfo(np.int64).max)
    closing = event_code == _CODE[EventType.CLOSED]
    closed_sec[event_case[closing]] = event_sec[closing]
    is_open = (opened_sec[span_case] < span_day * _DAY) & (closed_sec[span_case] >= span_day * _DAY)
    span_case, span_day = span_case[is_open], span_day[is_open]
    incident_sec = event_sec[event_code == _CODE[EventType.GROUP_INCIDENT]]
    escalated = (
        (span_case == cases.main)
        & (incident_sec.size > 0)
        & (span_day * _DAY <= (incident_sec.max(initial=-1)))
        & ((span_day + HORIZON_DAYS) * _DAY > incident_sec.max(initial=-1))
    )
    out.escalation.append(
        pd.DataFrame(
            {
                "as_of": pd.Series([config.start + timedelta(days=int(d)) for d in span_day], dtype=object),
                "case_id": pd.array(case_ids[span_case].astype(object), dtype="str"),
                "p_escalation": _grievance_truth_p(
                    scenario, cases.parties[span_case], amount[span_case], (span_day - onset) / ramp
                ).astype(float),
                "escalated": escalated.astype(bool),
            }
        )
    )
    first_escalation = (
        _format_datetimes(rng, incident_sec[:1], config.start, alt_share=0.0)[0]
        if incident_sec.size
        else None
    )
    records = [("cases", c, thing) for c in case_ids.tolist()]
    records += [("hotline", c, name) for c, name in zip(call_ids.tolist(), named_as.tolist(), strict=True)]
    out.truth.append(
        pd.DataFrame(
            {
                "grievance": g + 1,
                "thing": thing,
                "thing_kind": scenario.entity,
                "district": district_name,
                "onset": (config.start + timedelta(days=onset)).isoformat(),
                "first_escalation_at": first_escalation,
                "escalation_case_id": case_ids[cases.main] if incident_sec.size else None,
                "record_kind": [kind for kind, _, _ in records],
                "record_id": [record for _, record, _ in records],
                "named_as": pd.Series([name for _, _, name in records], dtype=object),
            },
            columns=list(GRIEVANCE_COLUMNS),
        )
    )
    return day.size


def _simulate_grievances(
    rng: np.random.Generator, case_ids: np.ndarray, n_calls: int, places: _Places, config: SimulationConfig
) -> _Grievances:
    """Group grievances: over two to three weeks, more and more people call about the same company
    (project, estate ...), a few cases are opened naming it, and a group incident follows on one of them.
    Drawn from their own random stream and appended, so the rest of the city is the same with or without."""
    out = _GrievanceRows()
    taken: list[str] = []
    for g, plan in enumerate(_grievance_onsets(rng, config)):
        n_calls += _one_grievance(rng, g, plan, (case_ids, n_calls, taken), places, config, out)

    def stack(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
        if frames:
            return pd.concat(frames, ignore_index=True)
        return _text_frame(columns, {c: np.empty(0, dtype=object) for c in columns})

    escalation = pd.concat(out.escalation, ignore_index=True) if out.escalation else None
    links = pd.concat(out.links, ignore_index=True) if out.links else None
    truth = (
        pd.concat(out.truth, ignore_index=True)
        if out.truth
        else pd.DataFrame({c: pd.Series(dtype=object) for c in GRIEVANCE_COLUMNS})
    )
    return _Grievances(
        cases=stack(out.cases, CASE_COLUMNS),
        case_events=stack(out.events, EVENT_COLUMNS),
        hotline=stack(out.calls, HOTLINE_COLUMNS),
        truth_escalation=escalation,
        truth_links=links,
        truth=truth,
    )


def _with_grievances(city: SimulatedCity, grievances: _Grievances) -> SimulatedCity:
    """The city with the grievances' rows appended (the truth of escalation re-sorted by date and case,
    which keeps the order of its other rows)."""
    escalation = city.truth_escalation
    if grievances.truth_escalation is not None:
        escalation = pd.concat([escalation, grievances.truth_escalation], ignore_index=True)
        escalation = escalation.sort_values(["as_of", "case_id"], kind="stable").reset_index(drop=True)
    links = city.truth_links
    if grievances.truth_links is not None:
        links = pd.concat([links, grievances.truth_links], ignore_index=True)
    return SimulatedCity(
        cases=pd.concat([city.cases, grievances.cases], ignore_index=True),
        case_events=pd.concat([city.case_events, grievances.case_events], ignore_index=True),
        hotline=pd.concat([city.hotline, grievances.hotline], ignore_index=True),
        truth_escalation=escalation,
        truth_links=links,
        truth_corruptions=city.truth_corruptions,
        truth_grievances=grievances.truth,
    )


# ---------------------------------------------------------------- generic calls

# Words the simulated calls write like the names of things but that name none (what a grievance detector
# must not take for one): those of the generic calls below, and the factories of the internship
# grievance's texts. Then the generic calls: (hotline category, text, said in an outage's burst).
GENERIC_THINGS: tuple[str, ...] = (
    "整个小区",
    "导致小区",
    "建设项目",
    "自来水公司",
    "供电公司",
    "燃气公司",
    "市政工程有限公司",
    "物业公司",
    "电子厂",
    "外地工厂",
)
_GENERIC_CALLS: tuple[tuple[str, str, bool], ...] = (
    ("公用事业", "水管爆裂，导致小区停水一整天，什么时候恢复？", True),
    ("公用事业", "整个小区从昨晚开始停电，供电公司一直没来人。", True),
    ("公用事业", "{estate}整个小区都停水了，自来水公司电话打不通。", True),
    ("公用事业", "整个小区水压太低，高层用不上水，自来水公司说在检修。", True),
    ("公用事业", "线路老化，导致小区频繁跳闸，供电公司不管。", True),
    ("住房城乡建设", "市政工程有限公司挖断了水管，导致小区停水。", True),
    ("公用事业", "自来水公司多收了水费，要求核实。", False),
    ("公用事业", "燃气公司上门安检要收费，是否合理？", False),
    ("城市管理", "小区旁边的建设项目晚上一直施工，噪音扰民。", False),
    ("城市管理", "建设项目的渣土车撒漏，道路很脏。", False),
    ("住房城乡建设", "{estate}门口的路被市政工程有限公司挖开后一直没有恢复。", False),
    ("环境保护", "建设项目工地扬尘很大，整个小区都是灰。", False),
    ("交通运输", "建设项目占道施工，导致小区出行困难。", False),
    ("咨询", "咨询一下物业公司可以随便涨价吗？", False),
    ("物业管理", "物业公司不作为，整个小区的垃圾没人清理。", False),
)
_GENERIC_BURST_SHARE = (
    0.4  # of the generic calls, made in bursts: an outage, many callers of a town in 2 days
)
_GENERIC_BURST_SIZE = (6, 20)


@dataclass(frozen=True)
class _GenericCalls:
    """The hotline rows of the generic calls and their truth links (about no case)."""

    hotline: pd.DataFrame
    truth_links: pd.DataFrame


def _generic_days_and_places(
    rng: np.random.Generator, size: int, places: _Places, config: SimulationConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Day, district, town and template of each generic call: scattered over the period and the city
    (districts by size), except _GENERIC_BURST_SHARE of them in outage bursts of 6-20 calls from one town
    over two days."""
    weights = np.array([d.weight for d in _DISTRICTS])
    district = rng.choice(len(_DISTRICTS), size, p=weights / weights.sum())
    day = rng.integers(0, config.days, size)
    template = rng.integers(0, len(_GENERIC_CALLS), size)
    in_bursts = round(_GENERIC_BURST_SHARE * size)
    sizes = rng.integers(_GENERIC_BURST_SIZE[0], _GENERIC_BURST_SIZE[1] + 1, max(in_bursts, 1))
    burst = np.repeat(np.arange(sizes.size), sizes)[:in_bursts]
    n_bursts = int(burst.max()) + 1 if in_bursts else 0
    outages = np.flatnonzero([outage for _, _, outage in _GENERIC_CALLS])
    day[:in_bursts] = np.minimum(
        rng.integers(0, config.days, n_bursts)[burst] + rng.integers(0, 2, in_bursts), config.days - 1
    )
    district[:in_bursts] = rng.choice(len(_DISTRICTS), n_bursts, p=weights / weights.sum())[burst]
    template[:in_bursts] = outages[rng.integers(0, outages.size, in_bursts)]
    town = _draw_towns(rng, district, places)
    if in_bursts:
        town[:in_bursts] = town[
            np.searchsorted(burst, burst)
        ]  # a burst's calls come from its first call's town
    return day, district, town, template


def _generic_calls(
    rng: np.random.Generator, n_calls: int, places: _Places, config: SimulationConfig
) -> _GenericCalls:
    """config.generic_call_share x n_calls background calls naming generic things (整个小区, 建设项目,
    自来水公司 ...) across districts and hotline categories, some with an estate of the town, with new
    callers; in time order, their ids after the first n_calls."""
    size = round(config.generic_call_share * n_calls)
    day, district, town, template = _generic_days_and_places(rng, size, places, config)
    texts = _render(
        tuple(t for _, t, _ in _GENERIC_CALLS),
        template,
        {"estate": _pick_in_town(rng, places.entities["estate"], town)},
    )
    phones = _draw_phones(rng, size)
    texts = _append_where(rng, texts, rng.random(size) < 0.03, _CALL_PII[:2], {"phone": phones})
    seconds = _call_seconds(rng, day, np.full(size, 0.07))
    order = np.argsort(seconds, kind="stable")
    call_ids = np.array([f"HL{n_calls + i:08d}" for i in range(1, size + 1)], dtype=object)
    hotline = _text_frame(
        HOTLINE_COLUMNS,
        {
            "call_id": call_ids,
            "received_at": _format_datetimes(rng, seconds[order], config.start),
            "district": np.array([d.name for d in _DISTRICTS], dtype=object)[district[order]],
            "category": np.array([c for c, _, _ in _GENERIC_CALLS], dtype=object)[template[order]],
            "text": texts[order],
            "channel": _choose(rng, CHANNELS, size, p=np.array([0.65, 0.08, 0.12, 0.15])),
            "case_id": np.full(size, None, dtype=object),
            "caller_name": _caller_names(rng, _draw_names(rng, size))[order],
            "caller_phone": _blank(rng, _format_phones(rng, phones, plain_share=0.5), 0.05)[order],
            "recorded_at": _format_late(rng, seconds[order], 0.03, 1.0, 3.0, config),
        },
    )
    links = pd.DataFrame(
        {
            "call_id": pd.array(call_ids, dtype="str"),
            "true_case_id": pd.Series(np.full(size, None, dtype=object), dtype=object),
            "linked_in_export": np.zeros(size, dtype=bool),
        }
    )
    return _GenericCalls(hotline, links)


def _with_generic_calls(city: SimulatedCity, generic: _GenericCalls) -> SimulatedCity:
    """The city with the generic calls appended to its hotline and its truth of links."""
    if generic.hotline.empty:
        return city
    return replace(
        city,
        hotline=pd.concat([city.hotline, generic.hotline], ignore_index=True),
        truth_links=pd.concat([city.truth_links, generic.truth_links], ignore_index=True),
    )


# ---------------------------------------------------------------- messiness

_UNPARSEABLE_DATES = ("2025-13-45", "昨天", "2025-02-30 10:00:00", "下午三点", "45/13/2025", "2025年13月5日")
_BAD_PARTY_COUNTS = ("0", "three", "三户", "-2")
_UNKNOWN_EVENT_TYPES = ("phone_call", "已结案", "follow_up")
_CORRUPTIONS: dict[RecordKind, tuple[tuple[str, str], ...]] = {  # (kind_of_corruption, field)
    RecordKind.CASES: (
        ("empty_required", "opened_at"),
        ("empty_required", "district"),
        ("empty_required", "category"),
        ("unparseable_date", "opened_at"),
        ("negative_amount", "amount"),
        ("bad_party_count", "party_count"),
    ),
    RecordKind.CASE_EVENTS: (
        ("empty_required", "case_id"),
        ("empty_required", "event_at"),
        ("empty_required", "event_type"),
        ("unparseable_date", "event_at"),
        ("unknown_event_type", "event_type"),
        ("orphan_case_id", "case_id"),
    ),
    RecordKind.HOTLINE: (
        ("empty_required", "call_id"),
        ("empty_required", "received_at"),
        ("empty_required", "district"),
        ("unparseable_date", "received_at"),
    ),
}
CORRUPTION_COLUMNS: tuple[str, ...] = ("file", "row", "field", "kind_of_corruption")


def _broken_value(rng: np.random.Generator, kind: str, year: int) -> str | None:
    """A value that breaks the contract in the given way."""
    if kind == "empty_required":
        return None
    if kind == "unparseable_date":
        return str(_choose(rng, _UNPARSEABLE_DATES, 1)[0])
    if kind == "negative_amount":
        return f"-{int(rng.integers(1, 50_000))}"
    if kind == "bad_party_count":
        return str(_choose(rng, _BAD_PARTY_COUNTS, 1)[0])
    if kind == "unknown_event_type":
        return str(_choose(rng, _UNKNOWN_EVENT_TYPES, 1)[0])
    if kind == "orphan_case_id":
        return f"FQ{year}-9{int(rng.integers(0, 10**6)):06d}"  # 7-digit sequence: no real case has it
    raise ValueError(f"unknown corruption kind {kind}")


def _corrupt(
    rng: np.random.Generator, frame: pd.DataFrame, record: RecordKind, share: float, year: int
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[str, str]]]:
    """frame with a share of rows broken once each: (frame, 0-based rows, (kind, field) per row)."""
    rows = np.sort(rng.choice(len(frame), size=round(share * len(frame)), replace=False))
    options = _CORRUPTIONS[record]
    chosen = [options[i] for i in rng.integers(0, len(options), rows.size)]
    out = frame.copy()
    for column in frame.columns:
        hits = [i for i, (_, target) in enumerate(chosen) if target == column]
        if hits:
            values = frame[column].to_numpy(dtype=object, na_value=None).copy()
            values[rows[hits]] = [_broken_value(rng, chosen[i][0], year) for i in hits]
            out[column] = pd.array(values, dtype="str")
    return out, rows, chosen


def _insert_duplicates(
    rng: np.random.Generator, frame: pd.DataFrame, avoid: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """frame with ~1% of clean rows repeated later: (frame, new position of each old row, dup positions)."""
    n = len(frame)
    candidates = np.setdiff1d(np.arange(n), avoid)
    size = min(max(1, round(0.01 * n)), candidates.size)
    sources = np.sort(rng.choice(candidates, size=size, replace=False))
    keys = np.concatenate([np.arange(n, dtype=float), sources + rng.uniform(0.01, 1.0, size) * (n - sources)])
    order = np.argsort(keys, kind="stable")
    position = np.empty(n + size, dtype=np.int64)
    position[order] = np.arange(n + size)
    out = pd.concat([frame, frame.iloc[sources]], ignore_index=True).iloc[order].reset_index(drop=True)
    return out, position[:n], position[n:]


def _make_messy(
    rng: np.random.Generator, frames: dict[RecordKind, pd.DataFrame], config: SimulationConfig
) -> tuple[dict[RecordKind, pd.DataFrame], pd.DataFrame]:
    """Corrupts and duplicates rows when messiness > 0; returns the frames and the corruption log."""
    if config.messiness == 0:
        return frames, pd.DataFrame({c: pd.Series(dtype=object) for c in CORRUPTION_COLUMNS}).astype(
            {"row": int}
        )
    log: list[tuple[str, int, str, str]] = []
    out: dict[RecordKind, pd.DataFrame] = {}
    for record, frame in frames.items():
        name = FILE_NAMES[record]
        broken, rows, chosen = _corrupt(rng, frame, record, config.messiness, config.start.year)
        out[record], position, duplicates = _insert_duplicates(rng, broken, rows)
        log += [(name, int(position[r]) + 1, f, k) for r, (k, f) in zip(rows.tolist(), chosen, strict=True)]
        log += [(name, int(p) + 1, DUPLICATE_FIELD, "duplicate") for p in duplicates.tolist()]
    corruptions = pd.DataFrame(log, columns=list(CORRUPTION_COLUMNS))
    return out, corruptions.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
