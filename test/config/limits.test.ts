/** Bad input of every kind ends in a diagnostic naming file and line, quickly, never an exception. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, parseConfigText } from '../../src/config/parser.js';
import { checkExitCode } from '../../src/config/diagnostics.js';

function timed<T>(f: () => T): { v: T; ms: number } {
  const t = process.hrtime.bigint();
  const v = f();
  return { v, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

test('limits: 50 MB file, binary data, missing file, directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-lim-'));
  try {
    const big = join(dir, 'big.conf');
    const fd = openSync(big, 'w');
    const chunk = Buffer.alloc(1024 * 1024, 'vrrp_instance X { }\n');
    for (let i = 0; i < 50; i++) writeSync(fd, chunk);
    closeSync(fd);
    const b = timed(() => parseConfig(big));
    assert.ok(b.ms < 1000, `${b.ms} ms`);
    assert.equal(checkExitCode(b.v), 3);
    assert.match(b.v.diagnostics[0]!.message, /too big/);
    assert.equal(b.v.diagnostics[0]!.file, big);

    const bin = join(dir, 'bin.conf');
    writeFileSync(bin, Buffer.concat([Buffer.from('global_defs {\n}\n\n'), Buffer.from([0, 1, 2, 255, 254, 0, 10])]));
    const r = parseConfig(bin);
    assert.equal(checkExitCode(r), 3);
    assert.deepEqual([r.diagnostics[0]!.file, r.diagnostics[0]!.line], [bin, 4]);
    assert.match(r.diagnostics[0]!.message, /binary/);

    const miss = parseConfig(join(dir, 'nope.conf'));
    assert.equal(checkExitCode(miss), 3);
    assert.match(miss.diagnostics[0]!.message, /cannot read configuration file .*nope\.conf: no such file/);
    assert.equal(checkExitCode(parseConfig(dir)), 3);

    // An included binary file: an error at the include's target, the rest still read.
    writeFileSync(join(dir, 'main.conf'), `include bin.conf\nglobal_defs {\n router_id x\n}\n`);
    const inc = parseConfig(join(dir, 'main.conf'));
    assert.equal(inc.config.global.routerId, 'x');
    assert.ok(inc.diagnostics.some((d) => d.severity === 'error' && /binary/.test(d.message)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('limits: include loops (self and a -> b -> a) and deep nesting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-lim-'));
  try {
    writeFileSync(join(dir, 'self.conf'), 'include self.conf\n');
    const s = timed(() => parseConfig(join(dir, 'self.conf')));
    assert.ok(s.ms < 1000);
    assert.equal(s.v.diagnostics.length, 1);
    assert.match(s.v.diagnostics[0]!.message, /include loop/);
    assert.equal(s.v.diagnostics[0]!.line, 1);
    writeFileSync(join(dir, 'a.conf'), 'include b.conf\n');
    writeFileSync(join(dir, 'b.conf'), '\ninclude a.conf\n');
    const ab = parseConfig(join(dir, 'a.conf'));
    assert.equal(ab.diagnostics.length, 1);
    assert.equal(ab.diagnostics[0]!.file, join(dir, 'b.conf'));
    assert.equal(ab.diagnostics[0]!.line, 2);
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `d${i}.conf`), `include d${i + 1}.conf\n`);
    writeFileSync(join(dir, 'd40.conf'), 'router_id deep\n');
    const deep = parseConfig(join(dir, 'd0.conf'));
    assert.ok(deep.diagnostics.some((d) => /nested deeper/.test(d.message)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('limits: variables that expand forever or explode end in one error within a second', () => {
  let bomb = '$A0=xxxxxxxx\n';
  for (let i = 1; i < 64; i++) bomb += `$A${i}=\${A${i - 1}} \${A${i - 1}}\n`;
  bomb += 'global_defs {\n router_id ${A63}\n}\n';
  const b = timed(() => parseConfigText(bomb, 'bomb.conf'));
  assert.ok(b.ms < 1000, `${b.ms} ms`);
  assert.equal(b.v.diagnostics.filter((d) => d.severity === 'error').length, 1);
  assert.match(b.v.diagnostics[0]!.message, /grows beyond/);
  assert.equal(b.v.diagnostics[0]!.line, 66);
  const loop = timed(() => parseConfigText('$X=a ${X}\nrouter_id ${X}\n', 'loop.conf'));
  assert.ok(loop.ms < 1000);
  assert.equal(loop.v.diagnostics[0]!.line, 2);
});

test('limits: runaway braces and huge lines', () => {
  const r = timed(() => parseConfigText('vrrp_instance A ' + '{ x '.repeat(100_000), 'b.conf'));
  assert.ok(r.ms < 2000, `${r.ms} ms`);
  assert.ok(r.v.diagnostics.length <= 1001);
  assert.ok(r.v.diagnostics.some((d) => /never closed/.test(d.message)));
  const long = timed(() => parseConfigText('router_id ' + 'a'.repeat(1_500_000) + '\n', 'l.conf'));
  assert.ok(long.ms < 1000);
});
