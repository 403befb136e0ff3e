import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startMetricsServer, parseListen } from '../../src/control/http.js';
import { createMetrics, INTERARRIVAL_BUCKETS } from '../../src/control/metrics.js';
import { parsePrometheusText, sampleValue } from './prom-parse.js';
import { FakeDaemon } from './fake-daemon.js';

test('the test parser refuses what Prometheus refuses', () => {
  assert.throws(() => parsePrometheusText('x 1\n'), /no TYPE/);
  assert.throws(() => parsePrometheusText('# TYPE x gauge\nx{a="b} 1\n'), /unterminated/);
  assert.throws(() => parsePrometheusText('# TYPE x gauge\nx{a="\\q"} 1\n'), /bad escape/);
  assert.throws(() => parsePrometheusText('# TYPE x gauge\nx one\n'), /bad value/);
  assert.throws(() => parsePrometheusText('# TYPE x gauge\nx 1\nx 2\n'), /duplicate series/);
  assert.throws(
    () => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    /not cumulative/,
  );
  assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'), /no \+Inf/);
  assert.equal(parsePrometheusText('# HELP x y\n# TYPE x gauge\nx{a="q\\"\\\\"} -Inf\n').get('x')!.samples[0]!.labels.a, 'q"\\');
});

test('metrics: state, priorities, counters from status; transitions, rejections, inter-arrival from events', async () => {
  const d = new FakeDaemon();
  const m = createMetrics(d);
  try {
    let f = parsePrometheusText(await m.text());
    const v = (name: string, labels: Record<string, string>) => sampleValue(f, name, labels);
    const vi1 = { instance: 'VI_1', family: 'ipv4' };
    const vi6 = { instance: 'VI_6', family: 'ipv6' };
    assert.equal(v('vipd_instance_state', { ...vi1, state: 'MASTER' }), 1);
    assert.equal(v('vipd_instance_state', { ...vi1, state: 'BACKUP' }), 0);
    assert.equal(v('vipd_instance_state', { ...vi6, state: 'BACKUP' }), 1);
    assert.equal(v('vipd_instance_base_priority', vi1), 150);
    assert.equal(v('vipd_instance_effective_priority', vi1), 140);
    assert.equal(v('vipd_instance_master_down_interval_seconds', vi6), 1.82421875);
    assert.equal(v('vipd_adverts_sent_total', vi1), 3);
    assert.equal(v('vipd_adverts_received_total', vi6), 6);
    assert.equal(v('vipd_advert_errors_total', { ...vi1, error: 'auth_failure' }), 2);
    assert.equal(v('vipd_adverts_checksum_form_total', { ...vi6, form: 'pseudo' }), 6);
    assert.equal(v('vipd_tracker_up', { ...vi1, kind: 'interface', name: 'eth1' }), 0);
    assert.equal(f.get('vipd_transitions_total')!.type, 'counter');
    assert.equal(f.get('vipd_transitions_total')!.samples.length, 0);
    assert.ok(f.get('process_resident_memory_bytes')!.samples[0]!.value > 1e6);
    assert.ok(f.get('process_cpu_seconds_total')!.samples[0]!.value > 0);
    // No default metrics other than process CPU/RSS/start.
    for (const name of f.keys()) assert.match(name, /^(vipd_|process_(cpu|resident|start))/, name);

    d.flip('VI_6', 'MASTER', 'master_down_timer');
    d.flip('VI_6', 'BACKUP', 'higher_priority_advert');
    for (const gap of [1000, 1003, 998, 2500, null]) d.advert('VI_1', gap);
    d.reject('VI_1', 'auth_failure');
    d.reject(null, 'vrid_err');
    d.reject(null, 'vrid_err');
    f = parsePrometheusText(await m.text());
    assert.equal(v('vipd_transitions_total', { ...vi6, from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer' }), 1);
    assert.equal(v('vipd_transitions_total', { ...vi6, from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_advert' }), 1);
    assert.equal(v('vipd_become_master_total', vi6), 2);
    assert.equal(v('vipd_release_master_total', vi6), 2);
    assert.equal(v('vipd_rejected_packets_total', { instance: 'VI_1', reason: 'auth_failure' }), 1);
    assert.equal(v('vipd_rejected_packets_total', { instance: '', reason: 'vrid_err' }), 2);
    assert.equal(v('vipd_advert_interarrival_seconds_count', vi1), 4, 'null gaps (first advert) are not observed');
    assert.equal(v('vipd_advert_interarrival_seconds_sum', vi1), 5.501);
    assert.equal(v('vipd_advert_interarrival_seconds_bucket', { ...vi1, le: '1' }), 2);
    assert.equal(v('vipd_advert_interarrival_seconds_bucket', { ...vi1, le: '1.1' }), 3);
    assert.equal(v('vipd_advert_interarrival_seconds_bucket', { ...vi1, le: '2.5' }), 4);
    assert.equal(v('vipd_advert_last_interarrival_seconds', vi1), 2.5);
    assert.equal(v('vipd_instance_state', { ...vi6, state: 'BACKUP' }), 1);
    // Buckets cover 10 ms .. 1 s advert intervals densely.
    assert.ok(INTERARRIVAL_BUCKETS.filter((b) => b >= 0.01 && b <= 1).length >= 15);

    // An instance removed by a reload disappears from the status-driven metrics.
    d.current.instances = d.current.instances.filter((i) => i.name !== 'VI_6');
    f = parsePrometheusText(await m.text());
    assert.equal(v('vipd_instance_state', { ...vi6, state: 'BACKUP' }), undefined);
    assert.equal(v('vipd_instance_state', { ...vi1, state: 'MASTER' }), 1);
  } finally {
    m.detach();
  }
  assert.equal(d.listenerCount('transition'), 0, 'detach removes the listeners');
});

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('metrics listener: /metrics, /api/status, /, 404, 405; bad --metrics-listen values', async () => {
  const d = new FakeDaemon();
  const s = await startMetricsServer(d, { listen: '127.0.0.1:0' });
  try {
    const m = await get(`${s.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    assert.equal(sampleValue(parsePrometheusText(m.body), 'vipd_instance_base_priority', { instance: 'VI_1', family: 'ipv4' }), 150);
    const a = await get(`${s.url}/api/status`);
    assert.equal(a.status, 200);
    const j = JSON.parse(a.body) as { status: { instances: unknown[] }; transitions: unknown[]; samples: object };
    assert.equal(j.status.instances.length, 2);
    assert.deepEqual(j.transitions, []);
    const page = await get(`${s.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script>/);
    assert.ok(!/<script[^>]+src=|<link[^>]+href=/.test(page.body), 'self-contained: no external scripts or styles');
    assert.equal((await get(`${s.url}/nope`)).status, 404);
    assert.equal((await get(`${s.url}/metrics`, 'POST')).status, 405);
    assert.equal((await get(`${s.url}/metrics`, 'HEAD')).body, '');
  } finally {
    await s.close();
  }
  assert.deepEqual(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  assert.deepEqual(parseListen('[::1]:9650'), { host: '::1', port: 9650 });
  assert.deepEqual(parseListen(':9650'), { host: undefined, port: 9650 });
  assert.throws(() => parseListen('9650'), /expected ADDR:PORT/);
  assert.throws(() => parseListen('127.0.0.1:70000'), /out of range/);
  await assert.rejects(startMetricsServer(d, { listen: '192.0.2.250:0' }), /cannot listen for metrics on 192\.0\.2\.250:0: .*EADDRNOTAVAIL/);
});

test('SSE: /events sends the state, then a transition as it happens, then periodic status with samples', async () => {
  const d = new FakeDaemon();
  const s = await startMetricsServer(d, { listen: '127.0.0.1:0', tickMs: 100 });
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let req: ReturnType<typeof request> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      req = request(`${s.url}/events`, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let k;
          while ((k = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, k);
            buf = buf.slice(k + 2);
            const ev = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (ev && data) events.push({ event: ev, data: JSON.parse(data) as Record<string, unknown> });
          }
        });
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
    const waitFor = async (pred: () => boolean, what: string) => {
      const end = Date.now() + 3000;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events.map((e) => e.event))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor(() => events.some((e) => e.event === 'hello'), 'hello');
    const hello = events.find((e) => e.event === 'hello')!.data as { status: { instances: { state: string }[] } };
    assert.equal(hello.status.instances[1]!.state, 'BACKUP');
    const info = d.flip('VI_6', 'MASTER');
    await waitFor(() => events.some((e) => e.event === 'transition'), 'transition');
    const t = events.find((e) => e.event === 'transition')!.data as {
      transition: Record<string, unknown>;
      status: { instances: { name: string; state: string }[] };
    };
    assert.deepEqual(t.transition, { ...info, instance: 'VI_6', family: 6 });
    assert.equal(t.status.instances.find((i) => i.name === 'VI_6')!.state, 'MASTER');
    d.advert('VI_1', 1001);
    await waitFor(
      () => events.some((e) => e.event === 'status' && Object.keys(e.data.samples as object).length > 0),
      'status with samples',
    );
    const st = events.find((e) => e.event === 'status' && Object.keys(e.data.samples as object).length > 0)!;
    assert.equal((st.data.samples as Record<string, { ms: number }[]>)['VI_1/4']![0]!.ms, 1001);
    // The history is in /api/status too.
    const a = JSON.parse((await get(`${s.url}/api/status`)).body) as { transitions: { to: string }[] };
    assert.equal(a.transitions.at(-1)!.to, 'MASTER');
  } finally {
    req?.destroy();
    await s.close();
  }
});

test('docs/metrics.md documents every exported metric', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync('docs/metrics.md', 'utf8');
  const d = new FakeDaemon();
  const m = createMetrics(d);
  try {
    d.flip('VI_6', 'MASTER');
    d.advert('VI_1', 1000);
    d.reject(null, 'vrid_err');
    const names = [...parsePrometheusText(await m.text()).keys()];
    assert.ok(names.length >= 25);
    for (const n of names) assert.ok(doc.includes('`' + n + '`'), `${n} is not in docs/metrics.md`);
  } finally {
    m.detach();
  }
});
