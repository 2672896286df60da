"""Column-mapping files: loading and checking them, choosing a section, applying it to a text frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contracts.fields import columns_of
from contracts.vocabulary import RecordKind
from ingest.mapping import (
    ColumnMapping,
    KindMapping,
    MappingError,
    apply_mapping,
    kind_for,
    load_mapping,
    rewrite_dates,
)
from ingest.validate import validate_frame

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mappings" / "chinese-export.toml"
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
