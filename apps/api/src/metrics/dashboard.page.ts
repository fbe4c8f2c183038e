import { createHash } from 'node:crypto';
import { METRICS } from './metric-definitions';

/** The metrics the page offers: the API's definitions (metric-definitions.ts), mean satisfaction first (the default). */
const PAGE_METRICS = [...METRICS]
  .sort((a, b) => Number(b.key === 'satisfaction') - Number(a.key === 'satisfaction'))
  .map(({ key, label, kind, better }) => ({ key, label, kind, better }));

/**
 * The dashboard: one static page, no build step and nothing from a CDN. It draws its own SVG chart from the metrics
 * API. The page itself holds no data, so it is served without a key; the script asks for a secret key and sends it
 * in the Authorization header of each API call.
 */
const SCRIPT = `
(() => {
  'use strict';
  // The key lives in sessionStorage and travels only in the Authorization header: never in the URL, where it would
  // end up in browser history, server and proxy logs and Referer headers. sessionStorage (not localStorage) so that
  // it is forgotten when the tab closes.
  const KEY_STORAGE = 'flywheel.secretKey';
  const PALETTE = ['#2563eb', '#e11d48', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
  const METRICS = ${JSON.stringify(PAGE_METRICS)};
  const METRIC = Object.fromEntries(METRICS.map((m) => [m.key, m]));
  const RANGES = {
    '24h': { label: 'Last 24 hours · hourly', hours: 24, granularity: 'hour' },
    '7d-hour': { label: 'Last 7 days · hourly', hours: 168, granularity: 'hour' },
    '7d': { label: 'Last 7 days · daily', days: 7, granularity: 'day' },
    '30d': { label: 'Last 30 days · daily', days: 30, granularity: 'day' },
    '90d': { label: 'Last 90 days · daily', days: 90, granularity: 'day' },
  };
  const HOUR = 3600000, DAY = 24 * HOUR;
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  let key = sessionStorage.getItem(KEY_STORAGE);
  let versions = [];
  let generation = 0;

  function setState(state, message) {
    document.body.dataset.state = state;
    const status = $('status');
    status.textContent = message || '';
    status.className = 'status ' + state;
  }

  async function api(path, params) {
    const qs = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value) qs.append(name, value);
    const response = await fetch(path + '?' + qs, { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.error && body.error.message) || 'HTTP ' + response.status);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function windowOf(rangeKey) {
    const range = RANGES[rangeKey];
    const to = Math.ceil(Date.now() / HOUR) * HOUR;
    // Daily views start at a UTC midnight so that every bucket is a whole day.
    const from = range.granularity === 'hour' ? to - range.hours * HOUR : Math.floor(to / DAY) * DAY - (range.days - 1) * DAY;
    return { from, to, granularity: range.granularity, step: range.granularity === 'hour' ? HOUR : DAY };
  }

  function filters() {
    const w = windowOf($('range').value);
    return { w, params: { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), category: $('category').value, segment: $('segment').value } };
  }

  const versionId = (v) => (v.model || '') + '\\u0000' + (v.modelVersion || '');
  function versionLabel(v) {
    const models = new Set(versions.map((x) => x.model));
    if (!v.modelVersion) return 'unattributed';
    return models.size > 1 ? v.model + ' ' + v.modelVersion : v.modelVersion;
  }
  const compareVersions = (a, b) => String(a.model).localeCompare(String(b.model))
    || String(a.modelVersion).localeCompare(String(b.modelVersion), undefined, { numeric: true });

  function fillSelect(select, values, allLabel, labelOf) {
    const previous = select.value;
    select.replaceChildren();
    if (allLabel !== null) select.append(new Option(allLabel, ''));
    for (const value of values) {
      select.append(new Option(labelOf ? labelOf(value) : value, typeof value === 'string' ? value : JSON.stringify({ model: value.model, modelVersion: value.modelVersion })));
    }
    if ([...select.options].some((o) => o.value === previous)) select.value = previous;
  }

  async function loadDimensions() {
    const { params } = filters();
    const dims = await api('/v1/metrics/dimensions', { from: params.from, to: params.to });
    versions = dims.versions.filter((v) => v.modelVersion).sort(compareVersions);
    fillSelect($('category'), dims.categories, 'All categories');
    fillSelect($('segment'), dims.segments, 'All segments');
    const hadBaseline = $('baseline').value, hadCandidate = $('candidate').value;
    fillSelect($('baseline'), versions, null, versionLabel);
    fillSelect($('candidate'), versions, null, versionLabel);
    if (!hadBaseline && versions.length) $('baseline').selectedIndex = 0;
    if (!hadCandidate && versions.length) $('candidate').selectedIndex = versions.length - 1;
  }

  async function refresh(withDimensions) {
    if (!key) return;
    const mine = ++generation;
    setState('loading', 'Loading…');
    try {
      if (withDimensions) await loadDimensions();
      const { w, params } = filters();
      const baseline = $('baseline').value ? JSON.parse($('baseline').value) : null;
      const candidate = $('candidate').value ? JSON.parse($('candidate').value) : null;
      const comparable = baseline && candidate && versionId(baseline) !== versionId(candidate);
      const [series, comparison] = await Promise.all([
        api('/v1/metrics/satisfaction', { ...params, granularity: w.granularity, groupBy: 'modelVersion' }),
        comparable ? api('/v1/metrics/compare', {
          ...params, baseline: baseline.modelVersion, candidate: candidate.modelVersion,
          model: baseline.model === candidate.model ? baseline.model : '',
        }) : Promise.resolve(null),
      ]);
      if (mine !== generation) return;
      drawChart(series, w);
      drawComparison(comparison, baseline, candidate);
      const viewers = series.series.reduce((sum, p) => sum + p.n, 0);
      setState('ready', viewers.toLocaleString('en') + ' viewers in the window · updated ' + new Date().toLocaleTimeString('en-GB'));
      document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    } catch (error) {
      if (mine !== generation) return;
      if (error.status === 401 || error.status === 403) {
        forgetKey();
        setState('error', error.status === 403 ? 'This key cannot read metrics: use a secret key (fw_secret_…).' : 'Unknown or revoked key.');
      } else {
        setState('error', 'Could not load metrics: ' + error.message);
      }
    }
  }

  // ---- chart ----

  function el(tag, attrs, parent, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.append(node);
    return node;
  }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { const pad = Math.abs(hi) * 0.1 || 0.05; lo -= pad; hi += pad; }
    const raw = (hi - lo) / count;
    let step = Math.pow(10, Math.floor(Math.log10(raw)));
    const ratio = raw / step;
    step *= ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1;
    const ticks = [];
    for (let v = Math.floor(lo / step) * step; v <= Math.ceil(hi / step) * step + step / 2; v += step) ticks.push(Number(v.toFixed(12)));
    return ticks;
  }

  function format(metric, value, digits) {
    if (value === null || value === undefined) return '–';
    return metric.kind === 'rate' ? (value * 100).toFixed(digits === undefined ? 1 : digits) + '%' : value.toFixed(digits === undefined ? 3 : digits);
  }

  function bucketLabel(ms, granularity) {
    const d = new Date(ms);
    const day = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
    return granularity === 'hour' ? day + ' ' + String(d.getUTCHours()).padStart(2, '0') + ':00' : day;
  }

  function drawChart(answer, w) {
    const metric = METRIC[$('metric').value];
    const chart = $('chart');
    chart.replaceChildren();
    $('chart-title').textContent = metric.label + ' by generator version';
    const buckets = [];
    for (let t = w.from; t < w.to; t += w.step) buckets.push(t);
    const byVersion = new Map();
    for (const point of answer.series) {
      const id = versionId(point.group);
      if (!byVersion.has(id)) byVersion.set(id, { version: point.group, points: [], n: 0 });
      const s = byVersion.get(id);
      s.n += point.n;
      const estimate = point.metrics[metric.key];
      if (estimate.value !== null) s.points.push({ t: Date.parse(point.bucket), ...estimate });
    }
    const series = [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
    const W = 960, H = 360, m = { top: 16, right: 24, bottom: 36, left: 64 };
    const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': metric.label + ' over time per version', 'data-metric': metric.key }, chart);
    const values = series.flatMap((s) => s.points.flatMap((p) => [p.value, p.low === null ? p.value : p.low, p.high === null ? p.value : p.high]));
    if (values.length === 0) {
      el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, svg, 'No data for these filters in this window');
      $('legend').replaceChildren();
      return;
    }
    let lo = Math.min(...values), hi = Math.max(...values);
    if (metric.kind === 'rate') { lo = Math.max(0, Math.min(lo, 0)); hi = Math.min(1, hi); }
    const ticks = niceTicks(lo, hi, 5);
    const y0 = ticks[0], y1 = ticks[ticks.length - 1];
    const x = (t) => m.left + (buckets.length <= 1 ? (W - m.left - m.right) / 2 : ((t - w.from) / w.step) * (W - m.left - m.right) / (buckets.length - 1));
    const y = (v) => m.top + (1 - (v - y0) / (y1 - y0)) * (H - m.top - m.bottom);
    const grid = el('g', { class: 'grid' }, svg);
    for (const tick of ticks) {
      el('line', { x1: m.left, x2: W - m.right, y1: y(tick), y2: y(tick), class: tick === 0 && y0 < 0 ? 'zero' : '' }, grid);
      el('text', { x: m.left - 8, y: y(tick) + 4, 'text-anchor': 'end' }, grid, format(metric, tick, metric.kind === 'rate' ? 0 : 2));
    }
    const every = Math.max(1, Math.ceil(buckets.length / 8));
    buckets.forEach((t, i) => {
      if (i % every) return;
      el('text', { x: x(t), y: H - m.bottom + 20, 'text-anchor': 'middle' }, grid, bucketLabel(t, w.granularity));
    });
    const legend = $('legend');
    legend.replaceChildren();
    series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length];
      const label = versionLabel(s.version);
      const g = el('g', { class: 'series', 'data-version': s.version.modelVersion || '', 'data-label': label }, svg);
      // Runs of consecutive buckets; a bucket without data breaks the line instead of bridging it.
      const runs = [];
      for (const p of s.points) {
        const run = runs[runs.length - 1];
        if (run && p.t - run[run.length - 1].t === w.step) run.push(p); else runs.push([p]);
      }
      for (const run of runs) {
        const banded = run.filter((p) => p.low !== null && p.high !== null);
        if (banded.length > 1) {
          const upper = banded.map((p) => x(p.t).toFixed(1) + ',' + y(p.high).toFixed(1));
          const lower = banded.slice().reverse().map((p) => x(p.t).toFixed(1) + ',' + y(p.low).toFixed(1));
          el('polygon', { points: upper.concat(lower).join(' '), fill: color, class: 'band' }, g);
        }
        if (run.length > 1) {
          el('path', { d: run.map((p, k) => (k ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.value).toFixed(1)).join(' '), stroke: color, class: 'line' }, g);
        }
      }
      for (const p of s.points) {
        if (p.low !== null && p.high !== null && runs.find((r) => r.includes(p)).length === 1) {
          el('line', { x1: x(p.t), x2: x(p.t), y1: y(p.low), y2: y(p.high), stroke: color, class: 'whisker' }, g);
        }
        const dot = el('circle', { cx: x(p.t).toFixed(1), cy: y(p.value).toFixed(1), r: buckets.length > 60 ? 2 : 3.5, fill: color, class: 'point', 'data-value': p.value, 'data-n': p.n }, g);
        el('title', {}, dot, label + ' · ' + bucketLabel(p.t, w.granularity) + ': ' + format(metric, p.value)
          + (p.low !== null ? ' [' + format(metric, p.low) + ', ' + format(metric, p.high) + ']' : '') + ' · n = ' + p.n);
      }
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.dataset.version = s.version.modelVersion || '';
      const swatch = document.createElement('i');
      swatch.style.background = color;
      item.append(swatch, label + ' ', Object.assign(document.createElement('small'), { textContent: 'n = ' + s.n.toLocaleString('en') }));
      legend.append(item);
    });
  }

  // ---- comparison ----

  function intervalBar(d, scale) {
    const W = 140, H = 16, mid = W / 2;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('class', 'ci');
    el('line', { x1: mid, x2: mid, y1: 0, y2: H, class: 'axis' }, svg);
    if (d.value !== null && d.low !== null && d.high !== null && scale > 0) {
      const px = (v) => Math.max(2, Math.min(W - 2, mid + (v / scale) * (W / 2 - 4)));
      el('line', { x1: px(d.low), x2: px(d.high), y1: H / 2, y2: H / 2, class: 'range' }, svg);
      el('circle', { cx: px(d.value), cy: H / 2, r: 3, class: 'dot' }, svg);
    }
    return svg;
  }

  function drawComparison(answer, baseline, candidate) {
    const body = $('compare-body');
    body.replaceChildren();
    $('compare-note').textContent = answer
      ? 'Difference = ' + versionLabel(candidate) + ' − ' + versionLabel(baseline) + ', 95% intervals. Significant: Benjamini–Hochberg at q = '
        + answer.multipleTesting.q + ' across the ' + answer.multipleTesting.tests + ' metrics of this table.'
      : 'Pick two different versions to compare.';
    if (!answer) return;
    for (const row of answer.metrics) {
      const metric = METRIC[row.metric];
      const tr = document.createElement('tr');
      tr.dataset.metric = row.metric;
      const cell = (content, className) => {
        const td = document.createElement('td');
        if (className) td.className = className;
        if (typeof content === 'string') td.textContent = content; else td.append(content);
        tr.append(td);
        return td;
      };
      const twoLines = (main, detail) => {
        const div = document.createElement('div');
        div.append(main, Object.assign(document.createElement('small'), { textContent: detail }));
        return div;
      };
      const estimate = (e) => twoLines(format(metric, e.value),
        (e.low !== null ? '[' + format(metric, e.low) + ', ' + format(metric, e.high) + '] · ' : '') + 'n ' + e.n.toLocaleString('en'));
      const signed = (v, asPercentPoints) => v === null ? '–' : (v > 0 ? '+' : '') + (asPercentPoints ? (v * 100).toFixed(2) + ' pp' : v.toFixed(3));
      const d = row.difference;
      cell(metric.label, 'metric');
      cell(estimate(row.baseline));
      cell(estimate(row.candidate));
      const verdict = !row.significant ? 'neutral' : d.value * metric.better > 0 ? 'better' : 'worse';
      const pp = metric.kind === 'rate';
      const diff = document.createElement('div');
      diff.className = 'diff-cell';
      diff.append(intervalBar(d, Math.max(Math.abs(d.low || 0), Math.abs(d.high || 0)) * 1.1),
        twoLines(signed(d.value, pp), d.low !== null ? '[' + signed(d.low, pp) + ', ' + signed(d.high, pp) + ']' : ''));
      cell(diff, 'diff ' + verdict);
      const percent = (v) => (v === null ? '–' : (v > 0 ? '+' : '') + (v * 100).toFixed(1) + '%');
      cell(row.lift ? twoLines(percent(row.lift.value), '[' + percent(row.lift.low) + ', ' + percent(row.lift.high) + ']') : '–');
      cell(row.pValue === null ? '–' : row.pValue < 0.0001 ? '< 0.0001' : row.pValue.toFixed(4), 'p');
      cell(row.significant ? (verdict === 'better' ? '▲ yes' : '▼ yes') : 'no', 'sig ' + verdict);
      body.append(tr);
    }
  }

  // ---- wiring ----

  function showKeyForm(show) {
    $('key-form').hidden = !show;
    $('key-set').hidden = show;
    $('content').hidden = show;
  }

  function forgetKey() {
    key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyForm(true);
  }

  function init() {
    for (const [value, range] of Object.entries(RANGES)) $('range').append(new Option(range.label, value));
    $('range').value = '7d';
    for (const metric of METRICS) $('metric').append(new Option(metric.label, metric.key));
    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const value = $('key-input').value.trim();
      if (!value) return;
      key = value;
      sessionStorage.setItem(KEY_STORAGE, key);
      $('key-input').value = '';
      showKeyForm(false);
      refresh(true);
    });
    $('forget').addEventListener('click', () => { forgetKey(); setState('idle', ''); });
    $('range').addEventListener('change', () => refresh(true));
    for (const id of ['category', 'segment', 'metric', 'baseline', 'candidate']) $(id).addEventListener('change', () => refresh(false));
    showKeyForm(!key);
    if (key) refresh(true); else setState('idle', '');
  }

  init();
})();
`;

