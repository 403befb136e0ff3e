#!/usr/bin/env node
// `npm run bench -- [--quick] [options]`: build (when a source is newer than its output) and run the lab
// benchmark suite, dist/bench/run.js. Options are those of bench/run.ts (--help lists them).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'bench', 'run.js');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const srcTime = Math.max(newest(join(root, 'src')), newest(join(root, 'bench')));
if (!existsSync(entry) || statSync(entry).mtimeMs < srcTime) {
  process.stderr.write('bench: building (tsc -p .)\n');
  // Type errors elsewhere in the tree do not stop tsc from emitting; only a missing output is fatal.
  const b = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { stdio: 'inherit' });
  if (!existsSync(entry)) {
    process.stderr.write(`bench: the build did not produce ${entry} (tsc exit ${b.status})\n`);
    process.exit(2);
  }
}
const r = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
