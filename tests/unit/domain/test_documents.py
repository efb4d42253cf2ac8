"""app/domain/documents.py: which decisions issue documents, the number format and its edges, the canonical content
and how it reads in Chinese."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain import documents as rules
from app.domain.events import canonical_json, fingerprint


@pytest.mark.parametrize(
    ("prefix", "year", "n", "expected"),
    [
        ("豫科", 2026, 17, "豫科〔2026〕17号"),
        ("豫科", 2026, 1, "豫科〔2026〕1号"),
        ("豫政文", 2000, 1, "豫政文〔2000〕1号"),
        ("豫科", 2100, 999, "豫科〔2100〕999号"),
        ("K" * 20, 2026, 2, "K" * 20 + "〔2026〕2号"),
    ],
)
def test_a_number_is_prefix_year_in_brackets_and_n(prefix: str, year: int, n: int, expected: str) -> None:
    assert rules.format_number(prefix, year, n) == expected


@pytest.mark.parametrize(
    ("prefix", "year", "n", "message"),
    [
        ("豫科", 2026, 0, "a document number counts from 1"),
        ("豫科", 2026, -1, "a document number counts from 1"),
        ("豫科", 1999, 1, "a document year is between 2000 and 2100"),
        ("豫科", 2101, 1, "a document year is between 2000 and 2100"),
        ("豫科", 9999, 1, "a document year is between 2000 and 2100"),
        ("", 2026, 1, "the document number prefix must be non-empty and without surrounding spaces"),
        (" 豫科", 2026, 1, "the document number prefix must be non-empty and without surrounding spaces"),
        ("豫科 ", 2026, 1, "the document number prefix must be non-empty and without surrounding spaces"),
        ("K" * 21, 2026, 1, "the document number prefix has at most 20 characters"),
        ("豫〔科", 2026, 1, "the document number prefix may not contain 〔, 〕 or 号"),
        ("豫〕科", 2026, 1, "the document number prefix may not contain 〔, 〕 or 号"),
        ("豫号", 2026, 1, "the document number prefix may not contain 〔, 〕 or 号"),
    ],
)
def test_an_impossible_number_is_refused_with_its_reason(prefix: str, year: int, n: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        rules.format_number(prefix, year, n)


@pytest.mark.parametrize(("prefix", "problem"), [("豫科", None), ("K" * 20, None), ("豫 科", None)])
def test_a_usable_prefix_has_no_problem(prefix: str, problem: str | None) -> None:
    assert rules.prefix_problem(prefix) is problem


def test_the_default_prefix_is_henans_science_department() -> None:
    assert rules.DEFAULT_PREFIX == "豫科"
    assert rules.prefix_problem(rules.DEFAULT_PREFIX) is None


@pytest.mark.parametrize(
    ("subject_type", "action", "to_status", "kind"),
    [
        ("application", "approve", "approved", "approval"),
        ("application", "reject", "rejected", None),
        ("application", "conclude_review", "reviewed", None),
        ("center", "approve", "approved", None),
        ("center", "recognize", "recognized", "recognition"),
        ("center", "revoke", "revoked", "revocation"),
        ("center", "record_acceptance", "rectifying", "rectification"),
        ("center", "record_acceptance", "accepted", None),
        ("center", "record_acceptance", "revoked", "revocation"),
        ("center", "record_assessment", "rectifying", "rectification"),
        ("center", "record_assessment", "recognized", None),
        ("center", "record_assessment", "revoked", "revocation"),
        ("center", "record_rectification_review", "rectifying", None),
        ("center", "record_rectification_review", "revoked", "revocation"),
        ("center", "record_rectification_review", "recognized", None),
        ("center", "exit", "exited", None),
        ("annual_report", "approve", "approved", None),
        ("annual_report", "recognize", "recognized", None),
    ],
)
def test_only_the_four_kinds_of_decision_issue_documents(
    subject_type: str, action: str, to_status: str, kind: str | None
) -> None:
    assert rules.document_kind(subject_type, action, to_status) == kind


def test_every_kind_has_its_label_and_title() -> None:
    assert {code: k.label_zh for code, k in rules.KINDS.items()} == {
        "approval": "批复",
        "recognition": "认定",
        "rectification": "整改通知",
        "revocation": "撤销",
    }
    assert [rules.title(code, "甲中心") for code in rules.KINDS] == [
        "河南省科学技术厅关于同意建设甲中心的批复",
        "河南省科学技术厅关于认定甲中心为河南省技术创新中心的通知",
        "河南省科学技术厅关于甲中心限期整改的通知",
        "河南省科学技术厅关于撤销甲中心的决定",
    ]


APPROVAL: dict[str, Any] = {
    "subject_type": "application",
    "subject_id": "5f0c8a1e-0000-4000-8000-000000000001",
    "action": "approve",
    "from_status": "reviewed",
    "to_status": "approved",
    "decision_date": date(2026, 8, 11),
    "reason": None,
    "data": {"document_no": "豫科〔2026〕1号", "center_id": "c1"},
}


def test_the_canonical_content_of_a_decision_and_its_digest() -> None:
    content = rules.decision_document(**APPROVAL)
    assert content == {
        "subject_type": "application",
        "subject_id": "5f0c8a1e-0000-4000-8000-000000000001",
        "action": "approve",
        "from": "reviewed",
        "to": "approved",
        "decision_date": "2026-08-11",
        "reason": None,
        "data": {"document_no": "豫科〔2026〕1号", "center_id": "c1"},
    }
    # Sorted keys, no spaces, UTF-8 (not \\u escapes): the bytes anyone can hash again.
    assert canonical_json(content) == (
        '{"action":"approve","data":{"center_id":"c1","document_no":"豫科〔2026〕1号"},"decision_date":"2026-08-11",'
        '"from":"reviewed","reason":null,"subject_id":"5f0c8a1e-0000-4000-8000-000000000001",'
        '"subject_type":"application","to":"approved"}'
    )
    # Pinned: the digest of exactly those bytes (hashlib.sha256 of the line above), as the feed records it.
    assert fingerprint(content) == "1358e84034efafc2f34c0813ec6d9cb44659e90287b93716fc7c03046b936021"


def test_the_content_data_is_copied_not_shared() -> None:
    data = {"document_no": "豫科〔2026〕1号"}
    content = rules.decision_document(**{**APPROVAL, "data": data})
    data["document_no"] = "changed"
    assert content["data"] == {"document_no": "豫科〔2026〕1号"}


def test_a_decision_reads_in_chinese_in_a_stable_order() -> None:
    content = rules.decision_document(
        **{
            **APPROVAL,
            "subject_type": "center",
            "action": "revoke",
            "from_status": "recognized",
            "to_status": "revoked",
            "reason": "弄虚作假",
            "data": {
                "reason_code": "fraud",
                "recover_funds": True,
                "document_no": "豫科〔2026〕3号",
                "decision_sha256": "ab" * 32,
                "unknown_key": 7,
            },
        }
    )
    assert rules.content_lines(content) == [
        ("决定日期", "2026-08-11"),
        ("状态变更", "已认定 → 已撤销"),
        ("理由", "弄虚作假"),
        ("文号", "豫科〔2026〕3号"),
        ("撤销原因", "弄虚作假"),
        ("追回财政资金", "是"),
        ("unknown_key", "7"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"result": "failed"}, [("验收结论", "未通过")]),
        ({"result": "passed"}, [("验收结论", "通过")]),
        ({"result": "odd"}, [("验收结论", "odd")]),
        ({"grade": "unqualified"}, [("评估等级", "不合格")]),
        ({"grade": "excellent"}, [("评估等级", "优秀")]),
        ({"grade": "odd"}, [("评估等级", "odd")]),
        ({"reason_code": "failed_rectification"}, [("撤销原因", "整改不合格")]),
        ({"reason_code": "odd"}, [("撤销原因", "odd")]),
        ({"recover_funds": False}, [("追回财政资金", "否")]),
        ({"by_org_id": None}, [("验收机构标识", "无")]),
        ({"rectification_due_on": "2026-04-20"}, [("整改期限", "2026-04-20")]),
        ({"months": 0}, [("months", "0")]),
    ],
)
def test_each_recorded_datum_reads_in_chinese(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    content = rules.decision_document(**{**APPROVAL, "from_status": None, "to_status": "rectifying", "data": data})
    assert rules.content_lines(content) == [("决定日期", "2026-08-11"), ("状态变更", "整改中"), *expected]


def test_an_unknown_status_reads_as_its_code() -> None:
    content = rules.decision_document(**{**APPROVAL, "from_status": "limbo", "to_status": "nowhere", "data": {}})
    assert rules.content_lines(content) == [("决定日期", "2026-08-11"), ("状态变更", "limbo → nowhere")]


def test_the_pdf_is_named_after_its_number() -> None:
    assert rules.pdf_file_name("豫科〔2026〕17号") == "豫科〔2026〕17号.pdf"
