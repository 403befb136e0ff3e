/**
 * The Node options the daemon runs with: bin/vipd's first line (`#!/usr/bin/env -S node ...`) carries them, and the
 * lab starts its daemons with them (it runs `node bin/vipd run`, which bypasses that line). A test keeps the two
 * the same.
 *
 * V8's defaults size a heap for throughput: the young generation grows to 32 MB and the old generation collects
 * late, so a daemon whose live data is ~15 MB at 1000 virtual routers sat at 100-120 MB of RSS. A 2 MB semi-space
 * and a 192 MB old-generation ceiling keep it under 80 MB for about the same CPU (docs/performance.md, "Memory").
 * 192 MB is a ceiling ~13 times the live data measured at 1000 instances; a daemon that reached it would abort
 * ("heap limit") and be restarted by systemd, whose restart cleans up after it (docs/daemon.md).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=192'];
