/** The daemon's Node options (src/runtime.ts) are the ones bin/vipd's first line runs it with. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../src/runtime.js';

// (The lab's daemons get them too: test/lab/daemons.test.ts.)
test("bin/vipd's first line runs node with DAEMON_NODE_FLAGS", () => {
  const first = readFileSync(join(process.cwd(), 'bin', 'vipd'), 'utf8').split('\n')[0]!;
  assert.equal(first, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
});
