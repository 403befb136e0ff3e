/**
 * `vipd doctor [-f FILE] [--listen SECONDS] [--probe] [--json]`: check the machine and the configuration before they
 * bite. Each finding is OK / WARN / FAIL with what to change. Exit code 0 without FAIL, 1 with, 2 on bad options.
 * The checks that read the machine live in src/linux/doctor.ts.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { formatDiagnostic, interfaceDiagnostics, parseConfig } from '../config/index.js';
import type { KeepalivedConfig } from '../config/model.js';
import {
  addressText,
  analyzeAdverts,
  checkCapabilities,
  checkFirewall,
  checkMacvlan,
  analyzeDaemons,
  findVrrpDaemons,
  checkSnooping,
  checkSysctls,
  listenAdverts,
  probeMacvlan,
  readLinksAndAddrs,
  type Finding,
} from '../linux/doctor.js';
import { IFF_LOOPBACK, IFF_MULTICAST, type AddrInfo, type LinkInfo } from '../wire/netlink.js';

export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

export interface DoctorOptions {
  file?: string;
  configId?: string;
  listenSeconds: number;
  probe: boolean;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

export interface DoctorReport {
  config: string | null;
  listenedSeconds: number;
  findings: Finding[];
  summary: { ok: number; warn: number; fail: number };
}

function checkConfig(o: DoctorOptions, links: LinkInfo[]): { config: KeepalivedConfig | null; findings: Finding[]; file: string | null } {
  const explicit = o.file !== undefined;
  const file = o.file ?? DEFAULT_CONFIG;
  if (!explicit && !existsSync(file)) {
    return {
      config: null,
      file: null,
      findings: [
        {
          check: 'config',
          level: 'WARN',
          message: `no configuration at ${DEFAULT_CONFIG}: only the machine is checked (all interfaces, both families)`,
          fix: 'pass -f FILE to check a configuration and the interfaces it uses',
        },
      ],
    };
  }
  const r = parseConfig(file, o.configId !== undefined ? { instanceId: o.configId } : {});
  if (r.usable) {
    const names = new Set(links.map((l) => l.name));
    r.diagnostics.push(...interfaceDiagnostics(r.config, (n) => names.has(n)));
  }
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning');
  const findings: Finding[] = [];
  if (!r.usable) {
    let missing = false;
    try {
      statSync(file);
    } catch (e) {
      missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    }
    findings.push({
      check: 'config',
      level: 'FAIL',
      message: missing
        ? `cannot read the configuration: ${file} does not exist`
        : `${file} is unusable: ${errors.slice(0, 5).map(formatDiagnostic).join('; ') || 'no VRRP instance'}`,
      fix: missing ? 'pass -f with the path of your keepalived.conf' : `run vipd check -f ${file} for every diagnostic and fix the errors`,
    });
    return { config: null, file, findings };
  }
  const n = r.config.instances.length;
  if (errors.length > 0) {
    findings.push({
      check: 'config',
      level: 'FAIL',
      message: `${errors.length} error${errors.length === 1 ? '' : 's'}: ${errors.slice(0, 5).map(formatDiagnostic).join('; ')}${errors.length > 5 ? '; …' : ''}`,
      fix: `fix them (vipd check -f ${file} lists all); vipd would skip what they affect`,
    });
  }
  if (warnings.length > 0) {
    findings.push({
      check: 'config',
      level: 'WARN',
      message: `${warnings.length} warning${warnings.length === 1 ? '' : 's'}: ${warnings.slice(0, 5).map(formatDiagnostic).join('; ')}${warnings.length > 5 ? '; …' : ''}`,
      fix: `see vipd check -f ${file}`,
    });
  }
  if (errors.length === 0) {
    findings.push({
      check: 'config',
      level: 'OK',
      message: `${file}: ${n} VRRP instance${n === 1 ? '' : 's'}, ${r.config.syncGroups.length} sync group${r.config.syncGroups.length === 1 ? '' : 's'}`,
    });
  }
  return { config: r.config, file, findings };
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  let links: LinkInfo[] = [];
  let addrs: AddrInfo[] = [];
  try {
    ({ links, addrs } = await readLinksAndAddrs());
  } catch (e) {
    findings.push({ check: 'interfaces', level: 'WARN', message: `cannot list interfaces over rtnetlink: ${(e as Error).message}` });
  }
  const cfg = checkConfig(o, links);
  findings.push(...cfg.findings);
  const config = cfg.config;
  findings.push(...checkCapabilities());
  findings.push(...checkMacvlan(config));
  if (o.probe) {
    const parent = config?.instances.find((i) => i.useVmac !== false && i.interface)?.interface ?? config?.instances.find((i) => i.interface)?.interface;
    findings.push(
      parent
        ? await probeMacvlan(parent)
        : { check: 'macvlan', level: 'WARN', message: '--probe needs a configuration with an interface to create the test macvlan on', fix: 'pass -f FILE' },
    );
  }
  if (config) findings.push(...checkSysctls(config, links, addrs));
  const families: (4 | 6)[] = config ? [...new Set(config.instances.map((i) => i.family))].sort() : [4, 6];
  findings.push(...(await checkFirewall(families)));
  findings.push(...checkSnooping(config, links));
  findings.push(
    ...analyzeDaemons(cfg.file && config ? { file: cfg.file, config } : null, findVrrpDaemons(), (file) => {
      const r = parseConfig(file, o.configId !== undefined ? { instanceId: o.configId } : {});
      return r.usable ? r.config : null;
    }, sameFile),
  );

  if (o.listenSeconds > 0) {
    const ifnames = config
      ? [...new Set(config.instances.map((i) => i.interface).filter((x): x is string => Boolean(x)))]
      : links.filter((l) => l.up && (l.flags & IFF_MULTICAST) !== 0 && (l.flags & IFF_LOOPBACK) === 0).map((l) => l.name);
    const known = new Set(links.map((l) => l.name));
    const present = ifnames.filter((n) => known.has(n));
    if (present.length === 0) {
      findings.push({ check: 'vrrp', level: 'WARN', message: 'no interface to listen on: adverts on the segment not checked' });
    } else {
      const own = new Set(addrs.map(addressText));
      const r = await listenAdverts(present, families, o.listenSeconds, own);
      for (const e of r.errors) {
        findings.push({ check: 'vrrp', level: 'WARN', message: `cannot listen for adverts: ${e}`, fix: 'run the doctor as root (CAP_NET_RAW)' });
      }
      if (r.listened.length > 0) findings.push(...analyzeAdverts(config, r.heard, r.bad, o.listenSeconds, r.listened));
    }
  }
  const summary = {
    ok: findings.filter((x) => x.level === 'OK').length,
    warn: findings.filter((x) => x.level === 'WARN').length,
    fail: findings.filter((x) => x.level === 'FAIL').length,
  };
  return { config: cfg.file, listenedSeconds: o.listenSeconds, findings, summary };
}

export function formatDoctor(r: DoctorReport): string {
  const w = Math.max(6, ...r.findings.map((x) => x.check.length));
  let out = `vipd doctor: ${r.config ?? 'no configuration'}${r.listenedSeconds > 0 ? `, listened ${r.listenedSeconds} s for adverts` : ''}\n\n`;
  for (const x of r.findings) {
    out += `${x.level.padEnd(4)}  ${x.check.padEnd(w)}  ${x.message}\n`;
    if (x.fix && x.level !== 'OK') out += `${' '.repeat(4 + 2 + w + 2)}change: ${x.fix}\n`;
  }
  out += `\n${r.summary.fail} FAIL, ${r.summary.warn} WARN, ${r.summary.ok} OK\n`;
  return out;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the machine and the configuration: macvlan, capabilities, sysctls, firewall, snooping, other VRRP routers')
    .option('-f, --file <FILE>', `configuration file (default ${DEFAULT_CONFIG} when it exists)`)
    .option('-i, --config-id <ID>', "use lines starting '@ID' and skip '@^ID' (default: the short host name)")
    .option('--listen <SECONDS>', 'listen for VRRP adverts on the configured interfaces this long (0: do not)', '3')
    .option('--probe', 'also create and delete a test macvlan (vipdchkPID) on the configured interface')
    .option('--json', 'print the findings as JSON')
    .action(async (o: { file?: string; configId?: string; listen: string; probe?: boolean; json?: boolean }) => {
      const secs = Number(o.listen);
      if (!/^\d+(\.\d+)?$/.test(o.listen) || !Number.isFinite(secs) || secs > 600) {
        process.stderr.write(`vipd: --listen must be a number of seconds from 0 to 600, not ${JSON.stringify(o.listen)}\n`);
        process.exitCode = 2;
        return;
      }
      const r = await runDoctor({
        ...(o.file !== undefined ? { file: o.file } : {}),
        ...(o.configId !== undefined ? { configId: o.configId } : {}),
        listenSeconds: secs,
        probe: Boolean(o.probe),
      });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatDoctor(r));
      process.exitCode = r.summary.fail > 0 ? 1 : 0;
    });
}
