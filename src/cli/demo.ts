import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoClip, ZClip } from '../adaptive.js';
import { CLIFF_DEFAULTS, cliffSvg, descend } from '../demo/cliff.js';
import { TRIVIAL_MSE } from '../demo/rnn.js';
import { lineChart } from '../demo/svg.js';
import { type ClipMode, DEFAULT_DEMO, type DemoOptions, type RunSummary, train } from '../demo/train.js';
import { getBackend } from '../registry.js';
import { fixed, progressBar, table } from './format.js';
import { prepareOutputDir, print, UsageError } from './io.js';

/**
 * Upper bounds of the size options: the demo keeps every step of every sequence for
 * backpropagation through time, so memory grows with seq-len, and time with steps × seq-len.
 */
const LIMITS = { steps: 100_000, seqLen: 1000, maxNorm: 1e6, clipValue: 1e6, lr: 100, seed: 2 ** 32 - 1 };

export const DEMO_HELP = `gradclip demo [options]        the exploding-gradient problem and its cure
gradclip demo cliff [options]  the error surface of a two-parameter RNN, with its cliff
gradclip demo adaptive [options]  fixed max_norm (0.1, 1, 10) against AutoClip and ZClip

Trains a vanilla tanh RNN (hidden ${DEFAULT_DEMO.hidden}, batch ${DEFAULT_DEMO.batch}) on the adding problem three times from
the same seed: plain SGD with a large learning rate and no clipping, the same with
clip_grad_norm_, and the same with clip-by-value between a minimum and a maximum
(clipGradValue with { min, max }). Prints a table and writes SVG charts of the loss and
gradient norm.

Options:
  --max-norm <x>   max_norm for clip_grad_norm_, > 0 and <= 1e6 (default ${DEFAULT_DEMO.maxNorm})
  --clip-value <x> the clip-by-value run's bounds { min: -x, max: x }, > 0 and <= 1e6 (default ${DEFAULT_DEMO.clipValue})
  --lr <x>         SGD learning rate, > 0 and <= 100 (default ${DEFAULT_DEMO.lr})
  --steps <n>      training steps per run, 1 to ${LIMITS.steps} (default ${DEFAULT_DEMO.steps})
  --seq-len <n>    sequence length of the adding problem, 2 to ${LIMITS.seqLen} (default ${DEFAULT_DEMO.seqLen})
  --seed <n>       seed for the weights and the data, 0 to 2^32 - 1 (default ${DEFAULT_DEMO.seed})
  --out <dir>      where the SVG charts go (default ./gradclip-demo/)
  --json           print a machine-readable summary instead of the tables
  --help           this text

demo cliff options: --out <dir>, --json, --help
demo adaptive options: --lr, --steps, --seq-len, --seed, --out, --json, --help (as above)
`;

function parseOptions(args: string[]): { options: DemoOptions; out: string; json: boolean } {
  const options = { ...DEFAULT_DEMO };
  let out = './gradclip-demo/';
  let json = false;
  const numeric: Record<string, keyof DemoOptions> = {
    '--max-norm': 'maxNorm',
    '--clip-value': 'clipValue',
    '--lr': 'lr',
    '--steps': 'steps',
    '--seq-len': 'seqLen',
    '--seed': 'seed',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--')))
        throw new UsageError(`${flag}: missing value`);
      return v;
    };
    if (flag in numeric) {
      const text = value();
      const v = Number(text);
      const key = numeric[flag];
      const integer = key === 'steps' || key === 'seqLen' || key === 'seed';
      const limit = LIMITS[key as keyof typeof LIMITS];
      if (
        text.trim() === '' ||
        !Number.isFinite(v) ||
        v < 0 ||
        (integer && !Number.isInteger(v)) ||
        (key !== 'seed' && v === 0) ||
        v > limit
      ) {
        throw new UsageError(
          `${flag}: expected a ${integer ? 'positive integer' : 'positive number'} up to ${limit}, got '${text.slice(0, 40)}'`,
        );
      }
      options[key] = v;
    } else if (flag === '--out') out = value();
    else if (flag === '--json') json = true;
    else throw new UsageError(`unknown option '${arg.slice(0, 40)}' (see gradclip demo --help)`);
  }
  if (options.seqLen < 2) throw new UsageError('--seq-len: the adding problem needs at least 2 steps');
  return { options, out, json };
}

