/**
 * keepalived.conf lexer: reads the main file and its includes and turns them into lines of tokens, each token
 * knowing the file and line it came from.
 *
 * Per physical line, in this order (as keepalived does): comments (`#`, `!` outside quotes) are cut; an `@ID` /
 * `@^ID` prefix keeps or drops the line; `$NAME=value` defines a variable (a trailing `\` continues the value on the
 * next line, and such a value expands to several lines); `~SEQ(v,a,b[,step])` / `~LST(v,x,y,...)` repeat the rest of
 * the line; `$NAME` / `${NAME}` are expanded (lazily, recursively; unknown names stay literal); the result is split
 * into words (quotes group, `{` and `}` are tokens of their own); an `include GLOB...` line is replaced by the
 * matching files. Every limit (file size, include depth and loops, expansion size and loops) ends in a diagnostic.
 */
import { readFileSync, statSync, realpathSync, readdirSync } from 'node:fs';
import { dirname, resolve, isAbsolute, join } from 'node:path';
import { hostname } from 'node:os';
import type { Diagnostic, ParseOptions, SourcePos } from './model.js';

export interface Token {
  text: string;
  /** True when the token was (partly) quoted: it is never `{`/`}` and never a keyword of its own. */
  quoted: boolean;
  file: string;
  line: number;
}

export interface LexLine {
  tokens: Token[];
  file: string;
  line: number;
}

const DEFAULT_MAX_FILE = 2 * 1024 * 1024;
const DEFAULT_MAX_TOTAL = 4 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 32;
/** Longest line a variable expansion may produce. */
const MAX_EXPANSION = 1024 * 1024;
/** Most lines one `~SEQ`/`~LST` may produce. */
const MAX_REPEAT = 10_000;
/** Most tokens in a whole configuration. */
const MAX_TOKENS = 4_000_000;

export const INCLUDE_KEYWORDS = new Set(['include', 'includet', 'includer', 'includem', 'includew', 'includeb', 'includea']);

export function shortHostname(): string {
  try {
    return hostname().split('.')[0] ?? '';
  } catch {
    return '';
  }
}

interface Definition {
  value: string;
  pos: SourcePos;
}

/** Where a lexer reads files from: the disk, or (tests) a text given for the main file. */
export interface LexSource {
  mainText?: string;
}

export class Lexer {
  readonly lines: LexLine[] = [];
  private readonly defs = new Map<string, Definition>();
  private readonly stack: string[] = [];
  private totalBytes = 0;
  private tokenCount = 0;
  private tokenLimitHit = false;
  private readonly instanceId: string;
  private readonly maxFile: number;
  private readonly maxTotal: number;
  private readonly maxDepth: number;
  private readonly env: Record<string, string | undefined>;

  constructor(
    private readonly diags: Diagnostic[],
    opts: ParseOptions = {},
  ) {
    this.instanceId = opts.instanceId ?? shortHostname();
    this.maxFile = opts.maxFileBytes ?? DEFAULT_MAX_FILE;
    this.maxTotal = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL;
    this.maxDepth = opts.maxIncludeDepth ?? DEFAULT_MAX_DEPTH;
    this.env = opts.env ?? process.env;
  }

  private diag(severity: Diagnostic['severity'], file: string, line: number, message: string): void {
    this.diags.push({ severity, file, line, message });
  }

  /** Read the main file. Returns false when it cannot be used at all (missing, unreadable, too big, binary). */
  readMain(path: string, text?: string): boolean {
    if (text !== undefined) {
      const abs = resolve(path);
      if (Buffer.byteLength(text) > this.maxFile) {
        this.diag('error', path, 1, `file is too big (${Buffer.byteLength(text)} bytes; the limit is ${this.maxFile})`);
        return false;
      }
      const nul = text.indexOf('\0');
      if (nul >= 0) {
        this.diag('error', path, lineOfOffset(text, nul), 'binary data (a NUL byte) in a configuration file; file ignored');
        return false;
      }
      this.stack.push(abs);
      this.processText(text, path);
      this.stack.pop();
      return true;
    }
    return this.readFile(path, path, null, 0);
  }

