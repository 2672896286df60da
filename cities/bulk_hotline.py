"""Many contract-valid hotline records, fast (seeded, vectorised with numpy's string dtype): the input of
the ingest throughput benchmark (`bench/ingest_bench.py`), not a city (no cases, no truth).

    table = hotline_table(1_000_000, seed=12345)    # a pyarrow table, all columns text, null where absent
"""

from __future__ import annotations

from string import Formatter

import numpy as np
import pyarrow as pa
from numpy.dtypes import StringDType

from contracts.fields import columns_of
from contracts.vocabulary import RecordKind

GENERATOR_VERSION = 1  # raise when the records change (the benchmark reuses inputs of the same version)
DISTRICTS = ("东湖区", "江北区", "南城区", "河口区", "高新区", "青山县", "临川县", "云溪县")
DISTRICT_WEIGHTS = (0.18, 0.16, 0.13, 0.12, 0.10, 0.11, 0.11, 0.09)
CHANNELS = ("phone", "web", "app", "wechat")
CHANNEL_WEIGHTS = (0.62, 0.13, 0.10, 0.15)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉力永健鹏海燕春梅晓琳雪飞宇浩然涵欣怡"
)
MOBILE_PREFIXES = (
    *range(130, 140),
    147,
    *range(150, 154),
    *range(155, 160),
    166,
    *range(172, 179),
    *range(180, 190),
    191,
    198,
    199,
)
# (text template, the hotline's own category); {district} {phone} {name} {amount} are filled per row.
TEMPLATES = (
    ("{district}某小区楼上住户长期深夜噪音扰民，多次上门协商无果，要求相关部门尽快处理。", "噪音扰民"),
    (
        "来电人反映在{district}某工地务工，包工头拖欠工资三个月共计{amount}元，联系电话{phone}，请尽快回复。",
        "劳动保障",
    ),
    (
        "{district}某物业公司未经业主大会同意上调物业费，部分业主拒交，双方矛盾激化，要求街道协调。",
        "物业管理",
    ),
    ("来电人{name}称与邻居因宅基地边界发生争执，对方扬言要动手，请村委会出面调解，回电{phone}。", "邻里矛盾"),
    ("反映{district}某超市售卖过期食品，商家拒绝退款赔偿，要求市场监管部门查处。", "消费维权"),
    ("来电人称其丈夫酗酒后经常打骂家人，希望社区和妇联介入处理，本人电话{phone}。", "婚姻家庭"),
    ("{district}某路段夜间施工噪音大且占道严重，影响周边居民休息和出行。", "城市管理"),
    ("{district}某村村民对征地补偿款分配有异议，已有二十余人准备集体上访，请尽快答复。", "征地拆迁"),
    ("来电人反映在{district}医院就诊后病情加重，怀疑存在医疗过错，要求调查，联系方式：{phone}。", "医疗卫生"),
    ("投诉所住小区电梯长期故障无人维修，老人出行困难，已多次联系物业未果。", "物业管理"),
)
TEMPLATE_WEIGHTS = (0.14, 0.12, 0.11, 0.09, 0.10, 0.07, 0.10, 0.07, 0.08, 0.12)


