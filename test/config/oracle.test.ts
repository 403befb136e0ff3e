/**
 * keepalived itself is the oracle: every fixture in test/fixtures/config/oracle is checked with `keepalived -t`
 * inside a vipd-* network namespace that has the interfaces the fixtures name (eth0-eth3), and keepalived's
 * verdict must be the one the fixture header states. Together with fixtures.test.ts this means vipd accepts
 * what keepalived accepts and rejects what it rejects, except where the fixture's '# why:' documents a deliberate
 * difference. Needs root and keepalived (CI installs both); skips with a message otherwise.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { Lab, haveCommand, netnsUnavailableReason, uniqueNsName } from '../helpers/netns.js';
import { loadFixtures } from './fixtures.js';

/** keepalived's version ("2.2.7"), or null. The fixtures' expectations are those of Debian 12's 2.2.7. */
function keepalivedVersion(): string | null {
  const r = spawnSync('keepalived', ['-v'], { encoding: 'utf8', timeout: 5000 });
  return /Keepalived v(\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? null;
}

function skipReason(): string | false {
  const ns = netnsUnavailableReason();
  if (ns) return ns;
  if (!haveCommand('keepalived')) return 'keepalived is not installed (apt-get install keepalived); oracle comparison skipped';
  return false;
}

const skip = skipReason();

test('keepalived -t agrees with each fixture header', { skip, timeout: 120_000 }, async (t) => {
  const lab = new Lab();
  try {
    const ns = lab.addNs(uniqueNsName('cfg'));
    for (let i = 0; i < 4; i++) {
      lab.ip(ns, `link add eth${i} type veth peer name peer${i}`);
      lab.ip(ns, `link set eth${i} up`);
      lab.ip(ns, `link set peer${i} up`);
    }
    lab.ip(ns, 'addr add 192.0.2.10/24 dev eth0');
    lab.ip(ns, 'addr add 2001:db8::10/64 dev eth0 nodad');
    lab.ip(ns, 'addr add 198.51.100.10/24 dev eth1');
    const mismatches: string[] = [];
    const fixtures = loadFixtures();
    for (const f of fixtures) {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-l', '-n', '-P', '-i', 'vipd-test-host', '-f', f.path], {
        encoding: 'utf8',
        timeout: f.keepalived === 'hangs' ? 2_000 : 15_000,
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // 0 = clean; 6 = only the script-security check (not a configuration error); anything else = errors.
      const verdict = r.status === null ? 'hangs' : r.status === 0 || r.status === 6 ? 'ok' : 'errors';
      if (verdict !== f.keepalived) {
        mismatches.push(`${f.name}: keepalived -t exit ${r.status} (${verdict}), header says ${f.keepalived}\n${(r.stderr + r.stdout).trim().slice(0, 2000)}`);
      }
    }
    const version = keepalivedVersion();
    if (version === null || !version.startsWith('2.2.')) {
      // Another keepalived release judges some fixtures differently (the headers record 2.2.7): report, don't fail.
      for (const m of mismatches) t.diagnostic(`keepalived ${version ?? '?'}: ${m}`);
      return;
    }
    assert.deepEqual(mismatches, [], mismatches.join('\n\n'));
  } finally {
    await lab.destroy();
  }
});
