/**
 * `vipd run -f FILE`: the daemon in the foreground (systemd style). Accepts keepalived's flags so that a unit file can
 * swap the binary: -f, -n, -l, -D, -P/--vrrp, -p FILE, -r FILE, -i ID, -t (check and exit).
 */
import type { Command } from 'commander';
import { rmSync, writeFileSync } from 'node:fs';
import { Daemon, DaemonError } from '../daemon/daemon.js';
import { Logger } from '../daemon/log.js';
import { runCheck } from './check.js';
import { startControlPlane } from './run-control.js';

export interface RunOptions {
  file: string;
  dontFork?: boolean;
  logConsole?: boolean;
  logDetail?: boolean;
  vrrp?: boolean;
  pid?: string;
  vrrpPid?: string;
  configId?: string;
  configTest?: boolean;
  controlSocket?: string;
  stateDir: string;
  logFormat: string;
  metricsListen?: string;
  realtime?: string;
  makeBeforeBreak?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the VRRP daemon in the foreground (keepalived flags accepted)')
    .option('-f, --use-file <FILE>', 'configuration file', '/etc/keepalived/keepalived.conf')
    .option('-n, --dont-fork', 'stay in the foreground (always the case; accepted for keepalived compatibility)')
    .option('-l, --log-console', 'log to the console (stderr; always the case)')
    .option('-D, --log-detail', 'detailed log messages (GARP/NA lines and more)')
    .option('-P, --vrrp', 'run only the VRRP subsystem (vipd has nothing else)')
    .option('-p, --pid <FILE>', 'write the process id to FILE')
    .option('-r, --vrrp_pid <FILE>', 'write the process id to FILE (keepalived\'s VRRP child pid file)')
    .option('-i, --config-id <ID>', "use lines starting '@ID' and skip '@^ID' (default: the short host name)")
    .option('-t, --config-test', 'check the configuration and exit (codes as keepalived -t: 0, 3, 4)')
    .option('--control-socket <PATH>', 'control socket path', '/run/vipd/vipd.sock')
    .option('--state-dir <DIR>', 'state directory (what to clean up after a crash)', '/run/vipd')
    .option('--log-format <FORMAT>', 'text (keepalived wording) or json', 'text')
    .option('--metrics-listen <ADDR:PORT>', 'serve Prometheus /metrics and the dashboard on ADDR:PORT (off by default)')
    .option('--no-make-before-break', "on stop, release addresses at once as keepalived does (default: hold them until the new master is heard)")
    .option('--realtime [PRIO]', 'SCHED_FIFO at PRIO (default 50), like keepalived vrrp_rt_priority (no mlockall: see docs/daemon.md)')
    .action(async (o: Record<string, unknown>) => {
      const code = await runDaemon({
        file: o.useFile as string,
        logDetail: Boolean(o.logDetail),
        ...(o.pid ? { pid: o.pid as string } : {}),
        ...(o.vrrp_pid ? { vrrpPid: o.vrrp_pid as string } : {}),
        ...(o.configId ? { configId: o.configId as string } : {}),
        configTest: Boolean(o.configTest),
        controlSocket: o.controlSocket as string,
        stateDir: o.stateDir as string,
        logFormat: o.logFormat as string,
        ...(o.metricsListen ? { metricsListen: o.metricsListen as string } : {}),
        ...(o.realtime !== undefined ? { realtime: o.realtime === true ? '50' : String(o.realtime) } : {}),
        makeBeforeBreak: o.makeBeforeBreak !== false,
      });
      if (code !== null) process.exitCode = code;
    });
}

/** Run until a stop signal; returns the exit code (null: keep running is not possible here, always returns). */
export async function runDaemon(o: RunOptions): Promise<number | null> {
  if (o.configTest) return runCheck({ file: o.file, ...(o.configId !== undefined ? { configId: o.configId } : {}) });
  if (o.logFormat !== 'text' && o.logFormat !== 'json') {
    process.stderr.write(`vipd: --log-format must be text or json, not ${o.logFormat}\n`);
    return 2;
  }
  let rt: number | null = null;
  if (o.realtime !== undefined) {
    rt = Number(o.realtime);
    if (!Number.isInteger(rt) || rt < 1 || rt > 99) {
      process.stderr.write(`vipd: --realtime priority must be 1-99, not ${o.realtime}\n`);
      return 2;
    }
  }
  const logger = new Logger({ format: o.logFormat, debug: Boolean(o.logDetail) });
  const daemon = new Daemon({
    configFile: o.file,
    ...(o.configId !== undefined ? { instanceId: o.configId } : {}),
    stateDir: o.stateDir,
    realtimePriority: rt,
    logger,
    makeBeforeBreak: o.makeBeforeBreak !== false,
  });
  const pidFiles = [o.pid, o.vrrpPid].filter((x): x is string => Boolean(x));
  let stopControl: (() => Promise<void>) | null = null;
  const done = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`Received ${sig}, stopping`);
      void (async () => {
        await daemon.stop();
        if (stopControl) await stopControl().catch(() => undefined);
        for (const f of pidFiles) rmSync(f, { force: true });
        resolve(0);
      })();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  process.on('SIGHUP', () => {
    logger.info('Reloading');
    void daemon.reload().then((r) => {
      for (const d of r.diagnostics) logger.warn(d);
    });
  });
  try {
    for (const f of pidFiles) writeFileSync(f, `${process.pid}\n`);
    await daemon.start();
    stopControl = await startControlPlane(daemon, logger, {
      currentConfig: () => daemon.currentConfig(),
      ...(o.configId !== undefined ? { configId: o.configId } : {}),
      ...(o.controlSocket ? { controlSocket: o.controlSocket } : {}),
      ...(o.metricsListen ? { metricsListen: o.metricsListen } : {}),
    });
  } catch (e) {
    const msg = e instanceof DaemonError ? e.message : `${(e as Error).message}`;
    logger.error(msg);
    await daemon.stop().catch(() => undefined);
    for (const f of pidFiles) rmSync(f, { force: true });
    return e instanceof DaemonError ? 3 : 2;
  }
  return await done;
}
