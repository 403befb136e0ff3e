/**
 * The lab benchmark suite: failover, cost, timing and reload, vipd beside keepalived in the same run.
 *
 *   npm run bench -- --quick                 short version of everything (a few minutes)
 *   npm run bench                            the full suite (about an hour)
 *   npm run bench -- --only failover,cost    some sections; also --daemons, --intervals, --vmac, --reps,
 *                                            --cost-n, --cost-advert, --timing-sec, --out DIR
 *   npm run bench -- --chart FILE.json       redraw the chart and tables of a saved result
 *
 * Root, network namespaces, keepalived (Debian's 2.2.7), tcpdump, stress-ng (timing), rsvg-convert (chart).
 * Writes bench/results/bench-<date>.json and .md (plus latest.json / latest.md and the chart), after each
 * section so a cut-short run keeps what it measured, and prints the Markdown.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanOrphanLabs, keepalivedVersion, labUnavailableReason } from '../src/linux/lab/index.js';
import { KEEPALIVED, VIPD, VIPD_FIFO, VIPD_RT, log, type DaemonVariant } from './common.js';
import { FAULTS, failoverRun, failoverSummary, failoverTable, type FailoverRow } from './failover.js';
import { costRun, costTable, type CostRow } from './cost.js';
import { timingRun, timingTable, type TimingRow } from './timing.js';
import { reloadRun, reloadTable, type ReloadRow } from './reload.js';
import { writeChart } from './chart.js';

type Section = 'failover' | 'cost' | 'timing' | 'reload';
const SECTIONS: Section[] = ['failover', 'cost', 'timing', 'reload'];

interface Results {
  command: string;
  mode: 'quick' | 'full' | 'custom';
  startedAt: string;
  finishedAt?: string;
  host: { node: string; cpus: number; kernel: string; keepalived: string | null; loadavgAtStart: string };
  failover: FailoverRow[];
  cost: CostRow[];
  timing: TimingRow[];
  reload: ReloadRow[];
  errors: string[];
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: npm run bench -- [--quick] [--only failover,cost,timing,reload] [--daemons vipd,keepalived] ` +
    '[--intervals 1,0.1,0.05,0.01] [--vmac off,on] [--reps N] [--cost-n 1,50,200,1000] [--cost-advert 1,0.1] [--timing-sec N] [--timing-daemons vipd,vipd-rt,vipd-fifo,keepalived] [--timing-stress no,yes] [--out DIR] [--chart FILE.json]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string | true> {
  const o: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
    const k = a.slice(2);
    if (k === 'quick' || k === 'help') o[k] = true;
    else {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      o[k] = v;
    }
  }
  return o;
}

function numList(v: string | true | undefined, dflt: number[], name: string): number[] {
  if (v === undefined || v === true) return dflt;
  const xs = v.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x) || x <= 0)) usage(`--${name} wants positive numbers, got ${v}`);
  return xs;
}

function markdown(r: Results): string {
  const daemons = [...new Set([...r.failover.map((x) => x.daemon), ...r.cost.map((x) => x.daemon)])];
  const parts = [
    `# vipd vs keepalived benchmarks (${r.mode})`,
    '',
    `Command: \`${r.command}\`; started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ' (incomplete)'}; ` +
      `${r.host.cpus} CPUs, kernel ${r.host.kernel}, Node ${r.host.node}, ${r.host.keepalived ?? 'keepalived missing'}, load average at start ${r.host.loadavgAtStart}.`,
    '',
  ];
  if (r.failover.length) {
    parts.push('## Failover', '', 'Outage = longest gap in replies to the VIP or to the upstream host through it, per family (probes every 2 ms). ' +
      'Bound = Master_Down_Interval of R2 (priority 100) for unplanned faults, its skew for a planned stop, 0 for failback. ' +
      'Takeover = event to R2 "Entering MASTER" (fault) or R2 "Entering BACKUP" (back). Medians over repetitions (max in brackets). ' +
      '† = a reply gap longer than its lost probes explain (the prober paused on the busy machine, or requests were queued during neighbour resolution and answered late).', '',
      ...[false, true].flatMap((vm) => {
        const rs = r.failover.filter((x) => x.vmac === vm);
        return rs.length
          ? [`### Summary, VMAC ${vm ? 'on' : 'off'} (IPv4 and IPv6 and all repetitions pooled; †N = N of them flagged †)`, '', failoverSummary(rs, daemons), '']
          : [];
      }),
      '### Every case', '',
      failoverTable(r.failover, daemons), '', ...notes(r.failover.map((x) => x.error && `${x.daemon} ${x.advertSec} s IPv${x.family} VMAC ${x.vmac ? 'on' : 'off'} ${x.fault} ${x.phase}: ${x.error}`)));
  }
  if (r.cost.length) parts.push('## Cost', '', costTable(r.cost, daemons), '', ...notes(r.cost.map((x) => x.error && `${x.daemon} ${x.instances} × ${x.advertSec} s ${x.router}: ${x.error}`)));
  if (r.timing.length) parts.push('## Timing (50 instances, 10 ms adverts)', '', timingTable(r.timing), '', ...notes(r.timing.map((x) => (x.error || x.note) && `${x.daemon}${x.stress ? ' with stress' : ''}: ${[x.error, x.note].filter(Boolean).join('; ')}`)));
  if (r.reload.length) parts.push('## Reload (50 instances, 0.1 s adverts, SIGHUP to the master)', '', reloadTable(r.reload), '');
  if (r.errors.length) parts.push('## Errors', '', ...r.errors.map((e) => `- ${e}`), '');
  return parts.join('\n');
}

/** Footnotes under a table: the distinct messages, each once. */
function notes(xs: (string | undefined | null | false | 0)[]): string[] {
  const u = [...new Set(xs.filter((x): x is string => typeof x === 'string' && x.length > 0))];
  return u.length ? [...u.map((x) => `- ⚠ ${x}`), ''] : [];
}

