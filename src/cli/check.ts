/**
 * `vipd check -f FILE [-i ID] [--dump]`: read a keepalived.conf the way the daemon would and report every problem as
 * `file:line: message`. Exit codes follow `keepalived -t`: 0 usable, 3 unusable, 4 errors but it would run.
 */
import type { Command } from 'commander';
import { parseConfig, interfaceDiagnostics } from '../config/parser.js';
import { ifNameToIndex } from '../linux/process.js';
import { checkExitCode, formatDiagnostic, EXIT_OK } from '../config/diagnostics.js';
import type { KeepalivedConfig } from '../config/model.js';

export interface CheckOptions {
  file: string;
  configId?: string;
  dump?: boolean;
  quiet?: boolean;
  /** Check that the interfaces named exist here, as keepalived -t does (default true). */
  interfaces?: boolean;
}

/** Run the check; returns the exit code and writes to the given streams. */
export function runCheck(
  opts: CheckOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): number {
  const r = parseConfig(opts.file, opts.configId !== undefined ? { instanceId: opts.configId } : {});
  if (opts.interfaces !== false && r.usable) {
    try {
      r.diagnostics.push(...interfaceDiagnostics(r.config, (name) => ifNameToIndex(name) > 0));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      r.diagnostics.push({ severity: 'notice', file: opts.file, line: 1, message: `interfaces not checked (${why})` });
    }
  }
  for (const d of r.diagnostics) {
    if (opts.quiet && d.severity === 'notice') continue;
    err(formatDiagnostic(d) + '\n');
  }
  const code = checkExitCode(r);
  if (opts.dump) out(JSON.stringify(dumpModel(r.config), null, 2) + '\n');
  else if (code === EXIT_OK && !opts.quiet) {
    const n = r.config.instances.length;
    out(`${opts.file}: OK (${n} VRRP instance${n === 1 ? '' : 's'}, ${r.config.syncGroups.length} sync group${r.config.syncGroups.length === 1 ? '' : 's'})\n`);
  }
  return code;
}

/** The model as JSON-friendly data (it already is; this only fixes the top-level key order). */
export function dumpModel(c: KeepalivedConfig): unknown {
  return {
    file: c.file,
    instances: c.instances,
    syncGroups: c.syncGroups,
    scripts: c.scripts,
    trackFiles: c.trackFiles,
    trackProcesses: c.trackProcesses,
    staticAddresses: c.staticAddresses,
    staticRoutes: c.staticRoutes,
    staticRules: c.staticRules,
    global: c.global,
    hasLvs: c.hasLvs,
  };
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check a keepalived.conf: exit 0 usable, 3 unusable, 4 errors (like keepalived -t)')
    .option('-f, --file <FILE>', 'configuration file', '/etc/keepalived/keepalived.conf')
    .option('-i, --config-id <ID>', "use lines starting '@ID' and skip '@^ID' (default: the short host name)")
    .option('--dump', 'print the resulting model as JSON')
    .option('-q, --quiet', 'print only errors and warnings')
    .option('--no-interfaces', 'do not check that the interfaces named exist on this machine')
    .action((o: { file: string; configId?: string; dump?: boolean; quiet?: boolean; interfaces: boolean }) => {
      process.exitCode = runCheck({ file: o.file, configId: o.configId, dump: o.dump, quiet: o.quiet, interfaces: o.interfaces });
    });
}
