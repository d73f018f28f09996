import { clip_grad_norm_, get_total_norm } from '../clip.js';
import { Random } from './rng.js';
import { addingBatch, Rnn, TRIVIAL_MSE } from './rnn.js';

/** One training run of the demo: plain SGD on the adding problem, with or without clipping. */

export interface DemoOptions {
  steps: number;
  lr: number;
  seqLen: number;
  seed: number;
  maxNorm: number;
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
  hidden: 16,
  batch: 16,
  recurrentScale: 1.2,
};

/** A loss above this (600 × the trivial predictor's) counts as a blow-up; training stops there. */
export const BLOW_UP_LOSS = 100;

export interface RunSummary {
  clipped: boolean;
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
}

export function train(options: DemoOptions, clip: boolean, onStep?: (step: number) => void): RunSummary {
  const model = new Rnn(2, options.hidden, new Random(options.seed), options.recurrentScale);
  const data = new Random(options.seed + 7919);
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const grads = model.params.map((p) => p.grad);
  let ema = TRIVIAL_MSE;
  let best = Number.POSITIVE_INFINITY;
  let beat: number | null = null;
  let engaged = 0;
  let divergedAt: number | null = null;
  for (let step = 1; step <= options.steps; step++) {
    const batch = addingBatch(data, options.batch, options.seqLen);
    model.zeroGrad();
    const loss = model.loss(batch, true);
    const norm = clip ? clip_grad_norm_(grads, options.maxNorm) : get_total_norm(grads);
    losses.push(loss);
    gradNorms.push(norm);
    onStep?.(step);
    if (!Number.isFinite(loss) || loss > BLOW_UP_LOSS || !Number.isFinite(norm)) {
      divergedAt = step;
      break;
    }
    if (clip && norm > options.maxNorm) engaged++;
    best = Math.min(best, loss);
    ema = 0.98 * ema + 0.02 * loss;
    if (beat === null && ema < TRIVIAL_MSE) beat = step;
    model.step(options.lr);
  }
  const finite = gradNorms.filter(Number.isFinite);
  return {
    clipped: clip,
    stepsRun: losses.length,
    finalLoss: losses[losses.length - 1],
    bestLoss: best,
    stepsToBeatTrivial: beat,
    clippingEngaged: engaged,
    largestGradNorm: finite.length ? Math.max(...finite) : Number.NaN,
    diverged: divergedAt !== null,
    divergedAt,
    losses,
    gradNorms,
  };
}
