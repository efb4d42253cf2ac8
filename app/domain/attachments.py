"""Attachments (附件) and the formal review (形式审查) that checks them (issue 16 §1–2; 豫科〔2021〕116号 五(二)).

Pure rules only: which kinds of document exist and what they may be attached to, which media types are accepted and
how they are recognised from the bytes (never from the client's header), the upload limits, the download headers
(RFC 6266/5987 file names), and the formal review's checklist, verdicts and completion guard. The service reads the
bytes and the ZIP directory; this module decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.domain.eligibility import NOT_APPLICABLE
from app.domain.guards import Blocker, blocker

SUBJECTS = ("application", "center")


@dataclass(frozen=True, slots=True)
class AttachmentKind:
    code: str
    label_zh: str
    label_en: str
    subjects: tuple[str, ...]


_BOTH = ("application", "center")

# The documents the notice and practice ask for. Evidence for the eligibility rules is attached to applications;
# the construction period's documents (task book, acceptance, annual reports, changes) to centers.
ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = (
    AttachmentKind("audit_report", "审计报告", "Audit report", _BOTH),
    AttachmentKind("rd_audit", "研发投入专项审计", "Special audit of R&D investment", _BOTH),
    AttachmentKind("patent_certificate", "专利证书", "Patent certificate", _BOTH),
    AttachmentKind("talent_proof", "人才证明", "Proof of high-level talent", _BOTH),
    AttachmentKind("integrity_pledge", "诚信承诺书", "Integrity pledge", ("application",)),
    AttachmentKind("construction_plan_pdf", "建设方案 PDF", "Construction plan (PDF)", ("application",)),
    AttachmentKind("acceptance_report", "验收报告", "Acceptance report", ("center",)),
    AttachmentKind("annual_report", "年度报告", "Annual report", ("center",)),
    AttachmentKind("task_book", "任务书", "Task book", ("center",)),
    AttachmentKind("change_request", "变更申请材料", "Change request documents", ("center",)),
    AttachmentKind("objection", "异议材料", "Objection documents", _BOTH),
    AttachmentKind("other", "其他", "Other", _BOTH),
)
KINDS: Mapping[str, AttachmentKind] = {kind.code: kind for kind in ATTACHMENT_KINDS}


def kind_problem(subject: str, kind: str) -> str | None:
    """Why `kind` may not be attached to a `subject`, or None."""
    known = KINDS.get(kind)
    if known is None:
        return f"unknown attachment kind; one of: {', '.join(KINDS)}"
    if subject not in known.subjects:
        return f"a {kind} is not attached to a {subject}"
    return None


# --- media types, recognised from the bytes ----------------------------------------------------------------------

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ZIP = "application/zip"
OFD = "application/ofd"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED_MEDIA_TYPES = (PDF, PNG, JPEG, OFD, XLSX, DOCX, ZIP)
# How many bytes of the head `media_type` needs.
HEAD_BYTES = 8
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(head: bytes) -> bool:
    """A ZIP container (local file header, or the end record of an empty archive): its entries decide the type."""
    return head.startswith(_ZIP_MAGIC)


def media_type(head: bytes, zip_entries: Sequence[str] | None = None) -> str | None:
    """The media type the bytes are, from their first bytes and, for a ZIP container, its entry names; None when it
    is not one of the accepted types. OFD (GB/T 33190) has `OFD.xml` at its root; OOXML files have
    `[Content_Types].xml` and their main part (`word/document.xml`, `xl/workbook.xml`)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if not is_zip(head):
        return None
    if zip_entries is None:  # the container could not be read: a damaged or disguised file
        return None
    names = set(zip_entries)
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return ZIP


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int
    max_subject_bytes: int


def size_problem(size: int, limits: Limits) -> str | None:
    """`attachment-empty` or `attachment-too-large` for a file's size, or None."""
    if size <= 0:
        return "attachment-empty"
    if size > limits.max_file_bytes:
        return "attachment-too-large"
    return None


def quota_exceeded(stored_bytes: int, size: int, limits: Limits) -> bool:
    """Would this file take the subject past its total? Exactly at the total is still allowed."""
    return stored_bytes + size > limits.max_subject_bytes


# --- file names and download headers -----------------------------------------------------------------------------

MAX_FILE_NAME = 255
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]')


