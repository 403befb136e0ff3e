/**
 * The control plane of the real daemon (`vipd run --metrics-listen`), end to end in the lab topology: two routers
 * running vipd, a failover by cable pull and a failback. Checks that
 *  - `vipd status` (control socket) reflects the failover within one advert interval of `Entering MASTER STATE`;
 *  - /metrics (inside the router's namespace) parses and counts the transitions and adverts;
 *  - SIGUSR1 / SIGUSR2 / SIGRTMIN+2 write keepalived's dumps to /tmp with the right instance;
 *  - the dashboard in headless chromium (run inside the router's namespace through a wrapper script) flips the
 *    instance card to MASTER and back to BACKUP, with a screenshot in test-artifacts/.
 *
 * Needs root, nft; the browser part also chromium and playwright-core (skipped with a message otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, netnsUnavailableReason } from '../helpers/netns.js';
import { buildTopology, cleanOrphanLabs, keepalivedConf, processTag, startDaemon, type RouterDaemon, type Topology } from '../../src/linux/lab/index.js';
import { controlRequest } from '../../src/cli/control-client.js';
import type { DaemonStatus, InstanceStatus } from '../../src/daemon/api.js';
import { jsonDumpSignal } from '../../src/control/signals.js';
import { parsePrometheusText, sampleValue, type PromFamily } from './prom-parse.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_FLAGS, playwright } from '../helpers/browser.js';

const PORT = 9651;
const ADVERT_MS = 100;
const DUMPS = { data: '/tmp/keepalived.data', stats: '/tmp/keepalived.stats', json: '/tmp/keepalived.json' };

function skipReason(): string | undefined {
  const r = netnsUnavailableReason();
  if (r) return r;
  if (!haveCommand('nft')) return 'nft is not installed (apt-get install nftables); skipped';
  return undefined;
}
const skip = skipReason();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('dct');

const pw = playwright;
const browserSkip = browserSkipReason('browser part');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(d: RouterDaemon): Promise<InstanceStatus> {
  const r = await controlRequest(join(d.dir, 'vipd.sock'), { cmd: 'status', instance: 'VI_1' }, 5_000);
  assert.ok(r.ok, JSON.stringify(r));
  const s = (r as { status: DaemonStatus }).status;
  return s.instances.find((i) => i.name === 'VI_1')!;
}

/** GET a URL from inside a node's namespace (the metrics listener lives there). */
async function fetchIn(topo: Topology, node: 'R1' | 'R2', path: string): Promise<string> {
  const script = `fetch('http://127.0.0.1:${PORT}${path}').then(async (r) => { if (!r.ok) { console.error(r.status); process.exit(1); } process.stdout.write(await r.text()); }, (e) => { console.error(String(e)); process.exit(1); })`;
  return topo.exec(node, process.execPath, ['-e', script], { timeoutMs: 10_000 });
}

async function metrics(topo: Topology, node: 'R1' | 'R2'): Promise<Map<string, PromFamily>> {
  return parsePrometheusText(await fetchIn(topo, node, '/metrics'));
}

/** Send `signal` to the daemon and wait for `file` to be (re)written with VI_1 in it; returns its text, then removes it. */
async function dump(d: RouterDaemon, signal: NodeJS.Signals | number, file: string): Promise<string> {
  const pid = Number(readFileSync(join(d.dir, 'daemon.pid'), 'utf8').trim());
  const before = existsSync(file) ? statSync(file).mtimeMs : -1;
  if (before >= 0) rmSync(file, { force: true });
  process.kill(pid, signal);
  const end = Date.now() + 5_000;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`no ${file} 5 s after signal ${signal} to vipd ${pid}:\n${d.proc.output(20)}`);
    await sleep(20);
  }
  await sleep(20);
  const text = readFileSync(file, 'utf8');
  rmSync(file, { force: true });
  return text;
}

