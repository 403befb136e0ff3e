/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core, against the metrics
 * listener serving a fake daemon. Flips an instance's state and sees the card change (via server-sent events),
 * then saves a screenshot to test-artifacts/dashboard.png. (With the real daemon and a failover in namespaces:
 * issue 7's end-to-end test, to come.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startMetricsServer } from '../../src/control/http.js';
import { FakeDaemon } from './fake-daemon.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_FLAGS, playwright } from '../helpers/browser.js';

const pw = playwright;
const skip = browserSkipReason('browser test');

test('dashboard: live state in the browser via SSE, transition timeline, inter-arrival chart, screenshot', { skip, timeout: 90_000 }, async () => {
  const d = new FakeDaemon();
  const server = await startMetricsServer(d, { listen: '127.0.0.1:0', tickMs: 200 });
  const browser = await pw!.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${server.url}/`, { timeout: 15_000 });
    const vi6 = page.locator('.card[data-instance="VI_6/6"]');
    await vi6.locator('.state[data-state="BACKUP"]').waitFor({ timeout: 10_000 });
    assert.equal(await vi6.locator('.state').textContent(), 'BACKUP');
    assert.equal(await page.locator('.card').count(), 2);
    await page.locator('#conn.live').waitFor({ timeout: 10_000 });

    // Adverts from the master we follow, then a failover: the backup takes over.
    for (const gap of [500, 498, 503, 1200, 501]) d.advert('VI_6', gap);
    await page.locator('.chart[data-instance="VI_6/6"] circle').nth(4).waitFor({ timeout: 10_000 });
    assert.match((await page.locator('.chart[data-instance="VI_6/6"] .note').textContent()) ?? '', /max gap 1200 ms/);
    d.flip('VI_6', 'MASTER', 'master_down_timer');
    await vi6.locator('.state[data-state="MASTER"]').waitFor({ timeout: 5_000 });
    assert.equal(await vi6.getAttribute('data-state'), 'MASTER');
    assert.match((await vi6.textContent()) ?? '', /BACKUP → MASTER, master_down_timer/);
    const list = (await page.locator('#translist').textContent()) ?? '';
    assert.match(list, /VI_6 IPv6: BACKUP → MASTER \(master_down_timer\)/);
    // The other instance is untouched.
    assert.equal(await page.locator('.card[data-instance="VI_1/4"]').getAttribute('data-state'), 'MASTER');

    mkdirSync('test-artifacts', { recursive: true });
    const shot = join('test-artifacts', 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true, timeout: 15_000 });
    assert.ok(statSync(shot).size > 10_000, 'screenshot written');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
