/** The public API, shared by every entry point (src/index.ts, src/browser.ts, src/workerd.ts). */

export {
  type AdaptiveClipResult,
  type AgcOptions,
  type AgcParameter,
  type AgcResult,
  AutoClip,
  type AutoClipOptions,
  type AutoClipState,
  agc,
  ZClip,
  type ZClipOptions,
  type ZClipResult,
  type ZClipState,
} from './adaptive.js';
export { type BufferDtype, type GradDtype, GradientBuffer, type ViewOf } from './buffer.js';
export {
  clip_grad_norm_,
  clip_grad_value_,
  clip_grads_with_norm_,
  clipGradNorm,
  clipGradNormAsync,
  clipGradNormPerTensor,
  clipGradNormPerTensorAsync,
  clipGradRmsPerTensor,
  clipGradRmsPerTensorAsync,
  clipGradsWithNorm,
  clipGradValue,
  clipGradValueAsync,
  get_total_norm,
  getNorms,
  getNormsAsync,
  getTotalNorm,
  getTotalNormAsync,
  nn,
} from './clip.js';
export { type HalfDtype, HalfGradient } from './half.js';
export { bfloat16, float16 } from './half-api.js';
export { NonFiniteNormError } from './norm.js';
export {
  Adam,
  type AdamOptions,
  AdamW,
  type FusedClipOptions,
  type NonFiniteStep,
  Optimizer,
  type OptimizerStateDict,
  optim,
  type Param,
  type ParamGroup,
  type ParamState,
  SGD,
  type SGDOptions,
} from './optim.js';
export { getBackend, setBackend, setNumThreads } from './registry.js';
export type {
  BackendInfo,
  BackendName,
  Float16ArrayLike,
  GradArray,
  HalfGradientLike,
  HalfParameterLike,
  NormOptions,
  NormType,
  ParameterLike,
  Parameters,
  ValueBounds,
} from './types.js';

/** Resolves when the backends are ready. Every entry here sets up synchronously, so it is already resolved; it exists so code can await it portably. */
export const ready: Promise<void> = Promise.resolve();
