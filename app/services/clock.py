"""Time for the use cases: "today" is a date on the programme's calendar (Asia/Shanghai by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from app.domain.deadlines import local_date


@dataclass(frozen=True)
class Clock:
    tz: tzinfo

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return local_date(self.now(), self.tz)
