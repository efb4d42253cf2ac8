#!/usr/bin/env bash
# The lifecycle from a call to a center under construction, with curl and jq, against `make run`.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
PY=${PY:-.venv/bin/python}
export TZ=Asia/Shanghai  # the programme's calendar: "today" is the date in Beijing
TODAY=$(date +%F)
json() { curl -sS --fail-with-body -H "Content-Type: application/json" "$@"; }

# 1. The province (省科技厅) registers a supervising department, a lead enterprise and a university.
P="Authorization: Bearer $($PY -m app token --role province)"
DEPT=$(json -X POST "$API/organizations" -H "$P" -d '{"name": "郑州市科学技术局", "credit_code": "12410000MA0XK1A02Y",
  "kind": "department", "region": "郑州市"}' | jq -r .id)
LEAD=$(json -X POST "$API/organizations" -H "$P" -d '{"name": "郑州智能装备集团有限公司",
  "credit_code": "91410100MA45XK7T5C", "kind": "enterprise", "region": "郑州市", "supervisor_id": "'"$DEPT"'",
  "is_leading_enterprise": true, "zones": ["zhengluoxin"], "registered_on": "2012-05-01"}' | jq -r .id)
UNIV=$(json -X POST "$API/organizations" -H "$P" -d '{"name": "某某大学", "credit_code": "12410000420003216X",
  "kind": "university", "region": "郑州市"}' | jq -r .id)

# 2. It publishes a call (申报通知) open around today, judged by the henan-2021 rule set.
CALL=$(json -X POST "$API/calls" -H "$P" -d '{"year": '"${TODAY:0:4}"', "title": "省技术创新中心申报",
  "opens_on": "'"$(date -d '-30 days' +%F)"'", "closes_on": "'"$(date -d '+30 days' +%F)"'"}' | jq -r .id)
json -X POST "$API/calls/$CALL/publish" -H "$P" | jq '{status}'

# 3. The lead drafts an application with its seven-section plan and facts, and asks why it is (not) eligible.
A="Authorization: Bearer $($PY -m app token --role applicant --org-id "$LEAD")"
APP=$(json -X POST "$API/applications" -H "$A" -d '{"call_id": "'"$CALL"'",
  "proposed_name": "河南省智能装备技术创新中心", "field": "equipment_manufacturing", "formation_mode": "enterprise_led",
  "participants": [{"org_id": "'"$UNIV"'", "role": "参建单位"}], "zones": ["zhengluoxin"],
  "plan": {"background": "…", "foundation": "…", "goals_and_tasks": "…", "organization": "…", "governance": "…",
           "funding": "…", "schedule": "…"},
  "facts": {"major_projects": [{"name": "国家重点研发计划", "level": "national", "year": 2020}],
            "platforms": [{"name": "省工程技术研究中心", "level": "provincial", "field": "equipment_manufacturing"}],
            "ip_results_count": 12, "invention_patents": 40, "pct_patents": 3,
            "cooperation_mechanism": "与某某大学共建联合实验室", "staff_total": 1000, "rd_staff": 100,
            "high_level_talents": [{"name": "张三", "level": "national"}, {"name": "李四", "level": "provincial"},
                                   {"name": "王五", "level": "provincial"}],
            "rd_spend_wan": ["4000.00", "4100.00", "4200.00"]}}' | jq -r .id)
json "$API/applications/$APP/eligibility" -H "$A" | jq '{eligible, rule_set, checks: [.checks[] | {rule, outcome}]}'
# The documents behind its claims go with the submission (multipart; the type is read from the bytes): the audit
# report for its R&D spend, proofs of its talents, its patent certificates and its integrity pledge (诚信承诺书).
DOC=$(mktemp); printf '%%PDF-1.7\n%% 2025年度审计报告\n%%%%EOF\n' > "$DOC"
for kind in audit_report talent_proof patent_certificate integrity_pledge; do
  curl -sS --fail-with-body "$API/applications/$APP/attachments" -H "$A" -F "kind=$kind" \
    -F "file=@$DOC;filename=$kind.pdf" | jq -c '{kind, media_type, sha256: .sha256[0:12]}'
done
json -X POST "$API/applications/$APP/submit" -H "$A" | jq '{status, submitted_attachments: [.submitted_attachments[].kind]}'

# 4. The supervising department (主管部门) recommends it.
S="Authorization: Bearer $($PY -m app token --role supervisor --org-id "$DEPT")"
json -X POST "$API/applications/$APP/recommend" -H "$S" | jq '{status}'

# 4a. The province's formal review (形式审查): the checklist names each rule that needs a document and whether the
#     submission has one; every one verified, the outcome is complete, and expert review may open.
json "$API/applications/$APP/formal-review" -H "$P" | jq -c '.evidence[] | {rule, kinds, attached}'
VERDICTS=$(json "$API/applications/$APP/formal-review" -H "$P" \
  | jq -c '[.evidence[] | {key: .rule, value: {verdict: "verified"}}] | from_entries')
