/**
 * Latency against delivery rate for the fan-out scenario: p50 (solid) and p99
 * (dashed) per server on log-log axes, with the 50 ms limit. Drawn as SVG, then
 * screenshotted to PNG with the headless Chromium that playwright-core drives
 * (skipped, SVG only, where that is missing).
 */
import { writeFileSync } from 'node:fs';

const COLORS = { tidings: '#d62728', socketio: '#1f77b4', ws: '#2ca02c', 'ws-coalesce': '#9467bd' };
const W = 900;
const H = 520;
const M = { left: 70, right: 170, top: 40, bottom: 60 };

const log10 = Math.log10;

function scale(min, max, from, to) {
  return (v) => from + ((log10(v) - log10(min)) / (log10(max) - log10(min))) * (to - from);
}

const decades = (min, max) => {
  const out = [];
  for (let e = Math.floor(log10(min)); e <= Math.ceil(log10(max)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  return out.filter((v) => v >= min && v <= max);
};

const label = (v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

/**
 * The steps drawn, by rate (bisection steps run after the step that failed).
 * A step that lost deliveries or had subscribers cut is left out: its latency
 * is the survivors' only, and it would read as the fastest point of the line.
 */
function plotted(steps) {
  return steps.filter((s) => s.p99 !== null && !(s.lost > 0) && !(s.cut > 0)).sort((a, b) => a.offered - b.offered);
}

export function fanoutSvg(result) {
  const series = Object.entries(result.servers).filter(([, r]) => r.steps?.length);
  const pts = series.flatMap(([, r]) => plotted(r.steps));
  const xMin = 10_000;
  const xMax = Math.max(100_000, ...pts.map((s) => s.offered)) * 1.2;
  const yMin = 1;
  const yMax = Math.max(100, ...pts.map((s) => s.p99)) * 1.5;
  const x = scale(xMin, xMax, M.left, W - M.right);
  const y = scale(yMin, yMax, H - M.bottom, M.top);
  const parts = [`<rect width="${W}" height="${H}" fill="white"/>`];
  for (const v of decades(xMin, xMax)) parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/><text x="${x(v)}" y="${H - M.bottom + 18}" text-anchor="middle">${label(v)}</text>`);
  for (const v of decades(yMin, yMax)) parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(50)}" y2="${y(50)}" stroke="#888" stroke-dasharray="2,4"/><text x="${W - M.right - 4}" y="${y(50) - 5}" text-anchor="end" fill="#666">p99 limit 50 ms</text>`);
  series.forEach(([kind, r], i) => {
    const color = COLORS[kind] ?? '#333';
    const steps = plotted(r.steps);
    for (const [key, dash] of [['p50', ''], ['p99', '6,4']]) {
      const d = steps.map((s, j) => `${j ? 'L' : 'M'}${x(s.offered).toFixed(1)},${y(Math.max(yMin, s[key])).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
      for (const s of steps) parts.push(`<circle cx="${x(s.offered)}" cy="${y(Math.max(yMin, s[key]))}" r="3" fill="${s.ok ? color : 'white'}" stroke="${color}"/>`);
    }
    parts.push(`<line x1="${W - M.right + 15}" x2="${W - M.right + 45}" y1="${M.top + 20 + i * 22}" y2="${M.top + 20 + i * 22}" stroke="${color}" stroke-width="3"/><text x="${W - M.right + 52}" y="${M.top + 24 + i * 22}">${kind}</text>`);
  });
  const ly = M.top + 30 + series.length * 22;
  parts.push(`<text x="${W - M.right + 15}" y="${ly}" fill="#555">solid: p50</text><text x="${W - M.right + 15}" y="${ly + 18}" fill="#555">dashed: p99</text><text x="${W - M.right + 15}" y="${ly + 36}" fill="#555">hollow: failed step</text><text x="${W - M.right + 15}" y="${ly + 54}" fill="#555">(steps with losses</text><text x="${W - M.right + 15}" y="${ly + 72}" fill="#555">left out)</text>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 15}" text-anchor="middle">deliveries per second (offered; ${result.params.subscribers} subscribers, one channel)</text>`);
  parts.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">latency ms (from scheduled send)</text>`);
  parts.push(`<text x="${M.left}" y="24" font-weight="bold">Fan-out latency against rate</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

/** Write `<base>.svg` and, if Chromium is available, `<base>.png`. Returns the PNG path or null. */
export async function writeChart(svg, base) {
  writeFileSync(`${base}.svg`, svg);
  let browser;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: `${base}.png`, clip: { x: 0, y: 0, width: W, height: H } });
    return `${base}.png`;
  } catch (err) {
    console.error(`chart: no PNG (${err.message.split('\n')[0]}); SVG written`);
    return null;
  } finally {
    await browser?.close();
  }
}
