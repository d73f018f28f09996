import { clip_grad_norm_ } from '../clip.js';

/**
 * The two-parameter recurrent model of Pascanu, Mikolov & Bengio (arXiv:1211.5063, Fig. 6):
 * x_t = w·σ(x_{t−1}) + b from x_0 = 0.5 for T steps, loss (x_T − 0.7)². Where the map turns
 * bistable (w ≳ 4) a tiny change of b flips which fixed point x_T lands on: a cliff in the
 * loss surface whose gradient is huge. Gradient descent that hits it is thrown far away;
 * with the gradient norm clipped it takes a bounded step and carries on.
 */

export const CLIFF = { steps: 50, x0: 0.5, target: 0.7 };

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Loss and its gradient (forward-mode: d x_t / dw, d x_t / db along the recurrence). */
export function cliffLoss(w: number, b: number, T = CLIFF.steps): { loss: number; dw: number; db: number } {
  let x = CLIFF.x0;
  let dxdw = 0;
  let dxdb = 0;
  for (let t = 0; t < T; t++) {
    const s = sigmoid(x);
    const ds = s * (1 - s);
    dxdw = s + w * ds * dxdw;
    dxdb = 1 + w * ds * dxdb;
    x = w * s + b;
  }
  const e = x - CLIFF.target;
  return { loss: e * e, dw: 2 * e * dxdw, db: 2 * e * dxdb };
}

export interface Trajectory {
  clipped: boolean;
  points: [number, number][];
  losses: number[];
  gradNorms: number[];
}

export function descend(start: [number, number], lr: number, steps: number, maxNorm: number | null): Trajectory {
  let [w, b] = start;
  const points: [number, number][] = [[w, b]];
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const grad = new Float64Array(2);
  for (let i = 0; i < steps; i++) {
    const { loss, dw, db } = cliffLoss(w, b);
    grad[0] = dw;
    grad[1] = db;
    losses.push(loss);
    gradNorms.push(maxNorm === null ? Math.hypot(dw, db) : clip_grad_norm_(grad, maxNorm));
    w -= lr * grad[0];
    b -= lr * grad[1];
    if (!Number.isFinite(w) || !Number.isFinite(b)) break;
    points.push([w, b]);
  }
  return { clipped: maxNorm !== null, points, losses, gradNorms };
}

export const CLIFF_DEFAULTS = { start: [5, -6] as [number, number], lr: 0.02, steps: 400, maxNorm: 5 };

