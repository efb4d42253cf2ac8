"""Attachments (附件) of applications and centers: upload, list, read and download (issue 16 §1).

An upload is spooled to a temporary file in a worker thread, hashed and counted as it is copied, recognised from its
bytes, checked against the limits, stored in the object store under its SHA-256 (skipped when that object exists
already) and only then recorded as a row with a feed event. A refused file is never stored; the temporary file is
always removed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, AttachmentRecord, CenterRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import attachments as repo
from app.domain import applications as app_rules
from app.domain import attachments as rules
from app.domain.errors import RuleViolation
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.services import applications, audit, centers
from app.services.clock import Clock
from app.services.errors import AttachmentRefused, InvalidReference, NotFound
from app.services.storage import CHUNK_BYTES, ObjectStorage


@dataclass(frozen=True)
class Spooled:
    """An upload copied to a temporary file: its digest, size, head and (for a ZIP) entry names."""

    path: Path | None
    sha256: str
    size: int
    media_type: str | None
    too_large: bool = False


def spool(source: BinaryIO, directory: str | None, max_bytes: int) -> Spooled:
    """Copy `source` to a temporary file in chunks, hashing and counting; stop as soon as it passes `max_bytes`.
    Blocking: run it in a worker thread."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, name = tempfile.mkstemp(prefix="tic-upload-", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    path.unlink(missing_ok=True)
                    return Spooled(None, "", size, None, too_large=True)
                if len(head) < rules.HEAD_BYTES:
                    head += chunk[: rules.HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        entries = None
        if rules.is_zip(head):
            try:
                with zipfile.ZipFile(path) as archive:
                    entries = archive.namelist()
            except (zipfile.BadZipFile, OSError, ValueError):
                entries = None
        return Spooled(path, digest.hexdigest(), size, rules.media_type(head, entries))
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Upload:
    kind: str
    note: str | None
    file_name: str | None
    file: BinaryIO


# --- the subject and who may write to it --------------------------------------------------------------------------


async def _subject(
    session: AsyncSession, principal: Principal, subject_type: str, subject_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationRecord | CenterRecord:
    """The application or center within the caller's read reach (404 otherwise)."""
    if subject_type == "application":
        return await applications.load(session, principal, subject_id, for_update=for_update)
    return await centers.load(session, principal, subject_id, for_update=for_update)


def _write_problem(principal: Principal, subject_type: str, record: ApplicationRecord | CenterRecord) -> None:
    """Writers: the province for any subject, the lead for its own; others within reach get 404 as for a subject
    that does not exist. An application takes attachments only while it is editable (a submission is frozen)."""
    own = principal.role == "applicant" and record.lead_org_id == principal.org_id
    if principal.role != "province" and not own:
        raise NotFound(subject_type, str(record.id))
    if subject_type == "application" and record.status not in app_rules.EDITABLE_STATUSES:
        raise RuleViolation(
            "attachments-frozen",
            f"申报已提交（{record.status}），附件随提交冻结",
            f"Attachments are frozen with the submission (status '{record.status}'); they are added while the "
            "application is draft, returned, revising or incomplete.",
            {"status": record.status},
        )
    if subject_type == "center" and record.status in CENTER.terminal:
        raise RuleViolation(
            "center-closed",
            f"中心已{record.status}，不再接收附件",
            f"The center is {record.status}; it takes no more attachments.",
            {"status": record.status},
        )


async def upload(
    session: AsyncSession,
    principal: Principal,
    storage: ObjectStorage,
    subject_type: str,
    subject_id: uuid.UUID,
    data: Upload,
    *,
    limits: rules.Limits,
    clock: Clock,
    temp_dir: str | None = None,
) -> AttachmentRecord:
    # Locked: two uploads to one subject are counted against its quota one after the other.
    record = await _subject(session, principal, subject_type, subject_id, for_update=True)
    _write_problem(principal, subject_type, record)
    if (problem := rules.kind_problem(subject_type, data.kind)) is not None:
        raise InvalidReference(loc=("body", "kind"), msg=problem, type="enum")
    spooled = await asyncio.to_thread(spool, data.file, temp_dir, limits.max_file_bytes)
    try:
        if spooled.too_large or (code := rules.size_problem(spooled.size, limits)) == "attachment-too-large":
            raise AttachmentRefused(
                "attachment-too-large",
                f"a file is at most {limits.max_file_bytes} bytes",
                {"limit_bytes": limits.max_file_bytes},
            )
        if code is not None:
            raise AttachmentRefused(code, "the file is empty")
        if spooled.media_type is None:
            raise AttachmentRefused(
                "attachment-type-refused",
                "the content is not PDF, PNG, JPEG, OFD, XLSX, DOCX or ZIP",
                {"accepted": list(rules.ALLOWED_MEDIA_TYPES)},
            )
        stored = await repo.stored_bytes(session, subject_type, record.id)
        if rules.quota_exceeded(stored, spooled.size, limits):
            raise AttachmentRefused(
                "attachment-quota-exceeded",
                "the subject's attachments would exceed their total",
                {"limit_bytes": limits.max_subject_bytes, "stored_bytes": stored},
            )
        assert spooled.path is not None
        # The object first, the row after: a row always names bytes that exist. Same bytes, same object.
        if not await storage.exists(spooled.sha256):
            await storage.put_file(spooled.sha256, spooled.path)
    finally:
        if spooled.path is not None:
            await asyncio.to_thread(spooled.path.unlink, missing_ok=True)
    attachment = AttachmentRecord(
        id=uuid.uuid4(),
        subject_type=subject_type,
        subject_id=record.id,
        kind=data.kind,
        file_name=rules.clean_file_name(data.file_name),
        sha256=spooled.sha256,
        size=spooled.size,
        media_type=spooled.media_type,
        note=data.note,
        uploaded_by=principal.sub,
        uploader_role=principal.role,
        uploader_org_id=principal.org_id,
        uploaded_at=clock.now(),
    )
    await repo.add(session, attachment)
    # No file name in the feed: names of proofs often carry a person's name (张三_博士学位证书.pdf), and the feed
    # goes to observers and webhooks. The digest identifies the document for anyone holding it.
    await audit.record_event(
        session,
        principal,
        type="attachment.added",
        subject_type=subject_type,
        subject_id=record.id,
        data={
            "attachment_id": str(attachment.id),
            "kind": attachment.kind,
            "sha256": attachment.sha256,
            "size": attachment.size,
            "media_type": attachment.media_type,
        },
    )
    return attachment


async def list_attachments(
    session: AsyncSession, principal: Principal, subject_type: str, subject_id: uuid.UUID, page: PageRequest
) -> PageResult[AttachmentRecord]:
    record = await _subject(session, principal, subject_type, subject_id)
    return await repo.list_page(session, subject_type, record.id, page)


async def get_attachment(
    session: AsyncSession, principal: Principal, subject_type: str, subject_id: uuid.UUID, attachment_id: uuid.UUID
) -> AttachmentRecord:
    record = await _subject(session, principal, subject_type, subject_id)
    found = await repo.get(session, subject_type, record.id, attachment_id)
    if found is None:
        raise NotFound("attachment", str(attachment_id))
    return found


async def content(storage: ObjectStorage, sha256: str) -> AsyncIterator[bytes]:
    """The stored bytes, a chunk at a time. Given the digest, not the row: the body streams after the request's
    transaction has ended."""
    async for chunk in storage.stream(sha256):
        yield chunk


async def frozen_list(session: AsyncSession, application_id: uuid.UUID) -> list[dict[str, Any]]:
    """What a submission is judged on: each attachment's id, kind, digest and size, oldest first."""
    return [
        {"id": str(a.id), "kind": a.kind, "sha256": a.sha256, "size": a.size}
        for a in await repo.all_of(session, "application", application_id)
    ]