  /** Read one file (main or included). `shown` is the name used in diagnostics. */
  private readFile(path: string, shown: string, from: SourcePos | null, depth: number): boolean {
    const at = from ?? { file: shown, line: 0 };
    let real: string;
    let size: number;
    try {
      const st = statSync(path);
      if (st.isDirectory()) {
        this.diag('error', at.file, at.line, `${shown} is a directory, not a configuration file`);
        return false;
      }
      if (!st.isFile()) {
        this.diag('error', at.file, at.line, `${shown} is not a regular file`);
        return false;
      }
      size = st.size;
      real = realpathSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
      this.diag('error', at.file, at.line, `cannot read configuration file ${shown}: ${why}`);
      return false;
    }
    if (this.stack.includes(real)) {
      const chain = [...this.stack.slice(this.stack.indexOf(real)), real].join(' -> ');
      this.diag('error', at.file, at.line, `include loop: ${chain}; not included again`);
      return false;
    }
    if (depth > this.maxDepth) {
      this.diag('error', at.file, at.line, `includes nested deeper than ${this.maxDepth} levels; ${shown} not included`);
      return false;
    }
    if (size > this.maxFile) {
      this.diag('error', at.file, at.line, `${shown} is too big (${size} bytes; the limit is ${this.maxFile}); file ignored`);
      return false;
    }
    if (this.totalBytes + size > this.maxTotal) {
      this.diag('error', at.file, at.line, `configuration exceeds ${this.maxTotal} bytes in total; ${shown} ignored`);
      return false;
    }
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      this.diag('error', at.file, at.line, `cannot read configuration file ${shown}: ${code}`);
      return false;
    }
    this.totalBytes += buf.length;
    const nul = buf.indexOf(0);
    if (nul >= 0) {
      let line = 1;
      for (let i = 0; i < nul; i++) if (buf[i] === 10) line++;
      this.diag('error', shown, line, 'binary data (a NUL byte) in a configuration file; file ignored');
      return false;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
    } catch {
      text = buf.toString('latin1');
      this.diag('warning', shown, 1, 'file is not valid UTF-8; read as Latin-1');
    }

