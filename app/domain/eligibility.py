"""Eligibility engine (建设条件, domain.md §3): pure rules over declared facts, each giving pass, fail or manual.

Sources: [seed] is 豫科〔2021〕116号 《河南省技术创新中心建设方案（暂行）》; [practice] fills gaps the notice
leaves open; [2025 call] is 豫科〔2025〕131号 under the 2024 measures 豫科〔2024〕121号 as summarised in domain.md §3.
Rule sets (which rules, in which order) live in `app/domain/rulesets.py`.
"""

# Chinese text uses full-width punctuation and tortoise-shell brackets (document numbers) on purpose.

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from app.domain.dates import years_later
from app.domain.reference import FIELDS, FORMATION_MODES, ORG_KINDS, PROJECT_LEVELS, Code, codes

if TYPE_CHECKING:
    from app.domain.rulesets import RuleSet

Outcome = Literal["pass", "fail", "manual"]

ENTERPRISE = "enterprise"
ACADEMIC_KINDS = frozenset({"university", "research_institute"})
HIGH_LEVELS = frozenset(codes(PROJECT_LEVELS))
LAYOUT_FIELDS = codes(FIELDS)
ACADEMIC_LED = "academic_led"
FRONTIER = "frontier"
# One center, one plan: the statuses in which an application has been submitted and is not (yet) finally turned down.
# `returned` was submitted once and is back with the lead for corrections, still live; drafts were never submitted;
# withdrawn, not_recommended and rejected are over. Every application status is in exactly one of the two sets (a
# unit test holds the lifecycle to it).
PLAN_COUNTED_STATUSES = (
    "submitted",
    "returned",
    "recommended",
    "incomplete",
    "under_review",
    "reviewed",
    "revising",
    "approved",
)
PLAN_NOT_COUNTED_STATUSES = ("draft", "withdrawn", "not_recommended", "rejected")

MIN_RD_STAFF_PERCENT = 10
MIN_HIGH_LEVEL_TALENTS = 3
MIN_RD_SPEND_AVG_WAN = Decimal("4000")
RD_SPEND_YEARS = 3
REVOCATION_COOLDOWN_YEARS = 3
MIN_RD_STAFF_COUNT = 50
MIN_HIGH_LEVEL_TEAMS = 3
MIN_REGISTERED_YEARS = 1
MAX_PARTICIPANTS = 3

NOT_APPLICABLE = "not applicable"
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class OrgProfile:
    org_id: str
    kind: str
    is_leading_enterprise: bool = False
    registered_on: date | None = None


@dataclass(frozen=True, slots=True)
class MajorProject:
    name: str
    level: str
    year: int


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    level: str
    field: str


