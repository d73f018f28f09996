/**
 * gradclip — PyTorch's gradient clipping for JavaScript.
 * Node entry: registers the optional backends, then picks one (GRADCLIP_BACKEND, else native → wasm → js).
 */
import { loadNative } from './backends/native.js';
import { initialize, registerBackend } from './registry.js';

export {
  clip_grad_norm_,
  clip_grad_value_,
  clip_grads_with_norm_,
  clipGradNorm,
  clipGradNormAsync,
  clipGradsWithNorm,
  clipGradValue,
  clipGradValueAsync,
  get_total_norm,
  getTotalNorm,
  getTotalNormAsync,
  nn,
} from './clip.js';
export { NonFiniteNormError } from './norm.js';
export { getBackend, setBackend, setNumThreads } from './registry.js';
export type {
  BackendInfo,
  BackendName,
  GradArray,
  NormOptions,
  NormType,
  ParameterLike,
  Parameters,
} from './types.js';

registerBackend('native', loadNative);
initialize();
