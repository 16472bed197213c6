#!/usr/bin/env bash
# npm run audit: npm audit of the runtime dependencies (what the package and the image ship).
# Fails on any high or critical finding. Where the registry refuses audit requests (some
# mirrors answer 405), says so plainly and exits 0: the check cannot be made there.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$(npm audit --omit=dev --json 2>/dev/null)
node -e '
  const report = JSON.parse(process.argv[1] || "{}");
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const why = report.message ?? report.error?.summary ?? "no report";
    console.log(`audit: not checked: the registry did not answer the audit request (${why})`);
    process.exit(0);
  }
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  const names = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === "high" || v.severity === "critical")
    .map(([name, v]) => `${name} (${v.severity})`);
  console.log(
    `audit: ${counts.total ?? 0} findings in runtime dependencies, ${counts.high ?? 0} high, ${counts.critical ?? 0} critical${names.length ? `: ${names.join(", ")}` : ""}`,
  );
  console.log(`audit: ${serious === 0 ? 1 : 0} passed, ${serious === 0 ? 0 : 1} failed`);
  process.exit(serious === 0 ? 0 : 1);
' "$report"
