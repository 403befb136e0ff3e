/**
 * Lab tooling: running commands and long-lived processes inside network namespaces.
 *
 * This is test / lab tooling (used by the namespace tests, the benchmarks and `vipd lab`), never by the daemon:
 * it shells out to `ip`, `nft` and `ping`. Every wait is bounded by a timeout, processes are killed by PID
 * (their own process group), never by name.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A failed lab command: names the namespace, the command and what it printed. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this long; default 10 s. */
  timeoutMs?: number;
  /** Text written to the command's stdin. */
  input?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command, resolve with its exit code and output (never rejects for a non-zero exit). */
export function execCapture(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args as string[],
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        let msg = stderr;
        if (typeof e.code === 'string') msg = `${stderr}${stderr ? '\n' : ''}${e.code}: ${e.message}`;
        else if (e.killed) msg = `${stderr}${stderr ? '\n' : ''}timed out after ${opts.timeoutMs ?? 10_000} ms`;
        resolve({ code: typeof e.code === 'number' ? e.code : -1, stdout: stdout ?? '', stderr: msg });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Run a command and return its stdout; throws a LabError naming the command and its stderr on failure. */
export async function execOk(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCapture(cmd, args, opts);
  if (r.code !== 0) {
    throw new LabError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  return r.stdout;
}

/** `ip netns exec NS cmd args...` */
export function nsArgs(ns: string, cmd: string, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, cmd, ...args];
}

/** One line a child printed, with the wall-clock time (ms since the epoch) it was read. */
export interface LogLine {
  t: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface WaitLineOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Only lines with index >= from (see LabProcess.mark()); default 0: the whole history counts. */
  from?: number;
  /** Which streams to search; default both. */
  stream?: 'stdout' | 'stderr';
}

/** How a process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const MAX_LINES = 200_000;

/**
 * A long-running process inside a namespace (spawned through `ip netns exec`, which execs the command, so
 * `pid` is the command's own PID). It leads its own process group, so kill() reaches the children it forks
 * (keepalived's VRRP child, for instance). Its output is kept line by line with read times.
 */
export class LabProcess {
  readonly pid: number;
  readonly lines: LogLine[] = [];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | null = null;
  private readonly listeners = new Set<(l: LogLine) => void>();
  private dropped = 0;

  constructor(
    readonly ns: string,
    readonly command: string,
    readonly args: readonly string[],
    readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new LabError(`[${ns}] could not start ${command}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', () => {
        this.exitInfo ??= { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
    this.attach('stdout');
    this.attach('stderr');
  }

  private attach(stream: 'stdout' | 'stderr'): void {
    const s = this.child[stream];
    if (!s) return;
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.push({ t: Date.now(), stream, text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    s.on('end', () => {
      if (buf) this.push({ t: Date.now(), stream, text: buf });
      buf = '';
    });
  }

  /** Read lines appended to `file` (a log the process writes to), every 20 ms while it runs. */
  tail(file: string): void {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    let pos = 0;
    let buf = '';
    const chunk = Buffer.alloc(64 * 1024);
    const read = (): void => {
      for (;;) {
        let n = 0;
        try {
          n = readSync(fd, chunk, 0, chunk.length, pos);
        } catch {
          return;
        }
        if (n <= 0) return;
        pos += n;
        buf += chunk.toString('utf8', 0, n);
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.push({ t: Date.now(), stream: 'stdout', text: buf.slice(0, i) });
          buf = buf.slice(i + 1);
        }
      }
    };
    const timer = setInterval(read, 20);
    timer.unref();
    void this.exited.then(() => {
      setTimeout(() => {
        read();
        if (buf) this.push({ t: Date.now(), stream: 'stdout', text: buf });
        clearInterval(timer);
        try {
          closeSync(fd);
        } catch {
          /* closed */
        }
      }, 30).unref();
    });
  }

  private push(l: LogLine): void {
    if (this.lines.length >= MAX_LINES) {
      this.lines.shift();
      this.dropped += 1;
    }
    this.lines.push(l);
    for (const f of this.listeners) f(l);
  }

  /** The index the next line will get (pass as `from` to waitForLine to ignore what came before). */
  mark(): number {
    return this.lines.length + this.dropped;
  }

  /** Call `f` for every future line; returns an unsubscribe function. */
  onLine(f: (l: LogLine) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exitStatus(): ExitInfo | null {
    return this.exitInfo;
  }

  /** All output as text (for error messages and debugging). */
  output(lastN = Infinity): string {
    const ls = Number.isFinite(lastN) ? this.lines.slice(-lastN) : this.lines;
    return ls.map((l) => l.text).join('\n');
  }

  /** Lines matching `re` (in order), from index `from`. */
  grep(re: RegExp | string, from = 0): LogLine[] {
    const m = typeof re === 'string' ? (s: string) => s.includes(re) : (s: string) => re.test(s);
    return this.lines.slice(Math.max(0, from - this.dropped)).filter((l) => m(l.text));
  }

  /**
   * Resolve with the first line (index >= from) matching `re`. Rejects with a LabError (quoting the last lines)
   * on timeout or when the process exits first.
   */
  waitForLine(re: RegExp | string, opts: WaitLineOptions = {}): Promise<LogLine> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const from = opts.from ?? 0;
    const match = (l: LogLine): boolean =>
      (opts.stream === undefined || l.stream === opts.stream) &&
      (typeof re === 'string' ? l.text.includes(re) : re.test(l.text));
    const seen = this.lines.slice(Math.max(0, from - this.dropped)).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, line?: LogLine): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve(line as LogLine);
      };
      const off = this.onLine((l) => {
        if (match(l)) finish(null, l);
      });
      const timer = setTimeout(
        () =>
          finish(
            new LabError(
              `[${this.ns}] ${this.command}: no line matching ${String(re)} within ${timeoutMs} ms; last output:\n` +
                this.output(15),
            ),
          ),
        timeoutMs,
      );
      void this.exited.then((x) => {
        // Let the last buffered lines arrive before giving up.
        setTimeout(
          () =>
            finish(
              new LabError(
                `[${this.ns}] ${this.command} exited (code ${x.code}, signal ${x.signal}) before printing a line ` +
                  `matching ${String(re)}; last output:\n${this.output(15)}`,
              ),
            ),
          50,
        );
      });
    });
  }

  /** Send a signal to the process (group: its whole process group, the default). Never throws. */
  kill(signal: NodeJS.Signals = 'SIGKILL', group = true): boolean {
    if (!this.running) return false;
    try {
      process.kill(group ? -this.pid : this.pid, signal);
      return true;
    } catch {
      try {
        process.kill(this.pid, signal);
        return true;
      } catch {
        return false;
      }
    }
  }

  /** Wait for the exit, at most timeoutMs; resolves null on timeout. */
  async waitExit(timeoutMs = 5_000): Promise<ExitInfo | null> {
    if (this.exitInfo) return this.exitInfo;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), timeoutMs);
    });
    const x = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    return x;
  }

  /** Signal (default SIGTERM) and wait for the exit; SIGKILL the group after timeoutMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo as ExitInfo;
    this.kill(signal, false);
    const x = await this.waitExit(timeoutMs);
    if (x) return x;
    this.kill('SIGKILL', true);
    return (await this.waitExit(2_000)) ?? { code: null, signal: 'SIGKILL' };
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Send stdout and stderr to this file (appended) instead of pipes; lines are still read (the file is
   * tailed), and the process survives the exit of this one (for a lab left running, `vipd lab --keep`).
   */
  logFile?: string;
  /** Do not keep this process's event loop alive for the child. */
  unref?: boolean;
}

/** Spawn `cmd args` inside namespace `ns` (stdin closed, stdout/stderr captured), in its own process group. */
export function spawnInNs(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): LabProcess {
  let fd: number | null = null;
  if (opts.logFile) fd = openSync(opts.logFile, 'a');
  const child = spawn('ip', nsArgs(ns, cmd, args), {
    stdio: fd === null ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    detached: true,
    env: opts.env ?? process.env,
  });
  if (fd !== null) closeSync(fd);
  // A failed spawn would otherwise be an unhandled 'error' event.
  child.on('error', () => undefined);
  if (opts.unref) child.unref();
  const p = new LabProcess(ns, cmd, args, child);
  if (opts.logFile) p.tail(opts.logFile);
  return p;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `pred` every stepMs until it is true or timeoutMs passed; returns the final value. */
export async function pollUntil(
  pred: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 10,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(stepMs);
  }
  return await pred();
}

/** A fresh private directory under the system temp dir (`vipd-lab-<prefix>-XXXXXX`). */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vipd-lab-${prefix}-`));
}

/** Remove a directory tree; never throws. */
export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* ignore */
  }
}
