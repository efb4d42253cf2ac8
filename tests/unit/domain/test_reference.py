"""The code tables' Chinese labels, as the exports print them."""

from __future__ import annotations

import pytest

from app.domain.reference import PLAN_SECTIONS, ROLES, label_zh


@pytest.mark.parametrize(
    ("code", "label"),
    [
        pytest.param("province", "省科技厅", id="a known code"),
        pytest.param("supervisor", "主管部门", id="another known code"),
        pytest.param("nobody", "nobody", id="an unknown code is shown as itself"),
        pytest.param(None, "", id="no code is blank"),
    ],
)
def test_a_code_is_shown_by_its_chinese_label(code: str | None, label: str) -> None:
    assert label_zh(ROLES, code) == label


def test_the_label_comes_from_the_table_asked() -> None:
    assert label_zh(PLAN_SECTIONS, "background") == "建设背景与意义"
    assert label_zh(PLAN_SECTIONS, "province") == "province"
