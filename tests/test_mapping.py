"""Column-mapping files: loading and checking them, choosing a section, applying it to a text frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contracts.fields import columns_of
from contracts.vocabulary import RecordKind
from ingest.mapping import (
    ColumnMapping,
    FirstOf,
    KindMapping,
    MappingError,
    Template,
    apply_mapping,
    kind_for,
    load_mapping,
    parse_template,
    rewrite_dates,
)
from ingest.run import ingest_paths
from ingest.validate import validate_frame
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.store import Warehouse

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "mappings"
EXAMPLE = EXAMPLES / "chinese-export.toml"
MESSAGE_BOARD = EXAMPLES / "message-board.toml"
VALID_ID = "110101199003074514"


def frame_of(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Rows as the readers deliver them: text cells, '' when empty, 1-based `_row` first."""
    frame = pd.DataFrame(rows).fillna("").astype(str)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


def write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CASES_SECTION = KindMapping(
    files=("案件*.csv",),
    columns={"编号": "case_id", "时间": "opened_at", "类型": "category", "区县": "district"},
    values={"category": {"劳动争议": "劳资纠纷"}},
    fixed={"district": "东湖区", "source": "mediation_committee"},
    date_formats={"opened_at": ("%Y%m%d", "%d/%m/%Y %H:%M")},
    drop=("备注",),
)


def test_apply_renames_drops_maps_values_and_fills_fixed() -> None:
    frame = frame_of(
        [
            {
                "编号": "A1",
                "时间": "2025-01-02 08:00",
                "类型": " 劳动争议 ",
                "区县": "",
                "备注": "x",
                "其他": "k",
            },
            {
                "编号": "A2",
                "时间": "2025-01-03",
                "类型": "邻里纠纷",
                "区县": "西山区",
                "备注": "",
                "其他": "",
            },
        ]
    )
    out = apply_mapping(frame, CASES_SECTION)
    assert list(out.columns) == ["_row", "case_id", "opened_at", "category", "district", "其他", "source"]
    assert out.to_dict("list") == {
        "_row": [1, 2],
        "case_id": ["A1", "A2"],
        "opened_at": ["2025-01-02 08:00", "2025-01-03"],
        "category": ["劳资纠纷", "邻里纠纷"],
        "district": ["东湖区", "西山区"],
        "其他": ["k", ""],
        "source": ["mediation_committee", "mediation_committee"],
    }
    assert list(frame.columns) == ["_row", "编号", "时间", "类型", "区县", "备注", "其他"]  # input untouched


def test_extra_date_formats_rewrite_cells_they_parse_and_leave_the_rest() -> None:
    frame = frame_of(
        [{"时间": v} for v in ("20250301", "01/03/2025 08:30", "2025-03-01 09:00", "2025-13-45", "", "昨天")]
    )
    out = apply_mapping(frame, CASES_SECTION)
    assert out["opened_at"].tolist() == [
        "2025-03-01 00:00:00",
        "2025-03-01 08:30:00",
        "2025-03-01 09:00",
        "2025-13-45",
        "",
        "昨天",
    ]


def test_zoned_extra_format_is_converted_to_shanghai_time() -> None:
    section = KindMapping(date_formats={"opened_at": ("%Y-%m-%dT%H:%M%z",)})
    out = apply_mapping(frame_of([{"opened_at": "2025-03-01T00:30+0000"}]), section)
    assert out["opened_at"].tolist() == ["2025-03-01 08:30:00"]


TRICKY_DATES = [
    "20250301",
    "2025301",
    "２０２５０３０１",
    "2025.3.1 8:05",
    "2025.03.01\u300008:05",
    "1/3/2025 8:30",
    "01/03/25",
    "2025-03-01 08:00Z",
    "mar 01 2025",
    "2025年03月01日 08时",
    "2025-03-01 08:00:00.5",
    " 20250301 0830 ",
    "x",
    "",
]


