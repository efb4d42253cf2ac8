"""Reference data of the Henan TIC programme (domain.md §1–2, §7), as code tables with bilingual labels.

Every enum the API accepts is defined here once; the reference endpoint, the database check constraints and the
validators all read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    label_zh: str
    label_en: str


def codes(table: tuple[Code, ...]) -> tuple[str, ...]:
    return tuple(item.code for item in table)


ROLES: tuple[Code, ...] = (
    Code("province", "省科技厅", "Provincial S&T Department"),
    Code("supervisor", "主管部门", "Supervising department"),
    Code("applicant", "牵头组建单位", "Lead organization"),
    Code("expert", "评审专家", "Expert reviewer"),
    Code("third_party", "第三方机构", "Entrusted third-party agency"),
    Code("observer", "只读对接系统", "Read-only integration"),
)

# [seed] 二、（一）布局重点
FIELDS: tuple[Code, ...] = (
    Code("equipment_manufacturing", "装备制造", "Equipment manufacturing"),
    Code("green_food", "绿色食品", "Green food"),
    Code("bio_breeding", "生物育种", "Biological breeding"),
    Code("modern_agriculture", "现代农业", "Modern agriculture"),
    Code("biomedicine", "生物医药", "Biomedicine"),
    Code("smart_sensors", "智能传感器", "Smart sensors"),
    Code("next_gen_it", "新一代信息技术", "Next-generation information technology"),
    Code("resource_energy_efficiency", "资源能源高效节约利用", "Efficient use of resources and energy"),
    Code("frontier", "前瞻技术领域", "Frontier technologies"),
)

ZONES: tuple[Code, ...] = (
    Code(
        "zhengluoxin", "郑洛新国家自主创新示范区", "Zhengzhou-Luoyang-Xinxiang National Innovation Demonstration Zone"
    ),
    Code("national_hitech_zone", "国家高新区", "National high-tech zone"),
)

ORG_KINDS: tuple[Code, ...] = (
    Code("enterprise", "企业", "Enterprise"),
    Code("research_institute", "科研院所", "Research institute"),
    Code("university", "高等院校", "University"),
    Code("department", "主管部门", "Supervising department"),
    Code("agency", "第三方机构", "Third-party agency"),
    Code("other", "其他", "Other"),
)

# [seed] 二、（四）组建模式, "一中心一方案"
FORMATION_MODES: tuple[Code, ...] = (
    Code("enterprise_led", "龙头企业牵头", "Led by a leading enterprise"),
    Code("enterprise_alliance", "多家骨干企业联合", "Alliance of backbone enterprises (platform company)"),
    Code("academic_led", "高校院所牵头", "Led by a university or research institute"),
)

# [seed] 附：建设方案编写提纲 — seven sections, in this order
PLAN_SECTIONS: tuple[Code, ...] = (
    Code("background", "建设背景与意义", "Background and significance"),
    Code("foundation", "基础条件与优势", "Foundation and strengths"),
    Code("goals_and_tasks", "建设目标与主要任务", "Goals and main tasks"),
    Code("organization", "建设方式与组织构架", "Construction approach and organization"),
    Code("governance", "管理模式与运行机制", "Management model and operating mechanism"),
    Code("funding", "经费投入与保障措施", "Funding and safeguards"),
    Code("schedule", "建设进度安排", "Construction schedule"),
)

# [seed] 五、（二）技术专家、财务专家、管理专家
EXPERT_CATEGORIES: tuple[Code, ...] = (
    Code("technical", "技术专家", "Technical expert"),
    Code("financial", "财务专家", "Financial expert"),
    Code("management", "管理专家", "Management expert"),
)

GRADES: tuple[Code, ...] = (
    Code("excellent", "优秀", "Excellent"),
    Code("good", "良好", "Good"),
    Code("qualified", "合格", "Qualified"),
    Code("unqualified", "不合格", "Unqualified"),
)

REVOCATION_REASONS: tuple[Code, ...] = (
    Code("failed_rectification", "整改不合格", "Failed rectification"),
    Code("failed_acceptance", "验收不通过", "Failed acceptance"),
    Code("absent_from_assessment", "无故不参加考核", "Absent from assessment without cause"),
    Code("fraud", "弄虚作假", "Fraud"),
    Code("credit_blacklist", "列入严重失信名单", "On the serious-dishonesty blacklist"),
    Code("major_incident", "发生重大事故", "Major incident"),
    Code("lead_deregistered", "牵头单位注销", "Lead organization deregistered"),
    Code("no_rd_investment", "无研发投入", "No R&D investment"),
    Code("voluntary_exit", "主动退出", "Voluntary exit"),
)

PROJECT_LEVELS: tuple[Code, ...] = (
    Code("national", "国家级", "National"),
    Code("provincial", "省级", "Provincial"),
)

REVIEW_CRITERIA: tuple[Code, ...] = (
    Code("foundation", "基础条件与优势", "Foundation and strengths"),
    Code("goals_and_tasks", "建设目标与主要任务", "Goals and main tasks"),
    Code("organization_and_governance", "组织构架与运行机制", "Organization and governance"),
    Code("funding", "经费投入与保障", "Funding"),
    Code("schedule", "建设进度安排", "Schedule"),
)

APPLICATION_STATUSES: tuple[Code, ...] = (
    Code("draft", "草稿", "Draft"),
    Code("submitted", "已提交", "Submitted"),
    Code("returned", "已退回", "Returned"),
    Code("recommended", "已推荐", "Recommended"),
    Code("incomplete", "材料待补正", "Material incomplete (returned by the formal review)"),
    Code("not_recommended", "未推荐", "Not recommended"),
    Code("withdrawn", "已撤回", "Withdrawn"),
    Code("under_review", "评审中", "Under review"),
    Code("reviewed", "已评审", "Reviewed"),
    Code("revising", "修改完善中", "Revising"),
    Code("approved", "已批准建设", "Approved"),
    Code("rejected", "未批准", "Rejected"),
)

CENTER_STATUSES: tuple[Code, ...] = (
    Code("approved", "已批准", "Approved"),
    Code("under_construction", "建设中", "Under construction"),
    Code("acceptance_pending", "待验收", "Acceptance pending"),
    Code("recognized", "已认定", "Recognized"),
    Code("rectifying", "整改中", "Rectifying"),
    Code("revoked", "已撤销", "Revoked"),
    Code("exited", "已退出", "Exited"),
)


def label_zh(table: tuple[Code, ...], code: str | None) -> str:
    """The Chinese label of a code, or the code itself when the table does not know it."""
    if code is None:
        return ""
    return next((item.label_zh for item in table if item.code == code), code)


ALL_TABLES: dict[str, tuple[Code, ...]] = {
    "roles": ROLES,
    "fields": FIELDS,
    "zones": ZONES,
    "organization_kinds": ORG_KINDS,
    "formation_modes": FORMATION_MODES,
    "plan_sections": PLAN_SECTIONS,
    "expert_categories": EXPERT_CATEGORIES,
    "grades": GRADES,
    "revocation_reasons": REVOCATION_REASONS,
    "project_levels": PROJECT_LEVELS,
    "review_criteria": REVIEW_CRITERIA,
    "application_statuses": APPLICATION_STATUSES,
    "center_statuses": CENTER_STATUSES,
}
