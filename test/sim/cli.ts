/**
 * `npm run sim -- --seeds N [--seed S] [--verbose]`: run N random simulation scenarios (seeds S, S+1, ...), print each
 * failure with its seed, description and trace, and end with a line `N passed, M failed`.
 */
import { runScenario } from './scenario.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seeds = Number(arg('--seeds') ?? 500);
const first = Number(arg('--seed') ?? Date.now() % 1_000_000_000);
const verbose = process.argv.includes('--verbose');
if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(first) || first < 0) {
  process.stderr.write('usage: npm run sim -- --seeds N [--seed S] [--verbose]\n');
  process.exit(2);
}
process.stdout.write(`simulation: ${seeds} scenarios from seed ${first}\n`);
let passed = 0;
let failed = 0;
const t0 = Date.now();
for (let s = first; s < first + seeds; s++) {
  const r = runScenario(s);
  if (r.ok) {
    passed++;
    if (verbose) process.stdout.write(`ok ${r.description} (${r.stats.transitions} transitions, ${r.stats.checks} checks, ${r.stats.simulatedMs} ms)\n`);
  } else {
    failed++;
    process.stdout.write(`FAILED ${r.description}\n  ${r.failures.join('\n  ')}\n--- trace (last lines) ---\n${r.trace}\n--- rerun: npm run sim -- --seeds 1 --seed ${s} --verbose\n`);
  }
}
process.stdout.write(`(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