@pytest.mark.parametrize(
    "date_format",
    [
        "%Y%m%d",
        "%Y.%m.%d %H:%M",
        "%d/%m/%y",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%d %H:%M%z",
        "%b %d %Y",
        "%Y年%m月%d日 %H时",
        "%Y-%m-%d %H:%M:%S.%f",
        "%Y%m%d %H%M",
    ],
)
def test_screened_date_parsing_agrees_with_plain_pandas(date_format: str) -> None:
    zoned = "%z" in date_format
    plain = pd.to_datetime(
        pd.Series([v.strip() for v in TRICKY_DATES], dtype=object),
        format=date_format,
        errors="coerce",
        utc=zoned,
    )
    if zoned:
        plain = plain.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    expected = [
        v if pd.isna(p) else p.strftime("%Y-%m-%d %H:%M:%S") for v, p in zip(TRICKY_DATES, plain, strict=True)
    ]
    assert rewrite_dates(pd.Series(TRICKY_DATES), [date_format]).tolist() == expected
    assert expected != TRICKY_DATES  # every format parses at least one of them


def test_headings_are_compared_without_spaces_and_bom() -> None:
    out = apply_mapping(frame_of([{"\ufeff编号 ": "A1", " 备注": "x"}]), CASES_SECTION)
    assert list(out.columns) == ["_row", "case_id", "district", "source"]


def test_two_sources_of_one_contract_column_are_an_error() -> None:
    section = KindMapping(columns={"编号": "case_id", "案件号": "case_id"}, origin="m.toml [cases]")
    with pytest.raises(MappingError) as error:
        apply_mapping(frame_of([{"编号": "A", "案件号": "B"}]), section)
    assert str(error.value) == (
        "m.toml [cases]: columns '编号' and '案件号' would both become 'case_id'; "
        "list all but one under 'drop' or remove one from the mapping's columns"
    )
    with pytest.raises(MappingError, match="'case_id' and '编号' would both become 'case_id'"):
        apply_mapping(frame_of([{"case_id": "A", "编号": "B"}]), section)
    # alternatives are fine when only one of them is in the file
    assert apply_mapping(frame_of([{"案件号": "B"}]), section)["case_id"].tolist() == ["B"]


def test_kind_for_by_file_pattern_then_by_columns() -> None:
    mapping = ColumnMapping(
        source=Path("m.toml"),
        kinds={
            RecordKind.CASES: CASES_SECTION,
            RecordKind.HOTLINE: KindMapping(columns={"工单": "call_id", "来电": "received_at"}),
        },
    )
    assert kind_for(mapping, "exports/案件2025.CSV", ["工单", "来电", "district"]) == RecordKind.CASES
    assert kind_for(mapping, "a.xlsx", ["工单", "来电", "district"]) == RecordKind.HOTLINE
    assert kind_for(mapping, "a.xlsx", ["编号", "时间", "类型", "区县"]) == RecordKind.CASES
    assert kind_for(mapping, "a.xlsx", ["编号", "时间"]) is None  # district, category missing
    assert kind_for(mapping, "a.xlsx", ["备注", "其他"]) is None


def test_kind_for_prefers_the_section_recognising_most_columns_and_a_tie_is_none() -> None:
    events = KindMapping(columns={"时间": "event_at", "类型": "event_type"})
    hotline = KindMapping(columns={"时间": "received_at", "编号": "call_id"})
    mapping = ColumnMapping(
        source=Path("m.toml"), kinds={RecordKind.CASE_EVENTS: events, RecordKind.HOTLINE: hotline}
    )
    columns = ["case_id", "时间", "类型", "编号", "district"]
    assert kind_for(mapping, "x.csv", columns) == RecordKind.HOTLINE  # 4 columns recognised against 3
    events = KindMapping(columns={"时间": "event_at", "类型": "event_type", "编号": "note"})
    mapping = ColumnMapping(
        source=Path("m.toml"), kinds={RecordKind.CASE_EVENTS: events, RecordKind.HOTLINE: hotline}
    )
    assert kind_for(mapping, "x.csv", columns) is None


