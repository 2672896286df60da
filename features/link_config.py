"""The call linker's configuration: windows, hand-set weights and threshold (`LinkConfig`), which hotline
categories agree with which dispute categories, and the version every decision's digest carries
(docs/design/call-linking.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LINKER_VERSION = 4  # part of every digest: change it when the same inputs would be decided differently

# The hotline's own categories (12345 taxonomy) -> the dispute categories they agree with. A hotline
# category that is not listed (咨询, 城市管理 ...) is neutral; an exact match always agrees.
HOTLINE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "劳动保障": ("劳资纠纷",),
    "欠薪": ("劳资纠纷",),
    "邻里矛盾": ("邻里纠纷",),
    "家庭纠纷": ("婚姻家庭",),
    "妇女儿童": ("婚姻家庭",),
    "农业农村": ("土地山林", "征地拆迁"),
    "自然资源": ("土地山林", "征地拆迁"),
    "征地拆迁": ("征地拆迁",),
    "住房城乡建设": ("征地拆迁", "物业纠纷"),
    "物业管理": ("物业纠纷",),
    "市场监管": ("消费纠纷",),
    "消费维权": ("消费纠纷",),
    "卫生健康": ("医疗纠纷",),
    "交通运输": ("交通事故",),
    "公安交管": ("交通事故",),
}


@dataclass(frozen=True)
class LinkConfig:
    """Windows, hand-set weights (log-odds) and the threshold of call-to-case linking.

    The weights read as: with nothing in common a candidate is very unlikely (bias -5, p ~ 0.007);
    the same phone as the reporter is strong evidence on its own (-5 + 6 = 1, p ~ 0.73) and with
    a little text or category agreement passes 0.9; a phone that called about the case before,
    quoting the case number, is almost as strong (+5.5); without a phone, two shared named things
    (a company and an amount, say) with agreeing category and similar wording are needed. A case closed
    at the call's time is a candidate only when the call's phone is its reporter's or an earlier
    number-quoting caller's (people call about a closed dispute, and such calls come before a
    reopening), at -2: the reporter's phone with wording like the case's links it
    (-5 + 6 - 2 + 4 x 0.4 = 0.6, p ~ 0.6), and an open case of the same reporter wins.
    """

    call_window_days: int = 30  # link_calls / window_links: the calls received in [instant - window, instant)
    max_case_age_days: int = 365  # a call is compared with cases opened at most this long before it
    threshold: float = 0.5  # a link is kept when its confidence is at least this
    bias: float = -5.0
    w_reporter_phone: float = 6.0
    w_linked_caller: float = 5.5
    w_text: float = 4.0  # per unit of cosine similarity (0..1)
    w_named: float = 2.0  # per shared named thing, up to max_named
    max_named: int = 2
    w_amount: float = 2.5
    w_category: float = 1.0
    w_category_clash: float = -1.0
    w_closed: float = -2.0  # the case was closed at the call's time (a candidate only through a phone)
    max_named_cases: int = 25  # a thing named by more of the batch's candidate cases tells none of them apart
    ngram_range: tuple[int, int] = (2, 3)
    evidence_things: int = 3  # named things listed in the evidence

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high <= 3:
            raise ValueError("ngram_range must be within (1, 3): n-grams are counted as 63-bit keys")


def category_agreement(hotline: pd.Series, cases: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the hotline's and the cases' categories and the (hotline x case) agreement table:
    +1 agrees (HOTLINE_CATEGORIES or exact match), -1 clashes, 0 neutral or unknown."""
    h_codes, h_values = pd.factorize(hotline.astype("string").str.strip().fillna("").astype(object))
    c_codes, c_values = pd.factorize(cases.astype("string").str.strip().fillna("").astype(object))
    table = np.zeros((len(h_values) + 1, len(c_values) + 1))
    for i, h in enumerate(h_values):
        agreeing = {h, *HOTLINE_CATEGORIES.get(h, ())} - {""}
        for j, c in enumerate(c_values):
            table[i, j] = 1.0 if c in agreeing else (-1.0 if h in HOTLINE_CATEGORIES and c else 0.0)
    return h_codes, c_codes, table
