/**
 * A strict parser for the Prometheus text exposition format (0.0.4), written for the tests: it throws on anything
 * a Prometheus server would refuse (bad names, bad escapes, bad values, samples without a TYPE, duplicate series,
 * non-cumulative histogram buckets).
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value "${s}"`);
  return Number(s);
}

function parseLabels(s: string, line: number): [Record<string, string>, number] {
  // s starts after '{'; returns labels and the index just past '}'.
  const labels: Record<string, string> = {};
  let i = 0;
  while (true) {
    if (s[i] === '}') return [labels, i + 1];
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (!m) throw new Error(`line ${line}: bad label at "${s.slice(i, i + 20)}"`);
    const name = m[1]!;
    if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`line ${line}: bad label name ${name}`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    i += m[0].length;
    let v = '';
    while (s[i] !== '"') {
      if (i >= s.length) throw new Error(`line ${line}: unterminated label value`);
      if (s[i] === '\\') {
        const e = s[i + 1];
        if (e === '\\') v += '\\';
        else if (e === '"') v += '"';
        else if (e === 'n') v += '\n';
        else throw new Error(`line ${line}: bad escape \\${e}`);
        i += 2;
      } else v += s[i++];
    }
    labels[name] = v;
    i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`line ${line}: expected , or } after label ${name}`);
  }
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const fams = new Map<string, PromFamily>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const familyOf = (sample: string): PromFamily | undefined => {
    if (fams.has(sample)) return fams.get(sample);
    for (const suf of ['_bucket', '_sum', '_count']) {
      if (sample.endsWith(suf)) {
        const f = fams.get(sample.slice(0, -suf.length));
        if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
      }
    }
    return undefined;
  };
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      const f = fams.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type ${rest}`);
        if (fams.has(name) && f.type !== 'untyped') throw new Error(`line ${line}: second TYPE for ${name}`);
        if (f.samples.length) throw new Error(`line ${line}: TYPE after samples for ${name}`);
        f.type = rest;
      } else f.help = rest;
      fams.set(name, f);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
    if (!m) throw new Error(`line ${line}: bad sample "${raw}"`);
    const name = m[1]!;
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const [l, end] = parseLabels(rest.slice(1), line);
      labels = l;
      rest = rest.slice(1 + end);
    }
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: bad sample "${raw}"`);
    const value = parseValue(parts[0]!, line);
    const f = familyOf(name);
    if (!f) throw new Error(`line ${line}: sample ${name} has no TYPE/HELP family`);
    const id = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(id)) throw new Error(`line ${line}: duplicate series ${id}`);
    seen.add(id);
    f.samples.push({ name, labels, value });
  });
  // Histograms: cumulative buckets ending in +Inf == _count.
  for (const f of fams.values()) {
    if (f.type !== 'histogram') continue;
    const groups = new Map<string, PromSample[]>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      if (s.name.endsWith('_bucket')) {
        if (le === undefined) throw new Error(`${f.name}: bucket without le`);
        groups.set(k, [...(groups.get(k) ?? []), s]);
      }
    }
    for (const [k, bs] of groups) {
      let prevLe = -Infinity;
      let prev = 0;
      for (const b of bs) {
        const le = parseValue(b.labels.le!, 0);
        if (le <= prevLe) throw new Error(`${f.name}${k}: le not increasing`);
        if (b.value < prev) throw new Error(`${f.name}${k}: buckets not cumulative`);
        prevLe = le;
        prev = b.value;
      }
      if (prevLe !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
      const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k);
      if (!count || count.value !== prev) throw new Error(`${f.name}${k}: +Inf bucket != _count`);
    }
  }
  return fams;
}

/** The value of one series, or undefined. */
export function sampleValue(fams: Map<string, PromFamily>, name: string, labels: Record<string, string>): number | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length) {
        return s.value;
      }
    }
  }
  return undefined;
}
