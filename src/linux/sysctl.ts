/**
 * sysctls through /proc/sys, remembering the value found before our first write so that it can be
 * restored. Keys are slash paths below /proc/sys ("net/ipv4/conf/eth0/arp_ignore"); interface names
 * keep their dots (vrrp.7).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function confKey(family: 4 | 6, ifname: string, name: string): string {
  return `net/${family === 4 ? 'ipv4' : 'ipv6'}/conf/${ifname}/${name}`;
}

export class SysctlError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SysctlError';
  }
}

export class Sysctls {
  private readonly saved = new Map<string, string>();

  constructor(private readonly root = '/proc/sys') {}

  private path(key: string): string {
    if (key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '')) {
      throw new SysctlError(`bad sysctl key "${key}"`, 'EINVAL');
    }
    return `${this.root}/${key}`;
  }

  /** The current value (trimmed), or null when the key does not exist. */
  read(key: string): string | null {
    try {
      return readFileSync(this.path(key), 'utf8').trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SysctlError(`read sysctl ${key}: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code ?? 'EIO');
    }
  }

  /** Write `value`, remembering the previous value the first time this key is written. */
  set(key: string, value: string | number): void {
    const prev = this.read(key);
    if (prev === null) throw new SysctlError(`set sysctl ${key}: no such sysctl (is the interface present?)`, 'ENOENT');
    if (!this.saved.has(key)) this.saved.set(key, prev);
    this.write(key, String(value));
  }

  private write(key: string, value: string): void {
    try {
      writeFileSync(this.path(key), `${value}\n`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? ' (needs root)' : '';
      throw new SysctlError(`set sysctl ${key}=${value}: ${(e as Error).message}${hint}`, code);
    }
  }

  /** The value saved before our first write, if any. */
  original(key: string): string | undefined {
    return this.saved.get(key);
  }

  has(key: string): boolean {
    return this.saved.has(key);
  }

  /** Restore one key (no-op when we never wrote it, or when it no longer exists). */
  restore(key: string): void {
    const v = this.saved.get(key);
    if (v === undefined) return;
    this.saved.delete(key);
    if (this.read(key) === null) return;
    this.write(key, v);
  }

  /** Forget a key without writing it back (its interface went away). */
  forget(key: string): void {
    this.saved.delete(key);
  }

  /** Restore every remembered key, newest first; returns the errors (restoring continues past them). */
  restoreAll(): Error[] {
    const errors: Error[] = [];
    for (const key of [...this.saved.keys()].reverse()) {
      try {
        this.restore(key);
      } catch (e) {
        errors.push(e as Error);
      }
    }
    return errors;
  }
}