EXAMPLE_ROWS = {
    RecordKind.CASES: {
        "序号": "1",
        "案件编号": "FQ-001",
        "登记时间": "20250301 08:30",
        "所属区县": "东湖区",
        "乡镇街道": "青山街道",
        "纠纷类型": "劳动争议",
        "案件来源": "网格员上报",
        "纠纷简要情况": "拖欠工资三个月，电话13812345678",
        "涉及人数": "12",
        "涉及金额（元）": "36000",
        "申请人姓名": "张三",
        "联系电话": "13812345678",
        "身份证号": VALID_ID,
        "住址": "青山街道1号",
        "录入时间": "2025.03.02 10:00",
        "备注": "内部",
    },
    RecordKind.CASE_EVENTS: {
        "案件编号": "FQ-001",
        "发生时间": "2025-03-05 14:00",
        "事件类型": "调解失败",
        "情况说明": "双方未达成一致",
        "录入时间": "20250305 18:00",
    },
    RecordKind.HOTLINE: {
        "工单编号": "RX-9",
        "来电时间": "2025年3月4日 09:15",
        "所属区县": "东湖区",
        "诉求类别": "劳动保障",
        "诉求内容": "反映工地欠薪",
        "来电渠道": "微信",
        "关联案件编号": "FQ-001",
        "来电人": "李四",
        "来电号码": "13900001111",
        "录入时间": "",
    },
}

EXPECTED = {
    RecordKind.CASES: {
        "case_id": "FQ-001",
        "opened_at": "2025-03-01 08:30:00",
        "category": "劳资纠纷",
        "source": "grid_worker",
        "recorded_at": "2025-03-02 10:00:00",
    },
    RecordKind.CASE_EVENTS: {"event_type": "mediation_failed", "recorded_at": "2025-03-05 18:00:00"},
    RecordKind.HOTLINE: {"call_id": "RX-9", "channel": "wechat", "received_at": "2025年3月4日 09:15"},
}


@pytest.mark.parametrize("kind", list(RecordKind))
def test_the_shipped_example_maps_each_kind_to_valid_contract_rows(kind: RecordKind) -> None:
    mapping = load_mapping(EXAMPLE)
    frame = frame_of([EXAMPLE_ROWS[kind]])
    assert kind_for(mapping, "export.xlsx", list(frame.columns)) == kind
    out = apply_mapping(frame, mapping.kinds[kind])
    assert set(out.columns) - {"_row"} <= set(columns_of(kind))
    assert {k: out[k].iloc[0] for k in EXPECTED[kind]} == EXPECTED[kind]
    validated = validate_frame(out, kind, "x.csv", b"k")
    assert validated.quarantine.empty
    assert len(validated.records) == 1


def test_the_shipped_example_chooses_sections_by_file_name() -> None:
    mapping = load_mapping(EXAMPLE)
    assert kind_for(mapping, "案件登记_2025Q1.xlsx", []) == RecordKind.CASES
    assert kind_for(mapping, "案件流转记录.csv", []) == RecordKind.CASE_EVENTS
    assert kind_for(mapping, "12345工单.csv", []) == RecordKind.HOTLINE


def test_a_full_mapping_file_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
encoding = "gb18030"
sheet = "Sheet1"
[cases]
files = ["案件*.xlsx", "案件*.csv"]
drop = ["备注"]
[cases.columns]
"案件编号" = "case_id"
" 登记时间 " = "opened_at"
[cases.values.category]
"劳动争议" = "劳资纠纷"
[cases.fixed]
source = "mediation_committee"
[cases.date_formats]
opened_at = ["%Y%m%d", "%Y.%m.%d %H:%M"]
""",
    )
    assert load_mapping(path) == ColumnMapping(
        source=path,
        kinds={
            RecordKind.CASES: KindMapping(
                files=("案件*.xlsx", "案件*.csv"),
                columns={"案件编号": "case_id", "登记时间": "opened_at"},
                values={"category": {"劳动争议": "劳资纠纷"}},
                fixed={"source": "mediation_committee"},
                date_formats={"opened_at": ("%Y%m%d", "%Y.%m.%d %H:%M")},
                drop=("备注",),
            )
        },
        encoding="gb18030",
        sheet="Sheet1",
    )


def test_a_yaml_mapping_loads_equal_to_its_toml_twin(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        """
encoding = "gb18030"
[hotline]
files = ["12345*"]
[hotline.columns]
"工单编号" = "call_id"
[hotline.values.channel]
"微信" = "wechat"
[hotline.date_formats]
received_at = ["%Y%m%d %H:%M"]
""",
    )
    yaml = write(
        tmp_path,
        """
encoding: gb18030
hotline:
  files: ["12345*"]
  columns: {工单编号: call_id}
  values:
    channel: {微信: wechat}
  date_formats:
    received_at: ["%Y%m%d %H:%M"]