json -X POST "$API/applications/$APP/formal-review" -H "$P" -d '{"verdicts": '"$VERDICTS"', "outcome": "complete"}' \
  | jq '{status, formal_review_outcome, allowed_actions}'

# 5. The province forms a panel of five experts (technical, financial, management) and opens the review.
EXPERTS=()
for category in technical technical financial management management; do
  EXPERTS+=("$(json -X POST "$API/experts" -H "$P" -d '{"name": "专家", "category": "'"$category"'"}' | jq -r .id)")
done
PANEL=$(printf '"%s",' "${EXPERTS[@]}")
json -X PUT "$API/applications/$APP/panel" -H "$P" -d '{"expert_ids": ['"${PANEL%,}"']}' | jq '{expert_ids}'
json -X POST "$API/applications/$APP/open_review" -H "$P" | jq '{status}'

# 6. Each expert scores its own sheet (基础 30, 目标任务 25, 组织治理 20, 经费 15, 进度 10).
for expert in "${EXPERTS[@]}"; do
  E="Authorization: Bearer $($PY -m app token --role expert --expert-id "$expert")"
  json -X PUT "$API/applications/$APP/scores/me" -H "$E" -d '{"criteria": {"foundation": 26,
    "goals_and_tasks": 20, "organization_and_governance": 16, "funding": 12, "schedule": 8},
    "opinion": "基础扎实，目标明确", "support": true}' | jq -c '{total}'
done

# 7. The province concludes (trimmed mean) and publishes the list it intends to support (拟支持名单) for five working
#    days on the official calendar (公示). Here the notice is recorded as posted two weeks ago, so it has ended;
#    until it ends, and while an objection (异议) is unresolved, `approve` is blocked and GET …/actions says why.
#    Anyone reads what the notice publishes, without a token. Then the province approves: the center exists, and the
#    register numbers the approval document (批复, 豫科〔YYYY〕N号), which the lead downloads as a PDF stating the
#    digest the feed records.
json -X POST "$API/applications/$APP/conclude_review" -H "$P" | jq '{status, aggregate_score, review_passed}'
STARTS=$($PY -c 'from datetime import date, timedelta; from app.domain.workdays import is_working_day as w
d = date.today() - timedelta(days=14)
while not w(d): d -= timedelta(days=1)
print(d)')
NOTICE=$(json -X POST "$API/publicity" -H "$P" -d '{"kind": "approval", "subject_ids": ["'"$APP"'"],
  "starts_on": "'"$STARTS"'", "working_days": 5}' | jq -r .id)
curl -sS "$API/public/publicity/$NOTICE" | jq -c '{title, subjects, starts_on, ends_on, status}'
json "$API/applications/$APP/actions" -H "$P" | jq -c '.[] | select(.action == "approve")'
CENTER=$(json -X POST "$API/applications/$APP/approve" -H "$P" -d '{"decision_date": "'"$TODAY"'"}' | jq -r .center_id)
json "$API/centers/$CENTER" -H "$A" | jq '{code, status, approved_on, approval_document_no}'
DOC=$(json "$API/applications/$APP/documents" -H "$A" | jq -r '.items[0].id')
json "$API/documents/$DOC" -H "$A" | jq '{kind, number, issued_on, sha256, event_seq}'
curl -sS --fail-with-body -H "$A" -o approval.pdf "$API/documents/$DOC.pdf" && head -c 8 approval.pdf && echo

# 8. The task book (建设目标任务书) is drafted and signed: construction starts, three years by default.
json -X PUT "$API/centers/$CENTER/task-book" -H "$P" -d '{"targets": [{"code": "T1", "name": "发明专利授权",
  "unit": "件", "target_value": "30"}], "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00",
  "other_wan": "0"}, "starts_on": "'"$TODAY"'"}' | jq '{status}'
json -X POST "$API/centers/$CENTER/sign_task_book" -H "$P" \
  | jq '{status, construction_starts_on, construction_ends_on, task_book_sha256}'

# 9. What does the center owe two years from now? Who may do what next, and why not?
json "$API/obligations?as_of=$(date -d '+2 years' +%F)&center_id=$CENTER" -H "$P" | jq -c '.items[]'
json "$API/centers/$CENTER/actions" -H "$A" | jq -c '.[] | {action, allowed, blocked_by: [.blocked_by[].code]}'

# 10. Other systems follow the tamper-evident feed and re-check its hash chain.
O="Authorization: Bearer $($PY -m app token --role observer)"
json "$API/events?after=0&limit=5" -H "$O" | jq -c '.items[] | {seq, type, hash: .hash[0:12]}'
json "$API/events/verify" -H "$O" | jq -c .
