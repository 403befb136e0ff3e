/** Shared reader for the configuration fixtures in test/fixtures/config/oracle (header comments state expectations). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Verdict = 'ok' | 'errors' | 'unusable';

export interface Fixture {
  name: string;
  path: string;
  /** vipd's expected verdict: ok (exit 0), errors (exit 4), unusable (exit 3). */
  vipd: Verdict;
  /** keepalived -t's expected verdict: ok (exit 0), errors (any other code), hangs (never finishes). Defaults to vipd's. */
  keepalived: 'ok' | 'errors' | 'hangs';
  /** Why vipd and keepalived differ (required when they do). */
  why: string | null;
  /** Where vipd must report an error: "N" (this file) or "path:N" (an included file, relative). */
  errorAt: string[];
  /** Model fields the keepalived -d comparison skips (`# model-skip: FIELD... -- reason`), e.g. "vips". */
  modelSkip: string[];
}

export const FIXTURE_DIR = join(process.cwd(), 'test', 'fixtures', 'config', 'oracle');

export function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const f of readdirSync(FIXTURE_DIR).sort()) {
    if (!f.endsWith('.conf')) continue;
    const path = join(FIXTURE_DIR, f);
    const head = readFileSync(path, 'latin1').split('\n').slice(0, 8);
    const get = (k: string): string | null => {
      const l = head.find((h) => h.startsWith(`# ${k}:`));
      return l ? l.slice(k.length + 3).trim() : null;
    };
    const vipd = get('vipd') as Verdict | null;
    if (vipd !== 'ok' && vipd !== 'errors' && vipd !== 'unusable') throw new Error(`${f}: no '# vipd:' header`);
    const ka = (get('keepalived') ?? (vipd === 'ok' ? 'ok' : 'errors')) as 'ok' | 'errors' | 'hangs';
    out.push({ name: f.replace(/\.conf$/, ''), path, vipd, keepalived: ka, why: get('why'), errorAt: (get('error-at') ?? '').split(/\s+/).filter(Boolean), modelSkip: (get('model-skip') ?? '').split(' -- ')[0]!.split(/\s+/).filter(Boolean) });
  }
  return out;
}
