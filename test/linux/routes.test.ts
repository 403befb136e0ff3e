/**
 * virtual_routes / virtual_rules through rtnetlink in a namespace: lines parsed with parseRouteSpec /
 * parseRuleSpec, added with Routes, seen by `ip route` / `ip rule` (proto keepalived), listed back,
 * deleted; kernel refusals and bad input give errors naming the route or rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { Lab, netnsUnavailableReason, uniqueNsName } from '../helpers/netns.js';

const skip = netnsUnavailableReason();
const distSrc = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const mod = (p: string) => JSON.stringify(pathToFileURL(join(distSrc, p)).href);

interface NodeResult {
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
}

/**
 * Run an async function body inside a namespace with `rt` (Routes on a fresh Rtnl), `route(text)` and
 * `rule(text)` (parsed specs; a parse error is thrown as EINVAL) in scope.
 */
function inNs(ns: string, body: string): NodeResult {
  const code = `
import { Rtnl } from ${mod('linux/rtnetlink.js')};
import { Routes } from ${mod('linux/routes.js')};
import { parseRouteSpec, parseRuleSpec } from ${mod('wire/route-spec.js')};
import { formatIP } from ${mod('wire/inet.js')};
const nl = Rtnl.open();
const rt = new Routes(nl);
const spec = (r) => { if (!r.ok) throw Object.assign(new Error(r.error), { code: 'EINVAL' }); return r.spec; };
const route = (t, f) => spec(parseRouteSpec(t, { family: f }));
const rule = (t, f) => spec(parseRuleSpec(t, { family: f }));
try {
  const result = await (async () => { ${body} })();
  process.stdout.write(JSON.stringify({ ok: true, result: result ?? null }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }));
} finally { nl.close(); }`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0 || !r.stdout) throw new Error(`node in ${ns} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as NodeResult;
}

function fails(r: NodeResult, code: string, re: RegExp): void {
  assert.equal(r.ok, false, `expected ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.code, code, r.message);
  assert.match(r.message!, re);
  assert.doesNotMatch(r.message!, /\n\s+at /, 'no stack trace');
}

const ROUTES = [
  '198.51.100.0/24 via 192.0.2.254 dev eth0',
  'default via 192.0.2.254 dev eth0 table 100 metric 5',
  'blackhole 203.0.113.0/24',
  'unreachable 203.0.113.128/25 table 200',
  '203.0.113.7 dev eth0 src 192.0.2.1 scope link proto static no_track',
  '203.0.113.8 dev eth0 protocol boot',
  '2001:db8:5::/48 via 2001:db8::fe dev eth0 pref high',
  'prohibit 2001:db8:6::/48 table 1000',
];
const RULES = [
  'from 192.0.2.0/24 table 100',
  'to 198.51.100.0/24 priority 100 table 200',
  'fwmark 0x10/0xff iif eth0 lookup 100 pref 300',
  'from 2001:db8::/32 table 100 priority 400',
  'from 192.0.2.5 to 203.0.113.0/24 unreachable priority 50',
  'not fwmark 0x1 table 200 priority 60',
];

