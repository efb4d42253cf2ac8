"""Official documents (公文, issue 16 §4): which decisions issue one, how they are numbered and what they say.

A decision with an official date is recorded as a canonical document (`decision_document`) whose SHA-256 the feed
event of the transition carries; the approval (批复), the recognition (认定), a rectification notice (整改通知) and a
revocation (撤销) are also issued as numbered documents, `<prefix>〔YYYY〕N号` (豫科〔2026〕17号), numbered per prefix
and year from 1 without gaps. Everything here is pure; the register (the counter row) is in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain import reference

DEFAULT_PREFIX = "豫科"
ISSUER = "河南省科学技术厅"
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_PREFIX_LENGTH = 20


@dataclass(frozen=True)
class Kind:
    code: str
    label_zh: str
    # The title, with {name} standing for the subject's name.
    title_zh: str


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("approval", "批复", ISSUER + "关于同意建设{name}的批复"),
        Kind("recognition", "认定", ISSUER + "关于认定{name}为河南省技术创新中心的通知"),
        Kind("rectification", "整改通知", ISSUER + "关于{name}限期整改的通知"),
        Kind("revocation", "撤销", ISSUER + "关于撤销{name}的决定"),
    )
}


def document_kind(subject_type: str, action: str, to_status: str) -> str | None:
    """The kind of document a transition issues, or None: approval (application `approve`), recognition (center
    `recognize`), a rectification notice (a failed acceptance or an assessment that sends a center to `rectifying`)
    and a revocation (any decision that revokes a center: `revoke`, a second failed acceptance, a failed
    rectification review, an assessment)."""
    if subject_type == "application":
        return "approval" if action == "approve" else None
    if subject_type != "center":
        return None
    if action == "recognize":
        return "recognition"
    # Every revocation is decided and notified (domain.md §7): by `revoke`, and when a second failed acceptance, a
    # failed rectification review or an assessment revokes the center.
    if to_status == "revoked":
        return "revocation"
    if action in ("record_acceptance", "record_assessment") and to_status == "rectifying":
        return "rectification"
    return None


def prefix_problem(prefix: str) -> str | None:
    """Why a configured number prefix is unusable: empty, too long, or containing the number's own brackets."""
    if not prefix or prefix != prefix.strip():
        return "the document number prefix must be non-empty and without surrounding spaces"
    if len(prefix) > MAX_PREFIX_LENGTH:
        return f"the document number prefix has at most {MAX_PREFIX_LENGTH} characters"
    if any(c in prefix for c in "〔〕号"):
        return "the document number prefix may not contain 〔, 〕 or 号"
    return None


def format_number(prefix: str, year: int, n: int) -> str:
    """`<prefix>〔YYYY〕N号`: 豫科〔2026〕17号. The year is the decision's, N counts from 1 within (prefix, year)."""
    if (problem := prefix_problem(prefix)) is not None:
        raise ValueError(problem)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"a document year is between {MIN_YEAR} and {MAX_YEAR}")
    if n < 1:
        raise ValueError("a document number counts from 1")
    return f"{prefix}〔{year}〕{n}号"


def decision_document(
    *,
    subject_type: str,
    subject_id: str,
    action: str,
    from_status: str | None,
    to_status: str,
    decision_date: date,
    reason: str | None,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The canonical content of a decision: what its SHA-256 (`app.domain.events.fingerprint`) is taken over, both
    in the feed event (`decision_sha256`) and in the issued document."""
    return {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "action": action,
        "from": from_status,
        "to": to_status,
        "decision_date": decision_date.isoformat(),
        "reason": reason,
        "data": dict(data),
    }


def title(kind: str, subject_name: str) -> str:
    return KINDS[kind].title_zh.format(name=subject_name)


STATUS_ZH = {
    "approved": "批准建设",
    "under_construction": "建设中",
    "acceptance_requested": "已申请验收",
    "accepted": "验收通过",
    "rectifying": "整改中",
    "recognized": "已认定",
    "revoked": "已撤销",
    "exited": "已退出",
    "reviewed": "已评审",
}
RESULT_ZH = {"passed": "通过", "failed": "未通过"}
GRADE_ZH = {"excellent": "优秀", "good": "良好", "qualified": "合格", "unqualified": "不合格"}
REASON_CODES_ZH = {c.code: c.label_zh for c in reference.REVOCATION_REASONS}
LABELS_ZH: dict[str, str] = {
    "document_no": "文号",
    "center_id": "中心标识",
    "recognition_no": "认定编号",
    "result": "验收结论",
    "by_org_id": "验收机构标识",
    "rectification_due_on": "整改期限",
    "reason_code": "撤销原因",
    "recover_funds": "追回财政资金",
    "cycle_id": "评估批次标识",
    "grade": "评估等级",
    "consequence": "评估结果处理",
}


def _value_zh(key: str, value: Any) -> str:
    if value is None:
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    if key == "result":
        return RESULT_ZH.get(text, text)
    if key == "reason_code":
        return REASON_CODES_ZH.get(text, text)
    if key == "grade":
        return GRADE_ZH.get(text, text)
    return text


def content_lines(content: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The decision in readable Chinese, (label, value) in a stable order: the date, the change of status, the
    reason, then every recorded datum (labelled when known, by its key otherwise)."""
    lines = [("决定日期", str(content["decision_date"]))]
    to_status = str(content["to"])
    from_status = content.get("from")
    change = STATUS_ZH.get(to_status, to_status)
    if from_status:
        change = f"{STATUS_ZH.get(str(from_status), str(from_status))} → {change}"
    lines.append(("状态变更", change))
    if content.get("reason"):
        lines.append(("理由", str(content["reason"])))
    data = content.get("data") or {}
    for key in sorted(data):
        if key == "decision_sha256":
            continue
        lines.append((LABELS_ZH.get(key, key), _value_zh(key, data[key])))
    return lines


def pdf_file_name(number: str) -> str:
    """The download's file name: the number, which is what a clerk files it under (豫科〔2026〕17号.pdf)."""
    return f"{number}.pdf"
