/**
 * The `--metrics-listen ADDR:PORT` HTTP listener (off by default):
 *   GET /            the dashboard (one self-contained HTML page)
 *   GET /metrics     Prometheus text format (prom-client, dedicated registry)
 *   GET /events      server-sent events: 'hello' (full state), 'transition', 'status' (every second, with new
 *                    inter-arrival samples)
 *   GET /api/status  JSON: { status, transitions (last hour), samples }
 * Read-only: nothing here changes the daemon.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonControl } from '../daemon/api.js';
import { DASHBOARD_HTML } from './dashboard.js';
import { History, seriesKey, type Sample, type TransitionRecord } from './history.js';
import { createMetrics, type VipdMetrics } from './metrics.js';

export interface MetricsServerOptions {
  /** "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (all addresses). Port 0 picks a free port. */
  listen: string;
  /** Interval of the SSE 'status' event (default 1000 ms). */
  tickMs?: number;
  /** Concurrent SSE clients (default 32). */
  maxEventClients?: number;
}

export interface MetricsServer {
  /** The bound address and port. */
  readonly address: string;
  readonly port: number;
  readonly url: string;
  readonly metrics: VipdMetrics;
  close(): Promise<void>;
}

/** Parse "ADDR:PORT". Throws an Error naming the problem. */
export function parseListen(spec: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) throw new Error(`--metrics-listen "${spec}": expected ADDR:PORT, [IPV6]:PORT or :PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--metrics-listen "${spec}": port ${port} is out of range`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

export async function startMetricsServer(daemon: DaemonControl, opts: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListen(opts.listen);
  const tickMs = opts.tickMs ?? 1000;
  const maxClients = opts.maxEventClients ?? 32;
  const metrics = createMetrics(daemon);
  const history = new History(daemon);
  const clients = new Set<ServerResponse>();

  // Samples gathered since the last tick, sent with the next 'status' event.
  let pending: Record<string, Sample[]> = {};
  const unsubscribe = history.subscribe((kind, data) => {
    if (kind === 'transition') {
      const rec = data as TransitionRecord;
      broadcast('transition', { transition: rec, status: safeStatus() });
    } else {
      const { key, sample } = data as { key: string; sample: Sample };
      (pending[key] ??= []).push(sample);
    }
  });
  const ticker = setInterval(() => {
    if (clients.size === 0) {
      pending = {};
      return;
    }
    broadcast('status', { status: safeStatus(), samples: pending });
    pending = {};
  }, tickMs);
  ticker.unref();

  function safeStatus(): unknown {
    try {
      return daemon.status();
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }
  function broadcast(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${e instanceof Error ? e.message : String(e)}\n`);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    switch (path) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, {
          'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        });
      case '/metrics':
        return send(res, 200, metrics.registry.contentType, await metrics.text());
      case '/api/status':
        return send(
          res,
          200,
          'application/json',
          JSON.stringify({ status: daemon.status(), transitions: history.recentTransitions(), samples: history.samplesObject() }),
        );
      case '/events':
        return events(req, res);
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (clients.size >= maxClients) return send(res, 503, 'text/plain; charset=utf-8', 'too many event clients\n');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.write(`retry: 2000\n\n`);
    res.write(
      `event: hello\ndata: ${JSON.stringify({ status: safeStatus(), transitions: history.recentTransitions(), samples: history.samplesObject() })}\n\n`,
    );
    clients.add(res);
    const drop = () => clients.delete(res);
    req.on('close', drop);
    res.on('error', drop);
  }

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(new Error(`cannot listen for metrics on ${opts.listen}: ${e.message}`));
    server.once('error', onErr);
    server.listen({ host, port }, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const hostText = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: a.address,
    port: a.port,
    url: `http://${hostText}:${a.port}`,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(ticker);
        unsubscribe();
        history.detach();
        metrics.detach();
        for (const c of clients) c.destroy();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, code: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export { seriesKey };
