"""Who is calling. Built by the API from a verified token; the services decide reach from it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

ROLE_NAMES = ("province", "supervisor", "applicant", "expert", "third_party", "observer")
# Roles whose token must name the caller's organization (api.md: org_id).
ORG_ROLES = frozenset({"supervisor", "applicant", "third_party"})


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    role: str
    org_id: UUID | None = None
    expert_id: UUID | None = None

    @property
    def is_province(self) -> bool:
        return self.role == "province"

    @property
    def may_write(self) -> bool:
        """Observers are other government systems reading through the API (domain.md §1): they never write."""
        return self.role != "observer"

    @property
    def sees_everything_public(self) -> bool:
        """Province and observers read every non-confidential record (domain.md §1)."""
        return self.role in ("province", "observer")
