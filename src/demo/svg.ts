/** Minimal SVG line charts (no dependencies): a few series over steps, optional log scale. */

export interface Series {
  label: string;
  color: string;
  values: number[];
  /**
   * Draw a trailing moving average over this many steps as the line, with the raw values faint
   * behind it (per-step losses are noise at this scale; the average shows the trend).
   */
  smooth?: number;
}

/** Trailing mean over `window` steps (fewer at the start); a window holding a non-finite value is non-finite. */
export function movingAverage(values: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) sum += v;
    else bad++;
    if (i >= window) {
      const old = values[i - window];
      if (Number.isFinite(old)) sum -= old;
      else bad--;
    }
    const n = Math.min(i + 1, window);
    out.push(bad > 0 ? Number.POSITIVE_INFINITY : sum / n);
  }
  return out;
}

export interface ChartOptions {
  title: string;
  yLabel: string;
  log?: boolean;
  width?: number;
  height?: number;
  /** Horizontal reference lines. */
  guides?: { value: number; label: string; color: string }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const ticks: number[] = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) ticks.push(e);
    return ticks;
  }
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const mult = span / step > 25 ? 5 : span / step > 10 ? 2 : 1;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / (step * mult)) * step * mult; v <= hi + 1e-12; v += step * mult) ticks.push(v);
  return ticks;
}

function fmt(v: number, log: boolean): string {
  if (log) return v === 0 ? '1' : `1e${v}`;
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 360;
  const m = { left: 70, right: 20, top: 40, bottom: 48 };
  const log = options.log ?? false;
  const tr = (v: number) => (log ? Math.log10(v) : v);
  const all = series.flatMap((s) => s.values.map(tr)).filter(Number.isFinite);
  for (const g of options.guides ?? []) all.push(tr(g.value));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (log) {
    lo = Math.floor(lo);
    hi = Math.ceil(hi);
  }
  if (hi === lo) hi = lo + 1;
  const steps = Math.max(...series.map((s) => s.values.length), 2);
  const x = (i: number) => m.left + (i / (steps - 1)) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - ((v - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(options.title)}</text>`,
  ];
  for (const t of niceTicks(lo, hi, log)) {
    if (t < lo - 1e-9 || t > hi + 1e-9) continue;
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t, log)}</text>`,
    );
  }
  for (const t of niceTicks(0, steps, false)) {
    if (t > steps - 1) continue;
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle" fill="#555">${t}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">training step</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}${log ? ' (log scale)' : ''}</text>`,
  );
  for (const g of options.guides ?? []) {
    const gy = y(tr(g.value)).toFixed(1);
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${gy}" y2="${gy}" stroke="${g.color}" stroke-dasharray="6 4"/>`,
      `<text x="${width - m.right - 4}" y="${Number(gy) - 5}" text-anchor="end" fill="${g.color}">${esc(g.label)}</text>`,
    );
  }
  const polyline = (values: number[], attrs: string) => {
    // Long runs are drawn from at most ~1500 points (every n-th step) to keep the file small.
    const stride = Math.max(1, Math.ceil(values.length / 1500));
    const pts: string[] = [];
    for (let i = 0; i < values.length; i += stride) {
      const v = tr(values[i]);
      if (Number.isFinite(v)) pts.push(`${x(i).toFixed(1)},${y(Math.min(hi, Math.max(lo, v))).toFixed(1)}`);
    }
    return `<polyline fill="none" ${attrs} points="${pts.join(' ')}"/>`;
  };
  // Raw values first (faint where smoothed), so every line stays above every faint series.
  for (const s of series) {
    parts.push(
      polyline(
        s.values,
        s.smooth
          ? `stroke="${s.color}" stroke-opacity="0.22" stroke-width="1"`
          : `stroke="${s.color}" stroke-width="1.3"`,
      ),
    );
  }
  series.forEach((s, k) => {
    if (s.smooth) parts.push(polyline(movingAverage(s.values, s.smooth), `stroke="${s.color}" stroke-width="2"`));
    const label = s.smooth ? `${s.label} — ${s.smooth}-step moving average (faint: every step)` : s.label;
    parts.push(
      `<rect x="${m.left + 12}" y="${m.top + 6 + k * 18}" width="14" height="3" fill="${s.color}"/>`,
      `<text x="${m.left + 32}" y="${m.top + 11 + k * 18}">${esc(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