@dataclass(frozen=True, slots=True)
class Talent:
    """A declared high-level talent; `id_number` (身份证号 or passport number), when given, identifies the person."""

    name: str
    level: str
    id_number: str | None = None


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    leader: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What the lead organization declares. `rd_spend_wan` holds the last three years in 万元, oldest first."""

    major_projects: tuple[MajorProject, ...] = ()
    platforms: tuple[Platform, ...] = ()
    ip_results_count: int = 0
    invention_patents: int = 0
    pct_patents: int = 0
    cooperation_mechanism: str = ""
    staff_total: int = 0
    rd_staff: int = 0
    high_level_talents: tuple[Talent, ...] = ()
    high_level_teams: tuple[Team, ...] = ()
    rd_spend_wan: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class EligibilityInput:
    """Everything the rules look at.

    `call_fields` None means a fast-track application (no call) or a call without a field restriction.
    `other_live_applications_in_call` lists, oldest first, the ids of this lead's other applications in the same call
    whose status is one of `PLAN_COUNTED_STATUSES`.
    `for_cause_revocations_on` lists the dates on which centers led by this lead were revoked for any reason other
    than `voluntary_exit`.
    """

    field: str
    formation_mode: str
    lead: OrgProfile
    participants: tuple[OrgProfile, ...]
    facts: Facts
    judged_on: date
    call_fields: tuple[str, ...] | None = None
    call_opens_on: date | None = None
    other_live_applications_in_call: tuple[str, ...] = ()
    for_cause_revocations_on: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    rule: str
    outcome: Outcome
    expected: str
    actual: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "expected": self.expected,
            "actual": self.actual,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    rule_set: str
    checks: tuple[Check, ...]

    @property
    def eligible(self) -> bool:
        return not self.failing

    @property
    def failing(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.outcome == "fail")

    @property
    def manual(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.outcome == "manual")

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "rule_set": self.rule_set,
            "checks": [check.as_dict() for check in self.checks],
        }


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description_zh: str
    description_en: str
    source: str
    check: Callable[[EligibilityInput], Check]


def evaluate(rule_set: RuleSet, inp: EligibilityInput) -> Verdict:
    """Run every rule of `rule_set` on `inp`, in the set's order; no rule short-circuits another."""
    return Verdict(rule_set=rule_set.name, checks=tuple(rule.check(inp) for rule in rule_set.rules))


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February falls back to 28 February."""
    return years_later(day, -years)


def _floor_cents(value: Decimal) -> Decimal:
    # Flooring keeps the shown value on the same side of a ">=" threshold as the exact value: 3999.996 shows as
    # 3999.99, never as a passing-looking 4000.00.
    return value.quantize(_CENT, rounding=ROUND_FLOOR)


def _count_at_least(
    rule: str,
    actual: int,
    minimum: int,
    what_zh: str,
    what_en: str,
    *,
    unit_zh: str = "项",
    note_zh: str = "",
    note_en: str = "",
) -> Check:
    expected = f"≥ {minimum}"
    if actual >= minimum:
        return Check(
            rule,
            "pass",
            expected,
            str(actual),
            f"{what_zh}{actual}{unit_zh}{note_zh}，达到不少于{minimum}{unit_zh}的要求",
            f"{what_en}: {actual}{note_en}, meets the minimum of {minimum}",
        )
    return Check(
        rule,
        "fail",
        expected,
        str(actual),
        f"{what_zh}{actual}{unit_zh}{note_zh}，少于{minimum}{unit_zh}的要求",
        f"{what_en}: {actual}{note_en}, below the minimum of {minimum}",
    )


def _normalised_name(name: str) -> str:
    # Full-width letters and spaces (NFKC), case and runs of whitespace do not make another person.
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _normalised_id_number(id_number: str | None) -> str:
    # "410102 19900101 123x" and "410102199001011234X" differ only in spacing and the case of the check digit X.
    return "".join(unicodedata.normalize("NFKC", id_number or "").split()).upper()


def distinct_talents(talents: Iterable[Talent]) -> int:
    """How many people `talents` names: each person counts once however often listed.

    Entries with the same ID number are one person whatever their names; entries without an ID number are one person
    per name (after normalising), and such a name is nobody new if an entry with an ID number already bears it.
    Homonyms with different ID numbers stay different people.
    """
    id_numbers: set[str] = set()
    names_with_id: set[str] = set()
    names_without_id: set[str] = set()
    for talent in talents:
        name, id_number = _normalised_name(talent.name), _normalised_id_number(talent.id_number)
        if id_number:
            id_numbers.add(id_number)
            names_with_id.add(name)
        else:
            names_without_id.add(name)
    return len(id_numbers) + len(names_without_id - names_with_id)


def _zh(table: tuple[Code, ...], code: str) -> str:
    # Chinese messages name codes by their Chinese label; an unknown code is shown as given.
    return next((item.label_zh for item in table if item.code == code), code)


def _is_enterprise(org: OrgProfile) -> bool:
    return org.kind == ENTERPRISE


def _is_academic(org: OrgProfile) -> bool:
    return org.kind in ACADEMIC_KINDS


def major_project_experience(inp: EligibilityInput) -> Check:
    """The lead has undertaken at least one national or provincial major S&T project.

    [seed] 二、（三）1：须具有承担国家或省级重大科技项目的经验。
    """
    count = sum(1 for project in inp.facts.major_projects if project.level in HIGH_LEVELS)
    return _count_at_least(
        "major_project_experience", count, 1, "承担国家或省级重大科技项目", "National or provincial major S&T projects"
    )


def provincial_platform(inp: EligibilityInput) -> Check:
    """The lead has a provincial-or-higher innovation platform in the applied field.

    [seed] 二、（三）1：在申报建设领域具有省级及以上创新平台支撑。
    """
    count = sum(1 for platform in inp.facts.platforms if platform.level in HIGH_LEVELS and platform.field == inp.field)
    return _count_at_least(
        "provincial_platform",
        count,
        1,
        f"申报领域（{_zh(FIELDS, inp.field)}）内省级及以上创新平台",
        f"Provincial-or-higher innovation platforms in the applied field ({inp.field})",
        unit_zh="个",
    )


def ip_results(inp: EligibilityInput) -> Check:
    """The lead holds research results with independent IP; whether they lead the country or province is for experts.

    [seed] 二、（三）1：拥有一定数量处于国内或省内领先水平且具有自主知识产权的科研成果。
    """
    count = inp.facts.ip_results_count
    expected = "≥ 1, domestic or provincial leading (expert judgement)"
    if count < 1:
        return Check(
            "ip_results",
            "fail",
            expected,
            str(count),
            f"具有自主知识产权的科研成果为{count}项，至少需要1项",
            f"Research results with independent IP: {count}, at least 1 is required",
        )
    return Check(
        "ip_results",
        "manual",
        expected,
        str(count),
        f"具有自主知识产权的科研成果{count}项；是否处于国内或省内领先水平由专家评审判断",
        f"Research results with independent IP: {count}; whether they lead the country or province is for the experts",
    )


def patent_standing(inp: EligibilityInput) -> Check:
    """Invention and PCT patents rank at the front of the province's industry: experts judge; none at all fails.

    [seed] 二、（三）1：获得发明专利或 PCT 专利数量位于省内同行业前列。
    """
    invention, pct = inp.facts.invention_patents, inp.facts.pct_patents
    expected = "invention + PCT ≥ 1, at the front of the province's industry (expert judgement)"
    actual = f"invention {invention}, PCT {pct}"
    if invention + pct < 1:
        return Check(
            "patent_standing",
            "fail",
            expected,
            actual,
            f"发明专利{invention}件、PCT专利{pct}件，无法位于省内同行业前列",
            f"Invention patents {invention}, PCT patents {pct}: none to rank at the front of the province's industry",
        )
    return Check(
        "patent_standing",
        "manual",
        expected,
        actual,
        f"发明专利{invention}件、PCT专利{pct}件；是否位于省内同行业前列由专家评审判断",
        f"Invention patents {invention}, PCT patents {pct}; whether they rank at the front of the province's "
        "industry is for the experts",
    )


def cooperation_mechanism(inp: EligibilityInput) -> Check:
    """A long-term industry–university–research cooperation mechanism is described.

    [seed] 二、（三）1：建立起产学研合作的长效机制。
    """
    expected = "described"
    if inp.facts.cooperation_mechanism.strip():
        return Check(
            "cooperation_mechanism",
            "pass",
            expected,
            "described",
            "已说明产学研合作长效机制",
            "A long-term industry-university-research cooperation mechanism is described",
        )
    return Check(
        "cooperation_mechanism",
        "fail",
        expected,
        "blank",
        "未说明产学研合作长效机制",
        "No long-term industry-university-research cooperation mechanism is described",
    )


def rd_staff_ratio(inp: EligibilityInput) -> Check:
    """R&D and related technical staff are at least 10 % of all staff; exactly 10 % passes.

    [seed] 二、（三）2：从事研发和相关技术创新活动的科技人员占职工总数比例不低于 10%。
    """
    rd, total = inp.facts.rd_staff, inp.facts.staff_total
    expected = f"≥ {MIN_RD_STAFF_PERCENT}%"
    if total <= 0:
        return Check(
            "rd_staff_ratio",
            "fail",
            expected,
            "no staff declared",
            f"职工总数为{total}，无法计算科技人员占比（要求不低于{MIN_RD_STAFF_PERCENT}%）",
            f"Total staff is {total}, so the R&D staff share (required ≥ {MIN_RD_STAFF_PERCENT}%) cannot be computed",
        )
    if rd > total:
        return Check(
            "rd_staff_ratio",
            "fail",
            expected,
            f"{rd} of {total}",
            f"科技人员{rd}人多于职工总数{total}人，数据不一致",
            f"R&D staff ({rd}) exceed total staff ({total}); the figures are inconsistent",
        )
    percent = f"{_floor_cents(Decimal(rd * 100) / Decimal(total))}%"
    # Integer comparison: the threshold is exact, the displayed percentage is rounded.
    if rd * 100 >= total * MIN_RD_STAFF_PERCENT:
        return Check(
            "rd_staff_ratio",
            "pass",
            expected,
            percent,
            f"科技人员{rd}人，占职工总数{total}人的{percent}，不低于{MIN_RD_STAFF_PERCENT}%",
            f"R&D staff {rd} of {total} total is {percent}, meeting the minimum of {MIN_RD_STAFF_PERCENT}%",
        )
    return Check(
        "rd_staff_ratio",
        "fail",
        expected,
        percent,
        f"科技人员{rd}人，占职工总数{total}人的{percent}，低于{MIN_RD_STAFF_PERCENT}%",
        f"R&D staff {rd} of {total} total is {percent}, below the minimum of {MIN_RD_STAFF_PERCENT}%",
    )


def high_level_talents(inp: EligibilityInput) -> Check:
    """At least 3 national or provincial high-level talents, each person counted once (see `distinct_talents`).

    [seed] 二、（三）2：国家或省级高层次人才不少于 3 人。
    """
    listed = tuple(talent for talent in inp.facts.high_level_talents if talent.level in HIGH_LEVELS)
    count = distinct_talents(listed)
    repeated = len(listed) > count
    return _count_at_least(
        "high_level_talents",
        count,
        MIN_HIGH_LEVEL_TALENTS,
        "国家或省级高层次人才",
        "National or provincial high-level talents",
        unit_zh="人",
        note_zh=f"（填报{len(listed)}条，同一人只计一次）" if repeated else "",
        note_en=f" ({len(listed)} entries; each person counted once)" if repeated else "",
    )


def leading_enterprise(inp: EligibilityInput) -> Check:
    """An enterprise lead must be a leading backbone enterprise of its industry; other leads are not concerned.

    [seed] 二、（三）3：牵头组建单位为企业的，须是行业龙头骨干企业。
    """
    expected = "enterprise lead is a leading backbone enterprise"
    if not _is_enterprise(inp.lead):
        return Check(
            "leading_enterprise",
            "pass",
            expected,
            NOT_APPLICABLE,
            f"牵头单位类型为{_zh(ORG_KINDS, inp.lead.kind)}，不适用行业龙头骨干企业要求",
            f"The lead is of kind {inp.lead.kind}; the leading-enterprise requirement does not apply",
        )
    if inp.lead.is_leading_enterprise:
        return Check(
            "leading_enterprise",
            "pass",
            expected,
            "leading backbone enterprise",
            "牵头企业为行业龙头骨干企业",
            "The lead enterprise is a leading backbone enterprise of its industry",
        )
    return Check(
        "leading_enterprise",
        "fail",
        expected,
        "not a leading backbone enterprise",
        "牵头单位为企业，但不是行业龙头骨干企业",
        "The lead is an enterprise but not a leading backbone enterprise of its industry",
    )


def rd_spend_3y_avg(inp: EligibilityInput) -> Check:
    """An enterprise lead's R&D spend averages at least 4,000 万元 over the last 3 years; exactly 4,000 passes.

    Universities and research institutes are not concerned. [seed] 二、（三）3：近三年平均研发经费不低于 4000 万元。
    """
    minimum = f"{MIN_RD_SPEND_AVG_WAN:.2f}"
    expected = f"≥ {minimum}"
    if not _is_enterprise(inp.lead):
        return Check(
            "rd_spend_3y_avg",
            "pass",
            expected,
            NOT_APPLICABLE,
            f"牵头单位类型为{_zh(ORG_KINDS, inp.lead.kind)}，不适用近三年平均研发经费要求",
            f"The lead is of kind {inp.lead.kind}; the three-year R&D spend requirement does not apply",
        )
    spend = inp.facts.rd_spend_wan
    if len(spend) != RD_SPEND_YEARS:
        return Check(
            "rd_spend_3y_avg",
            "fail",
            expected,
            f"{len(spend)} years declared",
            f"须填报近{RD_SPEND_YEARS}年研发经费，实际填报{len(spend)}年",
            f"R&D spend for the last {RD_SPEND_YEARS} years is required, {len(spend)} were declared",
        )
    if not all(amount.is_finite() for amount in spend):
        return Check(
            "rd_spend_3y_avg",
            "fail",
            expected,
            "invalid amount",
            "研发经费金额无效（须为有限的数值）",
            "An R&D spend amount is not a finite number",
        )
    total = sum(spend, Decimal(0))
    average = f"{_floor_cents(total / RD_SPEND_YEARS)}"
    # Compare the exact sum: an average rounded to cents could turn 3999.996 into a pass.
    if total >= MIN_RD_SPEND_AVG_WAN * RD_SPEND_YEARS:
        return Check(
            "rd_spend_3y_avg",
            "pass",
            expected,
            average,
            f"近三年平均研发经费{average}万元，不低于{minimum}万元",
            f"Average R&D spend over the last three years is {average} wan yuan, meeting the minimum of {minimum}",
        )
    return Check(
        "rd_spend_3y_avg",
        "fail",
        expected,
        average,
        f"近三年平均研发经费{average}万元，低于{minimum}万元",
        f"Average R&D spend over the last three years is {average} wan yuan, below the minimum of {minimum}",
    )


_MODE_REQUIREMENTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "enterprise_led": (
            "企业牵头，至少1家高校或科研院所参与",
            "enterprise lead; ≥ 1 university or research institute participant",
        ),
        "enterprise_alliance": (
            "企业牵头，牵头及参与单位中至少2家企业，至少1家高校或科研院所参与",
            "enterprise lead; ≥ 2 enterprises in total; ≥ 1 university or research institute participant",
        ),
        ACADEMIC_LED: (
            "高校或科研院所牵头，至少1家企业参与，仅限前瞻技术领域（前沿或颠覆性技术领域）",
            "university or research institute lead; ≥ 1 enterprise participant; field frontier only",
        ),
    }
)


def formation_mode_consistency(inp: EligibilityInput) -> Check:
    """The lead, the participants and, for academic_led, the field fit the declared formation mode.

    enterprise_led: the lead is an enterprise and at least one university or research institute takes part.
    enterprise_alliance: the lead is an enterprise, lead and participants include at least two enterprises, and at
    least one university or research institute takes part. academic_led: the lead is a university or research
    institute, at least one enterprise takes part, and the field is `frontier` (the notice allows an academic lead
    only “在个别的主要由技术研发牵引推动、市场还未培育成熟的前沿或颠覆性技术领域”). Any other mode fails.
    [seed] 二、（四）组建模式 1–3.
    """
    mode = inp.formation_mode
    enterprise_participants = sum(1 for org in inp.participants if _is_enterprise(org))
    academic_participants = sum(1 for org in inp.participants if _is_academic(org))
    actual = (
        f"lead {inp.lead.kind}; participants: {enterprise_participants} enterprise, "
        f"{academic_participants} university/institute"
    )
    requirement = _MODE_REQUIREMENTS.get(mode)
    if requirement is None:
        return Check(
            "formation_mode_consistency",
            "fail",
            f"one of {', '.join(_MODE_REQUIREMENTS)}",
            mode,
            f"组建模式“{mode}”不是规定的组建模式（龙头企业牵头、多家骨干企业联合、高校院所牵头）",
            f"Formation mode {mode!r} is not one of the defined modes",
        )
    expected_zh, expected_en = requirement
    lead_is_enterprise = _is_enterprise(inp.lead)
    if mode == "enterprise_led":
        orgs_fit = lead_is_enterprise and academic_participants >= 1
    elif mode == "enterprise_alliance":
        orgs_fit = lead_is_enterprise and enterprise_participants + 1 >= 2 and academic_participants >= 1
    else:
        orgs_fit = _is_academic(inp.lead) and enterprise_participants >= 1
    actual_zh = (
        f"牵头单位类型{_zh(ORG_KINDS, inp.lead.kind)}，参与企业{enterprise_participants}家，"
        f"参与高校或科研院所{academic_participants}家"
    )
    field_fits = True
    if mode == ACADEMIC_LED:
        field_fits = inp.field == FRONTIER
        actual = f"{actual}; field {inp.field}"
        actual_zh = f"{actual_zh}，申报领域{_zh(FIELDS, inp.field)}"
    mode_zh = _zh(FORMATION_MODES, mode)
    if orgs_fit and field_fits:
        return Check(
            "formation_mode_consistency",
            "pass",
            expected_en,
            actual,
            f"{actual_zh}，符合组建模式“{mode_zh}”的要求（{expected_zh}）",
            f"Formation mode {mode!r} requires {expected_en}; found {actual}",
        )
    reasons_zh: list[str] = []
    reasons_en: list[str] = []
    if not orgs_fit:
        reasons_zh.append(f"{actual_zh}，不符合组建模式“{mode_zh}”的要求（{expected_zh}）")
        reasons_en.append(f"Formation mode {mode!r} requires {expected_en}; found {actual}, which does not fit")
    if not field_fits:
        reasons_zh.append(
            f"组建模式“{mode_zh}”仅适用于前瞻技术领域（前沿或颠覆性技术领域），"
            f"申报领域“{_zh(FIELDS, inp.field)}”不属于该领域"
        )
        reasons_en.append(
            f"Formation mode {mode!r} is allowed only in the field {FRONTIER!r} (frontier or disruptive "
            f"technologies); the applied field is {inp.field!r}"
        )
    return Check(
        "formation_mode_consistency",
        "fail",
        expected_en,
        actual,
        "；".join(reasons_zh),
        "; ".join(reasons_en),
    )


def field_in_layout(inp: EligibilityInput) -> Check:
    """The applied field is one of the layout fields (including frontier) and, when the call names fields, one of them.

    [seed] 二、（一）布局重点; the call's restriction is [practice].
    """
    restricted = bool(inp.call_fields)
    allowed = tuple(inp.call_fields or ()) if restricted else LAYOUT_FIELDS
    expected = f"one of {', '.join(allowed)}"
    if inp.field not in LAYOUT_FIELDS:
        return Check(
            "field_in_layout",
            "fail",
            expected,
            inp.field,
            f"申报领域“{inp.field}”不在省技术创新中心布局重点领域内",
            f"Field {inp.field!r} is not one of the layout fields",
        )
    if restricted and inp.field not in allowed:
        allowed_zh = "、".join(_zh(FIELDS, code) for code in allowed)
        return Check(
            "field_in_layout",
            "fail",
            expected,
            inp.field,
            f"申报领域“{_zh(FIELDS, inp.field)}”不在本次申报通知的领域（{allowed_zh}）内",
            f"Field {inp.field!r} is not one of this call's fields ({', '.join(allowed)})",
        )
    return Check(
        "field_in_layout",
        "pass",
        expected,
        inp.field,
        f"申报领域“{_zh(FIELDS, inp.field)}”属于布局重点领域",
        f"Field {inp.field!r} is within the layout",
    )


def one_center_one_plan(inp: EligibilityInput) -> Check:
    """A lead may not have two live applications in the same call; the failure names the ones already there.

    Only applications submitted at least once and not finally turned down count (`PLAN_COUNTED_STATUSES`): a lead
    may keep several drafts, and whichever it submits first bars the others.
    [practice] reading of 二、（四）“一中心一方案”.
    """
    others = inp.other_live_applications_in_call
    if not others:
        return Check(
            "one_center_one_plan",
            "pass",
            "none",
            "none",
            "牵头单位在本次申报中没有其他已提交的有效申请",
            "The lead has no other submitted live application in this call",
        )
    listed = ", ".join(others)
    return Check(
        "one_center_one_plan",
        "fail",
        "none",
        listed,
        f"牵头单位在本次申报中已有{len(others)}项已提交的有效申请（{listed}），一个中心只能有一个方案",
        f"The lead already has {len(others)} submitted live application(s) in this call ({listed}); "
        "one center, one plan",
    )


def no_recent_revocation(inp: EligibilityInput) -> Check:
    """A lead whose center was revoked for cause (not voluntary exit) within the last 3 years may not apply.

    Within means revoked after the same calendar day three years before `judged_on` (29 February counts from
    28 February) and not after `judged_on`; exactly three years ago no longer bars.
    [practice: Shandong analogue]
    """
    since = _years_before(inp.judged_on, REVOCATION_COOLDOWN_YEARS)
    expected = f"none after {since.isoformat()}"
    recent = sorted(day for day in inp.for_cause_revocations_on if since < day <= inp.judged_on)
    if not recent:
        return Check(
            "no_recent_revocation",
            "pass",
            expected,
            "none",
            f"{since.isoformat()}之后牵头单位没有因故被撤销的中心",
            f"No center led by the lead was revoked for cause after {since.isoformat()}",
        )
    latest = recent[-1].isoformat()
    return Check(
        "no_recent_revocation",
        "fail",
        expected,
        latest,
        f"牵头单位的中心于{latest}因故被撤销，距今不足{REVOCATION_COOLDOWN_YEARS}年",
        f"A center led by the lead was revoked for cause on {latest}, less than {REVOCATION_COOLDOWN_YEARS} years ago",
    )


def rd_staff_count(inp: EligibilityInput) -> Check:
    """At least 50 R&D staff; replaces the 10 % share of the 2021 notice. [2025 call] 豫科〔2025〕131号."""
    return _count_at_least(
        "rd_staff_count", inp.facts.rd_staff, MIN_RD_STAFF_COUNT, "研发人员", "R&D staff", unit_zh="人"
    )


def high_level_teams(inp: EligibilityInput) -> Check:
    """At least 3 high-level innovation teams (led by high-level talents). [2025 call] 豫科〔2025〕131号."""
    return _count_at_least(
        "high_level_teams",
        len(inp.facts.high_level_teams),
        MIN_HIGH_LEVEL_TEAMS,
        "高水平创新团队",
        "High-level innovation teams",
        unit_zh="个",
    )


def registered_in_henan(inp: EligibilityInput) -> Check:
    """The lead was registered at least 1 year before the call opens (or, without a call, the judging date).

    Registered on exactly the same calendar day one year earlier passes; 29 February counts from 28 February. That
    the registration is in Henan is not visible in `OrgProfile` and is left to the supervisor's review.
    [2025 call] 豫科〔2025〕131号.
    """
    reference = inp.call_opens_on or inp.judged_on
    latest = _years_before(reference, MIN_REGISTERED_YEARS)
    expected = f"≤ {latest.isoformat()}"
    registered = inp.lead.registered_on
    if registered is None:
        return Check(
            "registered_in_henan",
            "fail",
            expected,
            "unknown",
            f"未提供牵头单位注册日期，须不晚于{latest.isoformat()}",
            f"The lead's registration date is missing; it must be on or before {latest.isoformat()}",
        )
    if registered <= latest:
        return Check(
            "registered_in_henan",
            "pass",
            expected,
            registered.isoformat(),
            f"牵头单位于{registered.isoformat()}注册，不晚于{latest.isoformat()}",
            f"The lead was registered on {registered.isoformat()}, on or before {latest.isoformat()}",
        )
    return Check(
        "registered_in_henan",
        "fail",
        expected,
        registered.isoformat(),
        f"牵头单位于{registered.isoformat()}注册，晚于{latest.isoformat()}，注册不满{MIN_REGISTERED_YEARS}年",
        f"The lead was registered on {registered.isoformat()}, after {latest.isoformat()}: less than "
        f"{MIN_REGISTERED_YEARS} year before {reference.isoformat()}",
    )


def participants_cap(inp: EligibilityInput) -> Check:
    """At most 3 joint builders (participants) besides the lead. [2025 call] 豫科〔2025〕131号."""
    count = len(inp.participants)
    expected = f"≤ {MAX_PARTICIPANTS}"
    if count <= MAX_PARTICIPANTS:
        return Check(
            "participants_cap",
            "pass",
            expected,
            str(count),
            f"共建单位{count}家，不超过{MAX_PARTICIPANTS}家",
            f"Participants: {count}, within the maximum of {MAX_PARTICIPANTS}",
        )
    return Check(
        "participants_cap",
        "fail",
        expected,
        str(count),
        f"共建单位{count}家，超过{MAX_PARTICIPANTS}家的上限",
        f"Participants: {count}, above the maximum of {MAX_PARTICIPANTS}",
    )


def leading_enterprise_participant(inp: EligibilityInput) -> Check:
    """A non-enterprise lead must have a leading enterprise among its participants. [2025 call] 豫科〔2025〕131号."""
    expected = "non-enterprise lead has ≥ 1 leading-enterprise participant"
    if _is_enterprise(inp.lead):
        return Check(
            "leading_enterprise_participant",
            "pass",
            expected,
            NOT_APPLICABLE,
            "牵头单位为企业，不适用本项要求",
            "The lead is an enterprise; this requirement does not apply",
        )
    count = sum(1 for org in inp.participants if _is_enterprise(org) and org.is_leading_enterprise)
    if count >= 1:
        return Check(
            "leading_enterprise_participant",
            "pass",
            expected,
            str(count),
            f"参与单位中有{count}家行业龙头企业",
            f"{count} leading enterprise(s) among the participants",
        )
    return Check(
        "leading_enterprise_participant",
        "fail",
        expected,
        "0",
        "牵头单位不是企业，参与单位中须至少有1家行业龙头企业，实际为0家",
        "The lead is not an enterprise, so at least 1 leading enterprise must take part; there is none",
    )


_SEED = "[seed] 豫科〔2021〕116号"
_CALL_2025 = "[2025 call] 豫科〔2025〕131号（豫科〔2024〕121号）"

RULES: Mapping[str, Rule] = MappingProxyType(
    {
        rule.id: rule
        for rule in (
            Rule(
                "major_project_experience",
                "牵头单位具有承担国家或省级重大科技项目的经验",
                "The lead has undertaken at least one national or provincial major S&T project",
                f"{_SEED} 二、（三）1",
                major_project_experience,
            ),
            Rule(
                "provincial_platform",
                "牵头单位在申报建设领域具有省级及以上创新平台支撑",
                "The lead has a provincial-or-higher innovation platform in the applied field",
                f"{_SEED} 二、（三）1",
                provincial_platform,
            ),
            Rule(
                "ip_results",
                "拥有一定数量处于国内或省内领先水平且具有自主知识产权的科研成果",
                "The lead holds research results with independent IP that lead the country or province",
                f"{_SEED} 二、（三）1",
                ip_results,
            ),
            Rule(
                "patent_standing",
                "获得发明专利或PCT专利数量位于省内同行业前列",
                "Invention and PCT patents rank at the front of the province's industry",
                f"{_SEED} 二、（三）1",
                patent_standing,
            ),
            Rule(
                "cooperation_mechanism",
                "建立起产学研合作的长效机制",
                "A long-term industry-university-research cooperation mechanism exists",
                f"{_SEED} 二、（三）1",
                cooperation_mechanism,
            ),
            Rule(
                "rd_staff_ratio",
                "科技人员占职工总数比例不低于10%",
                "R&D staff are at least 10% of total staff",
                f"{_SEED} 二、（三）2",
                rd_staff_ratio,
            ),
            Rule(
                "high_level_talents",
                "国家或省级高层次人才不少于3人（同一人只计一次）",
                "At least 3 national or provincial high-level talents, each person counted once",
                f"{_SEED} 二、（三）2",
                high_level_talents,
            ),
            Rule(
                "leading_enterprise",
                "牵头单位为企业的，须是行业龙头骨干企业",
                "An enterprise lead must be a leading backbone enterprise of its industry",
                f"{_SEED} 二、（三）3",
                leading_enterprise,
            ),
            Rule(
                "rd_spend_3y_avg",
                "牵头单位为企业的，近三年平均研发经费不低于4000万元",
                "An enterprise lead's average R&D spend over the last 3 years is at least 4,000 wan yuan",
                f"{_SEED} 二、（三）3",
                rd_spend_3y_avg,
            ),
            Rule(
                "formation_mode_consistency",
                "牵头及参与单位符合所选组建模式；高校院所牵头仅限前瞻技术领域（前沿或颠覆性技术领域）",
                "The lead and participants fit the declared formation mode; an academic lead applies only in the "
                "frontier field",
                f"{_SEED} 二、（四）",
                formation_mode_consistency,
            ),
            Rule(
                "field_in_layout",
                "申报领域属于布局重点领域（含前瞻技术领域）及本次申报通知的领域",
                "The field is a layout field (or frontier) and, if the call names fields, one of them",
                f"{_SEED} 二、（一）",
                field_in_layout,
            ),
            Rule(
                "one_center_one_plan",
                "同一牵头单位在同一批次申报中只能有一项已提交的有效申请（草稿不计）",
                "A lead may not have two submitted live applications in the same call (drafts do not count)",
                "[practice] 一中心一方案",
                one_center_one_plan,
            ),
            Rule(
                "no_recent_revocation",
                "近3年内有中心因故（主动退出除外）被撤销的牵头单位不得申报",
                "A lead whose center was revoked for cause (not voluntary exit) in the last 3 years may not apply",
                "[practice: Shandong analogue]",
                no_recent_revocation,
            ),
            Rule(
                "rd_staff_count",
                "研发人员不少于50人",
                "At least 50 R&D staff",
                _CALL_2025,
                rd_staff_count,
            ),
            Rule(
                "high_level_teams",
                "高水平创新团队不少于3个",
                "At least 3 high-level innovation teams",
                _CALL_2025,
                high_level_teams,
            ),
            Rule(
                "registered_in_henan",
                "牵头单位在河南注册满1年（截至申报通知发布之日）",
                "The lead was registered in Henan at least 1 year before the call opens",
                _CALL_2025,
                registered_in_henan,
            ),
            Rule(
                "participants_cap",
                "共建单位不超过3家",
                "At most 3 joint builders",
                _CALL_2025,
                participants_cap,
            ),
            Rule(
                "leading_enterprise_participant",
                "非企业牵头的，须有行业龙头企业参与共建",
                "A non-enterprise lead must include a leading enterprise among its participants",
                _CALL_2025,
                leading_enterprise_participant,
            ),
        )
    }
)
