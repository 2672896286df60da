"""Validation, quarantine reasons, pseudonymisation and the ingest plan's accounting."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import masking as masking_module
from contracts.masking import mask_column, mask_text
from contracts.masks import ID_MASK, NAME_MASK, PHONE_MASK
from contracts.vocabulary import RecordKind
from ingest import pseudonymise
from ingest.plan import classify
from ingest.pseudonymise import pseudonym, pseudonymise_column
from ingest.readers import UnreadableFileError, detect_kind, iter_text_chunks
from ingest.validate import MissingColumnsError, _hex_strings, row_hashes, validate_frame
from tests.builders import TEST_KEY, text_frame

VALID_ID = "110101199003074514"


def test_bad_rows_are_quarantined_with_field_and_reason() -> None:
    frame = text_frame(
        [
            {"case_id": "A", "opened_at": "2025-01-01 10:00", "district": "东湖区", "category": "邻里纠纷"},
            {
                "case_id": "B",
                "opened_at": "2025-13-45",
                "district": "东湖区",
                "category": "邻里纠纷",
                "amount": "-5",
            },
            {
                "case_id": "",
                "opened_at": "2025/1/2",
                "district": "东湖区",
                "category": "邻里纠纷",
                "party_count": "three",
            },
            {
                "case_id": "D",
                "opened_at": "2025年1月3日 08:30",
                "district": "东湖区",
                "category": "邻里纠纷",
                "party_count": "0",
            },
        ],
        RecordKind.CASES,
    )
    validated = validate_frame(frame, RecordKind.CASES, "cases.csv", TEST_KEY)
    assert validated.records["case_id"].tolist() == ["A"]
    assert validated.quarantine[["row", "field", "reason"]].values.tolist() == [
        [2, "amount", "must be >= 0, got '-5'"],
        [
            2,
            "opened_at",
            "'2025-13-45' is not a valid date/time; use YYYY-MM-DD HH:MM[:SS], YYYY/MM/DD, "
            "YYYY年MM月DD日 [HH:MM] or ISO 8601",
        ],
        [3, "case_id", "required field 'case_id' is empty"],
        [3, "party_count", "'three' is not a whole number"],
        [4, "party_count", "must be >= 1, got '0'"],
    ]
    assert validated.read == len(validated.records) + validated.quarantined_rows


def test_unknown_event_type_names_the_choices() -> None:
    frame = text_frame(
        [{"case_id": "A", "event_at": "2025-01-01", "event_type": "phone_call"}], RecordKind.CASE_EVENTS
    )
    reason = validate_frame(frame, RecordKind.CASE_EVENTS, "case_events.csv", TEST_KEY).quarantine["reason"][
        0
    ]
    assert reason.startswith("'phone_call' is not a known event_type; expected one of registered, assigned")


def test_missing_required_column_refuses_the_file() -> None:
    frame = text_frame([{"call_id": "h1", "district": "东湖区"}], RecordKind.HOTLINE).drop(
        columns=["received_at"]
    )
    with pytest.raises(MissingColumnsError, match=r"hotline\.csv: missing required column"):
        validate_frame(frame, RecordKind.HOTLINE, "hotline.csv", TEST_KEY)


def test_personal_data_is_pseudonymised_and_masked() -> None:
    frame = text_frame(
        [
            {
                "call_id": "h1",
                "received_at": "2025-01-01",
                "district": "东湖区",
                "caller_name": "王小明",
                "caller_phone": "+86 138-1234-5678",
                "text": f"王小明说，电话13812345678，身份证{VALID_ID}",
            },
            {
                "call_id": "h2",
                "received_at": "2025-01-02",
                "district": "东湖区",
                "caller_phone": "13812345678",
            },
        ],
        RecordKind.HOTLINE,
    )
    records = validate_frame(frame, RecordKind.HOTLINE, "hotline.csv", TEST_KEY).records
    assert "caller_phone" not in records and "caller_name" not in records
    assert (
        records["caller_phone_pid"][0]
        == records["caller_phone_pid"][1]
        == pseudonym("13812345678", "phone", TEST_KEY)
    )
    assert records["text"][0] == f"{NAME_MASK}说，电话{PHONE_MASK}，身份证{ID_MASK}"
    assert "13812345678" not in records.to_string()


def test_text_masking_keeps_numbers_that_are_not_personal() -> None:
    assert mask_text("欠薪 35000 元，座机 0571-88776655") == f"欠薪 35000 元，座机 {PHONE_MASK}"
    assert mask_text("订单号123456789012345678") == "订单号123456789012345678"
    assert mask_text("身份证 110101199003074515（校验位错）") == f"身份证 {ID_MASK}（校验位错）"


@pytest.mark.parametrize(
    "text",
    [
        "１３８１２３４５６７８",
        "(010)12345678",
        "（0571）88776655",
        "+86-571-88776655",
        "0571-8877-6655",
        "138.1234.5678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "0086 13812345678",
        "110101 19900307 4514",
        "11010119900307451x",
        "110101900307451",
    ],
)
def test_personal_numbers_in_any_common_format_are_masked(text: str) -> None:
    masked = mask_text(f"联系方式{text}谢谢")
    assert masked in (f"联系方式{PHONE_MASK}谢谢", f"联系方式{ID_MASK}谢谢")


def test_pseudonyms_depend_on_the_key() -> None:
    assert pseudonym("13812345678", "phone", b"a") != pseudonym("13812345678", "phone", b"b")


def test_classify_tells_new_updated_and_duplicate() -> None:
    records = pd.DataFrame({"record_key": ["a", "b", "b", "c", "c"], "row_hash": ["1", "2", "2", "3", "4"]})
    existing = pd.Series({"a": "1", "c": "9"})
    assert classify(records, existing).tolist() == [
        "duplicate",
        "duplicate",
        "accepted",
        "superseded",
        "updated",
    ]


def test_readers_detect_kind_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("call_id,received_at,district\nh1,2025-01-01,东湖区\n".encode("gb18030"))
    frame = next(iter_text_chunks(path))
    assert frame.to_dict("records") == [
        {"_row": 1, "call_id": "h1", "received_at": "2025-01-01", "district": "东湖区"}
    ]
    assert detect_kind(path, list(frame.columns)) is RecordKind.HOTLINE
    assert detect_kind(tmp_path / "case_events_2025.csv", []) is RecordKind.CASE_EVENTS
    with pytest.raises(UnreadableFileError, match="cannot tell its record kind"):
        detect_kind(tmp_path / "x.csv", ["a"])


def test_truncated_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hotline.parquet"
    pd.DataFrame({"call_id": ["h1"]}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(UnreadableFileError, match=r"hotline\.parquet: cannot be read as parquet"):
        next(iter_text_chunks(path))


@pytest.mark.parametrize(
    "text", ["138－0013－8000", "138—0013—8000", "0571－87654321", "１３８　００１３　８０００"]
)
def test_full_width_separators_do_not_hide_numbers(text: str) -> None:
    assert PHONE_MASK in mask_column(pd.Series([f"电话{text}"]))[0]


# --- the vectorised paths give what the row-by-row definitions give --------------------------------

NUMBERY = "0123456789０１２３４５６７８９+＋-－—–‐ 　.()（）Xx王小明电话号\t"
# The candidate filter mask_column runs through pyarrow (RE2, where \s is [\t\n\f\r ]), in Python terms.
CANDIDATE = re.compile(r"[0-9０-９][0-9０-９\t\n\f\r .()（）\-－—–‐　]{5,}[0-9０-９Xx]")
UNGUARDED = re.compile(
    "|".join(
        f"(?P<{name}>{pattern.pattern})"
        for name, pattern in (
            ("id", masking_module._ID_NUMBER),
            ("old_id", masking_module._OLD_ID_NUMBER),
            ("mobile", masking_module._MOBILE),
            ("international", masking_module._INTERNATIONAL_LANDLINE),
            ("landline", masking_module._LANDLINE),
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=NUMBERY, max_size=40))
def test_mask_text_matches_the_plain_alternation(text: str) -> None:
    translated = text.translate(masking_module.FULL_WIDTH_DIGITS)
    expected = UNGUARDED.sub(masking_module._mask_match, translated)
    assert mask_text(text) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(alphabet=NUMBERY, max_size=40)),
            st.sampled_from([None, "", "王", "王小明", "小明", "138", "明电"]),
        ),
        max_size=30,
    ),
    st.sampled_from(["object", "str"]),
)
def test_mask_column_matches_mask_text_row_by_row(
    rows: list[tuple[str | None, str | None]], dtype: str
) -> None:
    texts = pd.Series([t for t, _ in rows], dtype=dtype)
    names = pd.Series([n for _, n in rows], dtype=dtype)
    expected = [masking_module.mask_free_text(text or "", name) or None for text, name in rows]
    masked = mask_column(texts, names)
    assert str(masked.dtype) == "str"
    assert masked.astype(object).where(masked.notna(), None).tolist() == expected


def test_pseudonymise_column_hashes_each_distinct_value_like_pseudonym() -> None:
    raw = ["13812345678", " +86 138-1234-5678 ", None, "", "   ", "0086 13812345678", "13900000000"]
    pseudonyms = pseudonymise_column(pd.Series(raw), "phone", TEST_KEY)
    expected = [None if not (v or "").strip() else pseudonym(v.strip(), "phone", TEST_KEY) for v in raw]
    assert pseudonyms.astype(object).where(pseudonyms.notna(), None).tolist() == expected
    assert pseudonyms[0] == pseudonyms[1] == pseudonyms[5] != pseudonyms[6]


def test_pseudonyms_remembered_across_batches_are_the_ones_made_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run's memory of pseudonyms changes no pseudonym, keeps kinds apart, hashes a cell once in the run
    and starts afresh past its limit."""
    batches = [["13812345678", "不详", None, "138 1234 5678"], ["13812345678", "13900000000", "", "不详"]]
    hashed: list[str] = []
    original = pseudonymise._pseudonyms
    monkeypatch.setattr(
        pseudonymise,
        "_pseudonyms",
        lambda canonical, kind, key: hashed.extend(canonical) or original(canonical, kind, key),
    )
    known: pseudonymise.Known = {}
    for raw in batches:
        fresh = pseudonymise_column(pd.Series(raw), "phone", TEST_KEY)
        remembered = pseudonymise_column(pd.Series(raw), "phone", TEST_KEY, known)
        assert remembered.equals(fresh)
    assert pseudonymise_column(pd.Series(["13812345678"]), "name", TEST_KEY, known)[0] != fresh[0]
    assert sorted(known) == ["name", "phone"]
    hashed.clear()
    for raw in batches:
        pseudonymise_column(pd.Series(raw), "phone", TEST_KEY, known)
    assert hashed == []  # every cell of these batches was known
    monkeypatch.setattr(pseudonymise, "KNOWN_LIMIT", 3)
    pseudonymise_column(pd.Series(["13700000000"]), "phone", TEST_KEY, known)
    assert list(known["phone"]) == ["13700000000"]


