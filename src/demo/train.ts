import type { AutoClip, ZClip } from '../adaptive.js';
import { clipGradValue, get_total_norm } from '../clip.js';
import { SGD } from '../optim.js';
import { Random } from './rng.js';
import { addingBatch, Rnn, TRIVIAL_MSE } from './rnn.js';

/** One training run of the demo: plain SGD on the adding problem, with or without clipping. */

export interface DemoOptions {
  steps: number;
  lr: number;
  seqLen: number;
  seed: number;
  maxNorm: number;
  /** Bounds of the clip-by-value run: clipGradValue(grads, { min: -clipValue, max: clipValue }). */
  clipValue: number;
  hidden: number;
  batch: number;
  /** Spectral radius of the initial recurrent matrix (> 1: gradients can explode). */
  recurrentScale: number;
}

export const DEFAULT_DEMO: DemoOptions = {
  steps: 3000,
  lr: 0.2,
  seqLen: 20,
  seed: 1,
  maxNorm: 1,
  clipValue: 0.1,
  hidden: 16,
  batch: 16,
  recurrentScale: 1.2,
};

/** A loss above this (600 × the trivial predictor's) counts as a blow-up; training stops there. */
export const BLOW_UP_LOSS = 100;

/**
 * How a run clips: not at all, the total norm (clip_grad_norm_ at options.maxNorm), each element
 * ({ min, max }), or an adaptive clipper (AutoClip, ZClip) that picks its own threshold.
 */
export type ClipMode = false | true | 'value' | { adaptive: AutoClip | ZClip };

export interface RunSummary {
  clipped: boolean;
  /** 'none', 'norm' (clip_grad_norm_), 'value' (clipGradValue with { min, max }) or 'adaptive'. */
  mode: 'none' | 'norm' | 'value' | 'adaptive';
  /**
   * For 'value' runs: the mean cosine between each step's gradient before and after clipping (1 =
   * the direction is kept, as clipping the norm always does); null for the others.
   */
  meanCosine: number | null;
  stepsRun: number;
  finalLoss: number;
  bestLoss: number;
  /** First step whose smoothed loss (EMA, 0.98) beats the trivial predictor (MSE 1/6); null if never. */
  stepsToBeatTrivial: number | null;
  /** Steps where clip_grad_norm_ scaled the gradients (norm > max_norm). */
  clippingEngaged: number;
  largestGradNorm: number;
  diverged: boolean;
  /** Step of the blow-up (NaN or loss > BLOW_UP_LOSS), or null. */
  divergedAt: number | null;
  losses: number[];
  gradNorms: number[];
  /** The clip threshold in force at each step (max_norm, or the adaptive clipper's); empty for 'none' and 'value'. */
  thresholds: number[];
}

export function train(options: DemoOptions, clip: ClipMode, onStep?: (step: number) => void): RunSummary {
  const model = new Rnn(2, options.hidden, new Random(options.seed), options.recurrentScale);
  const data = new Random(options.seed + 7919);
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const thresholds: number[] = [];
  const grads = model.params.map((p) => p.grad);
  // The update is optim.SGD's; with clip_grad_norm_ the clip is fused into its step (max_grad_norm),
  // which gives the same parameters, bit for bit, as clip_grad_norm_ followed by a plain SGD step.
  const fusedNorm = clip === true;
  const opt = new SGD(
    model.params,
    fusedNorm ? { lr: options.lr, max_grad_norm: options.maxNorm } : { lr: options.lr },
  );
  const adaptive = typeof clip === 'object' ? clip.adaptive : null;
  let ema = TRIVIAL_MSE;
  let best = Number.POSITIVE_INFINITY;
  let beat: number | null = null;
  let engaged = 0;
  let divergedAt: number | null = null;
  let valueEngaged = 0;
  let cosSum = 0;
  let cosCount = 0;
  for (let step = 1; step <= options.steps; step++) {
    const batch = addingBatch(data, options.batch, options.seqLen);
    model.zeroGrad();
    const loss = model.loss(batch, true);
    let norm: number;
    if (clip === 'value') {
      norm = get_total_norm(grads);
      const before = grads.map((g) => g.slice());
      clipGradValue(grads, { min: -options.clipValue, max: options.clipValue });
      let dot = 0;
      let changed = false;
      grads.forEach((g, i) => {
        for (let k = 0; k < g.length; k++) {
          dot += before[i][k] * g[k];
          if (g[k] !== before[i][k]) changed = true;
        }
      });
      const after = get_total_norm(grads);
      if (changed) valueEngaged++;
      if (norm > 0 && after > 0) {
        cosSum += dot / (norm * after);
        cosCount++;
      }
    } else if (adaptive) {
      const r = adaptive.clip(grads);
      norm = r.totalNorm;
      thresholds.push(r.threshold);
      if (r.clipped) engaged++;
    } else {
      norm = fusedNorm ? (opt.step() as number) : get_total_norm(grads);
      if (clip) thresholds.push(options.maxNorm);
    }
    losses.push(loss);
    gradNorms.push(norm);
    onStep?.(step);
    if (!Number.isFinite(loss) || loss > BLOW_UP_LOSS || !Number.isFinite(norm)) {
      divergedAt = step;
      break;
    }
    if (clip === true && norm > options.maxNorm) engaged++;
    best = Math.min(best, loss);
    ema = 0.98 * ema + 0.02 * loss;
    if (beat === null && ema < TRIVIAL_MSE) beat = step;
    if (!fusedNorm) opt.step();
  }
  const finite = gradNorms.filter(Number.isFinite);
  return {
    clipped: clip !== false,
    mode: adaptive ? 'adaptive' : clip === 'value' ? 'value' : clip ? 'norm' : 'none',
    meanCosine: clip === 'value' ? (cosCount ? cosSum / cosCount : Number.NaN) : null,
    stepsRun: losses.length,
    finalLoss: losses[losses.length - 1],
    bestLoss: best,
    stepsToBeatTrivial: beat,
    clippingEngaged: clip === 'value' ? valueEngaged : engaged,
    largestGradNorm: finite.length ? Math.max(...finite) : Number.NaN,
    diverged: divergedAt !== null,
    divergedAt,
    losses,
    gradNorms,
    thresholds,
  };
}
