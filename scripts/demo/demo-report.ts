import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DemoResult } from './run-demo';

const f = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${Math.round(x * 100)}%`);

/** The per-round table and the closing lines the demo prints. */
export function renderTable(result: DemoResult): string {
  const header = ['round', 'version', 'events', 'pairs obs+rm', 'RM v/acc', 'true sat', 'of best', 'observed sat [95% CI]', 'like', 'regen', 'ctrl: random', 'ctrl: frozen'];
  const rows = result.rounds.map((r) => [
    String(r.round), r.version, String(r.events), `${r.consumed.usedObserved}+${r.consumed.usedRewardModel}`,
    r.rewardModel.version === null ? '—' : `v${r.rewardModel.version}${r.rewardModel.status === 'production' ? '*' : ''}/${f(r.rewardModel.accuracy, 2)}`,
    f(r.trueSatisfaction), pct(r.ofOptimum),
    `${f(r.observed.satisfaction.value)} [${f(r.observed.satisfaction.low)}, ${f(r.observed.satisfaction.high)}]`,
    pct(r.observed.like), pct(r.observed.regenerate), f(r.control.randomPairs), f(r.control.frozen),
  ]);
  rows.push([
    'next', result.final.version, '—', '—', '—', f(result.final.trueSatisfaction), pct(result.final.ofOptimum), '(not yet served)', '—', '—',
    f(result.final.control.randomPairs), f(result.final.control.frozen),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const first = result.rounds[0];
  const last = result.rounds[result.rounds.length - 1];
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  out.push(`best possible generator (θ*_c = R·w̄_c/‖w̄_c‖, R = ${result.optimum.normCap}): true satisfaction ${f(result.optimum.value)}`);
  out.push(`flywheel: ${f(first.trueSatisfaction)} (${first.version}) → ${f(result.final.trueSatisfaction)} (${result.final.version}) = ${pct(result.final.ofOptimum)} of the best possible, ${pct(result.final.gapClosed)} of the gap closed; alignment cos(θ_c, w̄_c) ${f(result.final.alignment, 2)}`);
  out.push(`control on coin-flip pairs: ${f(result.final.control.randomPairs)}; frozen generator: ${f(result.final.control.frozen)}; flywheel − control = ${f(result.final.trueSatisfaction - result.final.control.randomPairs)}`);
  if (first !== last) {
    out.push(`observed satisfaction (metrics API): ${f(first.observed.satisfaction.value)} (${first.version}) → ${f(last.observed.satisfaction.value)} (${last.version})`
      + (result.compare?.satisfaction ? `; compare ${last.version} vs ${first.version}: ${signed(result.compare.satisfaction.difference)} [${f(result.compare.satisfaction.low)}, ${f(result.compare.satisfaction.high)}], ${pValue(result.compare.satisfaction.pValue)}${result.compare.satisfaction.significant ? ', significant' : ''}` : ''));
  }
  out.push('RM v/acc: the reward model trained this round and its test accuracy (* = promoted; the set\'s reward-model pairs come from the production model); pairs obs+rm: pairs the generator used from Kafka');
  out.push(`${result.rounds.length} rounds in ${f(result.seconds, 1)} s; lineage ${result.generators.map((g) => g.modelVersion).join(' → ')}`);
  return out.join('\n');
}

function signed(x: number | null): string {
  return x === null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
}

function pValue(p: number | null): string {
  return p === null ? 'p = —' : p < 1e-4 ? 'p < 0.0001' : `p = ${p.toFixed(4)}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Series {
  label: string;
  color: string;
  dash?: string;
  points: { x: number; y: number; low?: number; high?: number }[];
}

