import { createHash } from 'node:crypto';
import { DIMENSION_METRICS, METRICS } from './metric-definitions';

/** The metrics the page offers: the API's definitions (metric-definitions.ts), mean satisfaction first (the default). */
const PAGE_METRICS = [...METRICS]
  .sort((a, b) => Number(b.key === 'satisfaction') - Number(a.key === 'satisfaction'))
  .map(({ key, label, kind, better }) => ({ key, label, kind, better }));
/** With a rating dimension chosen, the page offers that dimension's metrics (the API's answer to `dimension=`). */
const PAGE_DIMENSION_METRICS = DIMENSION_METRICS.map(({ key, label, kind, better }) => ({ key, label, kind, better }));

/**
 * The dashboard: one static page, no build step and nothing from a CDN. It draws its own SVG from the metrics API.
 * The page itself holds no data, so it is served without a key; the script asks for a secret key and sends it in the
 * Authorization header of each API call.
 *
 * What it promises (test/dashboard.test.ts checks each in Chromium):
 * - every figure carries its 95% interval, and the page says how the interval was made (the API's `method`);
 * - the view lives in the URL (window, filters, metric, versions, breakdown, drill-down): a link reproduces it;
 * - data in only a few time buckets are drawn as one dot and interval per version, not as a line;
 * - breakdown of the comparison by category or segment, and the best and worst videos;
 * - loading, empty and error states that never leave an earlier answer on screen as if it were the current one;
 * - a layout without horizontal scrolling at 390 px.
 */
