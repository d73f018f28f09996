import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { b, trainLoop, w } from '../examples/train-loop.js';
import { torchTimings } from '../src/cli/torch-bench.js';
import { cliffLoss, descend } from '../src/demo/cliff.js';
import { Random } from '../src/demo/rng.js';
import { addingBatch, Rnn, TRIVIAL_MSE } from '../src/demo/rnn.js';
import { movingAverage } from '../src/demo/svg.js';
import { DEFAULT_DEMO, train } from '../src/demo/train.js';
import { getBackend } from '../src/index.js';

/** The demo behind `gradclip demo`: its gradients, its outcome, and the CLI around it. */

describe('the RNN’s backpropagation through time', () => {
  it('matches central finite differences for every parameter', () => {
    const model = new Rnn(2, 5, new Random(3), 1.3);
    const batch = addingBatch(new Random(4), 3, 7);
    model.zeroGrad();
    model.loss(batch, true);
    let checked = 0;
    for (const p of model.params) {
      for (let i = 0; i < p.data.length; i++) {
        const saved = p.data[i];
        const h = 1e-6;
        p.data[i] = saved + h;
        const up = model.loss(batch, false);
        p.data[i] = saved - h;
        const down = model.loss(batch, false);
        p.data[i] = saved;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(p.grad[i] - numeric), `${p.name}[${i}]`).toBeLessThanOrEqual(
          1e-6 * Math.max(1, Math.abs(numeric)),
        );
        checked++;
      }
    }
    expect(checked).toBe(5 * 2 + 5 * 5 + 5 + 5 + 1);
  });

  it('the adding problem: two marks, one per half, target their sum; the trivial MSE is 1/6', () => {
    const batch = addingBatch(new Random(9), 2000, 10);
    let sq = 0;
    for (let k = 0; k < batch.inputs.length; k++) {
      const x = batch.inputs[k];
      const marks = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((t) => x[t * 2 + 1] === 1);
      expect(marks.length).toBe(2);
      expect(marks[0]).toBeLessThan(5);
      expect(marks[1]).toBeGreaterThanOrEqual(5);
      expect(batch.targets[k]).toBe(x[marks[0] * 2] + x[marks[1] * 2]);
      sq += (batch.targets[k] - 1) ** 2;
    }
    expect(Math.abs(sq / 2000 - TRIVIAL_MSE)).toBeLessThan(0.02);
  });
});

describe('a short demo run', () => {
  const options = { ...DEFAULT_DEMO, steps: 2500 };
  const plain = train(options, false);
  const clipped = train(options, true);
  const byValue = train(options, 'value');

  it("the clip-by-value run (the seed's min/max) clamps elements, so it bends the gradient's direction", () => {
    expect(byValue.mode).toBe('value');
    expect(byValue.clippingEngaged).toBeGreaterThan(0);
    expect(byValue.meanCosine).toBeGreaterThan(0.5);
    expect(byValue.meanCosine).toBeLessThan(1);
    expect(byValue.losses.length).toBe(byValue.stepsRun);
  });

  it('summaries carry every field', () => {
    for (const s of [plain, clipped]) {
      expect(s.stepsRun).toBeGreaterThan(0);
      expect(s.losses.length).toBe(s.stepsRun);
      expect(s.gradNorms.length).toBe(s.stepsRun);
      expect(typeof s.finalLoss).toBe('number');
      expect(s.bestLoss).toBeLessThanOrEqual(s.losses[0]);
      expect(s.largestGradNorm).toBeGreaterThan(0);
    }
    expect(plain.clippingEngaged).toBe(0);
    expect(clipped.clippingEngaged).toBeGreaterThan(0);
  });

  it('with the default seed, the unclipped run sees larger gradients and the clipped run ends lower', () => {
    expect(plain.largestGradNorm).toBeGreaterThan(clipped.largestGradNorm);
    expect(clipped.finalLoss).toBeLessThan(Number.isNaN(plain.finalLoss) ? Number.POSITIVE_INFINITY : plain.finalLoss);
    expect(plain.diverged).toBe(true);
    expect(clipped.diverged).toBe(false);
    expect(clipped.stepsToBeatTrivial).not.toBeNull();
    expect(clipped.finalLoss).toBeLessThan(TRIVIAL_MSE);
  });
});

describe('the cliff', () => {
  it('the gradient is right (finite differences) and unclipped descent is thrown off the cliff', () => {
    for (const [w0, b0] of [
      [5, -6],
      [3, -1],
    ]) {
      const g = cliffLoss(w0, b0);
      const h = 1e-7;
      expect(Math.abs(g.dw - (cliffLoss(w0 + h, b0).loss - cliffLoss(w0 - h, b0).loss) / (2 * h))).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(g.dw)),
      );
      expect(Math.abs(g.db - (cliffLoss(w0, b0 + h).loss - cliffLoss(w0, b0 - h).loss) / (2 * h))).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(g.db)),
      );
    }
    const plain = descend([5, -6], 0.02, 400, null);
    const clipped = descend([5, -6], 0.02, 400, 5);
    const steps = (t: typeof plain) =>
      t.points.slice(1).map((p, i) => Math.hypot(p[0] - t.points[i][0], p[1] - t.points[i][1]));
    expect(Math.max(...steps(plain))).toBeGreaterThan(100);
    expect(Math.max(...steps(clipped))).toBeLessThanOrEqual(0.02 * 5 * (1 + 1e-9));
    expect(clipped.losses.at(-1)!).toBeLessThan(0.01);
  });
});

