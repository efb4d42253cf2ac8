// `make contract`: Redocly lint must report no error and no warning. Redocly exits non-zero on errors only, so its
// JSON report is read here and every problem counts. Usage: node lint.mjs <openapi.json> <redocly.yaml>
import { execFileSync } from "node:child_process";

const [document, config] = process.argv.slice(2);
let output;
try {
  output = execFileSync("npx", ["--no-install", "redocly", "lint", "--format=json", "--config", config, document], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
} catch (failure) {
  output = failure.stdout; // errors found: the report is still on stdout
}
const report = JSON.parse(output);
for (const problem of report.problems) {
  const where = problem.location?.[0]?.pointer ?? "";
  console.log(`${problem.severity} ${problem.ruleId} ${where}: ${problem.message}`);
}
const { errors, warnings } = report.totals;
console.log(`redocly ${report.version} lint ${document}: ${errors} errors, ${warnings} warnings`);
process.exit(errors + warnings === 0 ? 0 : 1);