const SCRIPT = `
(() => {
  'use strict';
  // The key lives in sessionStorage and travels only in the Authorization header: never in the URL, where it would
  // end up in browser history, server and proxy logs and Referer headers. sessionStorage (not localStorage) so that
  // it is forgotten when the tab closes.
  const KEY_STORAGE = 'flywheel.secretKey';
  const PALETTE = ['#2563eb', '#e11d48', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
  const OVERALL_METRICS = ${JSON.stringify(PAGE_METRICS)};
  const DIMENSION_METRICS = ${JSON.stringify(PAGE_DIMENSION_METRICS)};
  // The metrics on offer: the overall ones, or a rating dimension's (mean rating first) when one is chosen.
  let METRICS = OVERALL_METRICS;
  let METRIC = Object.fromEntries(METRICS.map((m) => [m.key, m]));
  function useMetricsOf(dimension) {
    METRICS = dimension ? DIMENSION_METRICS : OVERALL_METRICS;
    METRIC = Object.fromEntries(METRICS.map((m) => [m.key, m]));
    const select = $('metric');
    select.replaceChildren(...METRICS.map((m) => new Option(m.label, m.key)));
  }
  const RANGES = {
    '24h': { label: 'Last 24 hours · hourly', hours: 24, granularity: 'hour' },
    '7d-hour': { label: 'Last 7 days · hourly', hours: 168, granularity: 'hour' },
    '7d': { label: 'Last 7 days · daily', days: 7, granularity: 'day' },
    '30d': { label: 'Last 30 days · daily', days: 30, granularity: 'day' },
    '90d': { label: 'Last 90 days · daily', days: 90, granularity: 'day' },
  };
  // Below this many time buckets with data, a line says nothing: each version is one dot and its interval per bucket.
  const FEW_BUCKETS = 3;
  const HOUR = 3600000, DAY = 24 * HOUR;
  const FALLBACK_METHOD = 'not reported: this API does not say how its intervals are made.';
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  let key = sessionStorage.getItem(KEY_STORAGE);
  let versions = [];
  let generation = 0;
  let lastDraw = null;
  let modern = false;

  // ---- the view, in the URL ----

  const DEFAULTS = {
    range: '7d', from: '', to: '', category: '', segment: '', metric: 'satisfaction', baseline: '', candidate: '', by: '', videos: '',
    inference: '', split: '', dimension: '',
  };
  // Rows without a category (or segment), as the API of issue 11 names them in filters.
  const UNKNOWN = '(unknown)';
  const view = { ...DEFAULTS };

  function readUrl() {
    const params = new URLSearchParams(location.search);
    for (const name of Object.keys(DEFAULTS)) view[name] = params.get(name) ?? DEFAULTS[name];
    if (!RANGES[view.range] && !(view.from && view.to)) view.range = DEFAULTS.range;
    useMetricsOf(view.dimension);
    if (!METRIC[view.metric]) view.metric = view.dimension ? METRICS[0].key : DEFAULTS.metric;
    if (!['', 'category', 'segment'].includes(view.by)) view.by = '';
    if (!['', 'fixed'].includes(view.inference)) view.inference = '';
  }

  function writeUrl() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(view)) {
      if (value && value !== DEFAULTS[name]) params.set(name, value);
      if (name === 'range' && view.from && view.to) params.delete('range');
    }
    const next = location.pathname + (params.toString() ? '?' + params : '');
    if (next !== location.pathname + location.search) history.replaceState(null, '', next);
  }

  function setState(state, message) {
    document.body.dataset.state = state;
    const status = $('status');
    status.textContent = message || '';
    status.className = 'status ' + state;
    $('content').setAttribute('aria-busy', String(state === 'loading'));
  }

  async function api(path, params) {
    const qs = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') qs.append(name, value);
    const response = await fetch(path + '?' + qs, { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const problems = body && body.error && Array.isArray(body.error.details)
        ? body.error.details.map((d) => d.field + ': ' + (d.problems || []).join(', ')).join('; ') : '';
      const error = new Error(((body && body.error && body.error.message) || 'HTTP ' + response.status) + (problems && !String(body.error.message).includes(problems) ? ' (' + problems + ')' : ''));
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function windowOf() {
    if (view.from && view.to) {
      const from = Date.parse(view.from), to = Date.parse(view.to);
      const granularity = to - from > 7 * DAY ? 'day' : 'hour';
      const step = granularity === 'hour' ? HOUR : DAY;
      return { from: Math.floor(from / step) * step, to: Math.ceil(to / step) * step, granularity, step, fromText: view.from, toText: view.to };
    }
    const range = RANGES[view.range];
    const to = Math.ceil(Date.now() / HOUR) * HOUR;
    // Daily views start at a UTC midnight so that every bucket is a whole day.
    const from = range.granularity === 'hour' ? to - range.hours * HOUR : Math.floor(to / DAY) * DAY - (range.days - 1) * DAY;
    return { from, to, granularity: range.granularity, step: range.granularity === 'hour' ? HOUR : DAY };
  }

  /** The window as the API is asked for it: custom windows exactly as typed, so the API names a bad one. */
  function windowParams(w) {
    return w.fromText ? { from: w.fromText, to: w.toText } : { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() };
  }

  // ---- versions ----

  const versionKey = (v) => (v.model || '') + ':' + (v.modelVersion || '');
  function versionLabel(v) {
    if (!v) return '–';
    const models = new Set(versions.map((x) => x.model));
    if (!v.modelVersion) return 'unattributed';
    return models.size > 1 || !versions.some((x) => x.model === v.model) ? v.model + ' ' + v.modelVersion : v.modelVersion;
  }
  const compareVersions = (a, b) => String(a.model).localeCompare(String(b.model))
    || String(a.modelVersion).localeCompare(String(b.modelVersion), undefined, { numeric: true });
  /** A version named in the URL, as model:version (split at the first colon, as the API does). */
  function parseVersion(text) {
    if (!text) return null;
    const known = versions.find((v) => versionKey(v) === text);
    if (known) return known;
    const colon = text.indexOf(':');
    return colon < 0 ? { model: null, modelVersion: text } : { model: text.slice(0, colon), modelVersion: text.slice(colon + 1) };
  }

  function fillSelect(select, options, current) {
    select.replaceChildren();
    for (const [value, label] of options) select.append(new Option(label, value));
    // A value from a link that the window no longer offers stays selectable, so the link still shows what it names.
    if (current && !options.some(([value]) => value === current)) select.append(new Option(current + ' (no data in window)', current));
    select.value = current;
  }

  async function loadDimensions(w) {
    const dims = await api('/v1/metrics/dimensions', windowParams(w));
    versions = dims.versions.filter((v) => v.modelVersion).sort(compareVersions);
    const keys = versions.map(versionKey);
    if (!view.baseline && keys.length) view.baseline = keys[0];
    if (!view.candidate && keys.length > 1) view.candidate = keys[keys.length - 1];
    fillSelect($('category'), [['', 'All categories'], ...dims.categories.map((c) => [c, c])], view.category);
    fillSelect($('segment'), [['', 'All segments'], ...dims.segments.map((s) => [s, s])], view.segment);
    const versionOptions = versions.map((v) => [versionKey(v), versionLabel(v)]);
    fillSelect($('baseline'), versionOptions, view.baseline);
    fillSelect($('candidate'), versionOptions, view.candidate);
    fillSelect($('videos-version'), [['', 'All versions'], ...versionOptions], view.videos);
    fillSelect($('dimension'), [['', 'Overall'], ...(dims.ratingDimensions || []).map((d) => [d, d.replace(/_/g, ' ')])], view.dimension);
    return dims;
  }

  function syncControls() {
    fillSelect($('range'), [...Object.entries(RANGES).map(([value, r]) => [value, r.label]), ...(view.from && view.to ? [['custom', 'Custom: ' + view.from + ' → ' + view.to]] : [])],
      view.from && view.to ? 'custom' : view.range);
    useMetricsOf(view.dimension);
    $('metric').value = view.metric;
    $('by').value = view.by;
    $('inference').value = view.inference;
  }

  // ---- loading ----

  function clearAnswers() {
    $('chart').replaceChildren();
    $('legend').replaceChildren();
    $('compare-body').replaceChildren();
    $('compare-note').textContent = '';
    $('breakdown-body').replaceChildren();
    $('best').replaceChildren();
    $('worst').replaceChildren();
    for (const id of ['chart-method', 'compare-method', 'srm', 'videos-note']) { $(id).textContent = ''; }
    $('srm').hidden = true;
    lastDraw = null;
  }

  async function refresh(withDimensions) {
    if (!key) return;
    const mine = ++generation;
    writeUrl();
    setState('loading', 'Loading…');
    $('problem').hidden = true;
    try {
      const w = windowOf();
      if (withDimensions || !versions.length) await loadDimensions(w);
      if (mine !== generation) return;
      writeUrl(); // with the versions the dimensions chose by default
      const filters = { ...windowParams(w), category: view.category, segment: view.segment };
      const baseline = parseVersion(view.baseline), candidate = parseVersion(view.candidate);
      const comparable = baseline && candidate && view.baseline !== view.candidate;
      // Versions of one model: bare version names narrowed by model=; of two models: model:version on each side.
      const compareParams = !comparable ? null : {
        ...(baseline.model !== null && baseline.model === candidate.model
          ? { model: baseline.model, baseline: baseline.modelVersion, candidate: candidate.modelVersion }
          : { baseline: view.baseline, candidate: view.candidate }),
        fixedHorizon: view.inference === 'fixed' ? 'true' : '',
        expectedSplit: view.split,
        dimension: view.dimension,
      };
      const videosVersion = parseVersion(view.videos);
      const series = await api('/v1/metrics/satisfaction', { ...filters, granularity: w.granularity, groupBy: 'modelVersion', dimension: view.dimension });
      if (mine !== generation) return;
      // An API that reports its method (issue 11) also knows the (unknown) filter token and filters videos itself.
      modern = Boolean(series.method);
      const [comparison, breakdown, ranking] = await Promise.all([
        comparable ? api('/v1/metrics/compare', { ...filters, ...compareParams }) : Promise.resolve(null),
        comparable && view.by ? loadBreakdown(w, compareParams) : Promise.resolve(null),
        api('/v1/metrics/videos', {
          ...windowParams(w), limit: modern ? 10 : 100, ...(modern ? { category: view.category, segment: view.segment } : {}),
          model: videosVersion ? videosVersion.model : '', modelVersion: videosVersion ? videosVersion.modelVersion : '',
          dimension: view.dimension,
        }),
      ]);
      if (mine !== generation) return;
      clearAnswers();
      const viewers = series.series.reduce((sum, p) => sum + p.n, 0);
      // With a rating dimension, n counts the viewers who rated it.
      const who = view.dimension ? 'viewers who rated ' + view.dimension.replace(/_/g, ' ') : 'viewers';
      if (viewers === 0) {
        showEmpty(w);
        setState('empty', 'No ' + who + ' in this window');
      } else {
        $('empty').hidden = true;
        $('answers').hidden = false;
        drawChart(series, w);
        drawComparison(comparison, baseline, candidate);
        drawBreakdown(breakdown, baseline, candidate);
        drawVideos(ranking);
        setState('ready', viewers.toLocaleString('en') + ' ' + who + ' in the window · updated ' + new Date().toLocaleTimeString('en-GB'));
      }
      document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    } catch (error) {
      if (mine !== generation) return;
      // Nothing of an earlier answer stays on screen: it would read as the answer to the filters now shown.
      clearAnswers();
      $('answers').hidden = true;
      $('empty').hidden = true;
      if (error.status === 401 || error.status === 403) {
        forgetKey();
        setState('error', error.status === 403 ? 'This key cannot read metrics: use a secret key (fw_secret_…).' : 'Unknown or revoked key.');
      } else {
        $('problem-text').textContent = 'Could not load metrics: ' + error.message;
        $('problem').hidden = false;
        setState('error', 'Error');
      }
      document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    }
  }

  /** The comparison within each category (or segment) of the window: one compare per value, with its interval. */
  async function loadBreakdown(w, compareParams) {
    const dimension = view.by;
    const values = [...$(dimension).options].map((o) => o.value).filter((v) => v !== '' && v !== UNKNOWN);
    if (modern) values.push(UNKNOWN);
    const others = { category: dimension === 'category' ? '' : view.category, segment: dimension === 'segment' ? '' : view.segment };
    const rows = await Promise.all(values.map(async (value) => ({
      value,
      answer: await api('/v1/metrics/compare', { ...windowParams(w), ...others, [dimension]: value, ...compareParams }),
    })));
    // The unknown group only when it has viewers: an empty one is not a finding.
    return { dimension, rows: rows.filter((r) => r.value !== UNKNOWN || r.answer.baseline.n + r.answer.candidate.n > 0) };
  }

  function showEmpty(w) {
    $('answers').hidden = true;
    $('empty').hidden = false;
    const filtered = view.category || view.segment;
    $('empty-text').textContent = 'No ' + (view.dimension ? 'ratings of ' + view.dimension.replace(/_/g, ' ') : 'viewers') + ' between ' + new Date(w.from).toISOString().slice(0, 16).replace('T', ' ') + ' and '
      + new Date(w.to).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' + (filtered ? ' for these filters' : '') + '. '
      + (filtered ? 'Clear the category or segment filter, or pick a longer time range.' : 'Pick a longer time range, or send feedback events first.');
  }

  // ---- drawing helpers ----

  function el(tag, attrs, parent, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.append(node);
    return node;
  }

  function html(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'class') node.className = value; else node.setAttribute(name, String(value));
    }
    if (text !== undefined) node.textContent = text;
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
  const interval = (metric, e) => (e.low !== null && e.low !== undefined && e.high !== null && e.high !== undefined ? '[' + format(metric, e.low) + ', ' + format(metric, e.high) + ']' : 'no interval');

  function bucketLabel(ms, granularity) {
    const d = new Date(ms);
    const day = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
    return granularity === 'hour' ? day + ' ' + String(d.getUTCHours()).padStart(2, '0') + ':00' : day;
  }

  /** The API's own account of its intervals (method.description), or what it said before it gave one. */
  function methodText(answer) {
    const method = answer && answer.method;
    if (!method) return FALLBACK_METHOD;
    if (typeof method === 'string') return method;
    return method.description || [method.unit && 'unit: ' + method.unit, method.variance, method.inference].filter(Boolean).join(' · ') || FALLBACK_METHOD;
  }

  // ---- chart: lines over time, or dots and intervals per version ----

  function drawChart(answer, w) {
    const metric = METRIC[view.metric];
    const chart = $('chart');
    chart.replaceChildren();
    const byVersion = new Map();
    for (const point of answer.series) {
      const id = versionKey(point.group);
      if (!byVersion.has(id)) byVersion.set(id, { version: point.group, points: [], n: 0 });
      const s = byVersion.get(id);
      s.n += point.n;
      const estimate = point.metrics[metric.key];
      if (estimate && estimate.value !== null) s.points.push({ t: Date.parse(point.bucket), ...estimate });
    }
    const series = [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
    const buckets = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
    const dots = buckets.length > 0 && buckets.length <= FEW_BUCKETS;
    $('chart-title').textContent = metric.label + (dots ? ' per generator version' : ' by generator version over time');
    $('chart-sub').textContent = dots
      ? 'Data in ' + buckets.length + (buckets.length === 1 ? ' time bucket' : ' time buckets') + ': each version is a dot with its 95% interval. A viewer is one user on one video, counted when they first reacted.'
      : 'Shaded bands are 95% intervals. A viewer is one user on one video, counted when they first reacted.';
    $('chart-method').textContent = 'Intervals: ' + methodText(answer);
    const width = Math.max(300, Math.round(chart.clientWidth || 960));
    const narrow = width < 600;
    const W = width, H = narrow ? 260 : 360, m = { top: 16, right: narrow ? 12 : 24, bottom: dots ? 52 : 36, left: narrow ? 48 : 64 };
    const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': metric.label + (dots ? ' per version' : ' over time per version'), 'data-metric': metric.key, 'data-view': dots ? 'dots' : 'lines' }, chart);
    const values = series.flatMap((s) => s.points.flatMap((p) => [p.value, p.low == null ? p.value : p.low, p.high == null ? p.value : p.high]));
    lastDraw = { answer, w };
    if (values.length === 0) {
      el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, svg, 'No ' + metric.label.toLowerCase() + ' for these filters in this window');
      return;
    }
    let lo = Math.min(...values), hi = Math.max(...values);
    if (metric.kind === 'rate') { lo = Math.max(0, Math.min(lo, 0)); hi = Math.min(1, hi); }
    const ticks = niceTicks(lo, hi, narrow ? 4 : 5);
    const y0 = ticks[0], y1 = ticks[ticks.length - 1];
    const y = (v) => m.top + (1 - (v - y0) / (y1 - y0)) * (H - m.top - m.bottom);
    const grid = el('g', { class: 'grid' }, svg);
    for (const tick of ticks) {
      el('line', { x1: m.left, x2: W - m.right, y1: y(tick), y2: y(tick), class: tick === 0 && y0 < 0 ? 'zero' : '' }, grid);
      el('text', { x: m.left - 8, y: y(tick) + 4, 'text-anchor': 'end' }, grid, format(metric, tick, metric.kind === 'rate' ? 0 : 2));
    }
    const colour = (i) => PALETTE[i % PALETTE.length];
    const tooltip = (s, p) => versionLabel(s.version) + ' · ' + bucketLabel(p.t, w.granularity) + ': ' + format(metric, p.value) + ' ' + interval(metric, p) + ' · n = ' + p.n;
    if (dots) {
      // One slot per version; inside it one dot per bucket with data.
      const slot = (W - m.left - m.right) / Math.max(1, series.length);
      series.forEach((s, i) => {
        const g = el('g', { class: 'series', 'data-version': s.version.modelVersion || '', 'data-label': versionLabel(s.version) }, svg);
        const cx0 = m.left + slot * (i + 0.5);
        el('text', { x: cx0, y: H - m.bottom + 18, 'text-anchor': 'middle', class: 'slot-label' }, grid, versionLabel(s.version));
        s.points.forEach((p) => {
          const k = buckets.indexOf(p.t);
          const cx = cx0 + (buckets.length > 1 ? (k - (buckets.length - 1) / 2) * Math.min(28, slot / (buckets.length + 1)) : 0);
          if (p.low != null && p.high != null) el('line', { x1: cx, x2: cx, y1: y(p.low), y2: y(p.high), stroke: colour(i), class: 'whisker interval' }, g);
          const dot = el('circle', { cx: cx.toFixed(1), cy: y(p.value).toFixed(1), r: 5, fill: colour(i), class: 'point', 'data-value': p.value, 'data-low': p.low, 'data-high': p.high, 'data-n': p.n }, g);
          el('title', {}, dot, tooltip(s, p));
        });
      });
      if (buckets.length > 1) {
        el('text', { x: W / 2, y: H - 8, 'text-anchor': 'middle' }, grid, 'left to right in each slot: ' + buckets.map((t) => bucketLabel(t, w.granularity)).join(', '));
      }
    } else {
      const all = [];
      for (let t = w.from; t < w.to; t += w.step) all.push(t);
      const x = (t) => m.left + (all.length <= 1 ? (W - m.left - m.right) / 2 : ((t - w.from) / w.step) * (W - m.left - m.right) / (all.length - 1));
      const every = Math.max(1, Math.ceil(all.length / (narrow ? 4 : 8)));
      all.forEach((t, i) => {
        if (i % every) return;
        const anchor = x(t) + 30 > W ? 'end' : 'middle'; // the last label stays inside the chart
        el('text', { x: x(t), y: H - m.bottom + 20, 'text-anchor': anchor }, grid, bucketLabel(t, w.granularity));
      });
      series.forEach((s, i) => {
        const color = colour(i);
        const g = el('g', { class: 'series', 'data-version': s.version.modelVersion || '', 'data-label': versionLabel(s.version) }, svg);
        // Runs of consecutive buckets; a bucket without data breaks the line instead of bridging it.
        const runs = [];
        for (const p of s.points) {
          const run = runs[runs.length - 1];
          if (run && p.t - run[run.length - 1].t === w.step) run.push(p); else runs.push([p]);
        }
        for (const run of runs) {
          const banded = run.filter((p) => p.low != null && p.high != null);
          if (banded.length > 1) {
            const upper = banded.map((p) => x(p.t).toFixed(1) + ',' + y(p.high).toFixed(1));
            const lower = banded.slice().reverse().map((p) => x(p.t).toFixed(1) + ',' + y(p.low).toFixed(1));
            el('polygon', { points: upper.concat(lower).join(' '), fill: color, class: 'band interval' }, g);
          }
          if (run.length > 1) {
            el('path', { d: run.map((p, k) => (k ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.value).toFixed(1)).join(' '), stroke: color, class: 'line' }, g);
          }
        }
        for (const p of s.points) {
          if (p.low != null && p.high != null && runs.find((r) => r.includes(p)).length === 1) {
            el('line', { x1: x(p.t), x2: x(p.t), y1: y(p.low), y2: y(p.high), stroke: color, class: 'whisker interval' }, g);
          }
          const dot = el('circle', { cx: x(p.t).toFixed(1), cy: y(p.value).toFixed(1), r: all.length > 60 ? 2 : 3.5, fill: color, class: 'point', 'data-value': p.value, 'data-low': p.low, 'data-high': p.high, 'data-n': p.n }, g);
          el('title', {}, dot, tooltip(s, p));
        }
      });
    }
    const legend = $('legend');
    legend.replaceChildren();
    series.forEach((s, i) => {
      const item = html('span', { class: 'legend-item', 'data-version': s.version.modelVersion || '' });
      const swatch = html('i');
      swatch.style.background = colour(i);
      item.append(swatch, versionLabel(s.version) + ' ', html('small', {}, 'n = ' + s.n.toLocaleString('en')));
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
      el('line', { x1: px(d.low), x2: px(d.high), y1: H / 2, y2: H / 2, class: 'range interval' }, svg);
      el('circle', { cx: px(d.value), cy: H / 2, r: 3, class: 'dot' }, svg);
    }
    return svg;
  }

  const signed = (v, asPercentPoints) => v === null || v === undefined ? '–' : (v > 0 ? '+' : '') + (asPercentPoints ? (v * 100).toFixed(2) + ' pp' : v.toFixed(3));
  const pText = (p) => (p === null || p === undefined ? '–' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));
  const verdictOf = (row, metric) => (!row.significant ? 'neutral' : row.difference.value * metric.better > 0 ? 'better' : 'worse');

  function twoLines(main, detail) {
    const div = html('div');
    div.append(main, html('small', {}, detail));
    return div;
  }

  function inferenceText(answer) {
    const inference = answer.method && answer.method.inference;
    if (inference === 'always-valid') return 'always-valid (sequential) intervals and p-values: looking every day keeps the 5% error rate';
    if (inference === 'fixed-horizon') return 'fixed-horizon (classical) intervals: valid for one pre-planned look only';
    return '95% intervals';
  }

  function drawComparison(answer, baseline, candidate) {
    const body = $('compare-body');
    body.replaceChildren();
    $('compare-card').dataset.comparable = String(Boolean(answer));
    if (!answer) {
      $('compare-note').textContent = versions.length < 2 ? 'Only one version has data in this window: nothing to compare.' : 'Pick two different versions to compare.';
      return;
    }
    $('compare-note').textContent = 'Difference = ' + versionLabel(candidate) + ' − ' + versionLabel(baseline) + ' (' + answer.baseline.n.toLocaleString('en') + ' and '
      + answer.candidate.n.toLocaleString('en') + ' viewers); ' + inferenceText(answer) + '. Significant: Benjamini–Hochberg at q = '
      + answer.multipleTesting.q + ' across the ' + answer.multipleTesting.tests + ' metrics of this table.';
    $('compare-method').textContent = 'Method: ' + methodText(answer);
    $('inference-label').hidden = !(answer.method && answer.method.inference);
    const srm = answer.srm;
    if (srm) {
      $('srm').hidden = false;
      $('srm').className = srm.mismatch ? 'srm mismatch' : 'srm';
      $('srm').textContent = srm.mismatch
        ? (srm.message || 'SAMPLE RATIO MISMATCH: the split of traffic is not the one declared; do not trust this comparison.')
        : 'Traffic split as declared (sample-ratio test p = ' + pText(srm.pValue) + ').';
    }
    for (const row of answer.metrics) {
      const metric = METRIC[row.metric];
      if (!metric) continue;
      const tr = html('tr', { 'data-metric': row.metric });
      const cell = (label, content, className) => {
        const td = html('td', { 'data-label': label });
        if (className) td.className = className;
        if (typeof content === 'string') td.textContent = content; else td.append(content);
        tr.append(td);
      };
      const estimate = (e) => twoLines(format(metric, e.value), interval(metric, e) + ' · n ' + e.n.toLocaleString('en'));
      const d = row.difference;
      const verdict = verdictOf(row, metric);
      const pp = metric.kind === 'rate';
      cell('Metric', metric.label, 'metric');
      cell('Baseline', estimate(row.baseline));
      cell('Candidate', estimate(row.candidate));
      const diff = html('div', { class: 'diff-cell' });
      diff.append(intervalBar(d, Math.max(Math.abs(d.low || 0), Math.abs(d.high || 0)) * 1.1),
        twoLines(signed(d.value, pp), d.low !== null ? '[' + signed(d.low, pp) + ', ' + signed(d.high, pp) + ']' : 'no interval'));
      cell('Difference', diff, 'diff ' + verdict);
      const percent = (v) => (v === null ? '–' : (v > 0 ? '+' : '') + (v * 100).toFixed(1) + '%');
      cell('Lift', row.lift ? twoLines(percent(row.lift.value), '[' + percent(row.lift.low) + ', ' + percent(row.lift.high) + ']') : '–');
      cell('p', pText(row.pValue), 'p');
      cell('Significant', row.significant ? (verdict === 'better' ? '▲ yes' : '▼ yes') : 'no', 'sig ' + verdict);
      body.append(tr);
    }
  }

  function drawBreakdown(breakdown, baseline, candidate) {
    const card = $('breakdown-card');
    const body = $('breakdown-body');
    body.replaceChildren();
    const metric = METRIC[view.metric];
    $('breakdown-title').textContent = view.by ? metric.label + ': ' + versionLabel(candidate) + ' − ' + versionLabel(baseline) + ' by ' + view.by : 'Breakdown';
    $('breakdown-table').hidden = true;
    if (!view.by) { $('breakdown-note').textContent = 'Pick category or segment to see the comparison within each.'; card.dataset.by = ''; return; }
    card.dataset.by = view.by;
    if (!breakdown) { $('breakdown-note').textContent = 'Pick two different versions to break their comparison down.'; return; }
    if (!breakdown.rows.length) { $('breakdown-note').textContent = 'No ' + view.by + ' is known in this window.'; return; }
    $('breakdown-note').textContent = 'One comparison per ' + view.by + ' (the other filters apply), each with its own interval; ' + inferenceText(breakdown.rows[0].answer)
      + '. Many groups means more chances of a spurious difference: read them as leads, not as findings.';
    $('breakdown-table').hidden = false;
    const rows = breakdown.rows.map((r) => ({ value: r.value, row: r.answer.metrics.find((x) => x.metric === metric.key), answer: r.answer }));
    const scale = Math.max(0, ...rows.map((r) => r.row ? Math.max(Math.abs(r.row.difference.low || 0), Math.abs(r.row.difference.high || 0)) : 0)) * 1.1;
    const pp = metric.kind === 'rate';
    for (const { value, row } of rows) {
      const tr = html('tr', { 'data-value': value });
      const td = (label, content, className) => {
        const cell = html('td', { 'data-label': label });
        if (className) cell.className = className;
        if (typeof content === 'string') cell.textContent = content; else cell.append(content);
        tr.append(cell);
      };
      td(view.by === 'category' ? 'Category' : 'Segment', value, 'metric');
      if (!row || row.difference.value === null) {
        td('Baseline', row ? format(metric, row.baseline.value) + ' · n ' + row.baseline.n : '–');
        td('Candidate', row ? format(metric, row.candidate.value) + ' · n ' + row.candidate.n : '–');
        td('Difference', 'not enough data in one of the versions', 'diff neutral');
        td('p', '–', 'p');
      } else {
        const verdict = verdictOf(row, metric);
        td('Baseline', twoLines(format(metric, row.baseline.value), interval(metric, row.baseline) + ' · n ' + row.baseline.n.toLocaleString('en')));
        td('Candidate', twoLines(format(metric, row.candidate.value), interval(metric, row.candidate) + ' · n ' + row.candidate.n.toLocaleString('en')));
        const diff = html('div', { class: 'diff-cell' });
        diff.append(intervalBar(row.difference, scale), twoLines(signed(row.difference.value, pp), '[' + signed(row.difference.low, pp) + ', ' + signed(row.difference.high, pp) + ']'));
        td('Difference', diff, 'diff ' + verdict);
        td('p', pText(row.pValue), 'p');
      }
      body.append(tr);
    }
  }

  // ---- best and worst videos ----

  function drawVideos(ranking) {
    const filtered = (list) => (modern ? list : list.filter((v) => (!view.category || v.category === view.category) && (!view.segment || v.segment === view.segment))).slice(0, 10);
    const what = ranking.dimension ? 'mean ' + ranking.dimension.replace(/_/g, ' ') + ' rating (1–5)' : 'mean satisfaction';
    const notes = ['Ordered by ' + what + ' shrunk toward the project mean (' + ranking.priorMean.toFixed(3) + ', ' + ranking.priorStrength + ' pseudo-viewers), so one delighted viewer does not outrank a hundred happy ones.'];
    if (ranking.windowApplies) notes.push('The window selects videos by ' + ranking.windowApplies + '.');
    if (!modern && (view.category || view.segment)) notes.push('Category and segment are applied on this page to the 100 best and 100 worst.');
    $('videos-note').textContent = notes.join(' ');
    const list = (id, videos) => {
      const ol = $(id);
      ol.replaceChildren();
      if (!videos.length) { ol.append(html('li', { class: 'none' }, 'No video with scored viewers here.')); return; }
      for (const v of videos) {
        const li = html('li', { 'data-video': v.videoId });
        const head = html('div', { class: 'video-head' });
        head.append(html('span', { class: 'prompt', title: v.prompt }, v.prompt || v.videoId), html('span', { class: 'score' }, v.shrunk.toFixed(3)));
        const ci = v.low !== null && v.low !== undefined && v.high !== null && v.high !== undefined ? ' [' + v.low.toFixed(3) + ', ' + v.high.toFixed(3) + ']' : '';
        li.append(head, html('small', {}, versionLabel(v) + (v.category ? ' · ' + v.category : '') + (v.segment ? ' · ' + v.segment : '')
          + ' · mean ' + v.mean.toFixed(3) + ci + ' · n ' + v.n + ' · ' + v.videoId));
        ol.append(li);
      }
    };
    list('best', filtered(ranking.best));
    list('worst', filtered(ranking.worst));
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
    readUrl();
    syncControls();
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
    $('forget').addEventListener('click', () => { forgetKey(); clearAnswers(); setState('idle', ''); });
    $('retry').addEventListener('click', () => refresh(true));
    $('range').addEventListener('change', () => {
      if ($('range').value === 'custom') return;
      view.range = $('range').value; view.from = ''; view.to = '';
      syncControls();
      refresh(true);
    });
    const bind = (id, name) => $(id).addEventListener('change', () => { view[name] = $(id).value; refresh(false); });
    bind('category', 'category'); bind('segment', 'segment'); bind('metric', 'metric'); bind('baseline', 'baseline');
    bind('candidate', 'candidate'); bind('by', 'by'); bind('videos-version', 'videos'); bind('inference', 'inference');
    // Another rating dimension offers other metrics: keep the metric when it exists there, else its first.
    $('dimension').addEventListener('change', () => {
      view.dimension = $('dimension').value;
      useMetricsOf(view.dimension);
      if (!METRIC[view.metric]) view.metric = view.dimension ? METRICS[0].key : DEFAULTS.metric;
      $('metric').value = view.metric;
      refresh(false);
    });
    $('reset').addEventListener('click', () => { Object.assign(view, DEFAULTS); syncControls(); refresh(true); });
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (lastDraw) drawChart(lastDraw.answer, lastDraw.w); }, 150);
    });
    window.addEventListener('popstate', () => { readUrl(); syncControls(); refresh(true); });
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
header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; padding: 14px 28px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: -0.01em; }
header h1 span { color: var(--muted); font-weight: 400; }
.spacer { flex: 1; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 28px 40px; }
form, .key-set { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
input, select, button { font: inherit; color: inherit; }
input[type=password] { width: 300px; max-width: 100%; padding: 6px 10px; border: 1px solid #cbd5e1; border-radius: 6px; }
button { padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.link { background: none; border: none; color: var(--accent); padding: 0; }
button.secondary { background: #fff; color: var(--accent); }
.filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: end; margin-bottom: 16px; }
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; min-width: 0; }
.filters select { min-width: 170px; max-width: 100%; padding: 6px 8px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; text-transform: none; letter-spacing: 0; color: var(--ink); font-size: 14px; }
.filters.compact { margin: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-bottom: 18px; min-width: 0; }
.card h2 { font-size: 15px; margin: 0 0 4px; font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12.5px; margin: 0 0 12px; }
.method { color: var(--muted); font-size: 12px; margin: 8px 0 0; border-left: 3px solid var(--line); padding-left: 8px; }
#chart { width: 100%; min-height: 120px; }
#chart svg { width: 100%; height: auto; display: block; }
.grid line { stroke: var(--line); }
.grid line.zero { stroke: #9ca3af; }
.grid text, .empty { fill: var(--muted); font-size: 12px; }
.grid text.slot-label { fill: var(--ink); font-size: 13px; }
.line { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
.band { opacity: 0.12; }
.whisker { stroke-width: 1.5; opacity: 0.5; }
[data-view=dots] .whisker { stroke-width: 3; opacity: 0.55; stroke-linecap: round; }
.point { stroke: #fff; stroke-width: 1.2; }
#legend { display: flex; flex-wrap: wrap; gap: 8px 18px; margin-top: 8px; font-size: 13px; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
.legend-item i { width: 14px; height: 4px; border-radius: 2px; display: inline-block; }
.legend-item small, td small, li small { color: var(--muted); }
.compare-head { display: flex; gap: 14px; align-items: end; flex-wrap: wrap; margin-bottom: 10px; }
.compare-head > div:first-child { flex: 1 1 320px; min-width: 0; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11.5px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; border-bottom: 1px solid var(--line); padding: 8px 8px; }
td { border-bottom: 1px solid #f0f1f3; padding: 7px 8px; vertical-align: middle; white-space: nowrap; font-size: 13.5px; }
td.metric { font-weight: 500; white-space: normal; }
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
.srm { margin: 0 0 10px; padding: 8px 10px; border-radius: 6px; background: #f0fdf4; color: var(--good); font-size: 13px; }
.srm.mismatch { background: #fef2f2; color: var(--bad); font-weight: 700; border: 2px solid var(--bad); }
.videos { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.videos h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.videos ol { margin: 0; padding-left: 22px; }
.videos li { padding: 5px 0; border-bottom: 1px solid #f0f1f3; min-width: 0; }
.videos li small { display: block; overflow-wrap: anywhere; }
.video-head { display: flex; gap: 8px; justify-content: space-between; }
.video-head .prompt { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.video-head .score { font-variant-numeric: tabular-nums; font-weight: 600; }
.status { font-size: 12.5px; color: var(--muted); }
.status.error { color: var(--bad); font-weight: 500; }
.status.loading::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 6px; border: 2px solid var(--accent); border-right-color: transparent; border-radius: 50%; animation: spin 0.8s linear infinite; vertical-align: -1px; }
@keyframes spin { to { transform: rotate(360deg); } }
body[data-state=loading] #answers { opacity: 0.45; pointer-events: none; transition: opacity 0.2s; }
.notice { text-align: center; padding: 36px 20px; }
.notice h2 { margin-bottom: 8px; }
.notice p { color: var(--muted); margin: 0 0 14px; }
#problem { border-color: #fecaca; background: #fef2f2; }
#problem p { color: var(--bad); }
@media (max-width: 640px) {
  header { padding: 12px 14px; }
  header .spacer { display: none; }
  #key-form, #key-input { width: 100%; }
  #key-form input { flex: 1; }
  main { padding: 14px 12px 32px; }
  .card { padding: 14px 12px; }
  .filters { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
  .filters label { width: 100%; }
  .filters select { min-width: 0; width: 100%; }
  .filters .actions { grid-column: 1 / -1; }
  table thead { display: none; }
  table, tbody { display: block; width: 100%; }
  tr { display: grid; grid-template-columns: 1fr 1fr; column-gap: 12px; border-bottom: 1px solid var(--line); padding: 8px 0; }
  td { display: block; border: none; padding: 2px 0; white-space: normal; min-width: 0; }
  td::before { content: attr(data-label); display: block; color: var(--muted); font-size: 10.5px; text-transform: uppercase; letter-spacing: 0.04em; }
  td.metric, td.diff { grid-column: 1 / -1; }
  td.metric { font-size: 15px; }
  td.metric::before { content: none; }
  td[data-label=Lift] { display: none; }
  td.p, td.sig { display: flex; gap: 6px; align-items: baseline; }
  .videos { grid-template-columns: 1fr; }
}
`;

