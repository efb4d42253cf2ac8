// What a front-end team writes against the contract: the lead drafts an application in an open call and reads why
// it is (not) eligible. `make contract` generates src/schema.d.ts from openapi/openapi.json and compiles this file
// with `tsc --strict`, so a contract change that would break this code breaks the build.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type ApplicationCreate = components["schemas"]["ApplicationCreate"];
type Eligibility = components["schemas"]["EligibilityRead"];
type Problem = components["schemas"]["ProblemDetail"];

export function client(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

export async function draftAndJudge(
  api: ReturnType<typeof client>,
  callId: string,
  universityId: string,
): Promise<{ applicationId: string; eligibility: Eligibility } | Problem> {
  const body: ApplicationCreate = {
    call_id: callId,
    proposed_name: "河南省智能装备技术创新中心",
    field: "equipment_manufacturing",
    formation_mode: "enterprise_led",
    participants: [{ org_id: universityId, role: "参建单位" }],
    zones: ["zhengluoxin"],
    plan: {
      background: "…",
      foundation: "…",
      goals_and_tasks: "…",
      organization: "…",
      governance: "…",
      funding: "…",
      schedule: "…",
    },
    facts: { staff_total: 1000, rd_staff: 100, rd_spend_wan: ["4000.00", "4100.00", "4200.00"] },
  };
  const created = await api.POST("/api/v1/applications", {
    body,
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
  });
  if (created.error) {
    return created.error; // an RFC 9457 problem with a stable `code`
  }
  const applicationId: string = created.data.id;
  const status: string = created.data.status;
  const judged = await api.GET("/api/v1/applications/{application_id}/eligibility", {
    params: { path: { application_id: applicationId } },
  });
  if (judged.error) {
    return judged.error;
  }
  const failing = judged.data.checks.filter((check) => check.outcome === "fail").map((check) => check.message_en);
  console.log(`${status}: eligible=${judged.data.eligible} (${judged.data.rule_set}); failing: ${failing.join("; ")}`);
  return { applicationId, eligibility: judged.data };
}