""",
        "m.yaml",
    )
    from_toml, from_yaml = load_mapping(toml), load_mapping(yaml)
    assert from_yaml.kinds == from_toml.kinds
    assert (from_yaml.encoding, from_yaml.sheet) == (from_toml.encoding, from_toml.sheet)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[disputes]\n", "unknown top-level key or table 'disputes'"),
        ("[cases]\nsheets = 1\n", "unknown key 'cases.sheets'"),
        (
            '[cases.columns]\n"纠纷类型" = "categry"\n',
            "'cases.columns.纠纷类型': 'categry' is not a cases column of the contract; use one of case_id,",
        ),
        (
            '[hotline.columns]\n"类型" = "event_type"\n',
            "'hotline.columns.类型': 'event_type' is not a hotline column",
        ),
        ('[cases.values.kind]\n"a" = "b"\n', "'cases.values.kind': 'kind' is not a cases column"),
        (
            "[cases.fixed]\nparty_count = 1\n",
            "'cases.fixed.party_count' must be non-empty text in quotes, got 1",
        ),
        ('[cases.columns]\n"人数" = 3\n', "'cases.columns.人数' must be non-empty text in quotes, got 3"),
        ('[cases]\ndrop = "备注"\nfiles = [1]\n', "'cases.files' must be a list of texts in quotes"),
        ("[cases.date_formats]\ncategory = ['%Y']\n", "'category' is not a date/time column of cases"),
        ("[cases.date_formats]\nopened_at = ['Ymd']\n", "'Ymd' is not a strptime format"),
        ("[cases.date_formats]\nopened_at = ['%Y%Q']\n", "'%Y%Q' is not a strptime format ('Q' is a bad"),
        ('encoding = "klingon"\n', "encoding 'klingon' is not known"),
        ('[cases]\ndrop = ["备注"]\n[cases.columns]\n"备注" = "description"\n', "both in 'cases.drop'"),
        ("cases = 3\n", "'cases' must be a table, got a number"),
        (
            '[hotline.derive]\ntext = { template = "{留言主题：{留言详情}" }\n',
            "'hotline.derive.text.template' '{留言主题：{留言详情}': unbalanced '{' at character 1",
        ),
        (
            '[hotline.derive]\ntext = { template = "{主题}}：{详情}" }\n',
            "unbalanced '}' at character 5; write each heading as {heading} and a literal brace as '}}'",
        ),
        ('[hotline.derive]\ntext = { template = "{}：{详情}" }\n', "'{}' at character 1 names no heading"),
        (
            '[hotline.derive]\nchannel = { template = "网络留言" }\n',
            "'hotline.derive.channel.template' '网络留言' names no {heading}; for a constant use the 'fixed'",
        ),
        (
            '[hotline.columns]\n"诉求内容" = "text"\n'
            '[hotline.derive]\ntext = { template = "{主题}：{详情}" }\n',
            "'hotline.derive.text': 'text' is also mapped from '诉求内容' under 'hotline.columns'; "
            "a column is either mapped or derived",
        ),
        (
            '[hotline.derive]\ncaller_phone = { first_of = ["手机"] }\n',
            "'hotline.derive.caller_phone.first_of' names one heading; list two or more",
        ),
        (
            '[hotline.derive]\ncaller_phone = { first_of = ["手机", " 手机"] }\n',
            "'hotline.derive.caller_phone.first_of' names a heading twice",
        ),
        (
            '[hotline.derive]\ncaller_phone = { first_of = "手机" }\n',
            "'hotline.derive.caller_phone.first_of' names one heading",
        ),
        (
            '[hotline.derive]\ntext = { template = "{a}", first_of = ["a", "b"] }\n',
            "'hotline.derive.text' must be a table with one of template, first_of",
        ),
        (
            '[hotline.derive]\ntext = { join = ["a", "b"] }\n',
            "'hotline.derive.text' must be a table with one of",
        ),
        ('[hotline.derive]\ntext = "{a}{b}"\n', "'hotline.derive.text' must be a table with one of"),
        (
            "[hotline.derive]\ntext = { template = 3 }\n",
            "'hotline.derive.text.template' must be non-empty text",
        ),
        (
            '[hotline.derive]\nsubject = { template = "{a}{b}" }\n',
            "'hotline.derive.subject': 'subject' is not a hotline column of the contract",
        ),
        (
            '[hotline]\ndrop = ["答复意见"]\n'
            '[hotline.derive]\ntext = { template = "{留言详情}（{答复意见}）" }\n',
            "'hotline.derive.text' uses '答复意见', which 'hotline.drop' discards",
        ),
        (
            '[hotline.derive]\ntext = { template = "{_row}：{a}" }\n',
            "'hotline.derive.text': the column '_row' is reserved",
        ),
    ],
)
def test_invalid_mapping_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[cases]\nfiles = ["a*"\n[cases.columns]\n')
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert str(error.value).startswith(f"{path}: not valid TOML: ")
    assert "line 3" in str(error.value)


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  columns: {a: case_id\n  drop: [x]\n", "m.yml")
    with pytest.raises(MappingError, match=r"not valid YAML at line \d+, column \d+"):
        load_mapping(path)


def test_non_text_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  values:\n    party_count: {1: '2'}\n", "m.yaml")
    with pytest.raises(
        MappingError, match=r"'cases.values.party_count' has the key 1; keys must be non-empty"
    ):
        load_mapping(path)


def test_a_missing_mapping_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"nope\.toml: cannot read the mapping file"):
        load_mapping(tmp_path / "nope.toml")


# ---------------------------------------------------------------------------------------------
# Derived columns
# ---------------------------------------------------------------------------------------------

SUBJECT_BODY = parse_template("{留言主题}：{留言详情}")


def test_templates_parse_into_prefix_headings_separators_and_suffix() -> None:
    assert parse_template("{留言主题}：{留言详情}") == Template("", ("留言主题", "留言详情"), ("：",), "")
    assert parse_template("【{ 类别 }】{标题}（{{原文}}）") == Template(
        "【", ("类别", "标题"), ("】",), "（{原文}）"
    )
    assert parse_template("留言-{编号}") == Template("留言-", ("编号",), (), "")


@pytest.mark.parametrize(
    ("subject", "body", "text"),
    [
        ("噪音扰民", "每晚施工到凌晨", "噪音扰民：每晚施工到凌晨"),
        ("", "每晚施工到凌晨", "每晚施工到凌晨"),
        ("噪音扰民", "", "噪音扰民"),
        (" 噪音扰民 ", "  ", "噪音扰民"),
        ("", "", ""),
    ],
)
def test_a_template_leaves_no_stray_separator_for_empty_cells(subject: str, body: str, text: str) -> None:
    section = KindMapping(derive={"text": SUBJECT_BODY})
    out = apply_mapping(frame_of([{"留言主题": subject, "留言详情": body}]), section)
    assert out["text"].tolist() == [text]


@pytest.mark.parametrize(
    ("cells", "text"),
    [
        (("A", "B", "C"), "【A】B：C。"),
        (("", "B", "C"), "B：C。"),  # the first heading owns the text before it
        (("A", "", "C"), "【A】C。"),  # an empty heading takes the text after it along
        (("A", "B", ""), "【A】B"),  # the last heading owns the text after it; no dangling '：'
        (("A", "", ""), "【A"),  # '】' is A's separator, left out when nothing follows
        (("", "", ""), ""),
    ],
)
def test_each_heading_owns_the_text_after_it(cells: tuple[str, str, str], text: str) -> None:
    section = KindMapping(derive={"text": parse_template("【{a}】{b}：{c}。")})
    out = apply_mapping(frame_of([dict(zip("abc", cells, strict=True))]), section)
    assert out["text"].tolist() == [text]


def test_first_of_takes_the_first_non_empty_cell() -> None:
    section = KindMapping(derive={"caller_phone": FirstOf(("手机号码", "联系电话", "备用电话"))})
    frame = frame_of(
        [
            {"手机号码": "13800000001", "联系电话": "010-1234567", "备用电话": "3"},
            {"手机号码": " ", "联系电话": " 010-1234567 ", "备用电话": "3"},
            {"手机号码": "", "联系电话": "", "备用电话": "3"},
            {"手机号码": "", "联系电话": "", "备用电话": ""},
        ]
    )
    out = apply_mapping(frame, section)
    assert out["caller_phone"].tolist() == ["13800000001", "010-1234567", "3", ""]
    assert out["_row"].tolist() == [1, 2, 3, 4]


def test_derived_columns_go_through_values_dates_and_fixed_like_mapped_ones() -> None:
    section = KindMapping(
        columns={"大类": "category"},
        derive={
            "opened_at": parse_template("{日期} {时刻}"),
            "source": FirstOf(("来源", "渠道")),
            "description": parse_template("{大类}：{情况}"),
            "district": FirstOf(("区县", "街道所属区")),
        },
        values={"source": {"网格员上报": "grid_worker"}},
        fixed={"district": "东湖区"},
        date_formats={"opened_at": ("%Y%m%d %H%M",)},
        drop=("备注",),
    )
    rows = [
        {"大类": "劳资纠纷", "日期": "20250301", "时刻": "0830", "来源": "", "渠道": "网格员上报"},
        {"大类": "邻里纠纷", "日期": "2025-03-02", "时刻": "", "来源": "police", "渠道": ""},
    ]
    base = {"情况": "欠薪", "区县": "", "街道所属区": "", "备注": "x"}
    out = apply_mapping(frame_of([{**row, **base} for row in rows]), section)
    assert out[["category", "opened_at", "source", "description", "district"]].to_dict("list") == {
        "category": ["劳资纠纷", "邻里纠纷"],  # 大类 is mapped and read by the description template too
        "opened_at": ["2025-03-01 08:30:00", "2025-03-02"],
        "source": ["grid_worker", "police"],
        "description": ["劳资纠纷：欠薪", "邻里纠纷：欠薪"],
        "district": ["东湖区", "东湖区"],  # empty derivation, filled by the fixed value
    }
    assert "备注" not in out.columns
    validated = validate_frame(out.assign(case_id=["A", "B"]), RecordKind.CASES, "x.csv", b"k")
    assert validated.quarantine.empty


def test_a_heading_a_derivation_needs_that_the_file_lacks_names_file_mapping_key_and_heading() -> None:
    section = KindMapping(derive={"text": SUBJECT_BODY}, origin="m.toml [hotline]")
    with pytest.raises(MappingError) as error:
        apply_mapping(frame_of([{"留言标题": "a", "留言详情": "b"}]), section, "留言.csv")
    assert str(error.value) == (
        "留言.csv: m.toml [hotline]: 'derive.text' uses the heading '留言主题', "
        "which the file does not have; its headings are '留言标题', '留言详情'"
    )


def test_a_file_column_named_like_a_derived_column_is_an_error_unless_the_derivation_reads_it() -> None:
    section = KindMapping(derive={"text": SUBJECT_BODY}, origin="m.toml [hotline]")
    frame = frame_of([{"留言主题": "a", "留言详情": "b", "text": "c"}])
    with pytest.raises(
        MappingError, match=r"the file's column 'text' and 'derive\.text' would both become 'text'"
    ):
        apply_mapping(frame, section, "x.csv")
    dropped = KindMapping(derive={"text": SUBJECT_BODY}, drop=("text",))
    assert apply_mapping(frame, dropped)["text"].tolist() == ["a：b"]
    own = KindMapping(derive={"text": parse_template("{text}（{备注}）")})
    out = apply_mapping(frame_of([{"text": "c", "备注": "d"}, {"text": "c", "备注": ""}]), own)
    assert out["text"].tolist() == ["c（d）", "c"]


def test_only_unparsed_lines_derive_nothing_and_are_left_to_validation() -> None:
    frame = pd.DataFrame({"_row": [1, 2], "_reader_error": ["line 1 is not valid JSON", "line 2 …"]})
    assert list(apply_mapping(frame, KindMapping(derive={"text": SUBJECT_BODY})).columns) == list(
        frame.columns
    )


def test_kind_for_counts_derived_columns_with_all_headings_present_and_fixed_ones() -> None:
    hotline = KindMapping(
        columns={"留言时间": "received_at"},
        derive={"call_id": parse_template("留言-{留言编号}"), "text": SUBJECT_BODY},
        fixed={"district": "全市"},
    )
    mapping = ColumnMapping(source=Path("m.toml"), kinds={RecordKind.HOTLINE: hotline})
    assert kind_for(mapping, "x.csv", ["留言编号", "留言时间", "留言主题"]) == RecordKind.HOTLINE
    assert kind_for(mapping, "x.csv", ["编号", "留言时间", "留言主题", "留言详情"]) is None  # no call_id


def test_a_yaml_derive_loads_equal_to_its_toml_twin(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        """
[hotline.derive]
text = { template = "{留言主题}：{留言详情}" }
caller_phone = { first_of = ["手机号码", "联系电话"] }
""",
    )
    yaml = write(
        tmp_path,
        """