    this.stack.push(real);
    try {
      this.processText(text, shown);
    } finally {
      this.stack.pop();
    }
    return true;
  }

  private processText(text: string, file: string): void {
    if (text.startsWith('\ufeff')) {
      text = text.slice(1);
      this.diag('warning', file, 1, 'file starts with a byte order mark; vipd skips it, keepalived would read it as part of the first word');
    }
    const physical = text.split(/\r?\n/);
    for (let i = 0; i < physical.length; i++) {
      if (this.tokenLimitHit) return;
      const lineNo = i + 1;
      let body = stripComment(physical[i]!).trim();
      if (body === '') continue;

      // @ID / @^ID conditional lines.
      if (body.startsWith('@')) {
        const m = /^@(\^?)(\S*)\s*(.*)$/s.exec(body);
        if (!m) continue;
        const negate = m[1] === '^';
        const id = m[2]!;
        const matches = id === this.instanceId;
        if (negate ? matches : !matches) continue;
        body = m[3]!.trim();
        if (body === '') continue;
      }

      // $NAME=value definitions (a trailing backslash continues the value).
      // (no space before '=': keepalived reads `$X = y` as an unknown keyword)
      const def = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(body);
      if (def) {
        let value = def[2]!.trim();
        const parts: string[] = [];
        while (value.endsWith('\\')) {
          parts.push(value.slice(0, -1).trim());
          i++;
          if (i >= physical.length) {
            value = '';
            break;
          }
          value = stripComment(physical[i]!).trim();
        }
        parts.push(value);
        this.defs.set(def[1]!, { value: parts.filter((p) => p !== '').join('\n'), pos: { file, line: lineNo } });
        continue;
      }

      // ~SEQ / ~LST repetition.
      const rep = /^~(SEQx?|LST)\(([^)]*)\)\s*(.*)$/s.exec(body);
      if (rep) {
        this.repeat(rep[1]!, rep[2]!, rep[3]!, file, lineNo);
        continue;
      }
      this.emitLogical(body, file, lineNo);
    }
  }

  private repeat(kind: string, params: string, rest: string, file: string, line: number): void {
    const args = params.split(',').map((s) => s.trim());
    const name = args[0] ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      this.diag('error', file, line, `~${kind}: '${name}' is not a variable name`);
      return;
    }
    let values: string[] = [];
    if (kind === 'LST') {
      values = args.slice(1);
    } else {
      const nums = args.slice(1).map((a) => Number(this.expand(a, file, line) ?? a));
      let [start, end, step] = nums.length === 1 ? [1, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
      if (nums.length === 0 || nums.length > 3 || ![start, end, step].every((n) => Number.isFinite(n)) || step === 0) {
        this.diag('error', file, line, `~${kind}(${params}): expected (variable, [start,] end [, step]) with numbers`);
        return;
      }
      if (end < start && step > 0) step = -step;
      const count = Math.floor((end - start) / step) + 1;
      if (count > MAX_REPEAT) {
        this.diag('error', file, line, `~${kind}(${params}) would produce ${count} lines; the limit is ${MAX_REPEAT}`);
        return;
      }
      for (let k = 0; k < count; k++) {
        const v = start + k * step;
        values.push(kind === 'SEQx' ? Math.trunc(v).toString(16) : String(v));
      }
    }
    if (values.length > MAX_REPEAT) {
      this.diag('error', file, line, `~${kind} would produce ${values.length} lines; the limit is ${MAX_REPEAT}`);
      return;
    }
    const saved = this.defs.get(name);
    for (const v of values) {
      this.defs.set(name, { value: v, pos: { file, line } });
      // A repeated line may itself be a (single-line) definition.
      const def = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(rest);
      if (def) {
        const value = this.expand(def[2]!.trim(), file, line);
        if (value !== null && def[1] !== name) this.defs.set(def[1]!, { value, pos: { file, line } });
        continue;
      }
      this.emitLogical(rest, file, line);
    }
    if (saved) this.defs.set(name, saved);
    else this.defs.delete(name);
  }

  /** Expand variables in one logical line, then tokenize it (a multi-line value gives several lines). */
  private emitLogical(body: string, file: string, line: number): void {
    const expanded = this.expand(body, file, line);
    if (expanded === null) return;
    for (const piece of expanded.split('\n')) {
      // An include's glob may hold {a,b}: split such a line on white space only.
      const inc = /^\s*(include[a-z]?)\s+(.*)$/s.exec(piece);
      if (inc && INCLUDE_KEYWORDS.has(inc[1]!)) {
        const args = inc[2]!.trim().split(/\s+/).filter(Boolean);
        // Quotes are not removed: keepalived looks for a file named with them.
        const toks: Token[] = [inc[1]!, ...args].map((t) => ({ text: t, quoted: false, file, line }));
        this.include(toks, file, line);
        continue;
      }
      const tokens = tokenize(piece, file, line, this.diags);
      if (tokens.length === 0) continue;
      this.tokenCount += tokens.length;
      if (this.tokenCount > MAX_TOKENS) {
        this.diag('error', file, line, `configuration has more than ${MAX_TOKENS} words; the rest is ignored`);
        this.tokenLimitHit = true;
        return;
      }
      const first = tokens[0]!;
      if (!first.quoted && INCLUDE_KEYWORDS.has(first.text)) {
        this.include(tokens, file, line);
        continue;
      }
      this.lines.push({ tokens, file, line });
    }
  }

  /** Expand $NAME / ${NAME} in `s`; null (after an error diagnostic) when the expansion does not terminate. */
  expand(s: string, file: string, line: number): string | null {
    if (!s.includes('$')) return s;
    const memo = new Map<string, string>();
    const fail = { hit: false };
    const out = this.expandRec(s, file, line, [], memo, fail);
    return fail.hit ? null : out;
  }

  private expandRec(
    s: string,
    file: string,
    line: number,
    chain: string[],
    memo: Map<string, string>,
    fail: { hit: boolean },
  ): string {
    let out = '';
    let i = 0;
    while (i < s.length) {
      if (fail.hit) return '';
      const ch = s[i]!;
      if (ch !== '$') {
        out += ch;
        i++;
        continue;
      }
      let name: string | null = null;
      let end = i + 1;
      let builtinArg: string | null = null;
      if (s[i + 1] === '{') {
        const close = s.indexOf('}', i + 2);
        if (close > 0) {
          const inner = s.slice(i + 2, close);
          const env = /^_ENV\s+(\S+)$/.exec(inner);
          if (env) {
            name = '_ENV';
            builtinArg = env[1]!;
            end = close + 1;
          } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) {
            name = inner;
            end = close + 1;
          }
        }
      } else {
        // keepalived expands the bare form only when the name is followed by white space or the end of the line.
        const m = /^[A-Za-z_][A-Za-z0-9_]*(?=[\s]|$)/.exec(s.slice(i + 1, i + 258));
        if (m) {
          name = m[0];
          end = i + 1 + name.length;
        }
      }
      let value: string | null = null;
      if (name !== null) value = this.lookup(name, builtinArg, file, line, chain, memo, fail);
      if (value === null) {
        out += s.slice(i, end === i + 1 ? i + 1 : end);
      } else {
        out += value;
      }
      if (out.length > MAX_EXPANSION) {
        if (!fail.hit) {
          this.diag('error', file, line, `variable expansion grows beyond ${MAX_EXPANSION} characters; line ignored`);
        }
        fail.hit = true;
        return '';
      }
      i = end;
    }
    return out;
  }

  private lookup(
    name: string,
    arg: string | null,
    file: string,
    line: number,
    chain: string[],
    memo: Map<string, string>,
    fail: { hit: boolean },
  ): string | null {
    switch (name) {
      case '_PWD':
        return dirname(resolve(file));
      case '_INSTANCE':
        return this.instanceId;
      case '_RANDOM':
        return String(Math.floor(Math.random() * 2 ** 31));
      case '_HASH':
        return '#';
      case '_BANG':
        return '!';
      case '_ENV':
        return arg === null ? null : (this.env[arg] ?? '');
    }
    const def = this.defs.get(name);
    if (!def) return null;
    const cached = memo.get(name);
    if (cached !== undefined) return cached;
    if (chain.includes(name)) {
      this.diag(
        'error',
        file,
        line,
        `variable $${name} refers to itself (${[...chain, name].map((n) => '$' + n).join(' -> ')}, defined at ${def.pos.file}:${def.pos.line}); line ignored`,
      );
      fail.hit = true;
      return '';
    }
    const v = this.expandRec(def.value, file, line, [...chain, name], memo, fail);
    if (!fail.hit) memo.set(name, v);
    return v;
  }

  private include(tokens: Token[], file: string, line: number): void {
    const patterns = tokens.slice(1);
    if (patterns.length === 0) {
      this.diag('error', file, line, `'${tokens[0]!.text}' needs a file name or pattern`);
      return;
    }
    for (const p of patterns) {
      const base = isAbsolute(p.text) ? p.text : join(dirname(resolve(file)), p.text);
      let matches: string[];
      try {
        matches = expandGlob(base);
      } catch {
        matches = [];
      }
      if (matches.length === 0) {
        this.diag('warning', file, line, `include: no file matches '${p.text}' (keepalived ignores this)`);
        continue;
      }
      for (const m of matches) {
        // Included files are named by their path as found (the including file's directory + the pattern's match).
        this.readFile(m, m, { file, line }, this.stack.length);
        if (this.tokenLimitHit) return;
      }
    }
  }
}

