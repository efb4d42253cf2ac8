"""Attachments (issue 16 §1): upload, dedup by digest, refusals that leave nothing behind, reach, download headers —
the same set over the local folder and a real S3-compatible server (moto's, started here on a free port)."""

from __future__ import annotations

import io
import socket
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import obstore
import pytest
from fastapi import FastAPI

from app.api.deps import get_attachment_limits
from app.domain.attachments import DOCX, OFD, PDF, PNG, XLSX, ZIP, Limits
from app.services.attachments import spool
from app.services.storage import ObjectStorage, StorageConfig, object_key
from tests.api.helpers import (
    PDF_BYTES,
    World,
    act,
    attach,
    draft,
    experts,
    make_world,
    problem,
    put_panel,
    recommended,
)
from tests.api.test_centers import import_center, orgs

APPS = "/api/v1/applications"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto in server mode) on a free local port, with one bucket."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).create_bucket(Bucket="tic-attachments")
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, app: FastAPI, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[ObjectStorage]:
    """The app's object store for one test: a fresh local folder, or the S3 bucket under a fresh prefix."""
    if request.param == "local":
        config = StorageConfig(url=None, local_root=tmp_path / "objects")
    else:
        config = StorageConfig(
            url=f"s3://tic-attachments/{uuid.uuid4().hex}",
            local_root=tmp_path,
            endpoint=s3_endpoint,
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
        )
    built = ObjectStorage.build(config)
    before = app.state.storage
    app.state.storage = built
    try:
        yield built
    finally:
        app.state.storage = before


async def object_keys(storage: ObjectStorage) -> list[str]:
    return [meta["path"] for batch in obstore.list(storage._store) for meta in batch]


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: Any) -> World:
    return await make_world(client, auth)


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