def clean_file_name(raw: str | None) -> str:
    """The name a file is stored under: the last path component, NFC, without control or reserved characters,
    at most 255 characters (keeping the extension); `file` when nothing is left."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and 0 < len(ext) <= 16 else ""
        name = (stem if keep else name)[: MAX_FILE_NAME - len(keep) - (1 if keep else 0)] + (f".{keep}" if keep else "")
    return name or "file"


def ascii_fallback(name: str) -> str:
    """RFC 6266's `filename` for clients that ignore `filename*`: ASCII letters kept, every other character `_`."""
    out = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_" for ch in name)
    return out or "file"


def content_disposition(name: str, *, inline: bool = False) -> str:
    """`Content-Disposition` for a download: the ASCII fallback and the UTF-8 name (RFC 5987 `filename*`)."""
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def etag_matches(if_none_match: str | None, digest: str) -> bool:
    """RFC 9110 §13.1.2: `*` or any listed entity tag (weak or strong) naming this digest."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == f'"{digest}"':
            return True
    return False


# --- formal review (形式审查) -------------------------------------------------------------------------------------

VERDICTS = ("verified", "doubtful", "not_evidenced")
OUTCOMES = ("complete", "incomplete")


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One eligibility rule that needs evidence: the kinds that back it and whether one is in the submission."""

    rule: str
    kinds: tuple[str, ...]
    attached: bool

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kinds": list(self.kinds), "attached": self.attached}


def evidence_items(
    evidence: Mapping[str, tuple[str, ...]], checks: Iterable[Mapping[str, Any]], attached_kinds: Iterable[str]
) -> list[EvidenceItem]:
    """The rules of the recorded verdict that claim something a document must back: those the rule set maps to
    evidence kinds and that passed on the applicant's word or await a person's judgement (`manual`: the document
    is what the judgement reads). A rule that failed blocked the submission; one that does not apply claims nothing."""
    kinds = set(attached_kinds)
    out = []
    for check in checks:
        rule = str(check.get("rule"))
        wanted = evidence.get(rule)
        if wanted and check.get("outcome") in ("pass", "manual") and not _not_applicable(check):
            out.append(EvidenceItem(rule, wanted, any(k in kinds for k in wanted)))
    return out


def _not_applicable(check: Mapping[str, Any]) -> bool:
    # Rules for enterprise leads pass any other lead with `actual` = "not applicable" (eligibility.NOT_APPLICABLE).
    return check.get("actual") == NOT_APPLICABLE


def verdict_problems(
    required: Sequence[str], verdicts: Mapping[str, Mapping[str, Any]]
) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, message) for each payload problem of a formal review's verdicts (422): a rule that needs evidence
    without a verdict, a verdict on a rule that needs none, a doubtful or missing one without a note."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for rule in required:
        if rule not in verdicts:
            out.append((("verdicts", rule), "every rule that needs evidence gets a verdict"))
    for rule, verdict in verdicts.items():
        if rule not in required:
            out.append((("verdicts", rule), "this rule needs no evidence in this application"))
        elif verdict.get("verdict") != "verified" and not str(verdict.get("note") or "").strip():
            out.append((("verdicts", rule, "note"), "a doubtful or not-evidenced verdict says why in a note"))
    return out


def completion_blockers(
    missing_sections: Sequence[str], items: Sequence[EvidenceItem], verdicts: Mapping[str, Mapping[str, Any]]
) -> list[Blocker]:
    """Why a formal review may not conclude `complete`: a plan section is missing, a rule's evidence is not in the
    submission, or the reviewer marked a rule `not_evidenced`."""
    out = []
    if missing_sections:
        out.append(
            blocker(
                "plan-incomplete",
                "建设方案七个部分均须填写",
                "All seven plan sections are required.",
                missing_sections=list(missing_sections),
            )
        )
    unattached = [item.rule for item in items if not item.attached]
    if unattached:
        out.append(
            blocker(
                "evidence-missing",
                "以下条件缺少证明材料：" + "、".join(unattached),
                "No supporting document is attached for: " + ", ".join(unattached) + ".",
                rules=unattached,
            )
        )
    refused = [rule for rule, v in verdicts.items() if v.get("verdict") == "not_evidenced"]
    if refused:
        out.append(
            blocker(
                "not-evidenced",
                "以下条件经审查无证明：" + "、".join(refused),
                "Marked not evidenced by the reviewer: " + ", ".join(refused) + ".",
                rules=refused,
            )
        )
    return out


FORMAL_REVIEW_INCOMPLETE = blocker(
    "formal-review-incomplete",
    "形式审查尚未通过，不能进入专家评审",
    "The formal review (形式审查) has not been completed for this submission.",
)