const RUN_NAMES = {
  none: 'no clipping',
  norm: 'with clip_grad_norm_',
  value: 'with clip by value (min/max)',
  adaptive: 'with an adaptive clipper',
};

function summaryRow(s: RunSummary): string[] {
  return [
    RUN_NAMES[s.mode],
    fixed(s.finalLoss, 4),
    fixed(s.bestLoss, 4),
    s.stepsToBeatTrivial === null ? 'never' : String(s.stepsToBeatTrivial),
    s.clipped ? String(s.clippingEngaged) : '-',
    s.largestGradNorm.toExponential(2),
    s.diverged ? `yes, at step ${s.divergedAt}` : 'no',
  ];
}

const strip = (s: RunSummary) => {
  const { losses, gradNorms, ...rest } = s;
  return rest;
};

export function runDemo(args: string[]): void {
  const { options, out, json } = parseOptions(args);
  const dir = prepareOutputDir(out, '--out');
  const started = performance.now();
  const bar = progressBar('training', !json && Boolean(process.stderr.isTTY));
  const total = options.steps * 3;
  const runs = ([false, true, 'value'] as const).map((clip, k) =>
    train(options, clip, (step) => {
      if (step % 25 === 0)
        bar.update(k * options.steps + step, total, RUN_NAMES[clip === 'value' ? 'value' : clip ? 'norm' : 'none']);
    }),
  );
  bar.done();
  const [plain, clipped, byValue] = runs;
  const lossPath = join(dir, 'loss.svg');
  const normPath = join(dir, 'grad-norm.svg');
  const bounds = `{ min: -${options.clipValue}, max: ${options.clipValue} }`;
  const label = (s: RunSummary) =>
    `${s.mode === 'norm' ? `clip_grad_norm_(max_norm=${options.maxNorm})` : s.mode === 'value' ? `clipGradValue(${bounds})` : 'no clipping'}${s.diverged ? ` — diverged at step ${s.divergedAt}` : ''}`;
  // What the third run shows, from its numbers.
  const valueLine =
    `clip by value ${bounds} ${byValue.diverged ? `diverged at step ${byValue.divergedAt}` : 'also avoided the blow-up'}, but it bends ` +
    `each gradient (mean cosine ${fixed(byValue.meanCosine ?? Number.NaN, 2)} with the unclipped one; clip_grad_norm_ keeps its direction) ` +
    `and ends at ${fixed(byValue.finalLoss, 4)}, against ${fixed(clipped.finalLoss, 4)} for clip_grad_norm_.`;
  writeFileSync(
    lossPath,
    lineChart(
      [
        { label: label(plain), color: '#d62728', values: plain.losses, smooth: 50 },
        { label: label(clipped), color: '#1f77b4', values: clipped.losses, smooth: 50 },
        { label: label(byValue), color: '#2ca02c', values: byValue.losses, smooth: 50 },
      ],
      {
        title: `Adding problem (T=${options.seqLen}), vanilla RNN, SGD lr=${options.lr}: training loss`,
        yLabel: 'MSE',
        log: true,
        guides: [{ value: TRIVIAL_MSE, label: 'always predict 1.0 (MSE 1/6)', color: '#555' }],
      },
    ),
  );
  writeFileSync(
    normPath,
    lineChart(
      [
        { label: label(plain), color: '#d62728', values: plain.gradNorms },
        { label: `${label(clipped)} (norm before clipping)`, color: '#1f77b4', values: clipped.gradNorms },
        { label: `${label(byValue)} (norm before clipping)`, color: '#2ca02c', values: byValue.gradNorms },
      ],
      {
        title: 'Total gradient norm per step',
        yLabel: '‖∇‖₂',
        log: true,
        guides: [{ value: options.maxNorm, label: `max_norm = ${options.maxNorm}`, color: '#555' }],
      },
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  if (json) {
    const backend = getBackend();
    print(
      JSON.stringify(
        { options, backend, seconds, runs: runs.map(strip), byValue: valueLine, charts: [lossPath, normPath] },
        null,
        2,
      ),
    );
    return;
  }
  print(
    `gradclip demo — vanilla tanh RNN (hidden ${options.hidden}) on the adding problem, sequence length ${options.seqLen},` +
      `\nbatch ${options.batch}, SGD lr ${options.lr}, ${options.steps} steps, seed ${options.seed}; trivial predictor MSE = 1/6 ≈ 0.167\n`,
  );
  print(
    table(
      ['run', 'final loss', 'best loss', 'steps to beat 0.167', 'steps clipped', 'largest grad norm', 'diverged'],
      runs.map(summaryRow),
    ),
  );
  print(`\n${valueLine}`);
  print(`\ncharts:\n  ${lossPath}\n  ${normPath}\n(${seconds.toFixed(1)} s on the ${getBackend().name} backend)`);
}

export function runCliff(args: string[]): void {
  let out = './gradclip-demo/';
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError('--out: missing value');
      out = v;
    } else if (args[i].startsWith('--out=')) out = args[i].slice(6);
    else if (args[i] === '--json') json = true;
    else throw new UsageError(`unknown option '${args[i].slice(0, 40)}' (see gradclip demo --help)`);
  }
  const dir = prepareOutputDir(out, '--out');
  const { start, lr, steps, maxNorm } = CLIFF_DEFAULTS;
  const plain = descend(start, lr, steps, null);
  const clipped = descend(start, lr, steps, maxNorm);
  const path = join(dir, 'cliff.svg');
  writeFileSync(path, cliffSvg(plain, clipped, maxNorm, lr));
  const describe = (t: typeof plain) => ({
    clipped: t.clipped,
    end: t.points[t.points.length - 1],
    finalLoss: t.losses[t.losses.length - 1],
    largestGradNorm: Math.max(...t.gradNorms),
    largestStep: Math.max(...t.points.slice(1).map((p, i) => Math.hypot(p[0] - t.points[i][0], p[1] - t.points[i][1]))),
  });
  const summary = { start, lr, steps, maxNorm, runs: [describe(plain), describe(clipped)], chart: path };
  if (json) {
    print(JSON.stringify(summary, null, 2));
    return;
  }
  print(`gradclip demo cliff — from (w, b) = (${start.join(', ')}), lr ${lr}, ${steps} steps\n`);
  print(
    table(
      ['run', 'largest grad norm', 'largest step', 'ends at (w, b)', 'final loss'],
      summary.runs.map((r) => [
        r.clipped ? `clip_grad_norm_(max_norm=${maxNorm})` : 'no clipping',
        r.largestGradNorm.toExponential(2),
        fixed(r.largestStep, 3),
        `(${r.end.map((v) => v.toFixed(2)).join(', ')})`,
        r.finalLoss.toExponential(2),
      ]),
    ),
  );
  print(`\nchart:\n  ${path}`);
}