export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Cut a `#` or `!` comment that is not inside quotes. */
export function stripComment(s: string): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' || c === '!') return s.slice(0, i);
  }
  return s;
}

/** Split one logical line into words; quotes group words (shell-like), `{` and `}` are separate tokens. */
export function tokenize(s: string, file: string, line: number, diags: Diagnostic[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      out.push({ text: c, quoted: false, file, line });
      i++;
      continue;
    }
    let text = '';
    let quoted = false;
    while (i < n) {
      const d = s[i]!;
      if (d === ' ' || d === '\t' || d === '\r' || d === '\f' || d === '\v' || d === '{' || d === '}') break;
      if (d === '"' || d === "'") {
        quoted = true;
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const e = s[j]!;
          if (e === d) {
            closed = true;
            break;
          }
          if (e === '\\' && d === '"' && j + 1 < n) {
            text += s[j + 1]!;
            j += 2;
            continue;
          }
          text += e;
          j++;
        }
        if (!closed) diags.push({ severity: 'error', file, line, message: `unterminated ${d} quote` });
        i = j + 1;
        continue;
      }
      text += d;
      i++;
    }
    out.push({ text, quoted, file, line });
  }
  return out;
}

/** `{a,b}` alternatives in a glob, expanded (bounded). */
export function expandBraces(p: string, limit = 1000): string[] {
  const open = p.indexOf('{');
  if (open < 0) return [p];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < p.length; i++) {
    if (p[i] === '{') depth++;
    else if (p[i] === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (p[i] === ',' && depth === 1) commas.push(i);
  }
  if (close < 0 || commas.length === 0) return [p];
  const pre = p.slice(0, open);
  const post = p.slice(close + 1);
  const alts: string[] = [];
  let start = open + 1;
  for (const c of [...commas, close]) {
    alts.push(p.slice(start, c));
    start = c + 1;
  }
  const out: string[] = [];
  for (const a of alts) {
    for (const e of expandBraces(pre + a + post, limit)) {
      out.push(e);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function globToRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Files matching an absolute glob (`*`, `?`, `[...]`, `{a,b}`), sorted; directories are not matched. */
export function expandGlob(pattern: string): string[] {
  const results: string[] = [];
  for (const p of expandBraces(pattern)) {
    const segs = p.split('/');
    let current: string[] = [segs[0] === '' ? '/' : segs[0]!];
    for (let k = 1; k < segs.length; k++) {
      const seg = segs[k]!;
      if (seg === '') continue;
      const next: string[] = [];
      if (!/[*?[]/.test(seg)) {
        for (const c of current) next.push(join(c, seg));
      } else {
        const re = globToRegExp(seg);
        for (const c of current) {
          let names: string[];
          try {
            names = readdirSync(c);
          } catch {
            continue;
          }
          for (const name of names.sort()) {
            if (name.startsWith('.') && !seg.startsWith('.')) continue;
            if (re.test(name)) next.push(join(c, name));
          }
        }
      }
      current = next;
      if (current.length === 0 || current.length > 10_000) break;
    }
    for (const c of current) {
      try {
        if (statSync(c).isFile()) results.push(c);
      } catch {
        /* missing */
      }
    }
  }
  return results;
}
