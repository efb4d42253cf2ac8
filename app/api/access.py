"""Which roles may call each operation under /api/v1: one table, keyed by (method, path template without /api/v1).

The OpenAPI document prints each entry in its operation's description (app/api/openapi.py), and the authorization
matrix test (tests/api/test_authorization_matrix.py) checks that every route has an entry and that what each role
really gets agrees with it: a role listed here is answered 2xx on a resource within its reach (or, for a lifecycle
action, 409 when the resource's state does not allow it), a role not listed is answered 404 as for a resource that
does not exist (domain.md §1).

This table documents and is checked; it does not decide. The services decide reach, and lifecycle actions take
their roles from the transition tables in app/domain/lifecycles.py, read here rather than copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain import lifecycles
from app.domain.centers import EDITOR_ROLES as CENTER_EDITORS
from app.domain.principal import ROLE_NAMES


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[str]
    # The lifecycle whose transition table names the roles: the action is taken only from the states it allows.
    lifecycle: str | None = None
    # No token needed at all (the operation declares `security: []`): it answers nothing confidential.
    public: bool = False
    # What a public operation answers (its description says so); the log's answer sizes and hashes only.
    answers: str = "sizes and hashes only"


def _roles(*roles: str) -> Access:
    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:  # a typo here is a programming error, found at import time
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(frozenset(roles))


def _action(action: str, *machines: lifecycles.StateMachine) -> Access:
    """The roles that may take `action` from some state of these lifecycles, read from their transition tables."""
    roles = frozenset(
        role for machine in machines for row in machine.transitions if row.action == action for role in row.roles
    )
    if not roles:
        raise ValueError(f"no transition {action!r} in {[m.name for m in machines]}")
    return Access(roles, lifecycle=machines[0].name)


def _actions(prefix: str, names: Iterable[str], *machines: lifecycles.StateMachine) -> dict[tuple[str, str], Access]:
    return {("POST", f"{prefix}/{name}"): _action(name, *machines) for name in names}


EVERYONE = _roles(*ROLE_NAMES)
PROVINCE = _roles("province")
APPLICANT = _roles("applicant")
# Reads of an application: the province and observers; its lead and supervising department; the experts on its panel.
APPLICATION_READERS = _roles("province", "supervisor", "applicant", "expert", "observer")
# Reads of a center and what hangs under it: the province and observers; its lead and supervising department; the
# agency entrusted with its acceptance or assessment.
CENTER_READERS = _roles("province", "supervisor", "applicant", "third_party", "observer")
# Assessment cycles: the province and observers, and the agency a cycle is entrusted to.
CYCLE_READERS = _roles("province", "third_party", "observer")
NOT_EXPERTS = _roles("province", "supervisor", "applicant", "third_party", "observer")
FEED_READERS = _roles("province", "observer")
# The transparency log's checkpoint, key and consistency proofs: sizes and hashes only.
PUBLIC = Access(frozenset(ROLE_NAMES), public=True)

# A public notice (公示) as published: names, lead organizations, fields and dates.
PUBLIC_NOTICE = Access(
    frozenset(ROLE_NAMES), public=True, answers="what the notice publishes only: names, lead organizations, dates"
)
PUBLICITY = "/publicity/{publicity_id}"
APPLICATION = "/applications/{application_id}"
CENTER = "/centers/{center_id}"
REPORT = CENTER + "/annual-reports/{report_id}"
CHANGE = CENTER + "/change-requests/{request_id}"
CYCLE = "/assessment-cycles/{cycle_id}"
_APPLICATIONS = (lifecycles.APPLICATION, lifecycles.APPLICATION_FAST_TRACK)

ACCESS: dict[tuple[str, str], Access] = {
    # reference
    ("GET", "/reference"): EVERYONE,
    ("GET", "/reference/state-machines"): EVERYONE,
    ("GET", "/reference/assessment-schemes"): EVERYONE,
    ("GET", "/reference/assessment-schemes/{scheme_id}"): EVERYONE,
    ("GET", "/reference/attachment-kinds"): EVERYONE,
    # organizations and experts
    ("POST", "/organizations"): PROVINCE,
    ("GET", "/organizations"): EVERYONE,
    ("GET", "/organizations/{org_id}"): _roles("province", "supervisor", "applicant", "observer"),
    ("PATCH", "/organizations/{org_id}"): PROVINCE,
    ("POST", "/experts"): PROVINCE,
    ("GET", "/experts"): PROVINCE,
    ("GET", "/experts/{expert_id}"): PROVINCE,
    ("PATCH", "/experts/{expert_id}"): PROVINCE,
    ("POST", "/experts/me/conflicts"): _roles("expert"),
    ("GET", "/experts/me/conflicts"): _roles("expert"),
    # calls
    ("POST", "/calls"): PROVINCE,
    ("GET", "/calls"): EVERYONE,
    ("GET", "/calls/{call_id}"): EVERYONE,
    **_actions("/calls/{call_id}", ("publish", "close"), lifecycles.CALL),
    # applications: the lead drafts and edits its own; the province a fast-track one
    ("POST", "/applications"): _roles("province", "applicant"),
    ("GET", "/applications"): EVERYONE,
    ("GET", APPLICATION): APPLICATION_READERS,
    ("PATCH", APPLICATION): _roles("province", "applicant"),
    ("GET", APPLICATION + "/eligibility"): _roles("province", "supervisor", "applicant"),
    ("GET", APPLICATION + "/actions"): APPLICATION_READERS,
    ("GET", APPLICATION + "/history"): APPLICATION_READERS,
    **_actions(
        APPLICATION,
        (
            "submit",
            "withdraw",
            "recommend",
            "return",
            "reject",
            "open_review",
            "conclude_review",
            "request_revision",
            "resubmit",
            "approve",
        ),
        *_APPLICATIONS,
    ),
    # attachments: read as their application; written by its lead (or the province) while it is editable
    ("POST", APPLICATION + "/attachments"): _roles("province", "applicant"),
    ("GET", APPLICATION + "/attachments"): APPLICATION_READERS,
    ("GET", APPLICATION + "/attachments/{attachment_id}"): APPLICATION_READERS,
    ("GET", APPLICATION + "/attachments/{attachment_id}/content"): APPLICATION_READERS,
    # formal review (形式审查): a check of the file by the province; experts judge the plan, not the file
    ("GET", APPLICATION + "/formal-review"): _roles("province", "supervisor", "applicant", "observer"),
    ("POST", APPLICATION + "/formal-review"): PROVINCE,
    # review
    ("PUT", APPLICATION + "/panel"): PROVINCE,
    ("PUT", APPLICATION + "/scores/me"): _roles("expert"),
    ("POST", APPLICATION + "/site-visits"): PROVINCE,
    ("GET", APPLICATION + "/review"): APPLICATION_READERS,
    ("POST", APPLICATION + "/panel/draw"): PROVINCE,
    ("GET", APPLICATION + "/panel/draw"): APPLICATION_READERS,
    ("POST", APPLICATION + "/panel/invitation/accept"): _roles("expert"),
    ("POST", APPLICATION + "/panel/invitation/decline"): _roles("expert"),
    # centers
    ("GET", "/centers"): EVERYONE,
    ("POST", "/centers/import"): PROVINCE,
    ("GET", CENTER): CENTER_READERS,
    ("PATCH", CENTER): _roles(*CENTER_EDITORS),
    ("PUT", CENTER + "/task-book"): PROVINCE,
    ("GET", CENTER + "/actions"): CENTER_READERS,
    ("GET", CENTER + "/history"): CENTER_READERS,
    **_actions(
        CENTER,
        (
            "sign_task_book",
            "request_extension",
            "extend",
            "decline_extension",
            "request_acceptance",
            "record_acceptance",
            "recognize",
            "record_rectification_review",
            "revoke",
            "request_exit",
            "exit",
            "decline_exit",
            "withdraw_exit",
        ),
        lifecycles.CENTER,
    ),
    # attachments of a center: read as the center; written by its lead or the province
    ("POST", CENTER + "/attachments"): _roles("province", "applicant"),
    ("GET", CENTER + "/attachments"): CENTER_READERS,
    ("GET", CENTER + "/attachments/{attachment_id}"): CENTER_READERS,
    ("GET", CENTER + "/attachments/{attachment_id}/content"): CENTER_READERS,
    # annual reports: filed by the center's lead
    ("POST", CENTER + "/annual-reports"): APPLICANT,
    ("GET", CENTER + "/annual-reports"): CENTER_READERS,
    ("GET", REPORT): CENTER_READERS,
    ("PATCH", REPORT): APPLICANT,
    ("GET", REPORT + "/actions"): CENTER_READERS,
    **_actions(REPORT, ("submit", "endorse", "accept", "return"), lifecycles.ANNUAL_REPORT),
    # change requests: filed by the center's lead
    ("POST", CENTER + "/change-requests"): APPLICANT,
    ("GET", CENTER + "/change-requests"): CENTER_READERS,
    ("GET", CHANGE): CENTER_READERS,
    ("GET", CHANGE + "/actions"): CENTER_READERS,
    **_actions(CHANGE, ("endorse", "approve", "reject"), lifecycles.CHANGE_REQUEST),
    ("GET", "/obligations"): EVERYONE,
    # the inbox: every role its own (an observer's is empty)
    ("GET", "/inbox"): EVERYONE,
    # assessment and funding
    ("POST", "/assessment-cycles"): PROVINCE,
    ("GET", "/assessment-cycles"): EVERYONE,
    ("GET", CYCLE): CYCLE_READERS,
    ("GET", CYCLE + "/actions"): CYCLE_READERS,
    ("GET", CYCLE + "/results"): CYCLE_READERS,
    ("PUT", CYCLE + "/results/{center_id}"): _roles("province", "third_party"),
    ("GET", CYCLE + "/results/{center_id}/proposal"): _roles("province", "third_party"),
    **_actions(CYCLE, ("finalize",), lifecycles.ASSESSMENT_CYCLE),
    ("GET", CYCLE + "/national-candidates"): CYCLE_READERS,
    ("POST", CENTER + "/funding"): PROVINCE,
    ("GET", CENTER + "/funding"): CENTER_READERS,
    ("GET", "/funding/summary"): NOT_EXPERTS,
    # official documents (批复, 认定, 整改通知, 撤销): within the reach of their center (every document has one, an
    # approval the center it creates), listed under their application too
    ("GET", "/documents/{document_id}"): CENTER_READERS,
    ("GET", "/documents/{document_id}.pdf"): CENTER_READERS,
    ("GET", APPLICATION + "/documents"): APPLICATION_READERS,
    ("GET", CENTER + "/documents"): CENTER_READERS,
    # the feed, statistics and exports
    ("GET", "/events"): FEED_READERS,
    ("GET", "/events/verify"): FEED_READERS,
    ("GET", "/log/checkpoint"): PUBLIC,
    ("GET", "/log/key"): PUBLIC,
    ("GET", "/log/proof/consistency"): PUBLIC,
    ("GET", "/log/proof/inclusion"): FEED_READERS,  # it carries the event itself
    ("GET", "/stats/centers"): EVERYONE,
    ("GET", "/stats/applications"): EVERYONE,
    ("GET", "/stats/figures"): EVERYONE,
    ("GET", "/exports/centers"): NOT_EXPERTS,
    ("GET", "/exports/applications"): NOT_EXPERTS,
    ("GET", "/exports/annual-figures"): NOT_EXPERTS,
    # public notices (公示) and objections (异议): the province publishes and handles objections; observers read
    # notices; nobody else reads them here, for everyone reads what a notice publishes at /public/publicity/{id}.
    # Objections carry the objector's contact: the province's alone.
    ("POST", "/publicity"): PROVINCE,
    ("GET", "/publicity"): FEED_READERS,
    ("GET", PUBLICITY): FEED_READERS,
    ("POST", PUBLICITY + "/objections"): PROVINCE,
    ("GET", PUBLICITY + "/objections"): PROVINCE,
    ("POST", PUBLICITY + "/objections/{objection_id}/resolve"): PROVINCE,
    ("GET", "/public/publicity/{publicity_id}"): PUBLIC_NOTICE,
    ("GET", "/public/publicity/{publicity_id}.pdf"): PUBLIC_NOTICE,
    # webhooks
    ("POST", "/webhooks"): PROVINCE,
    ("GET", "/webhooks"): PROVINCE,
    ("GET", "/webhooks/{webhook_id}"): PROVINCE,
    ("DELETE", "/webhooks/{webhook_id}"): PROVINCE,
    ("GET", "/webhooks/{webhook_id}/deliveries"): PROVINCE,
}


def describe(access: Access) -> str:
    """The paragraph an operation's description ends with (Markdown, English then Chinese)."""
    if access.public:
        return f"**Public / 公开:** no token is needed; it answers {access.answers}. 无需令牌。"
    roles = ", ".join(f"`{role}`" for role in ROLE_NAMES if role in access.roles)
    text = f"**Roles / 可调用角色:** {roles}."
    if access.lifecycle is not None:
        text += (
            f" Only from the states the `{access.lifecycle}` lifecycle allows for the caller's role "
            "(`GET /api/v1/reference/state-machines`); otherwise 409 `invalid-transition`. "
            "仅在状态机允许的状态下可调用，否则 409。"
        )
    if access.roles != EVERYONE.roles:
        text += (
            " Any other role, and a listed role on a resource outside its reach, is answered 404 `not-found`, as for "
            "a resource that does not exist (domain.md §1). 其他角色得到 404。"
        )
    return text
