/**
 * Official against corrected API-Bank scoring on the official evaluator's own 1,514 predictions
 * (`api-bank-official/verdicts.jsonl`): agreement with the official verdicts, and how many verdicts each
 * corrected rule changes, as the Markdown table in docs/apibank.md.
 *
 *   node scripts/apibank-scoring.ts [data-dir]     (default ../shared/data)
 */
import { loadApiBank } from "../src/envs/apibank/data.ts";
import { SCORING_RULE_IDS } from "../src/envs/apibank/scoring.ts";
import {
  departures,
  groupVerdicts,
  loadOfficialVerdicts,
  verdictGroups,
} from "../src/envs/apibank/verdicts.ts";

const dataDir = process.argv[2] ?? "../shared/data";
const data = loadApiBank(dataDir);
const groups = verdictGroups(data, loadOfficialVerdicts(dataDir));
let agree = 0;
let total = 0;
const rows = [];
for (const group of groups) {
  const ours = await groupVerdicts(group, []);
  agree += group.rows.filter((r, i) => r.official_correct === ours[i]).length;
  total += group.rows.length;
  rows.push(await departures(group));
}
console.log(`official scoring agrees with the official evaluator on ${agree}/${total} verdicts\n`);
const head = ["set", "level", "points", "official", "corrected", "differ", ...SCORING_RULE_IDS];
console.log(`| ${head.join(" | ")} |`);
console.log(`|${head.map(() => "---").join("|")}|`);
for (const d of rows) {
  const cells = SCORING_RULE_IDS.map((r) => `${d.byRule[r].added} / ${d.byRule[r].removed}`);
  console.log(
    `| ${[d.set, d.level, d.points, d.official, d.corrected, d.differ, ...cells].join(" | ")} |` +
      (d.unexplained.length > 0 ? ` unexplained: ${d.unexplained.join(", ")}` : ""),
  );
}