const STYLE = `
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f5f6f8; --card: #fff; --accent: #2563eb; --good: #047857; --bad: #b91c1c; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 14px 28px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: -0.01em; }
header h1 span { color: var(--muted); font-weight: 400; }
.spacer { flex: 1; }
.filters.compact { margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 28px 40px; }
form, .key-set { display: flex; gap: 8px; align-items: center; }
input, select, button { font: inherit; color: inherit; }
input[type=password] { width: 300px; padding: 6px 10px; border: 1px solid #cbd5e1; border-radius: 6px; }
button { padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.link { background: none; border: none; color: var(--accent); padding: 0; }
.filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: end; margin-bottom: 16px; }
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.filters select { min-width: 170px; padding: 6px 8px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; text-transform: none; letter-spacing: 0; color: var(--ink); font-size: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-bottom: 18px; }
.card h2 { font-size: 15px; margin: 0 0 4px; font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12.5px; margin: 0 0 12px; }
#chart svg { width: 100%; height: auto; display: block; }
.grid line { stroke: var(--line); }
.grid line.zero { stroke: #9ca3af; }
.grid text, .empty { fill: var(--muted); font-size: 12px; }
.line { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
.band { opacity: 0.12; }
.whisker { stroke-width: 1.5; opacity: 0.5; }
.point { stroke: #fff; stroke-width: 1.2; }
#legend { display: flex; flex-wrap: wrap; gap: 18px; margin-top: 8px; font-size: 13px; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
.legend-item i { width: 14px; height: 4px; border-radius: 2px; display: inline-block; }
.legend-item small, td small { color: var(--muted); }
.compare-head { display: flex; gap: 14px; align-items: end; flex-wrap: wrap; margin-bottom: 10px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11.5px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; border-bottom: 1px solid var(--line); padding: 8px 8px; }
td { border-bottom: 1px solid #f0f1f3; padding: 7px 8px; vertical-align: middle; white-space: nowrap; font-size: 13.5px; }
td.metric { font-weight: 500; }
td small { display: block; font-size: 11.5px; }
.diff-cell { display: flex; align-items: center; gap: 10px; }
svg.ci { width: 90px; height: 16px; flex: none; }
svg.ci .axis { stroke: #9ca3af; stroke-dasharray: 2 2; }
svg.ci .range { stroke: #64748b; stroke-width: 2; }
svg.ci .dot { fill: #334155; }
td.better, td.sig.better { color: var(--good); }
td.better svg.ci .range, td.better svg.ci .dot { stroke: var(--good); fill: var(--good); }
td.worse, td.sig.worse { color: var(--bad); }
td.worse svg.ci .range, td.worse svg.ci .dot { stroke: var(--bad); fill: var(--bad); }
td.sig.neutral { color: var(--muted); }
.status { font-size: 12.5px; color: var(--muted); }
.status.error { color: var(--bad); font-weight: 500; }
.intro { max-width: 560px; margin: 60px auto; text-align: center; color: var(--muted); }
`;

