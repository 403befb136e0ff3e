/**
 * Starts the control plane (control socket, metrics and dashboard, keepalived dump signals) for a running daemon.
 * Kept apart from run.ts so that the daemon does not depend on src/control directly.
 */
import { installDumpSignals, startControlPlane as startCp } from '../control/index.js';
import type { DaemonControl } from '../daemon/api.js';
import type { Logger } from '../daemon/log.js';

export interface ControlPlaneOptions {
  controlSocket?: string;
  metricsListen?: string;
}

/** Returns a function that stops what was started. */
export async function startControlPlane(daemon: DaemonControl, log: Logger, opts: ControlPlaneOptions): Promise<() => Promise<void>> {
  const cp = await startCp(daemon, { ...opts, log: (l: string) => log.warn(l) });
  const unsignal = installDumpSignals(daemon, { log: (l: string) => log.info(l) });
  if (opts.metricsListen) log.info(`Metrics and dashboard on http://${opts.metricsListen}/`);
  return async () => {
    unsignal();
    await cp.stop();
  };
}
