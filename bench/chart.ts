/**
 * The outage-vs-advert-interval chart: an SVG written by hand (no dependencies), turned into a PNG by
 * `rsvg-convert` (Debian package librsvg2-bin) when it is installed.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { median } from './common.js';
import type { FailoverRow } from './failover.js';

interface Series {
  label: string;
  color: string;
  dash?: string;
  points: { x: number; y: number }[];
}

const COLORS: Record<string, string> = { vipd: '#1f6fd1', keepalived: '#e0701b', 'vipd --realtime': '#2a9d4b' };

/** The series: per daemon and unplanned fault kind, the median outage (both families, VMAC on and off). */
export function chartSeries(rows: FailoverRow[]): Series[] {
  const daemons = [...new Set(rows.map((r) => r.daemon))];
  const advs = [...new Set(rows.map((r) => r.advertSec))].sort((a, b) => a - b);
  const out: Series[] = [];
  const dashes: Record<string, string | undefined> = { 'link-down': undefined, blackhole: '6 4', stop: '2 3' };
  for (const d of daemons) {
    for (const fault of ['link-down', 'blackhole', 'stop'] as const) {
      const points = advs
        .map((a) => {
          const m = median(rows.filter((r) => r.daemon === d && r.advertSec === a && r.fault === fault && r.phase === 'fault').map((r) => r.outageMs));
          return m === null ? null : { x: a * 1000, y: m };
        })
        .filter((p): p is { x: number; y: number } => p !== null);
      if (points.length) {
        const s: Series = { label: `${d}: ${fault === 'stop' ? 'planned stop' : fault}`, color: COLORS[d] ?? '#555', points };
        if (dashes[fault]) s.dash = dashes[fault]!;
        out.push(s);
      }
    }
  }
  const bound = advs.map((a) => {
    const b = rows.find((r) => r.advertSec === a && r.phase === 'fault' && r.fault === 'link-down' && r.family === 4);
    return { x: a * 1000, y: b ? b.boundMs : (3 * a + (156 * a) / 256) * 1000 };
  });
  out.push({ label: 'bound: Master_Down_Interval (R2)', color: '#777', dash: '1 3', points: bound });
  const skew = advs.map((a) => {
    const b = rows.find((r) => r.advertSec === a && r.phase === 'fault' && r.fault === 'stop' && r.family === 4);
    return { x: a * 1000, y: b ? b.boundMs : ((156 * a) / 256) * 1000 };
  });
  out.push({ label: 'planned-stop bound: skew (R2)', color: '#aaa', dash: '1 3', points: skew });
  return out;
}

/** An SVG line chart on log-log axes; zero outages are drawn on the bottom axis line ("0"). */
export function chartSvg(series: Series[], title: string): string {
  const W = 900;
  const H = 520;
  const L = 80;
  const R = 300;
  const T = 50;
  const B = 60;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  const xmin = Math.min(...xs, 10) * 0.8;
  const xmax = Math.max(...xs, 1000) * 1.25;
  const ymin = 1;
  const ymax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 100) * 1.1));
  const px = (x: number) => L + ((Math.log10(x) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin))) * (W - L - R);
  const py = (y: number) => {
    const v = Math.max(y, ymin * 0.7);
    return H - B - ((Math.log10(v) - Math.log10(ymin * 0.7)) / (Math.log10(ymax) - Math.log10(ymin * 0.7))) * (H - T - B);
  };
  const o: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="28" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let e = 0; 10 ** e <= ymax; e++) {
    const y = py(10 ** e);
    o.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#e3e3e3"/>`);
    o.push(`<text x="${L - 8}" y="${y + 4}" text-anchor="end">${10 ** e}</text>`);
  }
  o.push(`<text x="${L - 8}" y="${py(0) + 4}" text-anchor="end">0</text>`);
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    o.push(`<line x1="${px(x)}" y1="${T}" x2="${px(x)}" y2="${H - B}" stroke="#e3e3e3"/>`);
    o.push(`<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`);
  }
  o.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`);
  o.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  o.push(`<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">advert interval, ms (log)</text>`);
  o.push(`<text x="20" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(T + H - B) / 2})">outage seen by the host, ms (log; median)</text>`);
  series.forEach((s, i) => {
    const pts = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    o.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of s.points) o.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = T + 10 + i * 20;
    o.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 45}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    o.push(`<text x="${W - R + 52}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Write `base`.svg and, when rsvg-convert exists, `base`.png; returns the PNG path or null. */
export function writeChart(rows: FailoverRow[], base: string, title: string): string | null {
  const svg = chartSvg(chartSeries(rows), title);
  writeFileSync(`${base}.svg`, svg);
  const r = spawnSync('rsvg-convert', ['-f', 'png', '-o', `${base}.png`, `${base}.svg`], { encoding: 'utf8' });
  return r.status === 0 ? `${base}.png` : null;
}