/** The runs of `gradclip demo adaptive`, in table order. */
function adaptiveRuns(): { name: string; color: string; clip: () => ClipMode; maxNorm?: number }[] {
  return [
    { name: 'no clipping', color: '#d62728', clip: () => false },
    { name: 'clip_grad_norm_(max_norm=0.1)', color: '#9467bd', clip: () => true, maxNorm: 0.1 },
    { name: 'clip_grad_norm_(max_norm=1)', color: '#1f77b4', clip: () => true, maxNorm: 1 },
    { name: 'clip_grad_norm_(max_norm=10)', color: '#17becf', clip: () => true, maxNorm: 10 },
    { name: 'AutoClip (percentile 10)', color: '#2ca02c', clip: () => ({ adaptive: new AutoClip() }) },
    { name: 'ZClip (reference defaults, max_grad_norm 1)', color: '#ff7f0e', clip: () => ({ adaptive: new ZClip() }) },
    {
      name: 'ZClip (max_grad_norm null)',
      color: '#8c564b',
      clip: () => ({ adaptive: new ZClip({ maxGradNorm: null }) }),
    },
  ];
}

/**
 * `gradclip demo adaptive`: the demo's RNN trained with no clipping, a fixed max_norm at three values,
 * AutoClip and ZClip, same seed and data; a table and two charts (loss; threshold against the norm).
 */
