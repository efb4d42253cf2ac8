"""Seeding the bench database through the service's own code.

Reference data (the province's supervising departments, a published call) and a sample of centers go through the
use cases themselves: `services.organizations.create_organization`, `services.calls.create_call` + `act("publish")`,
and `services.centers.import_center`, which numbers the center, writes its `import` transition and appends its
hash-chained feed event. The bulk (leads, centers, their import transitions and feed events, annual reports, filler
feed events up to the requested total, submitted applications) is written with COPY into the tables the ORM models
define (column lists checked against `*Record.__table__`), with rows shaped the way those use cases shape them: the
same codes, the same transition and event payloads, and feed rows hashed by `app.domain.events.Event`, continuing the
chain the services started, so `GET /events/verify` holds over the whole feed. The feed's Merkle tree (`log_nodes`) is
integrated in bulk too (`Seeder.integrate_tree`): every perfect-subtree node `app.domain.merkle.new_nodes` makes from
the events' canonical JSON, as `app.db.repositories.log.integrate` does a batch at a time, written with COPY.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import (
    AnnualReportRecord,
    ApplicationRecord,
    CenterRecord,
    EventRecord,
    LogNodeRecord,
    OrganizationRecord,
    TransitionRecord,
)
from app.db.session import create_engine, create_sessionmaker, transaction
from app.domain import merkle, reference
from app.domain.credit_code import credit_code_check_char, org_code_check_char
from app.domain.deadlines import add_years, default_construction_end
from app.domain.events import GENESIS_HASH, Event, canonical_json, fingerprint
from app.domain.principal import Principal
from app.services import calls, centers, organizations
from bench.config import AS_OF

DEPARTMENTS = 4
CENTERS_PER_LEAD = 10
BATCH = 20_000
SERVICE_BATCH = 25
REGIONS = ("郑州市", "洛阳市", "新乡市", "南阳市", "许昌市", "焦作市", "开封市", "平顶山市", "安阳市", "商丘市")
FIELDS = reference.codes(reference.FIELDS)
PROVINCE = Principal(sub="bench-province", role="province")
SEEDER = ("bench-seed", "province")
_CODE = re.compile(r"^HNTIC-(\d{4})-(\d+)$")
_RECOGNITION = re.compile(r"^HNTIC-R-(\d{4})-(\d+)$")


def credit_code(index: int, region: str = "410100") -> str:
    """A well-formed unified social credit code (GB 32100 and GB 11714 check characters) for organization `index`."""
    org = f"{index:08d}"
    body = f"91{region}{org}{org_code_check_char(org)}"
    return body + credit_code_check_char(body)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def copy_rows(connection: asyncpg.Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY `rows` (dicts keyed by column name, all with the same keys) into the ORM model's table."""
    if not rows:
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]  # KeyError on a name the model does not have
    jsonb = [isinstance(column.type, JSONB) for column in columns]
    records = [
        tuple(_json(row[name]) if is_json else row[name] for name, is_json in zip(names, jsonb, strict=True))
        for row in rows
    ]
    await connection.copy_records_to_table(table.name, records=records, columns=names)