def test_an_identifier_cell_without_an_identifier_is_missing_not_one_shared_person() -> None:
    """不详, 无 and 网友甲 in a phone column hold no digits: they must not become one 'repeat caller'."""
    raw = ["不详", "无", "网友甲", "138 1234 5678", "-"]
    pseudonyms = pseudonymise_column(pd.Series(raw), "phone", TEST_KEY)
    kept = pseudonyms.astype(object).where(pseudonyms.notna(), None).tolist()
    assert kept == [None, None, None, pseudonym("13812345678", "phone", TEST_KEY), None]


def test_row_hashes_keep_their_stored_meaning() -> None:
    """Hashes stored by earlier versions must still tell duplicates: these values were computed before."""
    calls = text_frame(
        [
            {
                "call_id": "h1",
                "received_at": "2025-01-01 08:30",
                "district": "东湖区",
                "caller_name": "王小明",
                "caller_phone": "13812345678",
                "text": "电话13812345678",
                "recorded_at": "2025-01-02",
            },
            {"call_id": "h2", "received_at": "2025-01-02", "district": "江北区", "channel": "web"},
        ],
        RecordKind.HOTLINE,
    )
    cases = text_frame(
        [
            {
                "case_id": "A",
                "opened_at": "2025-01-01 10:00",
                "district": "东湖区",
                "category": "邻里纠纷",
                "amount": "12.5",
                "party_count": "3",
            },
            {"case_id": "B", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他"},
        ],
        RecordKind.CASES,
    )
    earlier_key = b"test-key-not-secret"  # the key these hashes were computed under
    hotline = validate_frame(calls, RecordKind.HOTLINE, "hotline.csv", earlier_key).records
    assert hotline["row_hash"].tolist() == ["f2e737f7c940fdbb", "2c6ccbdc3947546a"]
    stored = validate_frame(cases, RecordKind.CASES, "cases.csv", earlier_key).records
    assert stored["row_hash"].tolist() == ["3bd926fc9b8a8489", "bb316cd93536878b"]
    as_objects = stored.drop(columns=["record_key", "row_hash", "source_file", "_row"])
    as_objects = as_objects.astype({c: object for c in ("district", "category", "town")})
    assert row_hashes(as_objects, RecordKind.CASES).tolist() == stored["row_hash"].tolist()


def test_hex_strings_are_zero_padded_lower_case() -> None:
    hashes = np.array([0, 1, 255, 2**64 - 1], dtype=np.uint64)
    assert list(_hex_strings(hashes)) == [f"{h:016x}" for h in hashes]
