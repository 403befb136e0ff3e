/**
 * vipd's verdict on each configuration fixture (test/fixtures/config/oracle/*.conf): the header of each file says
 * what vipd must conclude and where it must report the error. oracle.test.ts checks the same files against
 * keepalived -t.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { parseConfig } from '../../src/config/parser.js';
import { checkExitCode, formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadFixtures, type Verdict } from './fixtures.js';

const fixtures = loadFixtures();

test('there are at least 60 fixtures, valid and broken', () => {
  assert.ok(fixtures.length >= 60, `only ${fixtures.length}`);
  assert.ok(fixtures.filter((f) => f.vipd === 'ok').length >= 20);
  assert.ok(fixtures.filter((f) => f.vipd !== 'ok').length >= 30);
});

test('fixtures where vipd and keepalived differ say why', () => {
  for (const f of fixtures) {
    const vipdAccepts = f.vipd === 'ok';
    if (vipdAccepts !== (f.keepalived === 'ok')) assert.ok(f.why, `${f.name}: verdicts differ without a '# why:'`);
  }
});

for (const f of fixtures) {
  test(`fixture ${f.name}: vipd says ${f.vipd}`, () => {
    const r = parseConfig(f.path, { instanceId: 'vipd-test-host' });
    const code = checkExitCode(r);
    const verdict: Verdict = code === 0 ? 'ok' : code === 3 ? 'unusable' : 'errors';
    const shown = r.diagnostics.map(formatDiagnostic).join('\n');
    assert.equal(verdict, f.vipd, shown);
    for (const d of r.diagnostics) {
      assert.ok(d.line > 0 && d.file.length > 0, `diagnostic without a position: ${formatDiagnostic(d)}`);
      assert.ok(!/\n\s+at /.test(d.message), 'stack trace in a diagnostic');
    }
    for (const at of f.errorAt) {
      const m = /^(?:(.+):)?(\d+)$/.exec(at)!;
      const file = m[1] ? join(dirname(f.path), m[1]) : f.path;
      const line = Number(m[2]);
      assert.ok(
        r.diagnostics.some((d) => d.severity === 'error' && d.line === line && (d.file === file || d.file.endsWith(m[1] ?? '\0'))),
        `${f.name}: expected an error at ${at}; got:\n${shown}`,
      );
    }
  });
}
