"""The tokens ingest writes in place of personal data in free text, and the pattern that finds them."""

from __future__ import annotations

PHONE_MASK = "[电话]"
ID_MASK = "[身份证号]"
NAME_MASK = "[姓名]"
# Any of the tokens (and any later one of up to 6 characters in brackets): readers skip them.
MASK_REGEX = r"\[[^\[\]]{1,6}\]"
