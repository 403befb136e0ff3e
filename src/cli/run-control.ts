/**
 * Starts the control plane (control socket, metrics and dashboard, keepalived dump signals) for a running daemon.
 * Kept apart from run.ts so that the daemon does not depend on src/control directly.
 */
import { installDumpSignals, startControlPlane as startCp } from '../control/index.js';
import { dumpDetailsFromConfig } from '../control/dump-details.js';
import type { DumpDetails } from '../control/dumps.js';
import { parseConfig } from '../config/index.js';
import type { KeepalivedConfig } from '../config/model.js';
import type { DaemonControl, InstanceStatus } from '../daemon/api.js';
import type { Logger } from '../daemon/log.js';

export interface ControlPlaneOptions {
  controlSocket?: string;
  metricsListen?: string;
  /**
   * The configuration the daemon runs, for the configuration-only lines of the dumps (authentication, excluded VIPs,
   * GARP settings, …). Without it the file named by status().configFile is read at each signal and used when it
   * parses without errors (it may then be newer than what runs, until the next reload).
   */
  currentConfig?: () => KeepalivedConfig | null;
  /** `-i ID` of the daemon, for that fallback. */
  configId?: string;
}

/** Returns a function that stops what was started. */
export async function startControlPlane(daemon: DaemonControl, log: Logger, opts: ControlPlaneOptions): Promise<() => Promise<void>> {
  const cp = await startCp(daemon, {
    ...(opts.controlSocket !== undefined ? { controlSocket: opts.controlSocket } : {}),
    ...(opts.metricsListen !== undefined ? { metricsListen: opts.metricsListen } : {}),
    log: (l: string) => log.warn(l),
  });
  const unsignal = installDumpSignals(daemon, { log: (l: string) => log.info(l), details: () => dumpDetailsFor(daemon, opts) });
  if (opts.metricsListen) log.info(`Metrics and dashboard on http://${opts.metricsListen}/`);
  return async () => {
    unsignal();
    await cp.stop();
  };
}

/**
 * The dump details for the daemon now: the configuration-only facts from its configuration, plus the master's
 * priority per instance when the status carries it (`masterPriority`, not in InstanceStatus yet).
 */
export function dumpDetailsFor(daemon: DaemonControl, opts: Pick<ControlPlaneOptions, 'currentConfig' | 'configId'> = {}): DumpDetails {
  const status = daemon.status();
  let config = opts.currentConfig?.() ?? null;
  if (!config) {
    const r = parseConfig(status.configFile, opts.configId !== undefined ? { instanceId: opts.configId } : {});
    if (r.usable && !r.diagnostics.some((d) => d.severity === 'error')) config = r.config;
  }
  const details = config ? dumpDetailsFromConfig(config) : {};
  for (const i of status.instances as (InstanceStatus & { masterPriority?: number | null })[]) {
    if (typeof i.masterPriority !== 'number') continue;
    details.instances ??= {};
    details.instances[i.name] = { ...details.instances[i.name], masterPriority: i.masterPriority };
  }
  return details;
}
