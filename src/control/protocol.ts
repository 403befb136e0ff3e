/**
 * The control socket protocol: newline-delimited JSON. Each request is one line holding a JSON object
 * `{"cmd": ..., "instance"?: ...}`; each gets exactly one reply line `{"ok":true, ...}` or
 * `{"ok":false,"error":"..."}`, in request order. See docs/control.md.
 */
import type { DaemonStatus, ReloadResult } from '../daemon/api.js';

export const DEFAULT_CONTROL_SOCKET = '/run/vipd/vipd.sock';
/** Longest request line accepted, in bytes (without the newline). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const COMMANDS = ['status', 'reload', 'handover', 'garp', 'ping'] as const;
export type CommandName = (typeof COMMANDS)[number];

export type ControlRequest =
  | { cmd: 'status'; instance?: string }
  | { cmd: 'reload' }
  | { cmd: 'handover'; instance: string }
  | { cmd: 'garp'; instance: string }
  | { cmd: 'ping' };

export interface ErrorReply {
  ok: false;
  error: string;
}
export interface StatusReply {
  ok: true;
  status: DaemonStatus;
}
export interface ReloadReply {
  ok: boolean;
  reload: ReloadResult;
  error?: string;
}
export interface ActionReply {
  ok: boolean;
  message: string;
  error?: string;
}
export interface PingReply {
  ok: true;
  pid: number;
  version: string;
}
export type ControlReply = ErrorReply | StatusReply | ReloadReply | ActionReply | PingReply;

/** Parse and validate one request line. Never throws. */
export function parseRequest(line: string): { ok: true; req: ControlRequest } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `malformed JSON request: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { ok: false, error: 'request must be a JSON object like {"cmd":"status"}' };
  }
  const o = v as Record<string, unknown>;
  if (typeof o.cmd !== 'string') return { ok: false, error: 'request has no "cmd" string' };
  const cmd = o.cmd;
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    return { ok: false, error: `unknown command "${cmd.slice(0, 64)}" (known: ${COMMANDS.join(', ')})` };
  }
  const inst = o.instance;
  if (inst !== undefined && (typeof inst !== 'string' || inst.length === 0 || inst.length > 256)) {
    return { ok: false, error: '"instance" must be a non-empty string' };
  }
  switch (cmd as CommandName) {
    case 'status':
      return { ok: true, req: inst === undefined ? { cmd: 'status' } : { cmd: 'status', instance: inst as string } };
    case 'reload':
      return { ok: true, req: { cmd: 'reload' } };
    case 'ping':
      return { ok: true, req: { cmd: 'ping' } };
    case 'handover':
    case 'garp':
      if (inst === undefined) return { ok: false, error: `"${cmd}" needs an "instance"` };
      return { ok: true, req: { cmd: cmd as 'handover' | 'garp', instance: inst as string } };
  }
}