/** Viridis-like ramp for t in [0, 1]. */
function color(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** The error surface over (w, b) as a heat map of log10 loss, with both descent trajectories. */
export function cliffSvg(unclipped: Trajectory, clipped: Trajectory, maxNorm: number, lr: number): string {
  const W = 760;
  const H = 560;
  const m = { left: 60, right: 110, top: 44, bottom: 50 };
  const [w0, w1, b0, b1] = [2, 9, -7.5, 0.5];
  const nx = 105;
  const ny = 80;
  const px = (w: number) => m.left + ((w - w0) / (w1 - w0)) * (W - m.left - m.right);
  const py = (b: number) => H - m.bottom - ((b - b0) / (b1 - b0)) * (H - m.top - m.bottom);
  const cw = (W - m.left - m.right) / nx;
  const ch = (H - m.top - m.bottom) / ny;
  const [lo, hi] = [-4, 2];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">x_t = w·σ(x_t−1) + b, loss (x_${CLIFF.steps} − ${CLIFF.target})²: the cliff, and gradient descent with and without clipping</text>`,
  ];
  // Colours are quantized to 48 levels and equal neighbours in a row merged, to keep the file small.
  for (let j = 0; j < ny; j++) {
    const levels: number[] = [];
    for (let i = 0; i < nx; i++) {
      const w = w0 + ((i + 0.5) / nx) * (w1 - w0);
      const b = b1 - ((j + 0.5) / ny) * (b1 - b0);
      const l = Math.log10(cliffLoss(w, b).loss + 1e-12);
      levels.push(Math.round(Math.min(1, Math.max(0, (l - lo) / (hi - lo))) * 47));
    }
    for (let i = 0; i < nx; ) {
      let k = i;
      while (k + 1 < nx && levels[k + 1] === levels[i]) k++;
      parts.push(
        `<rect x="${(m.left + i * cw).toFixed(1)}" y="${(m.top + j * ch).toFixed(1)}" width="${((k - i + 1) * cw + 0.6).toFixed(1)}" height="${(ch + 0.6).toFixed(1)}" fill="${color(levels[i] / 47)}"/>`,
      );
      i = k + 1;
    }
  }
  const inside = ([w, b]: [number, number]) => w >= w0 && w <= w1 && b >= b0 && b <= b1;
  const path = (t: Trajectory, stroke: string, dash: string) => {
    const pts: string[] = [];
    for (const p of t.points) {
      if (!inside(p)) break;
      pts.push(`${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`);
    }
    return `<polyline fill="none" stroke="${stroke}" stroke-width="2.2" ${dash} points="${pts.join(' ')}"/>`;
  };
  parts.push(path(unclipped, '#ff3b30', ''), path(clipped, 'white', 'stroke-dasharray="5 3"'));
  // Where the unclipped run leaves the frame: an arrow towards the point it jumped to.
  const exit = unclipped.points.findIndex((p) => !inside(p));
  if (exit > 0) {
    const [a, z] = [unclipped.points[exit - 1], unclipped.points[exit]];
    const jump = Math.hypot(z[0] - a[0], z[1] - a[1]);
    const dx = z[0] - a[0];
    const dy = z[1] - a[1];
    const len = Math.hypot(dx, dy);
    const ax = px(a[0]);
    const ay = py(a[1]);
    const ex = ax + (dx / len) * 60;
    const ey = ay - (dy / len) * 60;
    parts.push(
      `<line x1="${ax.toFixed(1)}" y1="${ay.toFixed(1)}" x2="${ex.toFixed(1)}" y2="${ey.toFixed(1)}" stroke="#ff3b30" stroke-width="2.2" marker-end="url(#arrow)"/>`,
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#ff3b30"/></marker></defs>',
      `<text x="${(W - m.right - 8).toFixed(1)}" y="${(ey - 22).toFixed(1)}" text-anchor="end" fill="white" font-weight="bold">step ${exit}: gradient norm ${unclipped.gradNorms[exit - 1].toExponential(1)},</text>`,
      `<text x="${(W - m.right - 8).toFixed(1)}" y="${(ey - 6).toFixed(1)}" text-anchor="end" fill="white" font-weight="bold">one step of length ${jump.toFixed(0)} to (${z[0].toFixed(0)}, ${z[1].toFixed(0)}), off the map</text>`,
    );
  }
  const [sw, sb] = clipped.points[0];
  const end = clipped.points[clipped.points.length - 1];
  parts.push(
    `<circle cx="${px(sw).toFixed(1)}" cy="${py(sb).toFixed(1)}" r="5" fill="white" stroke="black"/>`,
    `<text x="${(px(sw) + 8).toFixed(1)}" y="${(py(sb) + 16).toFixed(1)}" fill="white">start (${sw}, ${sb})</text>`,
    `<circle cx="${px(end[0]).toFixed(1)}" cy="${py(end[1]).toFixed(1)}" r="4" fill="white"/>`,
  );
  for (let w = Math.ceil(w0); w <= w1; w++) {
    parts.push(`<text x="${px(w).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${w}</text>`);
  }
  for (let b = Math.ceil(b0); b <= b1; b++) {
    parts.push(`<text x="${m.left - 6}" y="${(py(b) + 4).toFixed(1)}" text-anchor="end">${b}</text>`);
  }
  parts.push(
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle">w</text>`,
    `<text transform="translate(18 ${H / 2}) rotate(-90)" text-anchor="middle">b</text>`,
  );
  // Colour bar.
  for (let k = 0; k < 60; k++) {
    const t = 1 - k / 59;
    parts.push(`<rect x="${W - m.right + 22}" y="${m.top + k * 6}" width="16" height="6.5" fill="${color(t)}"/>`);
  }
  for (let v = lo; v <= hi; v++) {
    const y = m.top + ((hi - v) / (hi - lo)) * 360;
    parts.push(`<text x="${W - m.right + 44}" y="${(y + 4).toFixed(1)}">1e${v}</text>`);
  }
  parts.push(
    `<text x="${W - m.right + 22}" y="${m.top - 8}">loss</text>`,
    // The legend draws each path as it is drawn on the map (red solid, white dashed), on a dark box.
    `<rect x="${m.left + 8}" y="${H - m.bottom - 48}" width="330" height="40" fill="#222" opacity="0.85"/>`,
    `<line x1="${m.left + 16}" x2="${m.left + 40}" y1="${H - m.bottom - 34}" y2="${H - m.bottom - 34}" stroke="#ff3b30" stroke-width="2.2"/>`,
    `<text x="${m.left + 46}" y="${H - m.bottom - 30}" fill="white">gradient descent, lr ${lr}, no clipping</text>`,
    `<line x1="${m.left + 16}" x2="${m.left + 40}" y1="${H - m.bottom - 16}" y2="${H - m.bottom - 16}" stroke="white" stroke-width="2.2" stroke-dasharray="5 3"/>`,
    `<text x="${m.left + 46}" y="${H - m.bottom - 12}" fill="white">the same with clip_grad_norm_(max_norm=${maxNorm})</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
