"""Unified social credit code (统一社会信用代码), GB 32100-2015, with the embedded organization code of GB 11714.

Layout of the 18 characters:
- 1: registration authority code (登记管理部门代码)
- 2: organization type code (机构类别代码)
- 3-8: administrative region code (登记管理机关行政区划码), digits
- 9-17: organization code (组织机构代码) per GB 11714; its 9th character is its own check character
- 18: check character over the first 17
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18

_CHARSET_INDEX = {char: index for index, char in enumerate(CHARSET)}
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize_credit_code(raw: str) -> str:
    """Strip surrounding whitespace and upper-case, the only forgiveness a typed code gets. [practice]"""
    return raw.strip().upper()


def _org_code_char_value(char: str) -> int:
    # GB 11714 values letters by their position after the digits (A=10 … Z=35), which differs from the
    # GB 32100 charset index because GB 32100 skips I, O, S, V and Z.
    return int(char) if char.isdigit() else ord(char) - 55


def org_code_check_char(body: str) -> str:
    """Check character of a GB 11714 organization code over its first 8 characters.

    C9 = 11 - (Σ value·weight mod 11), weights 3,7,9,10,5,8,4,2; 10 is written 'X' and 11 is written '0'. [GB 11714]
    """
    total = sum(_org_code_char_value(char) * weight for char, weight in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


def credit_code_check_char(body: str) -> str:
    """Check character of a unified social credit code over its first 17 characters.

    C18 = 31 - (Σ index·weight mod 31), indices into the GB 32100 charset, weights 3^i mod 31; 31 is written '0'.
    [GB 32100-2015]
    """
    total = sum(_CHARSET_INDEX[char] * weight for char, weight in zip(body, _CODE_WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str | None:
    """Return None when `code` is a well-formed unified social credit code, else an English reason.

    Checks, in order: 18 characters; every character from the GB 32100 charset (no I, O, S, V, Z, no lower case:
    call `normalize_credit_code` first); characters 3-8 digits; the GB 11714 check character at position 17; the
    GB 32100 check character at position 18. [GB 32100-2015, GB 11714]
    """
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, got {len(code)}"
    for position, char in enumerate(code, start=1):
        if char not in _CHARSET_INDEX:
            return f"character {char!r} at position {position} is not allowed (allowed: {CHARSET})"
    if not code[2:8].isdigit():
        return "characters 3-8 must be digits (administrative region code)"
    org_code = code[8:17]
    expected_org_check = org_code_check_char(org_code[:8])
    if org_code[8] != expected_org_check:
        return f"organization code check character at position 17 is {org_code[8]!r}, expected {expected_org_check!r}"
    expected_check = credit_code_check_char(code[:17])
    if code[17] != expected_check:
        return f"check character at position 18 is {code[17]!r}, expected {expected_check!r}"
    return None
