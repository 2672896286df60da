"""Finding people's names in Chinese free text: jieba's segmenter plus rules on surnames and context.

What counts as a name (and is masked as a whole span):
- a full name: a surname (single or compound) and one or two given-name characters (吴云, 欧阳娜娜);
- a surname with 某/某某 (王某, 李某某), with a form of address (张先生, 刘女士, 王师傅, 李阿姨) or a title
  (刘主任, 陈书记), and 老/小 with a common surname (老王, 小李).
A candidate is a jieba word starting with a surname: a word the dictionary does not know (found by jieba's
HMM, as unknown names are) is a name; a dictionary word, or a surname jieba left alone followed by one or two
given characters, is a name only between a cue (start, punctuation, 与/和/跟/被, 邻居, 调解员, 申请人...) and
what follows names (反映, 称, 因, 等, punctuation...); after a role word (邻居, 丈夫, 业主...) it is a name
whatever follows, ending where jieba ends a word (丈夫林国庆经常...), and so is one right before an informal
workplace word (王建国工地, 孙建国厂: WORKPLACE_WORDS). Words in the allow-list (places, organisations and
ordinary words jieba tags as names) and words followed by a place or organisation suffix (区, 村, 小区,
公司...) or by a registered company's trade and form (华连食品有限公司, `contracts.trade_words`) are never
names, nor is an estate's name between a property word and a part of the estate
(安置房顺发二期, 小区金海3栋: a surname character may end the property word, 房 of 安置房). Roles without a
surname (申请人, 当事人, 调解员) are not names.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from contracts.segmenter import tokenizer as _tokenizer
from contracts.segmenter import word_tags
from contracts.trade_words import GOODS_WORDS, TRADE_WORDS


def _words(text: str) -> tuple[str, ...]:
    """The space-separated words of text (compact literal lists)."""
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童"
    "凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项"
    "连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞"
    "敖巩佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "长孙",
    "宇文",
    "夏侯",
    "端木",
    "西门",
    "南宫",
    "司徒",
    "申屠",
)
# Surnames common enough to be named by 老/小 + surname or by a surname and a title alone.
COMMON_SURNAMES = SURNAMES[:100]

_ADDRESS = (
    "某某|某|先生|女士|小姐|师傅|老师|阿姨|大爷|大妈|大姐|大哥|老汉|老太"
    "|老板|经理|主任|书记|律师|医生|警官|同志"
)
_NAME_CUES = frozenset(
    _words(
        "与 和 跟 同 被 让 叫 找 及 或 对 向 给 把 将 等 、 其 即 由 "
        "经 邻居 调解员 申请人 被申请人 当事人 村民 业主 住户 居民 员工 工人 "
        "职工 同事 工友 丈夫 妻子 儿子 女儿 父亲 母亲 老公 老婆 前夫 前妻 "
        "朋友 亲戚 房东 租客 承租人 出租人 司机 驾驶员 对方 指派 联系 委托 "
        "代理人 律师 书记 主任 网格员 民警 医生 患者 家属 欠款人 借款人 "
        "债务人 债权人 原告 被告 嫌疑人 户主 村委 老板 包工头 法定代表人 "
        "负责人 来电人 反映人 投诉人 经办人 联系人 本人 自称 投诉 举报 系 是 为 称 说 "
        "找到 告诉 通知 要求"
    )
)
_NAME_FOLLOWERS = frozenset(
    _words(
        "反映 称 说 表示 诉 等 与 和 跟 同 因 系 的 家 在 驾驶 借 欠 "
        "拖欠 占用 要求 认为 同意 拒绝 未 不 已 多次 于 到 来电 来访 投诉 "
        "报警 打 殴打 跟进 上门 夫妇 一家 及 是 也 都 又 就 曾 将 把 对 "
        "向 从 为 被 让 称其 借款 经营 承包 租用 所有 名下 处 家中 之间 "
        "双方 一方 二人 两人 共同 发生 之子 之女 之妻 之夫 儿子 女儿 妻子 "
        "丈夫 父亲 母亲 签订 签字 拨打 来 去 前往 负责 调解 协商 出具 支付 "
        "赔偿 联系 电话 举报"
    )
)
# Words for a person's role after which a surname and one or two given characters are a name whatever
# follows (业主投诉邻居高志远噪音扰民, 丈夫林国庆经常殴打她); the name ends where jieba's words do.
ROLE_WORDS = _words(
    "邻居 调解员 申请人 被申请人 当事人 村民 业主 住户 居民 员工 工人 职工 同事 工友 丈夫 妻子 "
    "儿子 女儿 父亲 母亲 老公 老婆 前夫 前妻 朋友 亲戚 房东 租客 承租人 出租人 司机 驾驶员 代理人 "
    "网格员 民警 家属 欠款人 借款人 债务人 债权人 原告 被告 嫌疑人 户主 老板 包工头 法定代表人 "
    "负责人 来电人 反映人 投诉人 举报人 经办人 联系人 本人"
)
# Ordinary words (places, organisations, brands, roles) that jieba or the rules take for names.
ALLOW_LIST = frozenset(
    _words(
        "高新 高新区 文明 华为 金华 江山 海宁 平安 向阳 阳光 明珠 盛世 康乐 "
        "金桥 金鹰 嘉禾 长青 天成 翠苑 林木 申请人 当事人 申请 林业 黄金 "
        "江南 黄山 石油 马上 高兴 方便 余额 于是 杨柳 白天 陈述 关于 常用 "
        "田地 程序 施工 毛衣 叶子 宋体 许多 周到 高速 高度 高中 高层 高温 "
        "高空 金额 金融 金属 安全 安置 安排 安装 文化 文件 文书 方面 方式 "
        "方案 方法 万元 时间 时候 全部 全体 应当 应该 成功 成本 成为 成员 "
        "商品 商场 商户 商铺 师傅 路面 路口 路灯 房屋 房东 房租 房产 车辆 "
        "车位 车库 常住 常委 关系 关于 任何 任务 章程 单位 单元 谷物 华联 "
        "永盛 恒泰 东方 新世纪 锦绣 富康 兴旺 瑞丰 福临 远大 顺发 绿洲 星河 "
        "宏达 鑫源 钱款 管理 管道 包括 包工头 左右 孔洞 龙头 温州 江北 江东 "
        "江西 湖南 广东 杭州 余杭 萧山 严重 严格 连续 连接 苗木 雷雨 景区 "
        "宁波 邵阳 曲靖 牛肉 骆驼 蓝色 白色 黄色 金色 卫生 卫生院 宫殿 冷库 "
        "简单 祝福 尚未 柴油 邢台 齐全 易燃 乔木 庄稼 章节 毕业 季度 霍乱 "
        "凌晨 苏州 陆续 汪洋 石头 石材 于今 王府井 安保 房建"
    )
)
_PLACE_SUFFIXES = _words(
    "区 市 县 镇 乡 村 路 街 道 巷 弄 苑 园 城 院 校 局 所 "
    "馆 站 港 湾 山 河 湖 岛 里 庄 屯 寨 桥 坊 小区 公司 集团 社区 "
    "大道 广场 花园 新村 家园 大厦 中心 医院 学校 商场 超市 银行 酒店 "
    "宾馆 饭店 物业 公寓 街道 委员会 开发区 工业园 家电 机械 "
    "建筑 实业 科技 电器 餐饮 汽车 物流 农贸 市场"
)
# Informal words for where people work, often named after their owner or foreman (王建国工地, 孙建国厂,
# 刘德明项目): a name before one is masked unless it ends a word begun before it (公路征迁项目) or starts
# a trade (永盛服装厂), and is no dictionary word other than a name (高铁工地, 钟表店).
WORKPLACE_WORDS = _words("工地 项目 厂 店 队 班组 车间")
_WORKPLACE = re.compile("|".join(sorted(WORKPLACE_WORDS, key=len, reverse=True)))
_PUNCTUATION = re.compile(r"^[\s\W\d]+$")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_SURNAME_CLASS = "[" + SURNAMES + "]|" + "|".join(COMPOUND_SURNAMES)
_ADDRESSED = re.compile(
    rf"(?:{_SURNAME_CLASS})(?:{_ADDRESS})|[老小][{COMMON_SURNAMES}](?![\u4e00-\u9fff]?(?:区|村|路|镇))"
)
# Surname characters for the prefilter (RE2 syntax, run by pyarrow): texts without one hold no name.
SURNAME_PREFILTER = "[" + SURNAMES + "]"
# What every name span starts with (RE2): a clause without it holds no name.
CLAUSE_PREFILTER = SURNAME_PREFILTER + "|" + "|".join(COMPOUND_SURNAMES)


def _split_surname(word: str) -> tuple[str, str] | None:
    """(surname, given) when word starts with a surname, else None."""
    for compound in COMPOUND_SURNAMES:
        if word.startswith(compound):
            return compound, word[2:]
    if word[:1] in SURNAMES:
        return word[:1], word[1:]
    return None


# Characters that end a name: what usually follows one (因, 称, 系...) or cannot be part of a given name.
_FOLLOWER_CHARS = "因称等与和跟的在说将把被对向从也都又就曾已未不为系于是及或离"
_NOT_GIVEN = _FOLLOWER_CHARS + (
    "了其之这那个人们上下中内外后前里时年月日号元万千百十一二三四五六七八九零两几多少些每各该本此间"
    "门楼房屋家户村镇区县市省路街道所局院厂店司业主员方面事情问题要求反映投诉拖欠赔偿借款签订某"
    "还我你他她它咱您苑园寓湾坊"
)
_GIVEN = rf"(?:[\u4e00-\u9fff](?<![{_NOT_GIVEN}]))"
_CUE = "|".join(sorted(_NAME_CUES, key=len, reverse=True))
_FOLLOW = "|".join(
    sorted(
        _NAME_FOLLOWERS | {"上门", "跟进", "走访", "联名", "夫妻", "一起", "婚后", "受伤"},
        key=len,
        reverse=True,
    )
)
# A surname and one or two given characters between a cue (or the start, or punctuation) and a follower.
_IN_CONTEXT = re.compile(
    rf"(?:^|[^\w\[\]]|(?P<cue>{_CUE}))(?P<name>(?:{_SURNAME_CLASS}){_GIVEN}{{1,2}}?)(?=(?:{_FOLLOW})|[^\w]|$)"
)


def _given_ok(given: str) -> bool:
    return 1 <= len(given) <= 2 and bool(_HAN.match(given)) and not any(c in _NOT_GIVEN for c in given)


def _is_cue(previous: str | None) -> bool:
    """Whether a word before a candidate name announces one (start, punctuation, 与, 邻居...)."""
    return previous is None or previous in _NAME_CUES or bool(_PUNCTUATION.match(previous))


def _place_before(tokenizer: Any, text: str, start: int) -> bool:
    """Whether the surname at start ends a place word with the character before it (金华某店, 海宁某商场)."""
    word = text[max(0, start - 1) : start + 1]
    return len(word) == 2 and (word in ALLOW_LIST or tokenizer.FREQ.get(word, 0) > 0)


# A registered company's trade and form after its trade name: 食品有限公司, 装饰工程有限责任公司, 服装集团
# (of 华连食品有限公司). Not a bare 公司 or 厂 after a trade (刘洋服装厂打工 may say where 刘洋 works).
_COMPANY_AFTER = re.compile(
    "(?:"
    + "|".join(sorted((*TRADE_WORDS, *GOODS_WORDS), key=len, reverse=True))
    + ")+(?:(?:股份|有限责任|股份有限|有限)公司|集团)"
)


def _place_follows(text: str, end: int) -> bool:
    """Whether a place or organisation word starts at end (高新区, 向阳小区, 华为公司), or a company's trade
    and kind (华连食品有限公司)."""
    return any(text.startswith(suffix, end) for suffix in _PLACE_SUFFIXES) or bool(
        _COMPANY_AFTER.match(text, end)
    )


# Characters of the parts of a thing's name (地铁站, 平台, 标段, 职校, 高速, 联队, 工地, 项目) that are
# hardly ever a given name's.
_THING_CHARACTERS = frozenset("站台段校速工项队")
# Kinds of words (jieba's tags) that are no given name: places and directions (附近, 门口), pronouns,
# adverbs, prepositions, conjunctions, particles, numerals and measures.
_NOT_GIVEN_TAGS = frozenset("fsrdpcumq")
_TRADE_START = re.compile("|".join(sorted((*TRADE_WORDS, *GOODS_WORDS), key=len, reverse=True)))


def _not_owner(tokenizer: Any, text: str, start: int, end: int) -> bool:
    """Whether the candidate before a workplace word is not its owner's name: its given name holds a
    character of a thing's name (华联站工地, 东方高速项目), its surname ends a word begun before it (公路 of
    公路征迁项目, 经常 of 经常排队), or a trade starts it or its given name (管网项目, 永盛服装厂)."""
    given = start + len((_split_surname(text[start:end]) or ("",))[0])
    return (
        not _THING_CHARACTERS.isdisjoint(text[given:end])
        or word_tags().get(text[given:end], "")[:1] in _NOT_GIVEN_TAGS
        or _place_before(tokenizer, text, start)
        or _TRADE_START.match(text, start, end) is not None
        or _TRADE_START.match(text, given) is not None
    )


# A property word's last character (安置房, 3号楼, 小区, 翠苑, 公园...) and a part of an estate after its
# name, with its number (二期, 3号楼, 5栋, 2单元, A座).
_PROPERTY_END = re.compile(r"[房楼区苑园]$")
_ESTATE_PART = re.compile(r"^(?:[0-9A-Za-z０-９一二三四五六七八九十两]+)?(?:期|号|栋|幢|单元|座)")


def _estate_name(text: str, start: int, end: int) -> bool:
    """Whether the candidate is the name of an estate: right after a property word, or its surname
    character ending one (安置房 + 顺发), and right before a part of the estate ('安置房顺发二期',
    '小区金海3栋')."""
    ends_property = _PROPERTY_END.search(text[:start]) is not None
    completes_property = start > 0 and _HAN.match(text[start - 1]) and _PROPERTY_END.search(text[start])
    return (ends_property or bool(completes_property)) and _ESTATE_PART.match(text[end:]) is not None


def _plausible(tokenizer: Any, text: str, start: int, end: int) -> bool:
    """A candidate name that is not an allowed word, not a non-name dictionary word, not before a place
    nor the name of an estate."""
    word = text[start:end]
    split = _split_surname(word)
    if split is None or not _given_ok(split[1]) or word in ALLOW_LIST or _place_follows(text, end):
        return False
    if _estate_name(text, start, end):
        return False
    if _WORKPLACE.match(text, end) and _not_owner(tokenizer, text, start, end):
        return False
    tag = word_tags().get(word)
    known = tokenizer.FREQ.get(word, 0) > 0
    return not known or (tag is not None and tag.startswith("nr"))


# A surname and one or two given characters right before a workplace word (王建国工地) or after a role
# word (邻居高志远).
_BEFORE_WORKPLACE = re.compile(rf"(?:{_SURNAME_CLASS}){_GIVEN}{{1,2}}(?={_WORKPLACE.pattern})")
_ROLE = "|".join(sorted(ROLE_WORDS, key=len, reverse=True))
_AFTER_ROLE = re.compile(rf"(?:{_ROLE})(?P<name>(?:{_SURNAME_CLASS}){_GIVEN}{{1,2}})")


def _role_name_end(tokenizer: Any, text: str, start: int, end: int, boundaries: set[int]) -> int | None:
    """Where a name after a role word ends: the longest of its candidate ends (two or three characters)
    at which jieba ends a word (林国庆|经常, 王芳|经常), None when no candidate there is a name."""
    for stop in range(end, start + 1, -1):
        if stop in boundaries and _plausible(tokenizer, text, start, stop):
            return stop
    return None


# Names never span these; texts are judged clause by clause, and a clause seen before is not judged again
# (reports repeat phrases even when whole texts differ).
CLAUSE_END = r"[，。！？；、,!?;\n]"  # (the same in RE2, for pyarrow)
_CLAUSE_END = re.compile(CLAUSE_END)
CLAUSE_CACHE_SIZE = 1 << 17


def name_spans(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of people's names in text, sorted and not overlapping."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end in [m.start() for m in _CLAUSE_END.finditer(text)] + [len(text)]:
        if end > start:
            spans.extend((start + a, start + b) for a, b in _clause_spans(text[start:end]))
        start = end + 1
    return spans


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _clause_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Name spans of one clause (no clause punctuation inside)."""
    tokenizer = _tokenizer()
    spans = [
        m.span()
        for m in _ADDRESSED.finditer(text)
        if m.group() not in ALLOW_LIST and not _place_before(tokenizer, text, m.start())
    ]
    words = list(tokenizer.tokenize(text, HMM=True))
    boundaries = {end for _, _, end in words} | {0}
    for match in _IN_CONTEXT.finditer(text):
        start, end = match.span("name")
        # a one-character cue in a word with the surname, an adverb or the like (经常) or the name's end
        # inside a word too: no name (经常|排队, 经常|殴打; 称王|波 of 称王波借款 is one)
        joined = word_tags().get(text[start - 1 : start + 1], "")[:1] in _NOT_GIVEN_TAGS
        cut = start not in boundaries and (joined or end not in boundaries)
        in_word = len(match.group("cue") or "") == 1 and cut
        if not in_word and _plausible(tokenizer, text, start, end):
            spans.append((start, end))
    for match in _BEFORE_WORKPLACE.finditer(text):
        # the workplace word starts one of jieba's words (王建国|工地, not 路边|排队)
        if match.end() in boundaries and _plausible(tokenizer, text, *match.span()):
            spans.append(match.span())
    for match in _AFTER_ROLE.finditer(text):
        start, end = match.span("name")
        stop = _role_name_end(tokenizer, text, start, end, boundaries)
        if stop is not None:
            spans.append((start, stop))
    frequencies, tags, previous = tokenizer.FREQ, word_tags(), None
    for word, start, end in words:
        before, previous = previous, word
        if _split_surname(word) is None:
            continue
        if frequencies.get(word, 0) > 0:
            # a dictionary name (tag nr) right after a cue word: 被李强推倒
            if (
                tags.get(word, "").startswith("nr")
                and _is_cue(before)
                and _plausible(tokenizer, text, start, end)
            ):
                spans.append((start, end))
            continue  # otherwise only words jieba's HMM found (unknown to its dictionary)
        if len(word) >= 3 and word[-1] in _FOLLOWER_CHARS:
            end -= 1
        if _plausible(tokenizer, text, start, end):
            spans.append((start, end))
    return tuple(_merged(spans))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def mask_names(text: str, mask: str) -> str:
    """text with every name span replaced by mask."""
    for start, end in reversed(name_spans(text)):
        text = text[:start] + mask + text[end:]
    return text
