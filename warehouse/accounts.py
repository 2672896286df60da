"""Dashboard accounts in the store: roles, assigned districts (checked against the districts the store
knows) and scrypt password hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd
from rapidfuzz import fuzz, process
from sqlalchemy import Connection, delete, select, union

from contracts.timeparse import local_now
from warehouse.dashboard_tables import users
from warehouse.tables import cases, hotline

# scrypt cost: 16 MiB of memory and about 50 ms per check; stored with each hash so it can change.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH = 2**14, 8, 1, 32
MIN_PASSWORD_LENGTH = 8
# How alike a typed district and a stored one must be (rapidfuzz's ratio, 0-100) to be suggested, and how
# many are suggested: 南成区 for 南城区 scores 67.
SUGGESTION_CUTOFF, SUGGESTIONS = 50.0, 3


class Role(StrEnum):
    """What a user may see and do: everything, their districts (and give feedback), or read only."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Account:
    """A dashboard user: name, role and assigned districts (empty: every district)."""

    name: str
    role: Role
    districts: tuple[str, ...] = ()

    @property
    def every_district(self) -> bool:
        """Whether the user sees all districts (admins, and viewers with no districts assigned)."""
        return self.role is Role.ADMIN or (self.role is Role.VIEWER and not self.districts)

    @property
    def can_write(self) -> bool:
        """Whether the user may record feedback."""
        return self.role in (Role.ADMIN, Role.ANALYST)

    def sees(self, district: str) -> bool:
        """Whether rows of a district may be shown to this user."""
        return self.every_district or district in self.districts


def hash_password(password: str) -> str:
    """An scrypt hash with a fresh random salt, as `scrypt$n$r$p$salt$hash` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LENGTH
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether a password matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


def check_access(name: str, role: Role, districts: tuple[str, ...]) -> None:
    """Raise ValueError when a name, role and districts do not make a usable account."""
    if not name.strip():
        raise ValueError("a user needs a name")
    if role is Role.ANALYST and not districts:
        raise ValueError("an analyst needs at least one --district")
    if role is Role.ADMIN and districts:
        raise ValueError("an admin sees every district: give no --district")


def known_districts(connection: Connection) -> list[str]:
    """The districts the store's cases and hotline calls name, sorted."""
    query = union(select(cases.c.district), select(hotline.c.district))
    return sorted({row[0] for row in connection.execute(query) if row[0]})


def similar_districts(district: str, known: list[str]) -> list[str]:
    """The known districts most like a typed one (best first; none when nothing is close)."""
    found = process.extract(
        district, known, scorer=fuzz.ratio, limit=SUGGESTIONS, score_cutoff=SUGGESTION_CUTOFF
    )
    return [name for name, _, _ in found]


def check_districts(districts: tuple[str, ...], known: list[str]) -> None:
    """Raise ValueError naming each district that no stored case or call names, with the known districts
    closest to it (a typo would leave an analyst an empty list for ever)."""
    unknown = [district for district in districts if district not in known]
    if not unknown:
        return
    problems = []
    for district in unknown:
        close = similar_districts(district, known)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        problems.append(f"{district!r}{hint}")
    stored = "the store names no district yet" if not known else f"{len(known)} districts are stored"
    raise ValueError(
        f"unknown district {', '.join(problems)}: no stored case or call names it ({stored}); check the "
        "spelling, or pass --new-district if it is right and its data has not arrived yet"
    )


def check_password(password: str) -> None:
    """Raise ValueError for a password too short to keep."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_account(
    connection: Connection, name: str, role: Role, districts: tuple[str, ...], password: str
) -> Account:
    """Store a new account (ValueError if the name is taken or the account is unusable)."""
    check_access(name, role, districts)
    check_password(password)
    if connection.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
        raise ValueError(f"user {name!r} exists already: remove it first")
    connection.execute(
        users.insert().values(
            name=name,
            role=role.value,
            districts=json.dumps(sorted(set(districts)), ensure_ascii=False),
            password_hash=hash_password(password),
            created_at=local_now().to_pydatetime(),
        )
    )
    return Account(name, role, tuple(sorted(set(districts))))


def remove_account(connection: Connection, name: str) -> bool:
    """Delete an account; whether it existed. Its feedback stays, under its name."""
    return bool(connection.execute(delete(users).where(users.c.name == name)).rowcount)


def list_accounts(connection: Connection) -> pd.DataFrame:
    """Every account: name, role, districts and when it was created (never the hash)."""
    rows = connection.execute(
        select(users.c.name, users.c.role, users.c.districts, users.c.created_at).order_by(users.c.name)
    ).all()
    frame = pd.DataFrame(rows, columns=["name", "role", "districts", "created_at"])
    frame["districts"] = frame["districts"].map(lambda text: "、".join(json.loads(text)))
    return frame


def find_account(connection: Connection, name: str) -> Account | None:
    """The account of a name, or None."""
    row = connection.execute(select(users.c.role, users.c.districts).where(users.c.name == name)).first()
    return None if row is None else Account(name, Role(row.role), tuple(json.loads(row.districts)))


def authenticate(connection: Connection, name: str, password: str) -> Account | None:
    """The account when name and password match, else None (the same work is done for unknown names)."""
    row = connection.execute(select(users.c.password_hash).where(users.c.name == name)).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    if not verify_password(password, stored) or row is None:
        return None
    return find_account(connection, name)


# A hash nobody's password matches, checked for unknown names so timing does not tell which names exist.
_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * SCRYPT_LENGTH}"
