/**
 * The control plane of a running daemon, in one call: the control socket (always) and the metrics/dashboard
 * listener (when `metricsListen` is set). Depends only on DaemonControl (src/daemon/api.ts).
 *
 *   const stop = await startControlPlane(daemon, { controlSocket: '/run/vipd/vipd.sock', metricsListen: '127.0.0.1:9650',
 *                                                  log: (line) => logger.warn(line) });
 *   ...
 *   await stop();
 *
 * Signal dumps (keepalived's SIGUSR1 / SIGUSR2 / SIGRTMIN+2) are separate: installDumpSignals(daemon) installs the
 * three handlers (signals.ts); writeDumps(kind, status) is the underlying call.
 */
import type { DaemonControl } from '../daemon/api.js';
import { startControlServer, type ControlServer } from './server.js';
import type { MetricsServer } from './http.js';

export { startControlServer, execute } from './server.js';
export type { ControlServer, ControlServerOptions } from './server.js';
// The metrics server and prom-client are not re-exported here: import them from './http.js' / './metrics.js', so
// that a daemon without --metrics-listen does not load them.
export type { MetricsServer, MetricsServerOptions } from './http.js';
export { writeDumps, formatData, formatStats, formatJson } from './dumps.js';
export type { DumpKind, DumpDetails, InstanceDumpDetails } from './dumps.js';
export { DEFAULT_CONTROL_SOCKET } from './protocol.js';
export { installDumpSignals, jsonDumpSignal } from './signals.js';
export type { DumpSignalOptions } from './signals.js';

export interface ControlPlaneOptions {
  /** Control socket path (default /run/vipd/vipd.sock). */
  controlSocket?: string;
  /** "ADDR:PORT" for /metrics, / (dashboard), /events, /api/status; off when absent. */
  metricsListen?: string;
  /** One line per refused/bad control client, and the start-up summary. */
  log?: (line: string) => void;
}

export interface ControlPlane {
  control: ControlServer;
  metrics: MetricsServer | null;
  stop(): Promise<void>;
}

/** Start both listeners; if the second fails the first is closed again and the error (naming the cause) thrown. */
export async function startControlPlane(daemon: DaemonControl, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const control = await startControlServer(daemon, { ...(opts.controlSocket ? { path: opts.controlSocket } : {}), log });
  if (!control.peerCredChecked) log(`control socket ${control.path}: SO_PEERCRED unavailable; protected by its 0600 mode only`);
  let metrics: MetricsServer | null = null;
  if (opts.metricsListen) {
    try {
      // Loaded only when asked for: prom-client and the HTTP server cost a daemon ~10 MB of RSS (docs/performance.md).
      const { startMetricsServer } = await import('./http.js');
      metrics = await startMetricsServer(daemon, { listen: opts.metricsListen });
    } catch (e) {
      await control.close();
      throw e;
    }
  }
  return {
    control,
    metrics,
    async stop() {
      await Promise.all([control.close(), metrics?.close()]);
    },
  };
}
