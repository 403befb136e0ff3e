/**
 * The dashboard: one self-contained page (inline CSS and JS, no framework, no build step) served at `/` by the
 * metrics listener. It reads `/events` (server-sent events) and draws instance cards, a one-hour transition
 * timeline (canvas) and an advert inter-arrival chart per instance (inline SVG). Text from the daemon is only ever
 * set with textContent.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vipd</title>
<style>
:root { --bg:#f6f7f9; --fg:#1d2330; --muted:#667085; --card:#fff; --line:#d9dde5;
  --MASTER:#1a7f37; --BACKUP:#0969da; --FAULT:#cf222e; --INIT:#8c959f; --STOP:#57606a; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:16px; align-items:baseline; padding:12px 20px; background:#1d2330; color:#fff; flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; }
header .meta { color:#c9d1d9; font-size:13px; }
#conn { margin-left:auto; font-size:13px; padding:2px 8px; border-radius:10px; background:#57606a; }
#conn.live { background:var(--MASTER); }
main { padding:16px 20px; }
h2 { font-size:15px; margin:20px 0 8px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
#cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(320px, 1fr)); gap:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; border-left:6px solid var(--INIT); }
.card[data-state=MASTER] { border-left-color:var(--MASTER); }
.card[data-state=BACKUP] { border-left-color:var(--BACKUP); }
.card[data-state=FAULT] { border-left-color:var(--FAULT); }
.card .top { display:flex; align-items:center; gap:8px; }
.card .name { font-weight:600; font-size:16px; }
.card .sub { color:var(--muted); font-size:12px; }
.state { margin-left:auto; font-weight:700; font-size:12px; color:#fff; padding:2px 8px; border-radius:10px; background:var(--INIT); }
.state[data-state=MASTER] { background:var(--MASTER); }
.state[data-state=BACKUP] { background:var(--BACKUP); }
.state[data-state=FAULT] { background:var(--FAULT); }
.state[data-state=STOP] { background:var(--STOP); }
dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 10px; margin:8px 0 0; font-size:13px; }
dt { color:var(--muted); }
dd { margin:0; overflow-wrap:anywhere; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px; }
#timeline { width:100%; height:40px; display:block; }
.legend { font-size:12px; color:var(--muted); display:flex; gap:12px; margin-top:4px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:-1px; }
#charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(360px, 1fr)); gap:12px; }
.chart h3 { margin:0 0 4px; font-size:14px; }
.chart svg { width:100%; height:160px; display:block; }
.chart .note { font-size:12px; color:var(--muted); }
#translist { font-size:12px; max-height:180px; overflow:auto; margin-top:8px; }
#translist div { padding:1px 0; border-bottom:1px dotted var(--line); }
.empty { color:var(--muted); font-style:italic; }
</style>
</head>
<body>
<header><h1>vipd</h1><span class="meta" id="meta">connecting…</span><span id="conn">offline</span></header>
<main>
<h2>Instances</h2>
<div id="cards"><div class="empty">waiting for the daemon…</div></div>
<h2>Transitions, last hour</h2>
<div class="panel"><canvas id="timeline"></canvas>
<div class="legend"><span><i style="background:var(--MASTER)"></i>MASTER</span><span><i style="background:var(--BACKUP)"></i>BACKUP</span><span><i style="background:var(--FAULT)"></i>FAULT</span><span><i style="background:var(--INIT)"></i>INIT/STOP</span></div>
<div id="translist"></div></div>
<h2>Advert inter-arrival</h2>
<div id="charts"></div>
</main>
<script>
"use strict";
(function () {
  var HOUR = 3600000;
  var model = { status: null, transitions: [], samples: {} };
  var COLORS = { MASTER: '#1a7f37', BACKUP: '#0969da', FAULT: '#cf222e', INIT: '#8c959f', STOP: '#57606a' };
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function key(i) { return i.name + '/' + i.family; }
  function fam(f) { return f === 4 ? 'IPv4' : 'IPv6'; }
  function ms(n) { return (Math.round(n * 10) / 10) + ' ms'; }
  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's ago';
    return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm ago';
  }

  function renderMeta() {
    var s = model.status;
    if (!s || !s.instances) return;
    $('meta').textContent = 'version ' + s.version + ' · pid ' + s.pid + ' · up since ' + s.startedAt + ' · ' + s.configFile;
  }

  function renderCards() {
    var s = model.status;
    var box = $('cards');
    if (!s || !s.instances) return;
    box.textContent = '';
    if (s.instances.length === 0) { box.appendChild(el('div', { class: 'empty' }, 'no VRRP instances')); return; }
    s.instances.forEach(function (i) {
      var c = el('div', { class: 'card', 'data-instance': key(i), 'data-state': i.state });
      var top = el('div', { class: 'top' });
      top.appendChild(el('span', { class: 'name' }, i.name));
      top.appendChild(el('span', { class: 'sub' }, fam(i.family) + ' · VRID ' + i.vrid + ' · v' + i.version));
      top.appendChild(el('span', { class: 'state', 'data-state': i.state }, i.state));
      c.appendChild(top);
      var dl = el('dl');
      function row(k, v) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
      row('interface', (i.interface || '-') + (i.vmac ? ' (vmac ' + i.vmac + ')' : ''));
      row('priority', i.basePriority + ' base, ' + i.effectivePriority + ' effective');
      row('master', i.state === 'MASTER' ? 'this router' + (i.sourceAddress ? ' (' + i.sourceAddress + ')' : '') : (i.masterAddress || 'unknown'));
      row('VIPs', i.vips.length ? i.vips.join(', ') : '(none)');
      row('advert', ms(i.advertIntervalMs) + ' configured, ' + ms(i.masterAdverIntervalMs) + ' learned');
      row('master down', ms(i.masterDownIntervalMs));
      var t = i.lastTransition;
      row('last change', t ? t.from + ' → ' + t.to + ', ' + t.reason + ', ' + ago(t.at) : 'none');
      if (i.tracking.length) row('tracking', i.tracking.map(function (x) { return x.kind + ' ' + x.name + ' ' + x.status; }).join('; '));
      row('adverts', 'rcvd ' + i.counters.advert_rcvd + ', sent ' + i.counters.advert_sent);
      c.appendChild(dl);
      box.appendChild(c);
    });
  }

  function stateColor(s) { return COLORS[s] || COLORS.INIT; }

  function renderTimeline() {
    var s = model.status;
    var cv = $('timeline');
    if (!s || !s.instances) return;
    var lanes = s.instances.length || 1;
    var laneH = 18, pad = 110;
    var w = cv.clientWidth || 800, h = lanes * (laneH + 4) + 18;
    var dpr = window.devicePixelRatio || 1;
    cv.style.height = h + 'px';
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    var g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var now = Date.now(), start = now - HOUR;
    function x(t) { return pad + (Math.max(t, start) - start) / HOUR * (w - pad - 4); }
    g.font = '12px system-ui, sans-serif';
    s.instances.forEach(function (i, n) {
      var y = n * (laneH + 4);
      var tr = model.transitions.filter(function (t) { return t.instance === i.name && t.family === i.family; });
      var state = tr.length ? tr[0].from : i.state;
      // Nothing before the daemon started: the lane begins at its start time.
      var born = Date.parse(s.startedAt);
      var t0 = isNaN(born) ? start : Math.max(start, born);
      g.fillStyle = '#1d2330';
      g.fillText(i.name + ' ' + fam(i.family), 2, y + 13);
      tr.forEach(function (t) {
        var at = Date.parse(t.at);
        g.fillStyle = stateColor(state);
        g.fillRect(x(t0), y, Math.max(1, x(at) - x(t0)), laneH);
        state = t.to; t0 = at;
      });
      g.fillStyle = stateColor(i.state);
      g.fillRect(x(t0), y, Math.max(1, x(now) - x(t0)), laneH);
    });
    g.fillStyle = '#667085';
    for (var m = 0; m <= 60; m += 10) {
      var tx = x(start + m * 60000);
      g.fillRect(tx, h - 16, 1, 4);
      g.fillText(m === 60 ? 'now' : '-' + (60 - m) + 'm', Math.min(tx - 8, w - 28), h - 2);
    }
    var list = $('translist');
    list.textContent = '';
    var recent = model.transitions.slice(-50).reverse();
    if (!recent.length) list.appendChild(el('div', { class: 'empty' }, 'no transitions in the last hour'));
    recent.forEach(function (t) {
      list.appendChild(el('div', { class: 'transition' }, t.at + '  ' + t.instance + ' ' + fam(t.family) + ': ' + t.from + ' → ' + t.to + ' (' + t.reason + ')'));
    });
  }

  function renderCharts() {
    var s = model.status;
    var box = $('charts');
    if (!s || !s.instances) return;
    box.textContent = '';
    s.instances.forEach(function (i) {
      var k = key(i);
      var data = model.samples[k] || [];
      var div = el('div', { class: 'panel chart', 'data-instance': k });
      div.appendChild(el('h3', null, i.name + ' ' + fam(i.family)));
      var W = 400, H = 160, L = 44, B = 18;
      var top = Math.max(i.masterDownIntervalMs * 1.15, data.reduce(function (a, d) { return Math.max(a, d.ms); }, 0) * 1.1, 1);
      var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
      function y(v) { return (H - B) - v / top * (H - B - 4); }
      svg.appendChild(svgEl('rect', { x: L, y: 0, width: W - L, height: H - B, fill: '#fafbfc', stroke: '#d9dde5' }));
      function hline(v, color, label) {
        svg.appendChild(svgEl('line', { x1: L, x2: W, y1: y(v), y2: y(v), stroke: color, 'stroke-dasharray': '4 3' }));
        var tx = svgEl('text', { x: 2, y: y(v) + 4, 'font-size': 10, fill: color }); tx.textContent = label; svg.appendChild(tx);
      }
      hline(i.masterAdverIntervalMs, '#0969da', Math.round(i.masterAdverIntervalMs) + 'ms');
      hline(i.masterDownIntervalMs, '#cf222e', Math.round(i.masterDownIntervalMs) + 'ms');
      var n = data.length;
      data.forEach(function (d, j) {
        var cx = L + (n <= 1 ? (W - L) / 2 : j / (n - 1) * (W - L - 4) + 2);
        svg.appendChild(svgEl('circle', { cx: cx, cy: y(d.ms), r: 2, fill: d.ms > i.masterDownIntervalMs ? '#cf222e' : '#1d2330' }));
      });
      var lbl = svgEl('text', { x: L + 4, y: H - 4, 'font-size': 10, fill: '#667085' });
      lbl.textContent = n ? 'last ' + n + ' adverts' : 'no adverts received (master, or nothing heard)';
      svg.appendChild(lbl);
      div.appendChild(svg);
      if (n) {
        var max = data.reduce(function (a, d) { return Math.max(a, d.ms); }, 0);
        div.appendChild(el('div', { class: 'note' }, 'max gap ' + ms(max) + ', last ' + ms(data[n - 1].ms) + ', margin before Master_Down ' + ms(i.masterDownIntervalMs - max)));
      } else {
        div.appendChild(el('div', { class: 'note' }, 'blue: master advert interval, red: Master_Down_Interval'));
      }
      box.appendChild(div);
    });
  }

  function renderAll() { renderMeta(); renderCards(); renderTimeline(); renderCharts(); }
  function prune() {
    var cut = Date.now() - HOUR;
    model.transitions = model.transitions.filter(function (t) { return Date.parse(t.at) >= cut; });
  }
  function addSamples(obj) {
    for (var k in obj) {
      var arr = (model.samples[k] = (model.samples[k] || []).concat(obj[k]));
      if (arr.length > 600) model.samples[k] = arr.slice(arr.length - 600);
    }
  }

  var es = new EventSource('events');
  es.addEventListener('open', function () { $('conn').textContent = 'live'; $('conn').className = 'live'; });
  es.addEventListener('error', function () { $('conn').textContent = 'reconnecting…'; $('conn').className = ''; });
  es.addEventListener('hello', function (ev) {
    var d = JSON.parse(ev.data);
    model.status = d.status; model.transitions = d.transitions || []; model.samples = d.samples || {};
    renderAll();
  });
  es.addEventListener('transition', function (ev) {
    var d = JSON.parse(ev.data);
    model.transitions.push(d.transition);
    if (d.status && d.status.instances) model.status = d.status;
    prune(); renderAll();
  });
  es.addEventListener('status', function (ev) {
    var d = JSON.parse(ev.data);
    if (d.status && d.status.instances) model.status = d.status;
    addSamples(d.samples || {});
    prune(); renderAll();
  });
  window.addEventListener('resize', renderTimeline);
})();
</script>
</body>
</html>
`;