function save(r: Results, dir: string, stamp: string): void {
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(r, null, 1);
  const md = markdown(r);
  writeFileSync(join(dir, `bench-${stamp}.json`), json);
  writeFileSync(join(dir, `bench-${stamp}.md`), md);
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, 'latest.md'), md);
  if (r.failover.length) writeChart(r.failover, join(dir, `outage-vs-advert-${stamp}`), 'Failover outage vs advert interval (same run)');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) usage('help');
  const out = typeof args.out === 'string' ? args.out : join(process.cwd(), 'bench', 'results');
  if (typeof args.chart === 'string') {
    const r = JSON.parse(readFileSync(args.chart, 'utf8')) as Results;
    const base = args.chart.replace(/\.json$/, '');
    const png = writeChart(r.failover, `${base}-chart`, 'Failover outage vs advert interval (same run)');
    process.stdout.write(markdown(r) + `\nchart: ${png ?? `${base}-chart.svg (rsvg-convert missing: no PNG)`}\n`);
    return;
  }
  const reason = labUnavailableReason();
  if (reason) usage(`the lab cannot run here: ${reason}`);
  const quick = Boolean(args.quick);
  const only = typeof args.only === 'string' ? (args.only.split(',') as Section[]) : SECTIONS;
  for (const s of only) if (!SECTIONS.includes(s)) usage(`unknown section ${s} (have ${SECTIONS.join(', ')})`);
  const kv = await keepalivedVersion();
  const dnames = typeof args.daemons === 'string' ? args.daemons.split(',') : kv ? ['vipd', 'keepalived'] : ['vipd'];
  if (!kv && dnames.includes('keepalived')) usage('keepalived is not installed (apt-get install keepalived)');
  const variants: DaemonVariant[] = dnames.map((d) => (d === 'vipd' ? VIPD : d === 'keepalived' ? KEEPALIVED : usage(`unknown daemon ${d}`)));
  // Quick: the intervals that take seconds, not minutes, and fewer cost points; the full run has them all.
  const intervals = numList(args.intervals, quick ? [0.1, 0.01] : [1, 0.1, 0.05, 0.01], 'intervals');
  const vmacs = typeof args.vmac === 'string' ? args.vmac.split(',').map((v) => v === 'on') : quick ? [false] : [false, true];
  const reps = numList(args.reps, [quick ? 1 : 2], 'reps')[0]!;
  const costN = numList(args['cost-n'], quick ? [1, 200] : [1, 50, 200, 1000], 'cost-n');
  const costAdv = numList(args['cost-advert'], [1, 0.1], 'cost-advert');
  const costWindow = quick ? 3 : 20;
  const timingSec = numList(args['timing-sec'], [quick ? 10 : 600], 'timing-sec')[0]!;

  for (const p of ['bf', 'bc', 'bt', 'br']) await cleanOrphanLabs(p).catch(() => undefined);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const uname = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const res: Results = {
    command: `npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join('') || ''}`.replace(/ --$/, ''),
    mode: quick ? 'quick' : Object.keys(args).length ? 'custom' : 'full',
    startedAt: new Date().toISOString(),
    host: {
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      kernel: uname,
      keepalived: kv,
      loadavgAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    },
    failover: [],
    cost: [],
    timing: [],
    reload: [],
    errors: [],
  };
  const guard = async <T>(what: string, f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (e) {
      const msg = `${what}: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`;
      log(`ERROR ${msg}`);
      res.errors.push(msg);
      return null;
    }
  };
  const t0 = Date.now();
  if (only.includes('failover')) {
    for (const vmac of vmacs) {
      for (const adv of intervals) {
        for (const v of variants) {
          const rows = await guard(`failover ${v.label} ${adv}s vmac=${vmac}`, () => failoverRun({ variant: v, advertSec: adv, vmac, reps, faults: FAULTS }));
          if (rows) res.failover.push(...rows);
          save(res, out, stamp);
        }
      }
    }
  }
  if (only.includes('cost')) {
    for (const n of costN) {
      for (const adv of costAdv) {
        for (const v of variants) {
          const rows = await guard(`cost ${v.label} n=${n} ${adv}s`, () => costRun(v, n, adv, costWindow));
          if (rows) res.cost.push(...rows);
          save(res, out, stamp);
        }
      }
    }
  }
  if (only.includes('timing')) {
    const all: Record<string, DaemonVariant> = { vipd: VIPD, 'vipd-rt': VIPD_RT, 'vipd-fifo': VIPD_FIFO, keepalived: KEEPALIVED };
    const tv =
      typeof args['timing-daemons'] === 'string'
        ? args['timing-daemons'].split(',').map((d) => all[d] ?? usage(`unknown timing daemon ${d} (have ${Object.keys(all).join(', ')})`))
        : variants.flatMap((v) => (v.kind === 'vipd' ? (quick ? [VIPD] : [VIPD, VIPD_RT]) : [v]));
    const stresses = typeof args['timing-stress'] === 'string' ? args['timing-stress'].split(',').map((x) => x === 'yes') : [false, true];
    for (const stress of stresses) {
      for (const v of tv) {
        const row = await guard(`timing ${v.label} stress=${stress}`, () => timingRun(v, stress, 50, 0.01, timingSec));
        if (row) res.timing.push(row);
        save(res, out, stamp);
      }
    }
  }
  if (only.includes('reload')) {
    for (const v of variants) {
      const rows = await guard(`reload ${v.label}`, () => reloadRun(v));
      if (rows) res.reload.push(...rows);
      save(res, out, stamp);
    }
  }
  res.finishedAt = new Date().toISOString();
  save(res, out, stamp);
  const md = markdown(res);
  process.stdout.write(md + '\n');
  process.stdout.write(`\nwritten: ${join(out, `bench-${stamp}.json`)}, .md (and latest.*) in ${((Date.now() - t0) / 60000).toFixed(1)} min\n`);
  try {
    copyFileSync(join(out, `outage-vs-advert-${stamp}.png`), join(out, 'outage-vs-advert-latest.png'));
  } catch {
    /* no chart (no failover section or no rsvg-convert) */
  }
  if (res.errors.length) process.exitCode = 1;
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
