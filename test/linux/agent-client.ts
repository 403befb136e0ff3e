/** Drives test/linux/agent.ts inside a namespace (spawned through Lab, so destroy() kills it by PID). */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';

const agentPath = join(dirname(fileURLToPath(import.meta.url)), 'agent.js');

export class AgentError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export class Agent {
  private nextId = 1;
  private buf = '';
  private readonly waiters = new Map<number, (m: { ok: boolean; result?: unknown; error?: { code: string; message: string } }) => void>();
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {}

  static async start(lab: Lab, ns: string, timeoutMs = 10_000): Promise<Agent> {
    const child = lab.spawnIn(ns, process.execPath, [agentPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const a = new Agent(child);
    child.stderr!.on('data', (d: Buffer) => (a.stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`agent in ${ns} did not start: ${a.stderr}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        a.buf += d.toString();
        let nl: number;
        while ((nl = a.buf.indexOf('\n')) >= 0) {
          const line = a.buf.slice(0, nl);
          a.buf = a.buf.slice(nl + 1);
          const m = JSON.parse(line);
          if (m.ready) {
            clearTimeout(t);
            resolve();
          } else a.waiters.get(m.id)?.(m);
        }
      });
      child.once('exit', (code) => reject(new Error(`agent in ${ns} exited (${code}): ${a.stderr}`)));
    });
    return a;
  }

  /** Run an op; rejects with AgentError(code) when the op failed inside the namespace. */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`agent op ${op} timed out; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiters.set(id, (m) => {
        clearTimeout(t);
        this.waiters.delete(id);
        if (m.ok) resolve(m.result as T);
        else reject(new AgentError(m.error!.message, m.error!.code));
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }
}