async def test_an_upload_is_answered_with_its_digest_size_and_detected_type_and_reads_back(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    response = await attach(client, path, world.applicant, "audit_report", PDF_BYTES, "2025 审计报告.pdf", note="年报")
    body = response.json()
    import hashlib

    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert body["kind"] == "audit_report"
    assert body["sha256"] == digest
    assert body["size"] == len(PDF_BYTES)
    assert body["media_type"] == PDF
    assert body["file_name"] == "2025 审计报告.pdf"
    assert body["note"] == "年报"
    assert body["uploaded_by"] == {"role": "applicant", "org_id": world.lead["id"]}
    assert response.headers["location"] == f"{path}/attachments/{body['id']}"

    listed = (await client.get(f"{path}/attachments", headers=world.province)).json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    one = await client.get(f"{path}/attachments/{body['id']}", headers=world.supervisor)
    assert one.status_code == 200
    assert one.json() == body

    content = await client.get(f"{path}/attachments/{body['id']}/content", headers=world.province)
    assert content.status_code == 200
    assert content.content == PDF_BYTES
    assert content.headers["etag"] == f'"{digest}"'
    assert content.headers["content-type"] == PDF
    assert content.headers["content-disposition"] == (
        "attachment; filename=\"2025 ____.pdf\"; filename*=UTF-8''2025%20%E5%AE%A1%E8%AE%A1%E6%8A%A5%E5%91%8A.pdf"
    )
    again = await client.get(
        f"{path}/attachments/{body['id']}/content", headers={**world.province, "If-None-Match": f'"{digest}"'}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == f'"{digest}"'


async def test_the_same_file_twice_is_one_object_and_two_rows(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    content = PDF_BYTES + uuid.uuid4().bytes
    first = (await attach(client, path, world.applicant, "audit_report", content, "a.pdf")).json()
    second = (await attach(client, path, world.province, "rd_audit", content, "b.pdf")).json()
    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]
    assert (await object_keys(storage)).count(object_key(first["sha256"])) == 1
    assert len([k for k in await object_keys(storage) if first["sha256"] in k]) == 1
    listed = (await client.get(f"{path}/attachments", headers=world.applicant)).json()["items"]
    assert [(a["kind"], a["file_name"]) for a in listed] == [("audit_report", "a.pdf"), ("rd_audit", "b.pdf")]
    for item in listed:
        download = await client.get(f"{path}/attachments/{item['id']}/content", headers=world.applicant)
        assert download.content == content


@pytest.fixture
def small_limits(app: FastAPI) -> Iterator[Limits]:
    limits = Limits(max_file_bytes=2048, max_subject_bytes=3000)
    app.dependency_overrides[get_attachment_limits] = lambda: limits
    try:
        yield limits
    finally:
        app.dependency_overrides.pop(get_attachment_limits, None)


async def test_a_file_over_the_limit_is_refused_and_leaves_neither_row_nor_object(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage, small_limits: Limits
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    content = PDF_BYTES + b"x" * 2048
    body = problem(
        await attach(client, path, world.applicant, content=content, expected=None), 413, "attachment-too-large"
    )
    assert body["limit_bytes"] == 2048
    assert (await client.get(f"{path}/attachments", headers=world.province)).json()["items"] == []
    assert await object_keys(storage) == []
    # Exactly at the limit is accepted.
    at_limit = (PDF_BYTES + b"y" * 2048)[:2048]
    assert (await attach(client, path, world.applicant, content=at_limit)).json()["size"] == 2048


async def test_the_subjects_total_is_enforced(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage, small_limits: Limits
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    await attach(client, path, world.applicant, content=(PDF_BYTES + b"a" * 2000)[:2000])
    await attach(client, path, world.applicant, content=(PDF_BYTES + b"b" * 1000)[:1000])  # exactly 3000 in all
    over = problem(
        await attach(client, path, world.applicant, content=PDF_BYTES + b"c", expected=None),
        409,
        "attachment-quota-exceeded",
    )
    assert over["limit_bytes"] == 3000
    assert over["stored_bytes"] == 3000
    assert len(await object_keys(storage)) == 2


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 an executable", "报告.pdf"),
        (b"plain text pretending", "审计报告.pdf"),
        (b"PK\x03\x04 not really a zip", "x.docx"),
        (b"GIF89a", "x.gif"),
    ],
)
async def test_a_file_of_a_refused_type_is_a_problem_and_leaves_nothing(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage, content: bytes, name: str
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    body = problem(
        await attach(client, path, world.applicant, content=content, file_name=name, expected=None),
        422,
        "attachment-type-refused",
    )
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert (await client.get(f"{path}/attachments", headers=world.province)).json()["items"] == []
    assert await object_keys(storage) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", PNG),
        (zip_bytes("[Content_Types].xml", "word/document.xml"), DOCX),
        (zip_bytes("[Content_Types].xml", "xl/workbook.xml"), XLSX),
        (zip_bytes("OFD.xml", "Doc_0/Document.xml"), OFD),
        (zip_bytes("readme.txt"), ZIP),
    ],
)
async def test_the_media_type_comes_from_the_bytes(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage, content: bytes, expected: str
) -> None:
    application = await draft(client, world)
    response = await attach(client, f"{APPS}/{application['id']}", world.applicant, content=content, file_name="a.pdf")
    assert response.json()["media_type"] == expected


async def test_an_empty_file_and_unknown_or_misplaced_kinds_are_refused_on_their_field(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    problem(await attach(client, path, world.applicant, content=b"", expected=None), 422, "attachment-empty")
    for kind in ("bank_statement", "acceptance_report"):
        body = problem(await attach(client, path, world.applicant, kind, expected=None), 422, "validation-failed")
        assert body["errors"][0]["loc"] == ["body", "kind"]


async def test_a_submission_freezes_its_attachments_and_records_their_digests(
    client: httpx.AsyncClient, world: World, storage: ObjectStorage
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    added = (await attach(client, path, world.applicant, "rd_audit")).json()
    submitted = await act(client, application["id"], "submit", world.applicant)
    assert submitted["submitted_attachments"] == [
        {"id": added["id"], "kind": "rd_audit", "sha256": added["sha256"], "size": added["size"]}
    ]
    frozen = problem(await attach(client, path, world.applicant, expected=None), 409, "rule-violation")
    assert frozen["rule"] == "attachments-frozen"
    history = (await client.get(f"{path}/history", headers=world.province)).json()["items"]
    assert history[-1]["action"] == "submit"
    events = (await client.get("/api/v1/events", headers=world.province, params={"limit": 200})).json()["items"]
    added_events = [e for e in events if e["type"] == "attachment.added" and e["subject_id"] == application["id"]]
    assert [e["data"] for e in added_events] == [
        {
            "attachment_id": added["id"],
            "kind": "rd_audit",
            "sha256": added["sha256"],
            "size": added["size"],
            "media_type": PDF,
        }
    ]
    submit_event = next(
        e for e in events if e["type"] == "application.submitted" and e["subject_id"] == application["id"]
    )
    assert submit_event["data"]["attachments"] == [added["sha256"]]


async def test_reach_follows_the_application_and_experts_see_only_while_on_its_panel(
    client: httpx.AsyncClient, world: World, auth: Any, storage: ObjectStorage
) -> None:
    application = await recommended(client, world)
    path = f"{APPS}/{application['id']}"
    listed = (await client.get(f"{path}/attachments", headers=world.province)).json()["items"]
    attachment = listed[0]["id"]
    panel = await experts(client, world.province)
    member = auth("expert", expert_id=panel[0]["id"])
    outsider = auth("expert", expert_id=(await experts(client, world.province, 1))[0]["id"])
    # Before review opens even a panel member has no reach.
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    problem(await client.get(f"{path}/attachments", headers=member), 404, "not-found")
    await act(client, application["id"], "open_review", world.province)
    assert (await client.get(f"{path}/attachments", headers=member)).status_code == 200
    download = await client.get(f"{path}/attachments/{attachment}/content", headers=member)
    assert download.status_code == 200
    for route in ("attachments", f"attachments/{attachment}", f"attachments/{attachment}/content"):
        problem(await client.get(f"{path}/{route}", headers=outsider), 404, "not-found")
    other = auth("applicant", org_id=world.university["id"])
    problem(await client.get(f"{path}/attachments", headers=other), 404, "not-found")
    problem(
        await client.get(f"{path}/attachments", headers=auth("third_party", org_id=world.university["id"])),
        404,
        "not-found",
    )
    # Readers that do not write: 404 on upload, as for an application that does not exist.
    problem(await attach(client, path, world.supervisor, expected=None), 404, "not-found")
    problem(await attach(client, path, member, expected=None), 404, "not-found")
    problem(await client.get(f"{path}/attachments/{uuid.uuid4()}", headers=world.province), 404, "not-found")


async def test_a_center_takes_attachments_from_its_lead_and_the_province(
    client: httpx.AsyncClient, auth: Any, storage: ObjectStorage
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    path = f"/api/v1/centers/{center['id']}"
    task_book = (await attach(client, path, w["applicant"], "task_book", file_name="任务书.pdf")).json()
    await attach(client, path, w["province"], "acceptance_report", PDF_BYTES + b"v")
    problem(await attach(client, path, w["applicant"], "integrity_pledge", expected=None), 422, "validation-failed")
    problem(await attach(client, path, w["supervisor"], expected=None), 404, "not-found")
    listed = (await client.get(f"{path}/attachments", headers=w["supervisor"], params={"limit": 1})).json()
    assert [a["id"] for a in listed["items"]] == [task_book["id"]]
    following = await client.get(
        f"{path}/attachments", headers=w["supervisor"], params={"limit": 1, "cursor": listed["next_cursor"]}
    )
    assert [a["kind"] for a in following.json()["items"]] == ["acceptance_report"]
    assert following.json()["next_cursor"] is None
    content = await client.get(f"{path}/attachments/{task_book['id']}/content", headers=w["third_party"])
    problem(content, 404, "not-found")  # no agency is entrusted with this center
    content = await client.get(f"{path}/attachments/{task_book['id']}/content", headers=w["applicant"])
    assert content.content == PDF_BYTES


async def test_the_attachment_kinds_are_reference_data(client: httpx.AsyncClient, auth: Any) -> None:
    kinds = (await client.get("/api/v1/reference/attachment-kinds", headers=auth("observer"))).json()
    by_code = {k["code"]: k for k in kinds}
    assert list(by_code) == [
        "audit_report",
        "rd_audit",
        "patent_certificate",
        "talent_proof",
        "integrity_pledge",
        "construction_plan_pdf",
        "acceptance_report",
        "annual_report",
        "task_book",
        "change_request",
        "objection",
        "other",
    ]
    assert by_code["rd_audit"] == {
        "code": "rd_audit",
        "label_zh": "研发投入专项审计",
        "label_en": "Special audit of R&D investment",
        "subjects": ["application", "center"],
    }


def test_a_failed_read_while_spooling_leaves_no_temporary_file(tmp_path: Path) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        spool(Broken(), str(tmp_path), 1024)
    assert list(tmp_path.iterdir()) == []
    # A file over the limit stops the copy at once and leaves nothing either.
    over = spool(io.BytesIO(PDF_BYTES * 100), str(tmp_path), 1024)
    assert (over.too_large, over.path) == (True, None)
    assert list(tmp_path.iterdir()) == []
    # A ZIP whose directory cannot be read is no accepted type.
    broken_zip = spool(io.BytesIO(b"PK\x03\x04" + b"\x00" * 64), str(tmp_path), 1024)
    assert broken_zip.media_type is None
    assert broken_zip.path is not None
    broken_zip.path.unlink()


async def test_a_revoked_center_takes_no_more_attachments_and_lists_filter_by_time(
    client: httpx.AsyncClient, auth: Any, storage: ObjectStorage
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    path = f"/api/v1/centers/{center['id']}"
    first = (await attach(client, path, w["province"], "other")).json()
    since = await client.get(
        f"{path}/attachments", headers=w["province"], params={"updated_since": first["uploaded_at"]}
    )
    assert [a["id"] for a in since.json()["items"]] == [first["id"]]
    later = await client.get(
        f"{path}/attachments", headers=w["province"], params={"updated_since": "2999-01-01T00:00:00Z"}
    )
    assert later.status_code in (200, 422)
    revoke = {"reason_code": "fraud", "reason": "弄虚作假", "decided_on": "2026-01-05"}
    response = await client.post(f"{path}/revoke", json=revoke, headers=w["province"])
    assert response.status_code == 200, response.text
    closed = problem(await attach(client, path, w["province"], expected=None), 409, "rule-violation")
    assert closed["rule"] == "center-closed"
