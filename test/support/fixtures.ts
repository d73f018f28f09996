import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface EncodedTensor {
  dtype: 'float32' | 'float64' | 'float16' | 'bfloat16';
  length: number;
  b64: string;
}

export interface FixtureCase {
  name: string;
  fn: 'clip_grad_norm_' | 'clip_grad_value_' | 'get_total_norm' | 'clip_grads_with_norm_';
  call: Record<string, number | string | boolean>;
  grads: (EncodedTensor | null)[];
  result: number | string | null;
  after: (EncodedTensor | null)[] | null;
  error: { type: string; message: string } | null;
}

export function loadFixtures(): { meta: Record<string, unknown>; cases: FixtureCase[] } {
  const url = new URL('../fixtures/torch-2.11-clip.json.gz', import.meta.url);
  return JSON.parse(gunzipSync(readFileSync(url)).toString('utf8'));
}

/** Non-finite numbers are written as strings in the fixture file. */
export function fixtureNumber(v: number | string | null | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity' || v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity' || v === '-inf') return Number.NEGATIVE_INFINITY;
  throw new Error(`not a fixture number: ${String(v)}`);
}

/**
 * Decodes a tensor into a fresh typed array. `offsetBytes` places it that far into a
 * larger buffer, so that the code under test sees a nonzero byteOffset.
 */
export function decode(t: EncodedTensor, offsetBytes = 0): Float32Array | Float64Array {
  const bytes = Buffer.from(t.b64, 'base64');
  const Ctor = t.dtype === 'float32' ? Float32Array : Float64Array;
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`unsupported dtype ${t.dtype}`);
  const buffer = new ArrayBuffer(offsetBytes + bytes.length + 16);
  new Uint8Array(buffer, offsetBytes, bytes.length).set(bytes);
  return new Ctor(buffer, offsetBytes, t.length);
}

/** One case of torch-1.13-optim.json.gz (format: ../fixtures README, copied in test/fixtures/README.md). */
export interface OptimFixtureCase {
  optimizer: 'sgd' | 'adam' | 'adamw';
  hyper: Record<string, number | boolean | number[]>;
  clip: { kind: 'norm'; max_norm: number; norm_type: number | string } | { kind: 'value'; clip_value: number } | null;
  dtype: 'float32' | 'float64';
  params: EncodedTensor[];
  grads: (EncodedTensor | null)[][];
  total_norms: (number | string | null)[];
  params_after: EncodedTensor[];
  state_after: Record<string, EncodedTensor | number | null>[];
}

export function loadOptimFixtures(): { torch: string; cases: OptimFixtureCase[] } {
  const url = new URL('../fixtures/torch-1.13-optim.json.gz', import.meta.url);
  return JSON.parse(gunzipSync(readFileSync(url)).toString('utf8'));
}
