"""The Hawkes city's own geography and vocabularies: districts, towns, categories, sources, channels.

Written apart from the demo city's: another prefecture (临川市), its own category mix (with categories
the demo never has: 借贷纠纷, 工程款纠纷, 宅基地纠纷, 环境污染), sources and channels beyond the
contract's examples (the contract leaves them open strings), and the hotline's own category labels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A county-level district: its towns, weight in case intake, and local practice."""

    name: str
    towns: tuple[str, ...]
    weight: float  # share of the city's intake (normalised)
    shock_rate: float  # district shocks a day (before seasonality)
    closing: float  # multiplier of the daily closing probability (local closing practice)
    assigns: bool  # whether the district records an `assigned` event


DISTRICTS: tuple[District, ...] = (
    District("临川区", ("青云街道", "荣山街道", "上顿渡镇", "文昌街道", "西大街道"), 1.6, 0.020, 1.3, True),
    District("南丰县", ("琴城镇", "白舍镇", "太和镇", "桑田镇"), 0.9, 0.012, 0.6, False),
    District("黎川县", ("日峰镇", "宏村镇", "洵口镇"), 0.6, 0.010, 0.8, True),
    District("崇仁县", ("巴山镇", "相山镇", "航埠镇", "孙坊镇"), 0.8, 0.030, 1.0, False),
    District("东乡区", ("孝岗镇", "小璜镇", "圩上桥镇", "红光垦殖场"), 1.1, 0.015, 1.6, True),
    District("金溪县", ("秀谷镇", "浒湾镇", "琉璃乡"), 0.5, 0.008, 0.4, False),
)


@dataclass(frozen=True)
class Category:
    """A dispute category: intake share, typical parties and amounts, and its escalation leanings."""

    name: str
    share: float
    parties: float  # mean extra parties beyond the first (geometric-ish)
    amount: float  # median amount at stake, CNY (0: usually none)
    violence: float  # relative weight of each escalation type
    group: float
    litigation: float
    season_peak: int  # day of year of the intake peak
    hotline_label: str  # what the hotline calls such matters


CATEGORIES: tuple[Category, ...] = (
    Category("借贷纠纷", 0.12, 0.3, 60_000, 0.6, 0.05, 2.2, 20, "金融借贷"),
    Category("工程款纠纷", 0.09, 6.0, 180_000, 0.7, 1.8, 1.4, 15, "城乡建设"),
    Category("宅基地纠纷", 0.08, 1.2, 0, 1.8, 0.3, 0.6, 90, "自然资源"),
    Category("邻里纠纷", 0.15, 0.6, 0, 1.5, 0.05, 0.3, 200, "社区事务"),
    Category("婚姻家庭", 0.12, 0.4, 20_000, 2.0, 0.02, 0.9, 40, "妇女儿童"),
    Category("物业纠纷", 0.10, 8.0, 5_000, 0.4, 1.2, 0.6, 300, "住房保障"),
    Category("环境污染", 0.05, 12.0, 0, 0.5, 2.0, 0.3, 180, "生态环境"),
    Category("劳资纠纷", 0.11, 3.0, 25_000, 0.6, 1.3, 1.0, 10, "劳动保障"),
    Category("消费纠纷", 0.08, 0.2, 3_000, 0.2, 0.1, 0.8, 330, "市场监管"),
    Category("交通事故", 0.06, 0.5, 40_000, 0.8, 0.1, 1.6, 250, "交通运输"),
    Category("其他", 0.04, 0.5, 0, 0.8, 0.2, 0.5, 150, "其他"),
)

# Sources and channels: open strings in the contract; two of each are not among its examples.
SOURCES: tuple[str, ...] = ("hotline", "police", "petition_office", "walk_in", "grid_worker", "online")
SOURCE_SHARES: tuple[float, ...] = (0.30, 0.18, 0.12, 0.14, 0.16, 0.10)
CHANNELS: tuple[str, ...] = ("phone", "wechat", "sms", "mini_program", "web")
CHANNEL_SHARES: tuple[float, ...] = (0.55, 0.2, 0.08, 0.12, 0.05)

# Names of callers and reporters (own lists).
SURNAMES: tuple[str, ...] = tuple("饶黄邹揭聂乐危曾付吴艾邓游涂谢胡章熊")
GIVEN: tuple[str, ...] = tuple("春根水发秀珍国华金凤志强冬梅小兰建军桂英德胜美玲")

# Things a background caller complains about (no dispute case behind).
BACKGROUND_TOPICS: tuple[str, ...] = (
    "路灯坏了好几天没人修",
    "小区门口垃圾堆了一个星期",
    "咨询社保卡补办需要什么材料",
    "楼下夜市油烟太大",
    "公交车改线后不停靠我们村了",
    "自来水发黄，想问问什么时候能好",
    "孩子入学报名的政策不清楚",
    "网上买的东西退不了货",
    "广场舞音响太吵影响休息",
    "问一下医保异地报销怎么办",
)