export function runAdaptive(args: string[]): void {
  const { options, out, json } = parseOptions(args);
  if (args.some((a) => a.startsWith('--max-norm') || a.startsWith('--clip-value'))) {
    throw new UsageError(
      'demo adaptive: --max-norm and --clip-value do not apply (the runs fix or choose their own thresholds)',
    );
  }
  const dir = prepareOutputDir(out, '--out');
  const started = performance.now();
  const specs = adaptiveRuns();
  const bar = progressBar('training', !json && Boolean(process.stderr.isTTY));
  const total = options.steps * specs.length;
  const runs = specs.map((spec, k) =>
    train({ ...options, maxNorm: spec.maxNorm ?? options.maxNorm }, spec.clip(), (step) => {
      if (step % 25 === 0) bar.update(k * options.steps + step, total, spec.name);
    }),
  );
  bar.done();
  const lossPath = join(dir, 'adaptive-loss.svg');
  const thresholdPath = join(dir, 'adaptive-threshold.svg');
  const label = (k: number) => `${specs[k].name}${runs[k].diverged ? ` — diverged at step ${runs[k].divergedAt}` : ''}`;
  writeFileSync(
    lossPath,
    lineChart(
      runs.map((r, k) => ({ label: label(k), color: specs[k].color, values: r.losses, smooth: 100 })),
      {
        title: `Adding problem (T=${options.seqLen}), SGD lr=${options.lr}: loss with fixed and adaptive clipping`,
        yLabel: 'MSE',
        log: true,
        height: 480,
        guides: [{ value: TRIVIAL_MSE, label: 'always predict 1.0 (MSE 1/6)', color: '#555' }],
      },
    ),
  );
  const adaptive = runs.map((r, k) => ({ r, k })).filter(({ r }) => r.mode === 'adaptive');
  writeFileSync(
    thresholdPath,
    lineChart(
      [
        {
          label: 'gradient norm before clipping (AutoClip run)',
          color: '#999',
          values: runs[adaptive[0]?.k ?? 0].gradNorms,
          smooth: 50,
        },
        // (ZClip's ceiling is Infinity between spikes when it has no max_grad_norm: those steps are not drawn.)
        ...adaptive.map(({ r, k }) => ({
          label: `${specs[k].name}: threshold${r.thresholds.some((t) => t === Number.POSITIVE_INFINITY) ? ' (at spikes; no ceiling between them)' : ''}`,
          color: specs[k].color,
          values: r.thresholds,
        })),
      ],
      {
        title: 'The threshold each adaptive clipper chose, step by step',
        yLabel: 'threshold / ‖∇‖₂',
        log: true,
        height: 420,
        guides: [0.1, 1, 10].map((v) => ({ value: v, label: `fixed max_norm ${v}`, color: '#bbb' })),
      },
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  // One step's loss is noise: the runs are compared by their mean loss over the last tenth of the steps.
  const tail = Math.max(1, Math.floor(options.steps / 10));
  const lateMean = runs.map((r) =>
    r.diverged ? Number.NaN : r.losses.slice(-tail).reduce((a, b) => a + b, 0) / Math.min(tail, r.losses.length),
  );
  const best = lateMean.reduce(
    (b, v, k) => (Number.isNaN(v) || v >= lateMean[b] || Number.isNaN(lateMean[k]) ? b : k),
    lateMean.findIndex((v) => !Number.isNaN(v)),
  );
  const summary =
    best < 0
      ? 'every run diverged.'
      : `lowest mean loss over the last ${tail} steps: ${specs[best].name} (${fixed(lateMean[best], 4)}).`;
  if (json) {
    print(
      JSON.stringify(
        {
          options,
          backend: getBackend(),
          seconds,
          runs: runs.map((r, k) => ({
            name: specs[k].name,
            ...strip(r),
            thresholds: undefined,
            firstLoss: r.losses[0],
            lateMeanLoss: lateMean[k],
          })),
          summary,
          charts: [lossPath, thresholdPath],
        },
        null,
        2,
      ),
    );
    return;
  }
  print(
    `gradclip demo adaptive — the demo's RNN (hidden ${options.hidden}), adding problem T=${options.seqLen}, batch ${options.batch},` +
      `\nSGD lr ${options.lr}, ${options.steps} steps, seed ${options.seed}: the same data for every run\n`,
  );
  print(
    table(
      ['run', `mean loss, last ${tail} steps`, 'best loss', 'steps to beat 0.167', 'steps clipped', 'diverged'],
      runs.map((r, k) => [
        specs[k].name,
        r.diverged ? '-' : fixed(lateMean[k], 4),
        fixed(r.bestLoss, 4),
        r.stepsToBeatTrivial === null ? 'never' : String(r.stepsToBeatTrivial),
        r.clipped ? String(r.clippingEngaged) : '-',
        r.diverged ? `yes, at step ${r.divergedAt}` : 'no',
      ]),
    ),
  );
  print(`\n${summary}`);
  print(`\ncharts:\n  ${lossPath}\n  ${thresholdPath}\n(${seconds.toFixed(1)} s on the ${getBackend().name} backend)`);
}