const BODY = `
<header>
  <h1>Flywheel <span>· Satisfaction</span></h1>
  <div class="spacer"></div>
  <span id="status" class="status" role="status"></span>
  <form id="key-form" autocomplete="off">
    <input id="key-input" type="password" placeholder="Secret key (fw_secret_…)" aria-label="Secret API key" />
    <button type="submit">Open</button>
  </form>
  <div id="key-set" class="key-set" hidden>
    <span class="status">Key held for this tab</span>
    <button id="forget" class="link" type="button">Forget</button>
  </div>
</header>
<main>
  <section id="content" hidden>
    <div class="filters">
      <label>Time range <select id="range"></select></label>
      <label>Category <select id="category"><option value="">All categories</option></select></label>
      <label>Segment <select id="segment"><option value="">All segments</option></select></label>
      <label>Metric <select id="metric"></select></label>
    </div>
    <div class="card">
      <h2 id="chart-title">Satisfaction by generator version</h2>
      <p class="sub">Shaded bands are 95% intervals. A viewer is one user on one video, counted when they first reacted.</p>
      <div id="chart"></div>
      <div id="legend"></div>
    </div>
    <div class="card">
      <div class="compare-head">
        <div><h2>Version comparison</h2><p class="sub" id="compare-note"></p></div>
        <div class="spacer"></div>
        <div class="filters compact">
          <label>Baseline <select id="baseline"></select></label>
          <label>Candidate <select id="candidate"></select></label>
        </div>
      </div>
      <table id="compare-table">
        <thead><tr><th>Metric</th><th>Baseline</th><th>Candidate</th><th>Difference (95% CI)</th><th>Lift (95% CI)</th><th>p</th><th>Sig.</th></tr></thead>
        <tbody id="compare-body"></tbody>
      </table>
    </div>
  </section>
</main>
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="referrer" content="no-referrer" />
<link rel="icon" href="data:," />
<title>Flywheel · Satisfaction dashboard</title>
<style>${STYLE}</style>
</head>
<body data-state="idle">
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Only this page's own inline script and style run, and it talks only to this origin. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
