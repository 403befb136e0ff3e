/**
 * Hostile VRRP traffic from a lab node: runs blaster-child.ts inside the node's namespace and returns what it
 * sent, per class and per counter the receivers must file it under (hostile.ts builds the packets).
 *
 *   const r = await blast(topo, 'H', { target, seed: 1, total: 1_000_000, ratePps: 60_000 });
 *   // r.multicast['51:checksum_err'] packets must show in every receiver's VI_1 checksum_err counter.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from './exec.js';
import type { NodeName, Topology } from './topology.js';
import type { BlastConfig, BlastResult } from './blaster-child.js';

export type { BlastConfig, BlastResult } from './blaster-child.js';

function childScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'blaster-child.js');
}

/** Send hostile packets from `node`; resolves with the blaster's tallies (rejects on a crash or timeout). */
export async function blast(topo: Topology, node: NodeName, cfg: BlastConfig, timeoutMs = 120_000): Promise<BlastResult> {
  const p = topo.spawn(node, process.execPath, [childScript(), JSON.stringify(cfg)]);
  const exit = await p.waitExit(timeoutMs);
  if (!exit) {
    p.kill('SIGKILL');
    throw new LabError(`blaster on ${node} did not finish within ${timeoutMs} ms`);
  }
  const line = p.lines.find((l) => l.stream === 'stdout' && l.text.startsWith('{'));
  if (exit.code !== 0 || !line) throw new LabError(`blaster on ${node} failed (code ${exit.code}): ${p.output(20)}`);
  return JSON.parse(line.text) as BlastResult;
}
