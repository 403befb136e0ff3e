/**
 * Logging with keepalived's VRRP wording ("(VI_1) Entering MASTER STATE"), on stderr, as text (keepalived's console
 * format: a ctime-style timestamp, a colon, the message) or as one JSON object per line (`--log-format json`).
 *
 * Packet-error lines go through a per-key rate limiter so that a flood of bad packets cannot flood the log; the
 * counters (not the log) are the complete record.
 */

export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  format?: 'text' | 'json';
  /** Print debug lines (keepalived -D prints GARP lines and more). */
  debug?: boolean;
  sink?: LogSink;
  /** Wall clock for timestamps (tests inject one). */
  now?: () => Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Sat Nov 21 06:45:00 2026", as keepalived's console logging prints it. */
export function ctime(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

export class Logger {
  private readonly format: 'text' | 'json';
  private readonly debugOn: boolean;
  private readonly sink: LogSink;
  private readonly clock: () => Date;
  /** Rate limiter state: key -> { windowStart, count, suppressed }. */
  private readonly limits = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(opts: LoggerOptions = {}) {
    this.format = opts.format ?? 'text';
    this.debugOn = opts.debug ?? false;
    this.sink = opts.sink ?? { write: (l) => process.stderr.write(l) };
    this.clock = opts.now ?? (() => new Date());
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (level === 'debug' && !this.debugOn) return;
    const now = this.clock();
    if (this.format === 'json') {
      this.sink.write(`${JSON.stringify({ time: now.toISOString(), level, msg: message, ...fields })}\n`);
    } else {
      this.sink.write(`${ctime(now)}: ${message}\n`);
    }
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warning', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  /**
   * Log at most `burst` lines per `windowMs` for one key; when a window closes with lines suppressed, the next line
   * says how many were.
   */
  limited(key: string, level: LogLevel, message: string, fields?: Record<string, unknown>, burst = 5, windowMs = 10_000): void {
    const t = performance.now(); // monotonic: a wall-clock jump must not mute or flood a key
    let s = this.limits.get(key);
    if (!s || t - s.start >= windowMs) {
      const suppressed = s?.suppressed ?? 0;
      s = { start: t, count: 0, suppressed: 0 };
      this.limits.set(key, s);
      if (suppressed > 0) this.log(level, `${message} (${suppressed} similar messages suppressed)`, fields);
      else this.log(level, message, fields);
      s.count = 1;
      return;
    }
    if (s.count < burst) {
      s.count++;
      this.log(level, message, fields);
    } else {
      s.suppressed++;
    }
    if (this.limits.size > 10_000) this.limits.clear(); // bound memory whatever the keys
  }
}