test('the real daemon: status within one advert of the failover, metrics, keepalived dumps, dashboard in chromium', { skip, timeout: 180_000 }, async (t) => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('dct'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  const logs = () => daemons.map((d) => `--- ${d.router}\n${d.proc.output(30)}`).join('\n');
  const wrapDir = mkdtempSync(join(tmpdir(), 'vipd-dct-'));
  let browser: import('playwright-core').Browser | null = null;
  try {
    const conf = (p: number) =>
      keepalivedConf({ instances: [{ name: 'VI_1', vrid: 81, priority: p, advertInt: ADVERT_MS / 1000, vips: [`${topo.vip4}/24`], extra: ['garp_master_delay 2'] }] });
    const extraArgs = ['--metrics-listen', `127.0.0.1:${PORT}`];
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150), extraArgs });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100), extraArgs });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER');
    await r2.waitForState('BACKUP');
    await r2.waitForLine(/Metrics and dashboard on http:\/\/127\.0\.0\.1:9651\//, { timeoutMs: 5_000 });
    // R2 learns the master's address from its first advert after entering BACKUP.
    let before = await status(r2);
    for (const end = Date.now() + 2_000; before.masterAddress === null && Date.now() < end; ) {
      await sleep(20);
      before = await status(r2);
    }
    assert.equal(before.state, 'BACKUP');
    assert.equal(before.masterAddress, topo.routers[0]!.lan4);

    // The browser runs inside R2's namespace: playwright starts the wrapper, which execs chromium there.
    let page: import('playwright-core').Page | null = null;
    const pageErrors: string[] = [];
    if (!browserSkip) {
      const wrapper = join(wrapDir, 'chromium-in-ns');
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${topo.routers[1]!.ns} ${CHROMIUM} "$@"\n`);
      chmodSync(wrapper, 0o755);
      browser = await pw!.chromium.launch({
        executablePath: wrapper,
        headless: true,
        args: CHROMIUM_FLAGS,
        timeout: 30_000,
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      await page.goto(`http://127.0.0.1:${PORT}/`, { timeout: 15_000 });
      await page.locator('.card[data-instance="VI_1/4"] .state[data-state="BACKUP"]').waitFor({ timeout: 10_000 });
      await page.locator('#conn.live').waitFor({ timeout: 10_000 });
    }

    // Poll R2's status over the control socket while R1's cable is pulled.
    let firstMasterAt = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = await status(r2).catch(() => null);
        if (s?.state === 'MASTER' && firstMasterAt === 0) firstMasterAt = Date.now();
        await sleep(5);
      }
    })();
    const m2 = r2.mark();
    const cut = await topo.linkDown('R1', 'switch');
    const line = await r2.waitForState('MASTER', { from: m2, timeoutMs: 5_000 });
    const end = Date.now() + 2_000;
    while (firstMasterAt === 0 && Date.now() < end) await sleep(5);
    polling = false;
    await poller;

    await t.test('status reflects the failover within one advert interval', async () => {
      assert.ok(firstMasterAt > 0, `status never said MASTER\n${logs()}`);
      const lag = firstMasterAt - line.t;
      console.log(`  takeover ${line.t - cut} ms after the cable pull; status said MASTER ${lag} ms after the log line`);
      assert.ok(lag <= ADVERT_MS, `status said MASTER ${lag} ms after "Entering MASTER STATE" (bound ${ADVERT_MS} ms)`);
      const out = execFileSync(process.execPath, ['bin/vipd', 'status', '--json', 'VI_1', '--control-socket', join(r2.dir, 'vipd.sock')], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      const s = (JSON.parse(out) as DaemonStatus).instances[0]!;
      assert.equal(s.state, 'MASTER');
      assert.equal(s.lastTransition?.from, 'BACKUP');
      assert.equal(s.lastTransition?.to, 'MASTER');
      assert.ok(Math.abs(Date.parse(s.lastTransition!.at) - line.t) < 1_000, `transition time ${s.lastTransition!.at} vs log ${new Date(line.t).toISOString()}`);
      assert.equal(s.counters.become_master, 1);
      assert.ok(s.counters.advert_rcvd > 0, 'adverts received while backup');
      assert.ok(s.counters.advert_sent > 0, 'adverts sent as master');
      const text = execFileSync(process.execPath, ['bin/vipd', 'status', '--control-socket', join(r2.dir, 'vipd.sock')], { encoding: 'utf8', timeout: 10_000 });
      assert.match(text, /VI_1\s+IPv4\s+81\s+MASTER\s+100/);
    });

    await t.test('metrics parse and show the transition and the advert counters', async () => {
      const fams = await metrics(topo, 'R2');
      const l = { instance: 'VI_1', family: 'ipv4' };
      assert.equal(sampleValue(fams, 'vipd_instance_state', { ...l, state: 'MASTER' }), 1);
      assert.equal(sampleValue(fams, 'vipd_instance_state', { ...l, state: 'BACKUP' }), 0);
      assert.equal(sampleValue(fams, 'vipd_become_master_total', l), 1);
      const trans = fams.get('vipd_transitions_total')!.samples.filter((s) => s.labels.from === 'BACKUP' && s.labels.to === 'MASTER');
      assert.equal(trans.length, 1, JSON.stringify(fams.get('vipd_transitions_total')!.samples));
      assert.equal(trans[0]!.value, 1);
      assert.ok((sampleValue(fams, 'vipd_adverts_received_total', l) ?? 0) > 0);
      assert.ok((sampleValue(fams, 'vipd_adverts_sent_total', l) ?? 0) > 0);
      // Adverts heard while BACKUP fill the inter-arrival histogram, around the 100 ms interval.
      const count = sampleValue(fams, 'vipd_advert_interarrival_seconds_count', l) ?? 0;
      assert.ok(count > 3, `inter-arrival samples: ${count}`);
      const sum = sampleValue(fams, 'vipd_advert_interarrival_seconds_sum', l) ?? 0;
      assert.ok(sum / count > 0.05 && sum / count < 0.2, `mean inter-arrival ${sum / count} s`);
      assert.equal(sampleValue(fams, 'vipd_instance_effective_priority', l), 100);
    });

    await t.test('SIGUSR1 / SIGUSR2 / SIGRTMIN+2 write keepalived dumps for the instance', async () => {
      const data = await dump(r2, 'SIGUSR1', DUMPS.data);
      assert.match(data, /^------< Global definitions >------$/m);
      assert.match(data, /^ VRRP Instance = VI_1$/m);
      assert.match(data, /^ {3}State = MASTER$/m);
      assert.match(data, /^ {3}Virtual Router ID = 81$/m);
      assert.match(data, /^ {3}Priority = 100$/m);
      assert.match(data, /^ {3}Interface = eth0$/m);
      // A configuration-only line (src/control/dump-details.ts): keepalived's default is 5.
      assert.match(data, /^ {3}Gratuitous ARP delay = 2$/m);
      const stats = await dump(r2, 'SIGUSR2', DUMPS.stats);
      assert.match(stats, /^VRRP Instance: VI_1\n {2}Advertisements:\n {4}Received: [1-9]\d*\n {4}Sent: [1-9]\d*\n {2}Became master: 1\n {2}Released master: 0\n/);
      const sig = jsonDumpSignal();
      if (sig === null) {
        t.diagnostic('native addon missing: JSON dump signal not tested');
        return;
      }
      const json = JSON.parse(await dump(r2, sig, DUMPS.json)) as { data: Record<string, unknown>; stats: Record<string, number> }[];
      assert.equal(json.length, 1);
      assert.equal(json[0]!.data.iname, 'VI_1');
      assert.equal(json[0]!.data.vrid, 81);
      assert.equal(json[0]!.data.state, 2);
      assert.equal(json[0]!.data.base_priority, 100);
      assert.equal(json[0]!.stats.become_master, 1);
      // The daemon is still running and serving after three signals.
      assert.equal((await status(r2)).state, 'MASTER');
    });

    await t.test('dashboard in chromium (in R2\'s namespace) flips to MASTER, then back to BACKUP on failback', { skip: browserSkip }, async () => {
      const card = page!.locator('.card[data-instance="VI_1/4"]');
      await card.locator('.state[data-state="MASTER"]').waitFor({ timeout: 5_000 });
      assert.match((await card.textContent()) ?? '', /BACKUP → MASTER/);
      assert.match((await page!.locator('#translist').textContent()) ?? '', /VI_1 IPv4: BACKUP → MASTER/);
      mkdirSync('test-artifacts', { recursive: true });
      const shot = join('test-artifacts', 'dashboard-failover.png');
      await page!.screenshot({ path: shot, fullPage: true, timeout: 15_000 });
      assert.ok(statSync(shot).size > 10_000, 'screenshot written');

      const m = r2.mark();
      await topo.linkUp('R1', 'switch');
      await r2.waitForState('BACKUP', { from: m, timeoutMs: 5_000 });
      await card.locator('.state[data-state="BACKUP"]').waitFor({ timeout: 5_000 });
      assert.match((await card.textContent()) ?? '', /MASTER → BACKUP/);
      const shot2 = join('test-artifacts', 'dashboard-failback.png');
      await page!.screenshot({ path: shot2, fullPage: true, timeout: 15_000 });
      assert.deepEqual(pageErrors, []);
    });

    await t.test('after failback: status BACKUP following R1, release counted in metrics', async () => {
      if (browserSkip) {
        const m = r2.mark();
        await topo.linkUp('R1', 'switch');
        await r2.waitForState('BACKUP', { from: m, timeoutMs: 5_000 });
      }
      const s = await status(r2);
      assert.equal(s.state, 'BACKUP');
      assert.equal(s.masterAddress, topo.routers[0]!.lan4);
      assert.equal(s.counters.release_master, 1);
      const fams = await metrics(topo, 'R2');
      const l = { instance: 'VI_1', family: 'ipv4' };
      assert.equal(sampleValue(fams, 'vipd_instance_state', { ...l, state: 'BACKUP' }), 1);
      assert.equal(sampleValue(fams, 'vipd_release_master_total', l), 1);
      const back = fams.get('vipd_transitions_total')!.samples.filter((x) => x.labels.from === 'MASTER' && x.labels.to === 'BACKUP');
      assert.equal(back.length, 1);
      // R1 is master again and its own metrics say so.
      const f1 = await metrics(topo, 'R1');
      assert.equal(sampleValue(f1, 'vipd_instance_state', { ...l, state: 'MASTER' }), 1);
    });
  } finally {
    if (browser) await browser.close().catch(() => undefined);
    for (const d of daemons) if (d.proc.running) d.proc.kill('SIGKILL', true);
    await topo.destroy();
    rmSync(wrapDir, { recursive: true, force: true });
  }
});