def _strings(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(StringDType())


def _mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """n 11-digit mainland mobile numbers as text."""
    prefixes = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return _strings(prefixes * 10**8 + rng.integers(0, 10**8, n))


def _padded(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded text of the given width."""
    return np.strings.slice(_strings(values.astype(np.int64) + 10**width), 1, None)


def _fill(template: str, rows: np.ndarray, slots: dict[str, np.ndarray]) -> np.ndarray:
    """One template filled for the given rows (vectorised, slot by slot)."""
    out = np.full(len(rows), "", dtype=StringDType())
    for literal, name, _, _ in Formatter().parse(template):
        if literal:
            out = np.strings.add(out, literal)
        if name:
            out = np.strings.add(out, slots[name][rows])
    return out


def _timestamps(ts: np.ndarray) -> np.ndarray:
    return np.strings.replace(_strings(np.datetime_as_string(ts, unit="s")), "T", " ")


def hotline_table(n: int, seed: int) -> pa.Table:
    """n contract-valid hotline records (all text columns; null where a value is absent), seeded."""
    rng = np.random.default_rng(seed)
    # Callers: a pool smaller than n (some call often), some anonymous, some give a phone but no name.
    pool = max(1, n // 4)
    surnames = np.array(list(SURNAMES), dtype=StringDType())
    given = np.array(list(GIVEN), dtype=StringDType())
    pool_names = np.strings.add(
        np.strings.add(
            surnames[rng.integers(0, len(surnames), pool)], given[rng.integers(0, len(given), pool)]
        ),
        np.where(rng.random(pool) < 0.6, given[rng.integers(0, len(given), pool)], ""),
    )
    pool_phones = _mobiles(rng, pool)
    caller = (pool * rng.random(n) ** 2).astype(np.int64)
    anonymous = rng.random(n) < 0.07
    no_name = anonymous | (rng.random(n) < 0.08)
    caller_name = pool_names[caller]
    caller_phone = pool_phones[caller]

    # Times: two years, mostly office hours, in time order (as exports are); a few entered late.
    start = np.datetime64("2024-07-01T00:00:00", "s")
    day = rng.integers(0, 730, n)
    seconds = np.where(rng.random(n) < 0.88, rng.integers(8 * 3600, 21 * 3600, n), rng.integers(0, 86400, n))
    received = np.sort(start + (day * 86400 + seconds).astype("timedelta64[s]"))
    late = rng.random(n) < 0.06
    recorded = received + rng.integers(600, 5 * 86400, n).astype("timedelta64[s]")

    # Free text: a handful of templates, some carrying a mobile (the caller's own, or another) or the name.
    template = rng.choice(len(TEMPLATES), n, p=np.array(TEMPLATE_WEIGHTS) / sum(TEMPLATE_WEIGHTS))
    district = np.array(DISTRICTS, dtype=StringDType())[
        rng.choice(len(DISTRICTS), n, p=np.array(DISTRICT_WEIGHTS) / sum(DISTRICT_WEIGHTS))
    ]
    own_phone = ~anonymous & (rng.random(n) < 0.7)
    slots = {
        "district": district,
        "phone": np.where(own_phone, caller_phone, _mobiles(rng, n)),
        "name": np.where(no_name, "", caller_name),
        "amount": _strings(rng.integers(3, 300, n) * 100),
    }
    text = np.full(n, "", dtype=StringDType())
    for index, (body, _) in enumerate(TEMPLATES):
        rows = np.flatnonzero(template == index)
        text[rows] = _fill(body, rows, slots)
    category = np.array([c for _, c in TEMPLATES], dtype=StringDType())[template]
    category[rng.random(n) < 0.08] = "咨询"

    linked = rng.random(n) < 0.4
    year = received.astype("datetime64[Y]").astype(np.int64) + 1970
    case_id = np.strings.add(
        np.strings.add(np.strings.add("FQ", _strings(year)), "-"), _padded(rng.integers(1, 200_000, n), 6)
    )
    columns = {
        "call_id": (np.strings.add("HL", _padded(np.arange(1, n + 1), 10)), None),
        "received_at": (_timestamps(received), None),
        "district": (district, None),
        "category": (category, None),
        "text": (text, None),
        "channel": (np.array(CHANNELS, dtype=StringDType())[rng.choice(4, n, p=CHANNEL_WEIGHTS)], None),
        "case_id": (case_id, ~linked),
        "caller_name": (caller_name, no_name),
        "caller_phone": (caller_phone, anonymous),
        "recorded_at": (_timestamps(recorded), ~late),
    }
    assert tuple(columns) == columns_of(RecordKind.HOTLINE)
    return pa.table(
        {
            name: pa.array(values.astype(object), type=pa.string(), mask=missing)
            for name, (values, missing) in columns.items()
        }
    )
