/**
 * The daemon's state file: what it installed (VIPs, VMACs), so that a restart after a crash can remove it.
 * Written atomically (temporary file, then rename); reading a missing or corrupt file gives null.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeStateFile(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(data));
  renameSync(tmp, path);
}

export function readStateFile<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}