/** One line chart panel as an SVG group: axes, grid, series, whiskers, a legend. */
function panel(title: string, xLabels: string[], series: Series[], box: { x: number; y: number; w: number; h: number }, reference?: { y: number; label: string }): string {
  const values = series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y])).concat(reference ? [reference.y] : []);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = (hi - lo || 1) * 0.08;
  lo -= pad;
  hi += pad;
  const left = box.x + 52;
  const right = box.x + box.w - 24;
  const top = box.y + 34;
  const bottom = box.y + box.h - 70;
  const sx = (i: number) => left + (xLabels.length === 1 ? (right - left) / 2 : (i * (right - left)) / (xLabels.length - 1));
  const sy = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  const parts: string[] = [`<text x="${(left + right) / 2}" y="${box.y + 18}" text-anchor="middle" font-weight="600">${esc(title)}</text>`];
  for (let k = 0; k <= 5; k++) {
    const v = lo + ((hi - lo) * k) / 5;
    parts.push(`<line x1="${left}" x2="${right}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${v.toFixed(2)}</text>`);
  }
  xLabels.forEach((label, i) => parts.push(`<text x="${sx(i).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11" fill="#555">${esc(label)}</text>`));
  parts.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#999"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#999"/>`);
  if (reference) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${sy(reference.y).toFixed(1)}" y2="${sy(reference.y).toFixed(1)}" stroke="#16a34a" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${right - 4}" y="${(sy(reference.y) - 5).toFixed(1)}" text-anchor="end" font-size="11" fill="#16a34a">${esc(reference.label)}</text>`);
  }
  for (const s of series) {
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of s.points) {
      if (p.low !== undefined && p.high !== undefined) {
        parts.push(`<line x1="${sx(p.x).toFixed(1)}" x2="${sx(p.x).toFixed(1)}" y1="${sy(p.low).toFixed(1)}" y2="${sy(p.high).toFixed(1)}" stroke="${s.color}"/>`);
      }
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.label} ${xLabels[p.x]}: ${p.y.toFixed(3)}`)}</title></circle>`);
    }
  }
  series.forEach((s, i) => {
    const y = bottom + 36 + 15 * i;
    const x = left;
    parts.push(`<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    parts.push(`<text x="${x + 28}" y="${y}" font-size="11">${esc(s.label)}</text>`);
  });
  return `<g>${parts.join('')}</g>`;
}

export function renderChartSvg(result: DemoResult): string {
  // Axis labels: the version suffix (v1, v2, …); the table below the chart has the full names.
  const short = (version: string) => version.startsWith(`${result.model}-`) ? version.slice(result.model.length + 1) : version;
  const versions = [...result.rounds.map((r) => short(r.version)), `${short(result.final.version)} (next)`];
  const at = (values: number[]) => values.map((y, x) => ({ x, y }));
  const truth = panel('True satisfaction by generator version (E[utility], hidden preferences)', versions, [
    { label: 'flywheel (through the API and Kafka)', color: '#2563eb', points: at([...result.rounds.map((r) => r.trueSatisfaction), result.final.trueSatisfaction]) },
    { label: 'control: coin-flip pairs', color: '#dc2626', dash: '5 4', points: at([...result.rounds.map((r) => r.control.randomPairs), result.final.control.randomPairs]) },
    { label: 'control: frozen generator', color: '#6b7280', dash: '2 3', points: at([...result.rounds.map((r) => r.control.frozen), result.final.control.frozen]) },
  ], { x: 0, y: 0, w: 520, h: 400 }, { y: result.optimum.value, label: `best possible ${result.optimum.value.toFixed(2)}` });
  const observedPoints = result.rounds.flatMap((r, x) => {
    const s = r.observed.satisfaction;
    return s.value === null ? [] : [{ x, y: s.value, low: s.low ?? s.value, high: s.high ?? s.value }];
  });
  const observed = panel('Observed satisfaction by version (metrics API, 95% CI)', result.rounds.map((r) => short(r.version)), [
    { label: 'mean policy score of viewers', color: '#7c3aed', points: observedPoints },
  ], { x: 540, y: 0, w: 420, h: 400 });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 400" width="960" height="400" font-family="system-ui, sans-serif" font-size="12">${truth}${observed}</svg>`;
}

export function renderHtml(result: DemoResult): string {
  const rows = result.rounds.map((r) => `<tr><td>${r.round}</td><td>${esc(r.version)}</td><td>${r.events}</td><td>${r.consumed.usedObserved} + ${r.consumed.usedRewardModel}</td>`
    + `<td>${r.rewardModel.version === null ? '—' : `v${r.rewardModel.version} (${esc(r.rewardModel.status ?? '')}), ${f(r.rewardModel.accuracy, 3)}`}</td>`
    + `<td>${f(r.trueSatisfaction)}</td><td>${pct(r.ofOptimum)}</td><td>${f(r.observed.satisfaction.value)} [${f(r.observed.satisfaction.low)}, ${f(r.observed.satisfaction.high)}]</td>`
    + `<td>${f(r.control.randomPairs)}</td><td>${f(r.control.frozen)}</td><td><code>${esc(r.preferenceSet.id)}</code></td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flywheel closed-loop demo</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;font-size:13px}td,th{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}th{background:#f9fafb}td:nth-child(2),td:last-child{text-align:left}code{font-size:11px}p{max-width:960px}</style>
</head><body>
<h1>Flywheel closed-loop demo</h1>
<p>Synthetic users with hidden, heterogeneous tastes react to a generator's candidates; their events go through the real
API, Kafka and the ingest-worker; satisfaction becomes preference pairs, a reward model ranks the candidates nobody saw,
the preference set is published to <code>${esc(result.topic)}</code>, and the generator takes a DPO step on what it
consumes from Kafka. Run <code>${esc(result.runId)}</code>, project <code>${esc(result.projectId)}</code>, seed ${result.settings.seed}.</p>
${renderChartSvg(result)}
<p><b>Best possible generator</b>: ${f(result.optimum.value)} (${esc(result.optimum.note)}).
<b>Flywheel</b>: ${f(result.rounds[0]?.trueSatisfaction)} → ${f(result.final.trueSatisfaction)} (${pct(result.final.ofOptimum)} of the best possible, ${pct(result.final.gapClosed)} of the gap closed).
<b>Controls</b>: coin-flip pairs ${f(result.final.control.randomPairs)}, frozen ${f(result.final.control.frozen)}.</p>
<table><thead><tr><th>round</th><th>version</th><th>events</th><th>pairs used (observed + RM)</th><th>reward model</th><th>true sat.</th><th>of best</th><th>observed sat. [95% CI]</th><th>control: coin flips</th><th>control: frozen</th><th>preference set</th></tr></thead>
<tbody>
${rows}
<tr><td>next</td><td>${esc(result.final.version)}</td><td colspan="3">trained on the last round, not yet served</td><td>${f(result.final.trueSatisfaction)}</td><td>${pct(result.final.ofOptimum)}</td><td>—</td><td>${f(result.final.control.randomPairs)}</td><td>${f(result.final.control.frozen)}</td><td></td></tr>
</tbody></table>
<p>Data: <code>demo.json</code> beside this file.</p>
</body></html>
`;
}

export function writeDemoArtifacts(result: DemoResult, outDir: string): { html: string; json: string } {
  mkdirSync(outDir, { recursive: true });
  const html = path.resolve(outDir, 'demo.html');
  const json = path.resolve(outDir, 'demo.json');
  writeFileSync(json, `${JSON.stringify({ ...result, artifacts: { html, json } }, null, 2)}\n`);
  writeFileSync(html, renderHtml(result));
  return { html, json };
}
