/** The keepalived.conf lexer: comments, quotes, braces, includes, variables, conditionals, repetition, positions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lexer, expandBraces, tokenize, stripComment } from '../../src/config/lexer.js';
import type { Diagnostic } from '../../src/config/model.js';

function lex(text: string, opts: { instanceId?: string } = {}, path = '/nonexistent/vipd/k.conf') {
  const diags: Diagnostic[] = [];
  const l = new Lexer(diags, { instanceId: opts.instanceId ?? 'thishost' });
  l.readMain(path, text);
  return { lines: l.lines.map((x) => ({ line: x.line, file: x.file, words: x.tokens.map((t) => t.text) })), diags };
}

test('comments: # and ! anywhere outside quotes', () => {
  assert.equal(stripComment('priority 100 # x'), 'priority 100 ');
  assert.equal(stripComment('a ! b'), 'a ');
  assert.equal(stripComment('script "/bin/echo #1 !x" # c'), 'script "/bin/echo #1 !x" ');
  const { lines } = lex('! header\n# other\nrouter_id a#b\n');
  assert.deepEqual(lines, [{ line: 3, file: '/nonexistent/vipd/k.conf', words: ['router_id', 'a'] }]);
});

test('quotes group words and protect braces; braces are tokens of their own', () => {
  const d: Diagnostic[] = [];
  const t = tokenize(`notify "/bin/a b" x{y}'z w'`, 'f', 1, d);
  assert.deepEqual(t.map((x) => [x.text, x.quoted]), [['notify', false], ['/bin/a b', true], ['x', false], ['{', false], ['y', false], ['}', false], ['z w', true]]);
  assert.deepEqual(tokenize('"a\\"b"', 'f', 1, d).map((x) => x.text), ['a"b']);
  tokenize('"open', 'f', 7, d);
  assert.equal(d.length, 1);
  assert.match(d[0]!.message, /unterminated/);
});

test('variables: $NAME before white space, ${NAME} anywhere, lazy, multi-line values keep the use position', () => {
  const { lines, diags } = lex('$X=eth0\n$L=a \\\n  b\n$LATE=${EARLY}\n$EARLY=e\nif $X\nx${X}y $X/24\n$L\nv $LATE $UNDEF\n');
  assert.deepEqual(diags, []);
  assert.deepEqual(lines.map((l) => [l.line, l.words]), [
    [6, ['if', 'eth0']],
    [7, ['xeth0y', '$X/24']],
    [8, ['a']],
    [8, ['b']],
    [9, ['v', 'e', '$UNDEF']],
  ]);
});

test('variables: built-ins _HASH, _BANG, _INSTANCE, _ENV', () => {
  const diags: Diagnostic[] = [];
  const l = new Lexer(diags, { instanceId: 'node7', env: { FOO: 'bar' } });
  l.readMain('/x/k.conf', 'a ${_HASH}${_BANG} ${_INSTANCE} ${_ENV FOO} ${_PWD}\n');
  assert.deepEqual(l.lines[0]!.tokens.map((t) => t.text), ['a', '#!', 'node7', 'bar', '/x']);
});

test('variables that refer to themselves end in one error at the use', () => {
  const { lines, diags } = lex('$A=${B}\n$B=x ${A}\nkeep 1\nuse ${A}\n');
  assert.deepEqual(lines.map((l) => l.words), [['keep', '1']]);
  assert.equal(diags.length, 1);
  assert.equal(diags[0]!.line, 4);
  assert.match(diags[0]!.message, /\$A -> \$B -> \$A/);
});

test('@id and @^id lines', () => {
  const text = '@alpha a 1\n@^alpha b 2\n@beta c 3\nd 4\n';
  assert.deepEqual(lex(text, { instanceId: 'alpha' }).lines.map((l) => l.words[0]), ['a', 'd']);
  assert.deepEqual(lex(text, { instanceId: 'beta' }).lines.map((l) => l.words[0]), ['b', 'c', 'd']);
});

test('~SEQ and ~LST repeat a line', () => {
  const { lines } = lex('~SEQ(i,1,3) vrid $i\n~SEQ(j,5,1,2) n $j\n~LST(x,a,b) w $x\n~SEQx(h,9,11) h $h\n');
  assert.deepEqual(lines.map((l) => l.words.join(' ')), ['vrid 1', 'vrid 2', 'vrid 3', 'n 5', 'n 3', 'n 1', 'w a', 'w b', 'h 9', 'h a', 'h b']);
  const big = lex('~SEQ(i,1,1000000) x $i\n');
  assert.equal(big.lines.length, 0);
  assert.match(big.diags[0]!.message, /limit/);
});

test('brace alternatives in include globs', () => {
  assert.deepEqual(expandBraces('/a/{x,y}/*.conf'), ['/a/x/*.conf', '/a/y/*.conf']);
  assert.deepEqual(expandBraces('/a/b'), ['/a/b']);
});

test('include: relative to the including file, globs, positions inside included files, loops', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-lex-'));
  try {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'main.conf'), 'top 1\ninclude conf.d/*.conf\ninclude conf.d/{x,y}.inc\ninclude nothing-*.conf\nend 1\n');
    writeFileSync(join(dir, 'conf.d', 'a.conf'), '\n\na_line 1\n');
    writeFileSync(join(dir, 'conf.d', 'b.conf'), 'b_line 1\ninclude ../main.conf\n');
    writeFileSync(join(dir, 'conf.d', 'y.inc'), 'y_line 1\n');
    const diags: Diagnostic[] = [];
    const l = new Lexer(diags, {});
    assert.equal(l.readMain(join(dir, 'main.conf')), true);
    const got = l.lines.map((x) => `${x.file.replace(dir, '')}:${x.line}:${x.tokens[0]!.text}`);
    assert.deepEqual(got, ['/main.conf:1:top', '/conf.d/a.conf:3:a_line', '/conf.d/b.conf:1:b_line', '/conf.d/y.inc:1:y_line', '/main.conf:5:end']);
    const loop = diags.find((d) => /include loop/.test(d.message));
    assert.ok(loop, JSON.stringify(diags));
    assert.equal(loop.file.replace(dir, ''), '/conf.d/b.conf');
    assert.equal(loop.line, 2);
    assert.ok(diags.some((d) => d.severity === 'warning' && /no file matches 'nothing-\*.conf'/.test(d.message)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
