from __future__ import annotations

import pytest

from app.domain.credit_code import (
    CHARSET,
    credit_code_check_char,
    normalize_credit_code,
    org_code_check_char,
    validate_credit_code,
)

# Codes of registered organizations; each satisfies both the GB 11714 and the GB 32100 check character.
REAL_CODES = (
    "91350100M000100Y43",
    "91110000600037341L",
    "914403001922038216",
    "91440300708461136T",
    "91330100716105852F",
    "9144030071526726XG",
    "91110108551385082Q",
    "91110000710935732K",
    "91110000717828315T",
)


def _with_char(code: str, position: int, char: str) -> str:
    return code[: position - 1] + char + code[position:]


def _with_valid_final_check(first_17: str) -> str:
    return first_17 + credit_code_check_char(first_17)


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_real_credit_code_is_valid(code: str) -> None:
    assert validate_credit_code(code) is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_changing_the_final_check_character_makes_a_real_code_invalid(code: str) -> None:
    wrong = next(char for char in CHARSET if char != code[17])
    reason = validate_credit_code(_with_char(code, 18, wrong))
    assert reason is not None
    assert "position 18" in reason


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4", "18 characters, got 17"),
        ("91350100M000100Y433", "18 characters, got 19"),
        ("", "18 characters, got 0"),
    ],
)
def test_a_code_of_the_wrong_length_is_invalid(code: str, fragment: str) -> None:
    reason = validate_credit_code(code)
    assert reason is not None
    assert fragment in reason


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_code_containing_a_letter_outside_the_charset_is_invalid(letter: str) -> None:
    reason = validate_credit_code(_with_char("91350100M000100Y43", 9, letter))
    assert reason is not None
    assert "not allowed" in reason


def test_a_code_with_a_letter_in_the_region_code_is_invalid() -> None:
    reason = validate_credit_code(_with_valid_final_check("9135A100M000100Y4"))
    assert reason is not None
    assert "3-8" in reason


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_wrong_embedded_organization_code_check_is_invalid_even_when_the_final_check_fits(code: str) -> None:
    wrong = next(char for char in "0123456789X" if char != code[16])
    forged = _with_valid_final_check(code[:16] + wrong)
    reason = validate_credit_code(forged)
    assert reason is not None
    assert "organization code" in reason


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("91350100m000100y43", "91350100M000100Y43"),
        ("  91110000600037341l\n", "91110000600037341L"),
        ("\t91110108551385082q ", "91110108551385082Q"),
    ],
)
def test_lower_case_input_with_whitespace_normalizes_to_a_valid_code(raw: str, normalized: str) -> None:
    assert normalize_credit_code(raw) == normalized
    assert validate_credit_code(normalize_credit_code(raw)) is None


def test_a_lower_case_code_is_invalid_until_normalized() -> None:
    assert validate_credit_code("91350100m000100y43") is not None


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("M000100Y", "4"),
        ("60003734", "1"),
        ("71526726", "X"),
        ("19220382", "1"),
    ],
)
def test_the_organization_code_check_values_letters_as_gb_11714_does(body: str, check: str) -> None:
    assert org_code_check_char(body) == check


def test_an_organization_code_check_of_eleven_is_written_zero() -> None:
    # Body sum 0 mod 11 gives 11 - 0 = 11, written '0'.
    assert org_code_check_char("00000000") == "0"


def test_a_final_check_of_thirty_one_is_written_zero() -> None:
    assert credit_code_check_char("0" * 17) == "0"
