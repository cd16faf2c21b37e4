// The first load (index.html and everything it pulls in before the app runs) must stay
// under the budget, gzipped. Chunks loaded later (viewers) do not count.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// WEB_BUDGET_KB only lets the tests see the check fail.
const BUDGET = Number(process.env.WEB_BUDGET_KB || 200) * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const index = readFileSync(join(dist, "index.html"), "utf8");
const files = [...index.matchAll(/(?:src|href)="\/app\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
if (files.length === 0) throw new Error("budget: index.html references no scripts");
let total = gzipSync(index).length;
for (const file of files) total += gzipSync(readFileSync(join(dist, file))).length;
const kb = (n) => (n / 1024).toFixed(1);
console.log(`first load: ${files.length} files, ${kb(total)} KB gzipped (budget ${kb(BUDGET)} KB)`);
if (total > BUDGET) {
  console.error(`bundle budget exceeded: keep the first load under ${kb(BUDGET)} KB gzipped`);
  process.exit(1);
}