hotline:
  derive:
    text: {template: "{留言主题}：{留言详情}"}
    caller_phone:
      first_of: [手机号码, 联系电话]
""",
        "m.yaml",
    )
    expected = {"text": SUBJECT_BODY, "caller_phone": FirstOf(("手机号码", "联系电话"))}
    assert load_mapping(toml).kinds[RecordKind.HOTLINE].derive == expected
    assert load_mapping(yaml).kinds == load_mapping(toml).kinds


# A message-board export (省领导留言板): subject and body in two columns, a board account, the reply.
MESSAGE_BOARD_CSV = "\n".join(
    [
        "留言编号,留言用户,留言主题,留言时间,留言详情,答复意见,答复时间",
        "1001,A00012345,小区噪音扰民,2019/1/2 10:22:30,楼下烧烤店每晚营业到凌晨，我的电话13812345678,"
        "已转区住建局,2019/1/5 09:00:00",
        "1002,网友王建国,,2019-01-03 08:00,王建国反映工地夜间施工,,",
        "1003,A00012345,物业不作为,2019.01.04 09:30,,,",
        "1004,A00067890,拖欠工资,昨天,老板拖欠工资三个月,,",
        ",A00067890,无编号,2019/1/6 10:00:00,内容,,",
        "",
    ]
)


def test_a_message_board_export_is_ingested_through_the_shipped_mapping(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "留言板导出2019.csv").write_text(MESSAGE_BOARD_CSV, encoding="utf-8")
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")

    report = ingest_paths([export], warehouse, TEST_KEY, mapping=load_mapping(MESSAGE_BOARD))

    assert report.failed == {}
    row = report.accounting.iloc[0]
    assert (row["kind"], row["read"], row["accepted"], row["quarantined"]) == ("hotline", 5, 3, 2)
    stored = warehouse.read_records(RecordKind.HOTLINE).set_index("call_id")
    assert stored["text"].to_dict() == {
        "留言-1001": "小区噪音扰民：楼下烧烤店每晚营业到凌晨，我的电话[电话]",
        "留言-1002": "[姓名]反映工地夜间施工",
        "留言-1003": "物业不作为",
    }
    assert stored["received_at"].astype(str).tolist() == [
        "2019-01-02 10:22:30",
        "2019-01-03 08:00:00",
        "2019-01-04 09:30:00",
    ]
    assert set(stored["channel"]) == {"web"} and set(stored["district"]) == {"全市"}
    pids = stored["caller_name_pid"]
    assert pids["留言-1001"] == pids["留言-1003"] != pids["留言-1002"]
    assert "caller_name" not in stored.columns
    values = warehouse.read_table(tables.quarantine).astype(str).to_string()
    assert "A00012345" not in stored.astype(str).to_string() + values
    assert "已转区住建局" not in stored.astype(str).to_string()
    quarantine = warehouse.read_table(tables.quarantine)
    assert sorted(zip(quarantine["source_file"], quarantine["row"], quarantine["field"], strict=True)) == [
        ("留言板导出2019.csv", 4, "received_at"),
        ("留言板导出2019.csv", 5, "call_id"),
    ]


def test_a_message_board_file_without_a_heading_the_mapping_derives_from_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "留言板.csv"
    path.write_text(MESSAGE_BOARD_CSV.replace("留言主题", "留言标题"), encoding="utf-8")
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    report = ingest_paths([path], warehouse, TEST_KEY, mapping=load_mapping(MESSAGE_BOARD))
    assert list(report.failed) == ["留言板.csv"]
    message = report.failed["留言板.csv"]
    assert f"{MESSAGE_BOARD} [hotline]: 'derive.text' uses the heading '留言主题', which the file" in message
    assert warehouse.read_records(RecordKind.HOTLINE).empty
