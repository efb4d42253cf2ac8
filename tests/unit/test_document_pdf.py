"""The document PDF (app/services/document_pdf.py): Chinese text in the built-in CID font, wrapped to the page, over
several pages when the reason is long, the digest always stated, byte-identical for the same document."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from pypdf import PdfReader

from app.services.document_pdf import FONT, PdfInput, _wrap, render

REVOCATION = PdfInput(
    kind="revocation",
    number="豫科〔2026〕3号",
    issued_on=date(2026, 4, 1),
    subject_type="center",
    subject_id="b2c8b3cb-5b84-4c0b-8bdf-60f3bc4da66f",
    subject_name="河南省某技术创新中心",
    content={
        "decision_date": "2026-04-01",
        "from": "recognized",
        "to": "revoked",
        "reason": "弄虚作假",
        "data": {"document_no": "豫科〔2026〕3号", "reason_code": "fraud"},
    },
    sha256="ab" * 32,
    event_seq=41,
)


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_the_pdf_states_title_number_subject_decision_and_digest() -> None:
    pages, text = text_of(render(REVOCATION))
    assert pages == 1
    for expected in (
        "河南省科学技术厅关于撤销河南省某技术创新中心的决定",
        "豫科〔2026〕3号",
        "文件类型：撤销",
        "成文日期：2026-04-01",
        "对象：技术创新中心 河南省某技术创新中心",
        "状态变更：已认定 → 已撤销",
        "撤销原因：弄虚作假",
        f"SHA-256: {'ab' * 32}",
        "Event seq: 41",
    ):
        assert expected in text, expected


def test_the_same_document_renders_to_the_same_bytes() -> None:
    assert render(REVOCATION) == render(REVOCATION)
    assert render(REVOCATION) != render(replace(REVOCATION, event_seq=42))


def test_without_a_known_event_the_seq_line_is_left_out() -> None:
    _, text = text_of(render(replace(REVOCATION, event_seq=None)))
    assert "Event seq" not in text
    assert f"SHA-256: {'ab' * 32}" in text


def test_a_long_reason_wraps_and_flows_onto_a_second_page() -> None:
    long = replace(REVOCATION, content={**REVOCATION.content, "reason": "弄虚作假" * 500})
    pages, text = text_of(render(long))
    assert pages == 2
    assert f"SHA-256: {'ab' * 32}" in text


def test_lines_break_between_characters_within_the_width() -> None:
    assert _wrap("", FONT, 10, 100) == [""]
    assert _wrap("豫科", FONT, 10, 100) == ["豫科"]
    # A CID glyph is one em: 10 points at size 10, so 100 points hold ten characters.
    assert _wrap("一" * 25, FONT, 10, 100) == ["一" * 10, "一" * 10, "一" * 5]
