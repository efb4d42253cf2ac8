"""Attachments' pure rules (issue 16 §1–2): kinds, media types from the bytes, limits, download headers, and the
formal review's evidence, verdicts and completion guard — every boundary pinned."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import attachments as rules
from app.domain.attachments import DOCX, JPEG, OFD, PDF, PNG, XLSX, ZIP, EvidenceItem, Limits

# --- kinds -----------------------------------------------------------------------------------------------------------


def test_the_kinds_are_the_agreed_codes_with_both_labels() -> None:
    assert [(k.code, k.label_zh) for k in rules.ATTACHMENT_KINDS] == [
        ("audit_report", "审计报告"),
        ("rd_audit", "研发投入专项审计"),
        ("patent_certificate", "专利证书"),
        ("talent_proof", "人才证明"),
        ("integrity_pledge", "诚信承诺书"),
        ("construction_plan_pdf", "建设方案 PDF"),
        ("acceptance_report", "验收报告"),
        ("annual_report", "年度报告"),
        ("task_book", "任务书"),
        ("change_request", "变更申请材料"),
        ("objection", "异议材料"),
        ("other", "其他"),
    ]
    assert all(k.label_en and set(k.subjects) <= set(rules.SUBJECTS) for k in rules.ATTACHMENT_KINDS)
    assert rules.SUBJECTS == ("application", "center")


@pytest.mark.parametrize(
    ("subject", "kind", "expected"),
    [
        ("application", "rd_audit", None),
        ("center", "rd_audit", None),
        ("application", "integrity_pledge", None),
        ("center", "integrity_pledge", "a integrity_pledge is not attached to a center"),
        ("application", "task_book", "a task_book is not attached to a application"),
        ("center", "acceptance_report", None),
        ("application", "objection", None),
        ("center", "other", None),
    ],
)
def test_a_kind_applies_to_its_subjects_only(subject: str, kind: str, expected: str | None) -> None:
    assert rules.kind_problem(subject, kind) == expected


def test_an_unknown_kind_names_the_known_ones() -> None:
    problem = rules.kind_problem("application", "bank_slip")
    assert problem == "unknown attachment kind; one of: " + ", ".join(k.code for k in rules.ATTACHMENT_KINDS)


# --- media types ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "entries", "expected"),
    [
        (b"%PDF-1.7", None, PDF),
        (b"%PDF-", None, PDF),
        (b"%PDF", None, None),
        (b"\x89PNG\r\n\x1a\n", None, PNG),
        (b"\x89PNG\r\n\x1a", None, None),
        (b"\xff\xd8\xff\xe0", None, JPEG),
        (b"\xff\xd8\xff", None, JPEG),
        (b"\xff\xd8", None, None),
        (b"GIF89a", None, None),
        (b"MZ\x90\x00", None, None),
        (b"", None, None),
        (b"PK\x03\x04", ["OFD.xml", "Doc_0/Document.xml"], OFD),
        (b"PK\x03\x04", ["[Content_Types].xml", "word/document.xml"], DOCX),
        (b"PK\x03\x04", ["[Content_Types].xml", "xl/workbook.xml"], XLSX),
        (b"PK\x03\x04", ["[Content_Types].xml", "ppt/presentation.xml"], ZIP),
        (b"PK\x03\x04", ["word/document.xml"], ZIP),
        (b"PK\x03\x04", ["xl/workbook.xml"], ZIP),
        (b"PK\x03\x04", ["Doc_0/OFD.xml"], ZIP),
        (b"PK\x03\x04", ["readme.txt"], ZIP),
        (b"PK\x05\x06", [], ZIP),
        (b"PK\x03\x04", None, None),
        (b"PK\x07\x08", ["a"], None),
    ],
)
def test_the_media_type_is_recognised_from_the_bytes_and_zip_entries(
    head: bytes, entries: list[str] | None, expected: str | None
) -> None:
    assert rules.media_type(head, entries) == expected


def test_a_pdf_head_wins_whatever_entries_are_claimed() -> None:
    assert rules.media_type(b"%PDF-1.4", ["OFD.xml"]) == PDF


def test_the_accepted_types_and_the_head_size() -> None:
    assert rules.ALLOWED_MEDIA_TYPES == (PDF, PNG, JPEG, OFD, XLSX, DOCX, ZIP)
    assert rules.HEAD_BYTES == 8
    assert OFD == "application/ofd"
    assert DOCX == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert XLSX == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (PDF, PNG, JPEG, ZIP) == ("application/pdf", "image/png", "image/jpeg", "application/zip")


@pytest.mark.parametrize(
    ("head", "expected"), [(b"PK\x03\x04", True), (b"PK\x05\x06", True), (b"PK\x03", False), (b"%PDF-", False)]
)
def test_a_zip_container_is_known_by_its_signature(head: bytes, expected: bool) -> None:
    assert rules.is_zip(head) is expected


# --- limits ---------------------------------------------------------------------------------------------------------

LIMITS = Limits(max_file_bytes=100, max_subject_bytes=250)


@pytest.mark.parametrize(
    ("size", "expected"),
    [(-1, "attachment-empty"), (0, "attachment-empty"), (1, None), (100, None), (101, "attachment-too-large")],
)
def test_a_file_is_between_one_byte_and_the_per_file_limit(size: int, expected: str | None) -> None:
    assert rules.size_problem(size, LIMITS) == expected


@pytest.mark.parametrize(
    ("stored", "size", "expected"), [(0, 250, False), (150, 100, False), (150, 101, True), (250, 1, True)]
)
def test_a_subjects_total_may_be_reached_but_not_passed(stored: int, size: int, expected: bool) -> None:
    assert rules.quota_exceeded(stored, size, LIMITS) is expected


# --- names and headers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("审计报告.pdf", "审计报告.pdf"),
        ("C:\\Users\\张三\\审计报告.pdf", "审计报告.pdf"),
        ("../../etc/passwd", "passwd"),
        ('a"b<c>|d?.pdf', "a_b_c__d_.pdf"),
        ("tab\there.pdf", "tab_here.pdf"),
        (" .hidden. ", "hidden"),
        ("", "file"),
        (None, "file"),
        ("...", "file"),
        ("e\u0301.pdf", "\u00e9.pdf"),
    ],
)
def test_a_file_name_is_cleaned_to_its_last_component(raw: str | None, expected: str) -> None:
    assert rules.clean_file_name(raw) == expected


def test_a_long_file_name_keeps_its_extension_within_255_characters() -> None:
    name = rules.clean_file_name("报" * 300 + ".pdf")
    assert len(name) == 255
    assert name == "报" * 251 + ".pdf"
    exact = "a" * 251 + ".pdf"
    assert rules.clean_file_name(exact) == exact
    no_ext = rules.clean_file_name("b" * 300)
    assert no_ext == "b" * 255
    long_ext = rules.clean_file_name("c" * 250 + "." + "d" * 20)
    assert long_ext == ("c" * 250 + "." + "d" * 20)[:255]
    sixteen = rules.clean_file_name("e" * 300 + "." + "f" * 16)
    assert sixteen == "e" * 238 + "." + "f" * 16


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ("2025 审计报告.pdf", "2025 ____.pdf", "2025%20%E5%AE%A1%E8%AE%A1%E6%8A%A5%E5%91%8A.pdf"),
        ('a"b\\c%d.pdf', "a_b_c_d.pdf", "a%22b%5Cc%25d.pdf"),
        ("审计", "__", "%E5%AE%A1%E8%AE%A1"),
        ("~x", "~x", "~x"),
    ],
)
def test_content_disposition_carries_an_ascii_fallback_and_the_utf8_name(
    name: str, fallback: str, encoded: str
) -> None:
    assert rules.ascii_fallback(name) == fallback
    assert rules.content_disposition(name) == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    assert rules.content_disposition(name, inline=True).startswith('inline; filename="')


def test_an_empty_name_falls_back_to_file() -> None:
    assert rules.ascii_fallback("") == "file"
    assert rules.ascii_fallback("\x7f") == "_"
    assert rules.ascii_fallback("\x1f") == "_"
    assert rules.ascii_fallback(" ") == " "


DIGEST = "ab" * 32


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        (f'"{DIGEST}"', True),
        (f'W/"{DIGEST}"', True),
        (f'"other", "{DIGEST}"', True),
        (f' "x" ,W/"{DIGEST}" ', True),
        ("*", True),
        (DIGEST, False),
        ('"other"', False),
    ],
)
def test_if_none_match_names_the_digest_or_anything(header: str | None, expected: bool) -> None:
    assert rules.etag_matches(header, DIGEST) is expected


# --- formal review ---------------------------------------------------------------------------------------------------

EVIDENCE = {"rd_spend_3y_avg": ("rd_audit", "audit_report"), "high_level_talents": ("talent_proof",)}


def check(rule: str, outcome: str = "pass", actual: str = "ok") -> dict[str, Any]:
    return {"rule": rule, "outcome": outcome, "expected": "≥ 4000.00", "actual": actual}


@pytest.mark.parametrize(
    ("checks", "kinds", "expected"),
    [
        pytest.param(
            [check("rd_spend_3y_avg"), check("high_level_talents"), check("field_in_layout")],
            ["audit_report"],
            [
                EvidenceItem("rd_spend_3y_avg", ("rd_audit", "audit_report"), True),
                EvidenceItem("high_level_talents", ("talent_proof",), False),
            ],
            id="passing rules need evidence; others none",
        ),
        pytest.param(
            [check("high_level_talents", "manual")],
            ["talent_proof"],
            [EvidenceItem("high_level_talents", ("talent_proof",), True)],
            id="a manual rule needs its document",
        ),
        pytest.param([check("high_level_talents", "fail")], [], [], id="a failing rule blocked submission"),
        pytest.param(
            [check("rd_spend_3y_avg", actual="not applicable")], [], [], id="a rule that does not apply claims nothing"
        ),
        pytest.param(
            [check("rd_spend_3y_avg")],
            ["rd_audit"],
            [EvidenceItem("rd_spend_3y_avg", EVIDENCE["rd_spend_3y_avg"], True)],
            id="either kind",
        ),
        pytest.param(
            [check("rd_spend_3y_avg")],
            ["other"],
            [EvidenceItem("rd_spend_3y_avg", EVIDENCE["rd_spend_3y_avg"], False)],
            id="another kind does not count",
        ),
    ],
)
def test_the_rules_needing_evidence_are_the_claimed_ones(
    checks: list[dict[str, Any]], kinds: list[str], expected: list[EvidenceItem]
) -> None:
    assert rules.evidence_items(EVIDENCE, checks, kinds) == expected


def test_an_evidence_item_as_data() -> None:
    item = EvidenceItem("rd_spend_3y_avg", ("rd_audit", "audit_report"), False)
    assert item.as_dict() == {"rule": "rd_spend_3y_avg", "kinds": ["rd_audit", "audit_report"], "attached": False}


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        pytest.param({"a": {"verdict": "verified"}, "b": {"verdict": "verified", "note": None}}, [], id="all verified"),
        pytest.param(
            {"a": {"verdict": "verified"}},
            [(("verdicts", "b"), "every rule that needs evidence gets a verdict")],
            id="one missing",
        ),
        pytest.param(
            {"a": {"verdict": "verified"}, "b": {"verdict": "verified"}, "c": {"verdict": "verified"}},
            [(("verdicts", "c"), "this rule needs no evidence in this application")],
            id="one too many",
        ),
        pytest.param(
            {"a": {"verdict": "doubtful", "note": "  "}, "b": {"verdict": "not_evidenced"}},
            [
                (("verdicts", "a", "note"), "a doubtful or not-evidenced verdict says why in a note"),
                (("verdicts", "b", "note"), "a doubtful or not-evidenced verdict says why in a note"),
            ],
            id="notes required",
        ),
        pytest.param(
            {"a": {"verdict": "doubtful", "note": "复印件不清"}, "b": {"verdict": "not_evidenced", "note": "缺"}},
            [],
            id="with notes",
        ),
    ],
)
def test_every_rule_needing_evidence_gets_exactly_one_verdict(
    verdicts: dict[str, dict[str, Any]], expected: list[tuple[tuple[str, ...], str]]
) -> None:
    assert rules.verdict_problems(["a", "b"], verdicts) == expected


def test_a_complete_outcome_needs_sections_evidence_and_no_not_evidenced_verdict() -> None:
    items = [EvidenceItem("a", ("rd_audit",), True), EvidenceItem("b", ("talent_proof",), False)]
    found = rules.completion_blockers(["funding"], items, {"a": {"verdict": "not_evidenced"}, "b": {"verdict": "x"}})
    assert [(b.code, b.message_zh, b.message_en, dict(b.data)) for b in found] == [
        (
            "plan-incomplete",
            "建设方案七个部分均须填写",
            "All seven plan sections are required.",
            {"missing_sections": ["funding"]},
        ),
        ("evidence-missing", "以下条件缺少证明材料：b", "No supporting document is attached for: b.", {"rules": ["b"]}),
        ("not-evidenced", "以下条件经审查无证明：a", "Marked not evidenced by the reviewer: a.", {"rules": ["a"]}),
    ]
    ready = [EvidenceItem("a", ("rd_audit",), True)]
    assert rules.completion_blockers([], ready, {"a": {"verdict": "doubtful", "note": "?"}}) == []
    assert rules.completion_blockers([], ready, {}) == []


def test_the_formal_review_blocker_of_open_review() -> None:
    blocker = rules.FORMAL_REVIEW_INCOMPLETE
    assert (blocker.code, blocker.message_zh, blocker.message_en, dict(blocker.data)) == (
        "formal-review-incomplete",
        "形式审查尚未通过，不能进入专家评审",
        "The formal review (形式审查) has not been completed for this submission.",
        {},
    )
    assert rules.VERDICTS == ("verified", "doubtful", "not_evidenced")
    assert rules.OUTCOMES == ("complete", "incomplete")