describe('examples/train-loop.ts', () => {
  it('learns the regression despite an outlier batch, clipping the steps that need it', () => {
    const { loss, clippedSteps } = trainLoop();
    expect(clippedSteps).toBeGreaterThan(0);
    expect(loss).toBeLessThan(1e-3);
    expect(Math.abs(w.data[0] - 2)).toBeLessThan(0.05);
    expect(Math.abs(b.data[0] - 1)).toBeLessThan(0.05);
  });
});

describe('the gradclip CLI', () => {
  const cli = ['node_modules/tsx/dist/cli.mjs', 'src/cli/index.ts'];
  const run = (...args: string[]) => execFileSync(process.execPath, [...cli, ...args], { encoding: 'utf8' });

  it('info --json prints the backend as JSON', () => {
    const info = JSON.parse(run('info', '--json'));
    // The command chooses as the library does (a CLI bundle that dropped the backends'
    // registration as "side-effect free" once reported js with no fallbacks).
    expect(info.name).toBe(getBackend().name);
    expect(Array.isArray(info.fallbacks)).toBe(true);
  });

  it('demo --json runs, writes both charts, and summarises both runs', () => {
    const out = mkdtempSync(join(tmpdir(), 'gradclip-demo-'));
    const summary = JSON.parse(run('demo', '--steps', '300', '--out', out, '--json'));
    expect(summary.runs).toHaveLength(3);
    expect(summary.runs[1].clipped).toBe(true);
    expect(summary.runs.map((r: { mode: string }) => r.mode)).toEqual(['none', 'norm', 'value']);
    expect(summary.byValue).toMatch(/^clip by value \{ min: -0\.1, max: 0\.1 \} .*\(mean cosine 0\.\d\d/);
    expect(summary.options.steps).toBe(300);
    for (const chart of summary.charts)
      expect(readFileSync(chart, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>$/);
    // The loss chart: each run's every-step loss faint, its 50-step moving average on top.
    const loss = readFileSync(
      summary.charts.find((c: string) => c.endsWith('loss.svg')),
      'utf8',
    );
    expect(loss.match(/<polyline [^>]*stroke-opacity="0.22"/g)).toHaveLength(3);
    expect(loss.match(/<polyline [^>]*stroke-width="2"/g)).toHaveLength(3);
    expect(loss).toContain('50-step moving average');
  });

  it('demo adaptive --json: seven runs on the same data, thresholds charted, adaptive runs clip', () => {
    const out = mkdtempSync(join(tmpdir(), 'gradclip-adaptive-'));
    const summary = JSON.parse(run('demo', 'adaptive', '--steps', '200', '--out', out, '--json'));
    expect(summary.runs.map((r: { name: string }) => r.name)).toEqual([
      'no clipping',
      'clip_grad_norm_(max_norm=0.1)',
      'clip_grad_norm_(max_norm=1)',
      'clip_grad_norm_(max_norm=10)',
      'AutoClip (percentile 10)',
      'ZClip (reference defaults, max_grad_norm 1)',
      'ZClip (max_grad_norm null)',
    ]);
    expect(summary.runs.map((r: { mode: string }) => r.mode)).toEqual([
      'none',
      'norm',
      'norm',
      'norm',
      'adaptive',
      'adaptive',
      'adaptive',
    ]);
    // AutoClip clips at a low percentile of the norms seen: it engages on most steps.
    expect(summary.runs[4].clippingEngaged).toBeGreaterThan(100);
    // Same seed, same data: the first step's loss is the same for every run.
    const firstLosses = summary.runs.map((r: { firstLoss: number }) => r.firstLoss);
    expect(typeof firstLosses[0]).toBe('number');
    expect(new Set(firstLosses).size).toBe(1);
    expect(summary.summary).toMatch(
      /^(lowest mean loss over the last 20 steps: .+ \(\d\.\d{4}\)\.|every run diverged\.)$/,
    );
    const thresholds = readFileSync(summary.charts[1], 'utf8');
    expect(thresholds).toContain('AutoClip (percentile 10): threshold');
    expect(thresholds.match(/<polyline/g)?.length).toBeGreaterThanOrEqual(5);
    expect(() =>
      execFileSync(process.execPath, [...cli, 'demo', 'adaptive', '--max-norm', '2'], { stdio: 'pipe' }),
    ).toThrow(/do not apply/);
  });

  it('movingAverage: trailing mean, short windows at the start, non-finite windows stay non-finite', () => {
    expect(movingAverage([1, 2, 3, 4, 5], 2)).toEqual([1, 1.5, 2.5, 3.5, 4.5]);
    expect(movingAverage([1, Number.NaN, 3, 5, 7], 2)).toEqual([
      1,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      4,
      6,
    ]);
  });

  it('demo cliff writes its SVG; bad options are clear errors', () => {
    const out = mkdtempSync(join(tmpdir(), 'gradclip-cliff-'));
    const summary = JSON.parse(run('demo', 'cliff', '--out', out, '--json'));
    const svg = readFileSync(summary.chart, 'utf8');
    expect(svg).toContain('<svg');
    // The legend draws the clipped path as the map does: white, dashed (it said black).
    const dashed = svg.match(/<(?:path|polyline|line)[^>]*stroke-dasharray="5 3"[^>]*>/g) ?? [];
    expect(dashed.length).toBeGreaterThanOrEqual(2);
    for (const el of dashed) expect(el).toContain('stroke="white"');
    expect(() => execFileSync(process.execPath, [...cli, 'demo', '--lr', 'fast'], { stdio: 'pipe' })).toThrow(
      /--lr: expected a positive number/,
    );
    expect(run('--help')).toContain('gradclip demo');
    expect(run('demo', '--help')).toContain('--max-norm');
  });

  // Issue 15, items 7–9: the CLI under abuse. Usage errors exit 2, failures 1, a closed reader 0.
  const status = (args: string[], stdout: 'pipe' | number = 'pipe') => {
    const r = spawnSync(process.execPath, [...cli, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', stdout, 'pipe'],
      timeout: 60_000,
    });
    return { code: r.status, signal: r.signal, err: r.stderr.trim() };
  };

  it('bounds every size option, says the bounds in --help, and never hangs on an output folder it cannot make', () => {
    expect(status(['demo', '--seq-len', '100000000', '--steps', '1'])).toEqual({
      code: 2,
      signal: null,
      err: expect.stringMatching(/--seq-len: .* up to 1000/),
    });
    expect(status(['demo', '--steps', '1e300'])).toEqual({
      code: 2,
      signal: null,
      err: expect.stringMatching(/--steps: .* up to 100000/),
    });
    expect(status(['demo', '--lr', ''])).toMatchObject({ code: 2 });
    expect(run('demo', '--help')).toMatch(/--seq-len <n> .* 2 to 1000/);
    expect(status(['demo', 'cliff', '--out', '/proc/gradclip-x'])).toEqual({
      code: 1,
      signal: null,
      err: expect.stringMatching(/--out: cannot create \/proc\/gradclip-x/),
    });
    expect(status(['demo', '--out', '/proc/gradclip-x', '--steps', '1'])).toMatchObject({ code: 1, signal: null });
    const file = join(mkdtempSync(join(tmpdir(), 'gradclip-out-')), 'a-file');
    writeFileSync(file, '');
    expect(status(['demo', 'cliff', '--out', join(file, 'sub')])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/is not a folder/),
    });
  });

  it('refuses unknown options and missing values with exit status 2, like an unknown command', () => {
    expect(status(['bench', '--quik'])).toEqual({
      code: 2,
      signal: null,
      err: expect.stringMatching(/unknown option '--quik' for bench/),
    });
    expect(status(['info', '--bogus'])).toMatchObject({ code: 2 });
    expect(status(['demo', 'cliff', '--out'])).toEqual({
      code: 2,
      signal: null,
      err: 'gradclip: --out: missing value',
    });
    expect(status(['frobnicate'])).toEqual({
      code: 2,
      signal: null,
      err: expect.stringMatching(/unknown command 'frobnicate'/),
    });
  });

  it('a full disk is a one-line error and exit 1; a reader that went away ends it quietly', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [['info', '--json'], ['info']]) {
        const r = status(args, full);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/^gradclip: cannot write to standard output: ENOSPC/);
        expect(r.err.split('\n')).toHaveLength(1);
      }
    } finally {
      closeSync(full);
    }
    const piped = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" ${cli.join(' ')} info --json | head -c 1 > /dev/null; echo "\${PIPESTATUS[0]}"`],
      { encoding: 'utf8' },
    );
    expect(piped.stdout.trim()).toBe('0');
    expect(piped.stderr).toBe('');
  });

  it('PyTorch results are found after any lines a python startup prints first', () => {
    const bin = mkdtempSync(join(tmpdir(), 'gradclip-python-'));
    const fake = join(bin, 'python3');
    writeFileSync(
      fake,
      '#!/bin/sh\necho "a sitecustomize hello"\necho \'{"version":"0.0-fake","threads":1,"rows":[]}\'\n',
    );
    chmodSync(fake, 0o755);
    const previous = process.env.PATH;
    process.env.PATH = `${bin}:${previous}`;
    try {
      const got = torchTimings([{ name: '1×1M', sizes: [1 << 20] }], 10);
      expect(got).toMatchObject({ version: '0.0-fake', python: 'python3' });
    } finally {
      process.env.PATH = previous;
    }
  });
});