const BODY = `
<header>
  <h1>Flywheel <span>· Satisfaction</span></h1>
  <div class="spacer"></div>
  <span id="status" class="status" role="status" aria-live="polite"></span>
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
      <label>Rating dimension <select id="dimension"><option value="">Overall</option></select></label>
      <label>Metric <select id="metric"></select></label>
      <div class="actions"><button id="reset" class="secondary" type="button">Reset view</button></div>
    </div>
    <div id="problem" class="card notice" role="alert" hidden>
      <h2>Could not load this view</h2>
      <p id="problem-text"></p>
      <button id="retry" type="button">Retry</button>
    </div>
    <div id="empty" class="card notice" hidden>
      <h2>No data</h2>
      <p id="empty-text"></p>
    </div>
    <div id="answers">
      <div class="card" id="chart-card">
        <h2 id="chart-title">Satisfaction by generator version</h2>
        <p class="sub" id="chart-sub"></p>
        <div id="chart"></div>
        <div id="legend"></div>
        <p class="method" id="chart-method"></p>
      </div>
      <div class="card" id="compare-card">
        <div class="compare-head">
          <div><h2>Version comparison</h2><p class="sub" id="compare-note"></p></div>
          <div class="filters compact">
            <label>Baseline <select id="baseline"></select></label>
            <label>Candidate <select id="candidate"></select></label>
            <label id="inference-label" hidden>Inference <select id="inference"><option value="">Always-valid</option><option value="fixed">Fixed horizon</option></select></label>
          </div>
        </div>
        <p id="srm" class="srm" role="alert" hidden></p>
        <table id="compare-table">
          <thead><tr><th>Metric</th><th>Baseline</th><th>Candidate</th><th>Difference (95%)</th><th>Lift (95%)</th><th>p</th><th>Sig.</th></tr></thead>
          <tbody id="compare-body"></tbody>
        </table>
        <p class="method" id="compare-method"></p>
      </div>
      <div class="card" id="breakdown-card">
        <div class="compare-head">
          <div><h2 id="breakdown-title">Breakdown</h2><p class="sub" id="breakdown-note"></p></div>
          <div class="filters compact">
            <label>Break down by <select id="by"><option value="">Nothing</option><option value="category">Category</option><option value="segment">Segment</option></select></label>
          </div>
        </div>
        <table id="breakdown-table">
          <thead><tr><th>Group</th><th>Baseline</th><th>Candidate</th><th>Difference (95%)</th><th>p</th></tr></thead>
          <tbody id="breakdown-body"></tbody>
        </table>
      </div>
      <div class="card" id="videos-card">
        <div class="compare-head">
          <div><h2>Best and worst videos</h2><p class="sub" id="videos-note"></p></div>
          <div class="filters compact">
            <label>Version <select id="videos-version"><option value="">All versions</option></select></label>
          </div>
        </div>
        <div class="videos">
          <div><h3>Best</h3><ol id="best"></ol></div>
          <div><h3>Worst</h3><ol id="worst"></ol></div>
        </div>
      </div>
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
