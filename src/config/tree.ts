/**
 * Builds the statement tree from lexed lines: a statement is a keyword with its arguments (the words up to the end
 * of the line or the next brace); a `{` right after a statement opens that statement's block; `}` closes it.
 * Braces may sit on any line. Unbalanced braces are diagnosed with the position of the block they concern.
 */
import type { Diagnostic } from './model.js';
import type { LexLine, Token } from './lexer.js';

export interface Stmt {
  keyword: string;
  /** The keyword token itself (its position is the statement's). */
  key: Token;
  args: Token[];
  /** The block's statements, or null when the statement has no `{ }`. */
  block: Stmt[] | null;
  file: string;
  line: number;
}

export function buildTree(lines: LexLine[], diags: Diagnostic[]): Stmt[] {
  const root: Stmt[] = [];
  // Open blocks: the statement that owns each block (null for the root).
  const stack: { list: Stmt[]; owner: Stmt | null }[] = [{ list: root, owner: null }];
  // The statement that a following `{` would open (the last one, with nothing in between).
  const cur: { last: Stmt | null } = { last: null };
  for (const ln of lines) {
    let current: Token[] = [];
    const flush = (): void => {
      if (current.length === 0) return;
      const key = current[0]!;
      const st: Stmt = { keyword: key.text, key, args: current.slice(1), block: null, file: key.file, line: key.line };
      stack[stack.length - 1]!.list.push(st);
      cur.last = st;
      current = [];
    };
    for (const t of ln.tokens) {
      if (!t.quoted && t.text === '{') {
        flush();
        const last = cur.last;
        if (last && last.block === null) {
          last.block = [];
          stack.push({ list: last.block, owner: last });
        } else {
          diags.push({ severity: 'error', file: t.file, line: t.line, message: "unexpected '{' (no keyword before it); block ignored" });
          const dummy: Stmt[] = [];
          stack.push({ list: dummy, owner: null });
        }
        cur.last = null;
      } else if (!t.quoted && t.text === '}') {
        flush();
        if (stack.length === 1) {
          diags.push({ severity: 'error', file: t.file, line: t.line, message: "extra '}' (no block is open here)" });
        } else {
          stack.pop();
        }
        cur.last = null;
      } else {
        current.push(t);
      }
    }
    flush();
  }
  // Unclosed blocks, innermost first; a runaway file reports the first ten and a count.
  const unclosed = stack.length - 1;
  if (unclosed > 10) {
    const outer = stack[1]!.owner;
    diags.push({
      severity: 'error',
      file: outer?.file ?? lines[0]?.file ?? '',
      line: outer?.line ?? lines[0]?.line ?? 0,
      message: `${unclosed} blocks are never closed (missing '}'), the outermost opened here; only the innermost 10 are listed`,
    });
  }
  for (let k = stack.length - 1; k >= Math.max(1, stack.length - 10); k--) {
    const owner = stack[k]!.owner;
    const last = lines[lines.length - 1];
    const where = owner ? { file: owner.file, line: owner.line } : { file: last?.file ?? '', line: last?.line ?? 0 };
    diags.push({
      severity: 'error',
      file: where.file,
      line: where.line,
      message: owner ? `missing '}': the block of '${owner.keyword}' opened here is never closed` : "missing '}'",
    });
  }
  return root;
}