def _batches(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def event_of(row: Mapping[str, Any]) -> Event:
    """The domain's event from an `events` row as asyncpg returns it (JSONB as text)."""
    return Event(
        seq=row["seq"],
        id=str(row["id"]),
        type=row["type"],
        subject_type=row["subject_type"],
        subject_id=str(row["subject_id"]),
        actor_sub=row["actor_sub"],
        actor_role=row["actor_role"],
        occurred_at=row["occurred_at"],
        effective_on=row["effective_on"],
        data=json.loads(row["data"]),
        prev_hash=row["prev_hash"],
    )


class Chain:
    """The feed's hash chain from where the service left it: every row hashed exactly as `events.append` does."""

    def __init__(self, seq: int, prev_hash: str) -> None:
        self.seq = seq
        self.prev_hash = prev_hash

    @classmethod
    async def resume(cls, connection: asyncpg.Connection) -> Chain:
        last = await connection.fetchrow("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        return cls(last["seq"], last["hash"]) if last else cls(0, GENESIS_HASH)

    def row(
        self,
        *,
        type: str,
        subject_type: str,
        subject_id: uuid.UUID,
        occurred_at: datetime,
        data: Mapping[str, Any],
        effective_on: date | None = None,
        actor: tuple[str, str] = SEEDER,
    ) -> dict[str, Any]:
        self.seq += 1
        event = Event(
            seq=self.seq,
            id=str(uuid.uuid4()),
            type=type,
            subject_type=subject_type,
            subject_id=str(subject_id),
            actor_sub=actor[0],
            actor_role=actor[1],
            occurred_at=occurred_at,
            effective_on=effective_on,
            data=dict(data),
            prev_hash=self.prev_hash,
        )
        digest = event.compute_hash()
        self.prev_hash = digest
        return {
            "seq": event.seq,
            "id": uuid.UUID(event.id),
            "type": type,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "actor_sub": actor[0],
            "actor_role": actor[1],
            "occurred_at": occurred_at,
            "effective_on": effective_on,
            "data": event.body()["data"],
            "prev_hash": event.prev_hash,
            "hash": digest,
        }


@dataclass(frozen=True)
class NewCenter:
    id: uuid.UUID
    approved_on: date
    status: str


@dataclass
class SeedStats:
    sample_centers: int = 0
    bulk_centers: int = 0
    annual_reports: int = 0
    events: int = 0
    applications: int = 0


class Seeder:
    """Grows one database through the sizes of a run: 1k centers, then 10k, then 100k, and the feed to 1M events."""

    def __init__(self, url: str, *, sample: int, seed: int = 20261129) -> None:
        self.url = url
        self.sample = sample
        self.rng = random.Random(seed)
        self.departments: list[uuid.UUID] = []
        self.leads: list[uuid.UUID] = []
        self.centers = 0
        self.call_id: uuid.UUID | None = None
        self.code_seq: Counter[int] = Counter()
        self.recognition_seq: Counter[int] = Counter()
        self.clock = datetime.now(UTC)
        self.stats = SeedStats()

    @property
    def bench_department(self) -> uuid.UUID:
        """The supervising department whose token the read and write scenarios use (a quarter of the leads)."""
        return self.departments[0]

    def _tick(self, step: timedelta = timedelta(milliseconds=7)) -> datetime:
        self.clock += step
        return self.clock

    # --- reference data and the sample, through the services ------------------------------------------------------

    async def _reference(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with transaction(sessionmaker) as session:
            for index in range(DEPARTMENTS):
                record = await organizations.create_organization(
                    session,
                    PROVINCE,
                    {
                        "name": f"{REGIONS[index]}科学技术局",
                        "credit_code": credit_code(index + 1, "410000"),
                        "kind": "department",
                        "region": REGIONS[index],
                    },
                )
                self.departments.append(record.id)
            call = await calls.create_call(
                session,
                PROVINCE,
                {
                    "year": 2026,
                    "title": "2026年度河南省技术创新中心申报",
                    "fields": list(FIELDS),
                    "opens_on": date(2026, 1, 1),
                    "closes_on": date(2026, 12, 31),
                    "rule_set": "henan-2021",
                },
            )
            await calls.act(session, PROVINCE, call.id, "publish", reason=None, expected_version=None)
            self.call_id = call.id

    async def _sample(self, sessionmaker: async_sessionmaker[AsyncSession], count: int) -> list[NewCenter]:
        out: list[NewCenter] = []
        for start in range(0, count, SERVICE_BATCH):
            async with transaction(sessionmaker) as session:
                for index in range(start, min(count, start + SERVICE_BATCH)):
                    paper = self._paper_center(index)
                    status = "recognized" if paper["recognized_on"] else "under_construction"
                    record = await centers.import_center(
                        session,
                        PROVINCE,
                        {
                            "name": paper["name"],
                            "field": paper["field"],
                            "lead_org_id": paper["lead_org_id"],
                            "participants": paper["participants"],
                            "status": status,
                            "approved_on": paper["approved_on"],
                            "document_no": paper["approval_document_no"],
                            "construction_starts_on": paper["construction_starts_on"],
                            "construction_ends_on": paper["construction_ends_on"],
                            "task_book": paper["task_book"],
                            "rule_set": "henan-2021",
                            "recognized_on": paper["recognized_on"],
                        },
                    )
                    out.append(NewCenter(record.id, record.approved_on, record.status))
        self.stats.sample_centers += len(out)
        return out

    # --- the bulk, with COPY --------------------------------------------------------------------------------------

    async def _ensure_leads(self, connection: asyncpg.Connection, count: int) -> None:
        rows = []
        for index in range(len(self.leads), count):
            org_id = uuid.uuid4()
            now = self._tick()
            rows.append(
                {
                    "id": org_id,
                    "name": f"河南某创新科技有限公司{index:06d}",
                    "credit_code": credit_code(1000 + index),
                    "kind": ("enterprise", "enterprise", "university", "research_institute")[index % 4],
                    "region": REGIONS[index % len(REGIONS)],
                    "supervisor_id": self.departments[index % DEPARTMENTS],
                    "is_leading_enterprise": index % 3 == 0,
                    "zones": [],
                    "registered_on": date(2005 + index % 15, 1 + index % 12, 1 + index % 28),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            self.leads.append(org_id)
        for batch in _batches(rows):
            await copy_rows(connection, OrganizationRecord.__table__, batch)

    def _paper_center(self, index: int) -> dict[str, Any]:
        """A center as it exists on paper: dates, status and documents consistent with the domain's timeline."""
        rng = self.rng
        year = 2019 + index % 6
        approved_on = date(year, rng.randint(1, 12), rng.randint(1, 28))
        starts_on = approved_on + timedelta(days=rng.randint(30, 120))
        ends_on = default_construction_end(starts_on)
        field = FIELDS[index % len(FIELDS)]
        lead = self.leads[index // CENTERS_PER_LEAD]
        # Two other organizations, each once and never the lead (the service refuses duplicates and the lead).
        others = [org for org in self.leads if org != lead]
        participants = [{"org_id": str(org), "role": "参建单位"} for org in rng.sample(others, min(2, len(others)))]
        book = {
            "targets": [
                {"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": str(rng.randint(10, 60))},
                {"code": "T2", "name": "技术合同成交额", "unit": "万元", "target_value": str(rng.randint(500, 9000))},
                {"code": "T3", "name": "研发人员", "unit": "人", "target_value": str(rng.randint(50, 400))},
            ],
            "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0.00"},
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        }
        finished = ends_on < date(2025, 9, 1)
        return {
            "name": f"河南省{reference.label_zh(reference.FIELDS, field)}技术创新中心（{index:06d}）",
            "field": field,
            "lead_org_id": lead,
            "participants": participants,
            "approved_on": approved_on,
            "approval_document_no": f"豫科〔{year}〕{index % 200 + 1}号",
            "construction_starts_on": starts_on,
            "construction_ends_on": ends_on,
            "task_book": book,
            "recognized_on": ends_on + timedelta(days=rng.randint(60, 150)) if finished else None,
            "finished": finished,
        }

    def _bulk_center(self, index: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The center row, its `import` transition and its `center.imported` event, as import_center writes them."""
        paper = self._paper_center(index)
        roll = self.rng.random()
        values: dict[str, Any] = {
            "status": "under_construction",
            "recognized_on": None,
            "recognition_no": None,
            "grade": None,
            "last_assessed_on": None,
            "rectifying_kind": None,
            "rectification_due_on": None,
            "acceptance_requested_on": None,
            "acceptance_failures": 0,
            "revoked_on": None,
            "revocation_reason_code": None,
        }
        ends_on: date = paper["construction_ends_on"]
        if paper["finished"]:
            if roll < 0.80:
                recognized_on: date = paper["recognized_on"]
                self.recognition_seq[recognized_on.year] += 1
                values.update(
                    status="recognized",
                    recognized_on=recognized_on,
                    recognition_no=f"HNTIC-R-{recognized_on.year}-{self.recognition_seq[recognized_on.year]:03d}",
                )
                assessed = add_years(recognized_on, 3) - timedelta(days=30)
                if assessed < AS_OF:
                    values.update(
                        last_assessed_on=assessed, grade=("excellent", "good", "good", "qualified")[index % 4]
                    )
            elif roll < 0.88:
                values.update(
                    status="rectifying",
                    rectifying_kind="acceptance",
                    rectification_due_on=ends_on + timedelta(days=180),
                    acceptance_failures=1,
                )
            elif roll < 0.94:
                values.update(status="acceptance_pending", acceptance_requested_on=ends_on - timedelta(days=30))
            else:
                values.update(
                    status="revoked",
                    revoked_on=ends_on + timedelta(days=200),
                    revocation_reason_code="failed_rectification",
                    acceptance_failures=2,
                )
        year = paper["approved_on"].year
        self.code_seq[year] += 1
        code = f"HNTIC-{year}-{self.code_seq[year]:03d}"
        center_id = uuid.uuid4()
        created_at = self._tick()
        book = paper["task_book"]
        center = {
            "id": center_id,
            "code": code,
            "name": paper["name"],
            "field": paper["field"],
            "lead_org_id": paper["lead_org_id"],
            "participants": paper["participants"],
            "application_id": None,
            "rule_set": "henan-2021",
            "approved_on": paper["approved_on"],
            "approval_document_no": paper["approval_document_no"],
            "construction_starts_on": paper["construction_starts_on"],
            "construction_ends_on": ends_on,
            "legal_entity": {"status": "independent", "kind": "enterprise", "credit_code": None},
            "governance": {
                "board": ["张伟", "王芳", "李娜"],
                "director": "刘洋",
                "expert_committee": ["陈静", "杨磊", "赵敏"],
                "technical_committee": ["黄勇", "周杰"],
            },
            "research_direction": f"面向{reference.label_zh(reference.FIELDS, paper['field'])}的关键共性技术研发与转化",
            "task_book": book,
            "task_book_signed_at": datetime.combine(paper["construction_starts_on"], datetime.min.time(), UTC),
            "task_book_sha256": fingerprint(book),
            "grade_history": [],
            "imported": True,
            "version": 1,
            "created_at": created_at,
            "updated_at": created_at,
            **values,
        }
        payload = {"code": code, "document_no": paper["approval_document_no"], "imported": True}
        transition = {
            "subject_type": "center",
            "subject_id": center_id,
            "action": "import",
            "from_status": None,
            "to_status": values["status"],
            "actor_sub": SEEDER[0],
            "actor_role": SEEDER[1],
            "reason": None,
            "decision_date": paper["approved_on"],
            "data": payload,
            "occurred_at": created_at,
        }
        event = {
            "type": "center.imported",
            "subject_type": "center",
            "subject_id": center_id,
            "occurred_at": created_at,
            "effective_on": paper["approved_on"],
            "data": {"action": "import", "from": None, "to": values["status"], "reason": None, **payload},
        }
        return center, transition, event

    async def _continue_numbering(self, connection: asyncpg.Connection) -> None:
        """Bulk codes continue where `services.centers.next_code` left each year's numbering."""
        for row in await connection.fetch("SELECT code, recognition_no FROM centers"):
            if match := _CODE.match(row["code"]):
                year, seq = int(match[1]), int(match[2])
                self.code_seq[year] = max(self.code_seq[year], seq)
            if row["recognition_no"] and (match := _RECOGNITION.match(row["recognition_no"])):
                year, seq = int(match[1]), int(match[2])
                self.recognition_seq[year] = max(self.recognition_seq[year], seq)

    async def _bulk_centers(self, connection: asyncpg.Connection, count: int) -> list[NewCenter]:
        chain = await Chain.resume(connection)
        out: list[NewCenter] = []
        for start in range(self.centers, self.centers + count, BATCH):
            rows = [self._bulk_center(i) for i in range(start, min(self.centers + count, start + BATCH))]
            events = [chain.row(**event) for _, _, event in rows]
            async with connection.transaction():
                await copy_rows(connection, CenterRecord.__table__, [center for center, _, _ in rows])
                await copy_rows(connection, TransitionRecord.__table__, [transition for _, transition, _ in rows])
                await copy_rows(connection, EventRecord.__table__, events)
            out.extend(NewCenter(c["id"], c["approved_on"], c["status"]) for c, _, _ in rows)
        self.stats.bulk_centers += len(out)
        return out

    async def _annual_reports(self, connection: asyncpg.Connection, new: Sequence[NewCenter]) -> None:
        """Most centers filed most of their reports: about 85% of the ended periods have an accepted report."""

        def rows() -> Iterator[dict[str, Any]]:
            for center in new:
                for year in range(center.approved_on.year, AS_OF.year):
                    if self.rng.random() >= 0.85:
                        continue
                    due_on = date(year + 1, 1, 31)
                    submitted = datetime(year + 1, 1, self.rng.randint(5, 30), 9, tzinfo=UTC)
                    yield {
                        "id": uuid.uuid4(),
                        "center_id": center.id,
                        "period_year": year,
                        "summary": f"{year}年度工作总结：完成年度建设任务。",
                        "kpi_actuals": {"T1": str(self.rng.randint(1, 20))},
                        "plan_next_year": f"{year + 1}年度工作计划。",
                        "status": "accepted",
                        "due_on": due_on,
                        "submitted_at": submitted,
                        "late": False,
                        "version": 3,
                        "created_at": submitted,
                        "updated_at": submitted,
                    }

        for batch in _batches(rows()):
            await copy_rows(connection, AnnualReportRecord.__table__, batch)
            self.stats.annual_reports += len(batch)

    # --- the steps the run calls ----------------------------------------------------------------------------------

    async def grow_to(self, total: int) -> None:
        """Bring the number of centers to `total` (and the leads to one per ten centers)."""
        engine = create_engine(self.url, pool_size=2, max_overflow=0)
        connection = await asyncpg.connect(self.url)
        try:
            sessionmaker = create_sessionmaker(engine)
            if not self.departments:
                await self._reference(sessionmaker)
            await self._ensure_leads(connection, math.ceil(total / CENTERS_PER_LEAD))
            new: list[NewCenter] = []
            if self.centers == 0 and self.sample:
                new += await self._sample(sessionmaker, min(self.sample, total))
                self.centers = len(new)
                await self._continue_numbering(connection)
                self.clock = max(self.clock, datetime.now(UTC)) + timedelta(seconds=1)
            if total > self.centers:
                new += await self._bulk_centers(connection, total - self.centers)
                self.centers = total
            await self._annual_reports(connection, new)
        finally:
            await connection.close()
            await engine.dispose()

    async def fill_events(self, total: int) -> None:
        """Filler feed events (`center.task_book_drafted`, as `put_task_book` records them) up to `total` in all."""
        connection = await asyncpg.connect(self.url)
        try:
            chain = await Chain.resume(connection)
            subjects = [r["id"] for r in await connection.fetch("SELECT id FROM centers")]
            while chain.seq < total:
                batch = [
                    chain.row(
                        type="center.task_book_drafted",
                        subject_type="center",
                        subject_id=subjects[self.rng.randrange(len(subjects))],
                        occurred_at=self._tick(timedelta(milliseconds=1)),
                        data={"targets": 3},
                    )
                    for _ in range(min(BATCH, total - chain.seq))
                ]
                await copy_rows(connection, EventRecord.__table__, batch)
            self.stats.events = chain.seq
        finally:
            await connection.close()

    async def integrate_tree(self) -> int:
        """Bring the feed's Merkle tree up to the feed's last event, in bulk; returns the tree size.

        The leaves are the events' canonical JSON, the bytes whose SHA-256 is each row's chain `hash` (checked here for
        every event, so a leaf is what `GET /log/proof/inclusion` would return as its entry)."""
        connection = await asyncpg.connect(self.url)
        try:
            last = await connection.fetchval("SELECT max(idx) FROM log_nodes WHERE level = 0")
            size = 0 if last is None else int(last) + 1
            wanted = merkle.frontier_nodes(size)
            rows = await connection.fetch(
                "SELECT level, idx, hash FROM log_nodes n JOIN unnest($1::smallint[], $2::bigint[]) AS w(l, i) "
                "ON n.level = w.l AND n.idx = w.i",
                [level for level, _ in wanted],
                [idx for _, idx in wanted],
            )
            frontier: dict[merkle.Node, bytes] = {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}
            while True:
                batch = await connection.fetch("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", size, BATCH)
                if not batch:
                    return size
                if batch[0]["seq"] != size + 1:
                    raise RuntimeError(f"the feed has no event {size + 1}: the tree cannot grow past a gap")
                leaves = []
                for row in batch:
                    entry = canonical_json(event_of(row).body()).encode("utf-8")
                    if hashlib.sha256(entry).hexdigest() != row["hash"]:
                        raise RuntimeError(f"event {row['seq']}: its canonical JSON does not hash to its chain hash")
                    leaves.append(merkle.leaf_hash(entry))
                created = merkle.new_nodes(size, frontier, leaves)
                nodes = [{"level": level, "idx": idx, "hash": digest} for (level, idx), digest in created.items()]
                await copy_rows(connection, LogNodeRecord.__table__, nodes)
                size += len(batch)
                known = {**frontier, **created}
                frontier = {node: known[node] for node in merkle.frontier_nodes(size)}
        finally:
            await connection.close()

    async def add_applications(self, count: int) -> list[uuid.UUID]:
        """Submitted applications of the bench department's leads, each waiting for its `recommend`.

        Inserted in the `submitted` state with their recorded eligibility: submission's own path needs a complete
        fact sheet per lead and is not what the write scenario measures."""
        assert self.call_id is not None
        supervised = [lead for index, lead in enumerate(self.leads) if index % DEPARTMENTS == 0]
        plan = dict.fromkeys(reference.codes(reference.PLAN_SECTIONS), "……")
        ids: list[uuid.UUID] = []
        connection = await asyncpg.connect(self.url)
        try:

            def rows() -> Iterator[dict[str, Any]]:
                for index in range(count):
                    app_id = uuid.uuid4()
                    ids.append(app_id)
                    now = self._tick(timedelta(milliseconds=1))
                    field = FIELDS[index % len(FIELDS)]
                    label = reference.label_zh(reference.FIELDS, field)
                    yield {
                        "id": app_id,
                        "call_id": self.call_id,
                        "fast_track": False,
                        "proposed_name": f"河南省{label}技术创新中心（申报{index}）",
                        "field": field,
                        "formation_mode": "enterprise_led",
                        "lead_org_id": supervised[index % len(supervised)],
                        "participants": [],
                        "zones": [],
                        "plan": plan,
                        "facts": {},
                        "rule_set": "henan-2021",
                        "status": "submitted",
                        "eligibility": {"eligible": True, "rule_set": "henan-2021", "judged_on": "2026-02-01"},
                        "submitted_at": now,
                        "created_by": "bench-applicant",
                        "version": 2,
                        "created_at": now,
                        "updated_at": now,
                    }

            for batch in _batches(rows()):
                await copy_rows(connection, ApplicationRecord.__table__, batch)
        finally:
            await connection.close()
        self.stats.applications += len(ids)
        return ids

    async def analyze(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