test('virtual_routes and virtual_rules over rtnetlink in a namespace', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const lab = new Lab();
  try {
    const N = lab.addNs(uniqueNsName('rt'));
    const O = lab.addNs(uniqueNsName('rt-o'));
    lab.veth(N, 'eth0', O, 'eth0');
    lab.ip(N, 'addr add 192.0.2.1/24 dev eth0');
    lab.ip(N, 'addr add 2001:db8::1/64 dev eth0 nodad');
    const routes4 = () => lab.ip(N, '-4 route show table all');
    const routes6 = () => lab.ip(N, '-6 route show table all');

    await t.test('routes added are visible with ip route, marked proto keepalived', () => {
      const r = inNs(N, `for (const t of ${JSON.stringify(ROUTES)}) await rt.addRoute(route(t)); return true;`);
      assert.deepEqual(r, { ok: true, result: true });
      const v4 = routes4();
      assert.match(v4, /^198\.51\.100\.0\/24 via 192\.0\.2\.254 dev eth0 proto keepalived $/m);
      assert.match(v4, /^default via 192\.0\.2\.254 dev eth0 table 100 proto keepalived metric 5 $/m);
      assert.match(v4, /^blackhole 203\.0\.113\.0\/24 proto keepalived $/m);
      assert.match(v4, /^unreachable 203\.0\.113\.128\/25 table 200 proto keepalived $/m);
      assert.match(v4, /^203\.0\.113\.7 dev eth0 proto static scope link src 192\.0\.2\.1 $/m);
      assert.match(v4, /^203\.0\.113\.8 dev eth0 proto keepalived scope link $/m, 'tracked route: proto keepalived, as keepalived');
      const v6 = routes6();
      assert.match(v6, /^2001:db8:5::\/48 via 2001:db8::fe dev eth0 proto keepalived metric 1024 pref high$/m);
      assert.match(v6, /^prohibit 2001:db8:6::\/48 dev lo table 1000 proto keepalived metric 1024 .*pref medium$/m);
      // The route is used: the kernel's route lookup picks it.
      assert.match(lab.ip(N, 'route get 198.51.100.9'), /via 192\.0\.2\.254 dev eth0/);
    });

    await t.test('listRoutes reads them back', () => {
      const r = inNs(
        N,
        `const l = [...await rt.listRoutes(4), ...await rt.listRoutes(6)].filter((x) => x.protocol === 18);
         return l.map((x) => (x.dst ? formatIP(x.family, x.dst) + '/' + x.dstLen : 'default') + ' t' + x.table + ' ty' + x.type).sort();`,
      );
      assert.deepEqual(r.result, [
        '198.51.100.0/24 t254 ty1',
        '2001:db8:5::/48 t254 ty1',
        '2001:db8:6::/48 t1000 ty8',
        '203.0.113.0/24 t254 ty6',
        '203.0.113.128/25 t200 ty7',
        '203.0.113.8/32 t254 ty1',
        'default t100 ty1',
      ]);
    });

    await t.test('adding a route twice is EEXIST naming it; replace is allowed', () => {
      fails(inNs(N, `await rt.addRoute(route('blackhole 203.0.113.0/24'));`), 'EEXIST', /^add route blackhole 203\.0\.113\.0\/24: already present \(EEXIST\)/);
      assert.deepEqual(inNs(N, `await rt.addRoute(route('blackhole 203.0.113.0/24'), { replace: true }); return 1;`), { ok: true, result: 1 });
    });

    await t.test('rules added are visible with ip rule', () => {
      const r = inNs(N, `for (const t of ${JSON.stringify(RULES)}) await rt.addRule(rule(t)); return true;`);
      assert.deepEqual(r, { ok: true, result: true });
      const v4 = lab.ip(N, 'rule show');
      assert.match(v4, /^16384:\s+from 192\.0\.2\.0\/24 lookup 100 proto keepalived\s*$/m, 'no preference: 16384, as keepalived');
      assert.match(v4, /^100:\s+from all to 198\.51\.100\.0\/24 lookup 200 proto keepalived\s*$/m);
      assert.match(v4, /^300:\s+from all fwmark 0x10\/0xff iif eth0 lookup 100 proto keepalived\s*$/m);
      assert.match(v4, /^50:\s+from 192\.0\.2\.5 to 203\.0\.113\.0\/24 unreachable proto keepalived\s*$/m);
      assert.match(v4, /^60:\s+not from all fwmark 0x1 lookup 200 proto keepalived\s*$/m);
      assert.match(lab.ip(N, '-6 rule show'), /^400:\s+from 2001:db8::\/32 lookup 100 proto keepalived\s*$/m);
      // The rule is used: traffic from 192.0.2.0/24 to elsewhere goes through table 100's default route.
      assert.match(lab.ip(N, 'route get 8.8.8.8 from 192.0.2.1'), /via 192\.0\.2\.254 dev eth0 table 100/);
      const listed = inNs(N, `return (await rt.listRules(4)).filter((x) => x.protocol === 18).map((x) => x.priority).sort((a, b) => a - b);`);
      assert.deepEqual(listed.result, [50, 60, 100, 300, 16384]);
      fails(inNs(N, `await rt.addRule(rule('to 198.51.100.0/24 priority 100 table 200'));`), 'EEXIST', /^add rule to 198\.51\.100\.0\/24 priority 100 table 200: already present/);
    });

    await t.test('routes and rules deleted are gone; deleting again is an error, or false with ignoreMissing', () => {
      const r = inNs(
        N,
        `for (const t of ${JSON.stringify(RULES)}) await rt.delRule(rule(t));
         for (const t of ${JSON.stringify(ROUTES)}) await rt.delRoute(route(t));
         return [await rt.delRoute(route('blackhole 203.0.113.0/24'), { ignoreMissing: true }),
                 await rt.delRule(rule('from 192.0.2.0/24 table 100'), { ignoreMissing: true })];`,
      );
      assert.deepEqual(r, { ok: true, result: [false, false] });
      assert.doesNotMatch(routes4() + routes6(), /keepalived|static/);
      assert.doesNotMatch(lab.ip(N, 'rule show') + lab.ip(N, '-6 rule show'), /keepalived/);
      assert.match(lab.ip(N, 'rule show'), /32766:\s+from all lookup main/, 'the default rules are untouched');
      fails(inNs(N, `await rt.delRoute(route('198.51.100.0/24 via 192.0.2.254 dev eth0'));`), 'ESRCH', /^delete route 198\.51\.100\.0\/24 via 192\.0\.2\.254 dev eth0: route not present \(ESRCH\)/);
      fails(inNs(N, `await rt.delRule(rule('from 192.0.2.0/24 table 100'));`), 'ENOENT', /^delete rule from 192\.0\.2\.0\/24 table 100: rule not present/);
    });

    await t.test('kernel refusals and bad input name the route', () => {
      fails(inNs(N, `await rt.addRoute(route('198.51.100.0/24 dev nosuch0'));`), 'ENODEV', /^add route 198\.51\.100\.0\/24 dev nosuch0: interface nosuch0 not found/);
      fails(inNs(N, `await rt.addRoute(route('198.51.100.0/24 via 203.0.113.1'));`), 'ENETUNREACH', /^add route 198\.51\.100\.0\/24 via 203\.0\.113\.1: the gateway is not reachable/);
      fails(inNs(N, `await rt.addRoute(route('198.51.100.0/24 dev eth0 src 203.0.113.99'));`), 'EINVAL', /^add route 198\.51\.100\.0\/24 dev eth0 src 203\.0\.113\.99: /);
      fails(inNs(N, `await rt.addRoute(route('198.51.100.0/24 nexthop via 192.0.2.1'));`), 'EINVAL', /route option "nexthop" is not supported/);
      fails(inNs(N, `await rt.addRoute({ family: 4, type: 'unicast', dst: null, via: new Uint8Array(16) });`), 'EINVAL', /gateway and source must be IPv4 addresses/);
      fails(inNs(N, `await rt.addRule({ family: 4, action: 'table', table: null, from: null, to: null });`), 'EINVAL', /rule has no table/);
      assert.doesNotMatch(routes4(), /198\.51\.100/);
      // An interface that is gone took its routes with it: deleting with ignoreMissing is not an error.
      assert.deepEqual(inNs(N, `return await rt.delRoute(route('198.51.100.0/24 dev nosuch0'), { ignoreMissing: true });`), { ok: true, result: false });
    });
  } finally {
    await lab.destroy();
  }
});
