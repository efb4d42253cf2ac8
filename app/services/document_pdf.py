"""An issued document as a PDF (issue 16 §4): title, number, date, subject, the decision in readable Chinese and
the SHA-256 of its canonical content, so a printed copy can be checked against the feed.

reportlab's built-in Adobe CID font STSong-Light draws the Chinese text, so no font file is needed. Rendering is
CPU work (about 10 ms), so the route runs it in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from app.domain import documents as rules
from app.domain import reference

FONT = "STSong-Light"
MONO = "Courier"
SUBJECT_ZH = {"application": "申报", "center": "技术创新中心"}


@dataclass(frozen=True)
class PdfInput:
    """What the PDF shows: the stored document, and the feed seq of its event when it is known."""

    kind: str
    number: str
    issued_on: date
    subject_type: str
    subject_id: str
    subject_name: str
    content: dict[str, Any]
    sha256: str
    event_seq: int | None


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points. CJK text has no spaces to break at, so it breaks between any characters."""
    lines, line = [], ""
    for char in text:
        if line and pdfmetrics.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line]


class _Sheet:
    """An A4 canvas written top-down: a centred title, then wrapped lines (continuations indented), new pages as
    needed. `invariant=True` leaves the creation date out, so the same input gives the same bytes (the ETag)."""

    def __init__(self, title: str) -> None:
        _font()
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, invariant=True)
        self.canvas.setTitle(title)
        self.width, self.height = A4
        self.left, self.y = 25 * mm, self.height - 30 * mm
        self.usable = self.width - 2 * self.left
        self.canvas.setFont(FONT, 16)
        for part in _wrap(title, FONT, 16, self.usable):
            self.canvas.drawCentredString(self.width / 2, self.y, part)
            self.y -= 9 * mm

    def line(self, text: str, *, font: str = FONT, size: float = 11, gap: float = 7 * mm) -> None:
        for index, part in enumerate(_wrap(text, font, size, self.usable - 8 * mm)):
            if self.y < 25 * mm:
                self.canvas.showPage()
                self.y = self.height - 25 * mm
            self.canvas.setFont(font, size)
            self.canvas.drawString(self.left + (8 * mm if index else 0), self.y, part)
            self.y -= gap

    def skip(self, space: float) -> None:
        self.y -= space

    def pdf(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def render(doc: PdfInput) -> bytes:
    """The PDF bytes. Deterministic for the same input (no creation date), so the ETag can be the content's."""
    sheet = _Sheet(rules.title(doc.kind, doc.subject_name))
    sheet.canvas.setSubject(doc.number)
    line = sheet.line
    line(doc.number, size=12, gap=10 * mm)
    line(f"文件类型：{rules.KINDS[doc.kind].label_zh}")
    line(f"成文日期：{doc.issued_on.isoformat()}")
    line(f"对象：{SUBJECT_ZH.get(doc.subject_type, doc.subject_type)} {doc.subject_name}")
    line(f"对象标识：{doc.subject_id}", gap=10 * mm)
    for label, value in rules.content_lines(doc.content):
        line(f"{label}：{value}")
    sheet.skip(5 * mm)
    line("核验：本文件决定内容（规范化 JSON）的 SHA-256 摘要，与公开事件流所载一致：", size=10)
    line(f"SHA-256: {doc.sha256}", font=MONO, size=9)
    if doc.event_seq is not None:
        line(f"Event seq: {doc.event_seq}", font=MONO, size=9)
    line(rules.ISSUER, gap=7 * mm)
    return sheet.pdf()


@dataclass(frozen=True)
class NoticeEntry:
    name: str
    lead_org_name: str
    field: str


@dataclass(frozen=True)
class NoticePdfInput:
    """A public notice (公示) as published: title, dates and list, and the SHA-256 of that published content."""

    title: str
    starts_on: date
    ends_on: date
    working_days: int
    entries: tuple[NoticeEntry, ...]
    sha256: str


def render_notice(notice: NoticePdfInput) -> bytes:
    """The published list of a 公示 as a PDF, with the digest of what it publishes (the public JSON's content)."""
    sheet = _Sheet(notice.title)
    line = sheet.line
    line(
        f"公示期：{notice.starts_on.isoformat()} 至 {notice.ends_on.isoformat()}（{notice.working_days}个工作日）",
        gap=10 * mm,
    )
    for number, entry in enumerate(notice.entries, start=1):
        line(f"{number}. {entry.name}")
        line(f"   牵头单位：{entry.lead_org_name}    领域：{_field_zh(entry.field)}", size=10)
    sheet.skip(5 * mm)
    line("公示期内如有异议，请以书面形式向河南省科学技术厅反映。", size=10)
    line("核验：本名单公开内容（规范化 JSON）的 SHA-256 摘要：", size=10)
    line(f"SHA-256: {notice.sha256}", font=MONO, size=9)
    line(rules.ISSUER, gap=7 * mm)
    return sheet.pdf()


def _field_zh(code: str) -> str:
    return next((c.label_zh for c in reference.FIELDS if c.code == code), code)
