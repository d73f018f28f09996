import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { bytesOf } from './support/compare.js';

/**
 * SPEC §5: every bad call throws TypeError (wrong kind) or RangeError (bad value) naming
 * the argument, before any gradient is written. Each call below also carries valid
 * gradients (one of them SharedArrayBuffer-backed) that must be byte-identical afterwards.
 */

function validGrads() {
  const shared = new Float32Array(new SharedArrayBuffer(4 * 40), 4 * 3, 30);
  for (let i = 0; i < shared.length; i++) shared[i] = (i - 15) * 100;
  const plain = Float64Array.from({ length: 50 }, (_, i) => (i % 7) * 1e3 - 2e3);
  return [shared, plain];
}

function detached<T extends Float32Array | Float64Array>(Ctor: new (b: ArrayBuffer) => T): T {
  const buffer = new ArrayBuffer(64);
  const view = new Ctor(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

type Case = [
  label: string,
  error: typeof TypeError | typeof RangeError,
  pattern: RegExp,
  call: (valid: (Float32Array | Float64Array)[]) => unknown,
];

const CASES: Case[] = [
  [
    'max_norm is a string',
    TypeError,
    /^max_norm: expected a number, got string/,
    (v) => g.clip_grad_norm_(v, '1' as never),
  ],
  ['max_norm is NaN', RangeError, /^max_norm: .*NaN/, (v) => g.clip_grad_norm_(v, Number.NaN)],
  ['max_norm is negative', RangeError, /^max_norm: must be >= 0, got -1/, (v) => g.clip_grad_norm_(v, -1)],
  [
    'max_norm is missing',
    TypeError,
    /^max_norm: .*undefined/,
    (v) => (g.clip_grad_norm_ as (...a: unknown[]) => number)(v),
  ],
  ['max_norm is null', TypeError, /^max_norm: .*null/, (v) => g.clip_grad_norm_(v, null as never)],
  ['max_norm is a bigint', TypeError, /^max_norm: .*bigint/, (v) => g.clip_grad_norm_(v, 1n as never)],
  ['norm_type is NaN', RangeError, /^norm_type: must not be NaN/, (v) => g.clip_grad_norm_(v, 1, Number.NaN)],
  ['norm_type is an unknown string', RangeError, /^norm_type: .*"fro"/, (v) => g.clip_grad_norm_(v, 1, 'fro' as never)],
  ['norm_type is an object', TypeError, /^norm_type: /, (v) => g.clip_grad_norm_(v, 1, {} as never)],
  ['norm_type is null', TypeError, /^norm_type: .*null/, (v) => g.clip_grad_norm_(v, 1, null as never)],
  [
    'error_if_nonfinite is a string',
    TypeError,
    /^error_if_nonfinite: expected a boolean/,
    (v) => g.clip_grad_norm_(v, 1, 2, 'yes' as never),
  ],
  ['foreach is a number', TypeError, /^foreach: /, (v) => g.clip_grad_norm_(v, 1, 2, false, 1 as never)],
  [
    'an Int32Array in the list',
    TypeError,
    /^parameters\[2\]: .*got Int32Array/,
    (v) => g.clip_grad_norm_([...v, new Int32Array(3)] as never, 1),
  ],
  [
    'a grad that is an Int32Array',
    TypeError,
    /^parameters\[2\]\.grad: expected Float32Array or Float64Array, got Int32Array/,
    (v) => g.clip_grad_norm_([...v, { grad: new Int32Array(3) }] as never, 1),
  ],
  [
    'a grad that is a plain Array',
    TypeError,
    /^parameters\[2\]\.grad: .*got Array\(2\)/,
    (v) => g.clip_grad_norm_([...v, { grad: [1, 2] }] as never, 1),
  ],
  [
    'a number in the list',
    TypeError,
    /^parameters\[2\]: .*got number 42/,
    (v) => g.clip_grad_norm_([...v, 42] as never, 1),
  ],
  [
    'a string in the list',
    TypeError,
    /^parameters\[2\]: .*got string/,
    (v) => g.clip_grad_norm_([...v, 'w'] as never, 1),
  ],
  [
    'an object without grad',
    TypeError,
    /^parameters\[2\]: .*grad property, got object/,
    (v) => g.clip_grad_norm_([...v, {}] as never, 1),
  ],
  [
    'a Uint8Array',
    TypeError,
    /^parameters\[2\]: .*Uint8Array/,
    (v) => g.clip_grad_norm_([...v, new Uint8Array(4)] as never, 1),
  ],
  [
    'a BigInt64Array',
    TypeError,
    /^parameters\[2\]: .*BigInt64Array/,
    (v) => g.clip_grad_norm_([...v, new BigInt64Array(4)] as never, 1),
  ],
  [
    'a DataView',
    TypeError,
    /^parameters\[2\]: .*DataView/,
    (v) => g.clip_grad_norm_([...v, new DataView(new ArrayBuffer(8))] as never, 1),
  ],
  [
    'a detached Float32Array',
    TypeError,
    /^parameters\[2\]: its ArrayBuffer is detached/,
    (v) => g.clip_grad_norm_([...v, detached(Float32Array)], 1),
  ],
  [
    'a grad on a detached buffer',
    TypeError,
    /^parameters\[2\]\.grad: its ArrayBuffer is detached/,
    (v) => g.clip_grad_norm_([...v, { grad: detached(Float64Array) }], 1),
  ],
  ['parameters is a number', TypeError, /^parameters: .*got number 3/, () => g.clip_grad_norm_(3 as never, 1)],
  ['parameters is null', TypeError, /^parameters: .*got null/, () => g.clip_grad_norm_(null as never, 1)],
  [
    'parameters is undefined',
    TypeError,
    /^parameters: .*got undefined/,
    () => g.clip_grad_norm_(undefined as never, 1),
  ],
  ['parameters is a string', TypeError, /^parameters: .*got string/, () => g.clip_grad_norm_('abc' as never, 1)],
  [
    'a Map as parameters',
    TypeError,
    /^parameters\[0\]: .*got Array\(2\)/,
    (v) => g.clip_grad_norm_(new Map([['w', v[0]]]) as never, 1),
  ],
  ['clip_value is NaN', RangeError, /^clip_value: must not be NaN/, (v) => g.clip_grad_value_(v, Number.NaN)],
  ['clip_value is a string', TypeError, /^clip_value: expected a number/, (v) => g.clip_grad_value_(v, '0.5' as never)],
  [
    'clip_grad_value_ with a bad item',
    TypeError,
    /^parameters\[2\]: /,
    (v) => g.clip_grad_value_([...v, new Uint16Array(2)] as never, 1),
  ],
  ['total_norm is negative', RangeError, /^total_norm: must be >= 0/, (v) => g.clip_grads_with_norm_(v, 1, -3)],
  [
    'total_norm is a string',
    TypeError,
    /^total_norm: expected a number/,
    (v) => g.clip_grads_with_norm_(v, 1, 'x' as never),
  ],
  ['get_total_norm with a bad tensor', TypeError, /^tensors\[2\]: /, (v) => g.get_total_norm([...v, 5] as never)],
  ['get_total_norm with a bad norm_type', RangeError, /^norm_type: /, (v) => g.get_total_norm(v, 'l2' as never)],
  [
    'options has a misspelled key',
    TypeError,
    /^options\.normtype: unknown option/,
    (v) => g.clipGradNorm(v, 1, { normtype: 1 } as never),
  ],
  [
    'options.normType is NaN',
    RangeError,
    /^options\.normType: must not be NaN/,
    (v) => g.clipGradNorm(v, 1, { normType: Number.NaN }),
  ],
  ['options is a number', TypeError, /^options: expected an object/, (v) => g.clipGradNorm(v, 1, 5 as never)],
  [
    'options.errorIfNonfinite is 1',
    TypeError,
    /^options\.errorIfNonfinite: /,
    (v) => g.getTotalNorm(v, { errorIfNonfinite: 1 as never }),
  ],
  ['maxNorm is NaN (camelCase)', RangeError, /^maxNorm: /, (v) => g.clipGradNorm(v, Number.NaN)],
  ['clipValue is NaN (camelCase)', RangeError, /^clipValue: /, (v) => g.clipGradValue(v, Number.NaN)],
  ['totalNorm is negative (camelCase)', RangeError, /^totalNorm: /, (v) => g.clipGradsWithNorm(v, 1, -1)],
  ['setNumThreads(0)', RangeError, /^n: expected an integer from 1 to 256, got 0/, () => g.setNumThreads(0)],
  ['setNumThreads(1.5)', RangeError, /^n: /, () => g.setNumThreads(1.5)],
  [
    'setNumThreads(1e9): above the cap',
    RangeError,
    /^n: expected an integer from 1 to 256, got 1000000000/,
    () => g.setNumThreads(1e9),
  ],
  ['setNumThreads of a string', TypeError, /^n: .*got string "4"/, () => g.setNumThreads('4' as never)],
  [
    'setBackend of an unknown name',
    RangeError,
    /^name: expected 'auto'.*got string "gpu"/,
    () => g.setBackend('gpu' as never),
  ],
  [
    'setBackend of an object without a prototype',
    TypeError,
    /^name: .*got object$/,
    () => g.setBackend(Object.create(null)),
  ],
  [
    'setBackend of a large typed array: a short message',
    TypeError,
    /^name: .*got Float32Array$/,
    () => g.setBackend(new Float32Array(1e6) as never),
  ],
  [
    'GradientBuffer with null options',
    TypeError,
    /^options: expected an object/,
    () => new g.GradientBuffer([4], null as never),
  ],
  [
    'a bare Int32Array as parameters',
    TypeError,
    /^parameters: expected Float32Array or Float64Array, got Int32Array \(convert it/,
    (v) => g.clip_grad_norm_(new Int32Array(v[0].length) as never, 1),
  ],
  [
    'a forwarding Proxy of a Float32Array',
    TypeError,
    /^parameters\[0\]: .*only looks like a Float32Array \(a Proxy/,
    (v) => g.clip_grad_norm_([new Proxy(v[0], {}), v[1]] as never, 1),
  ],
  [
    'a Proxy as a .grad',
    TypeError,
    /^parameters\[1\]\.grad: .*only looks like a Float/,
    (v) => g.clip_grad_norm_([v[0], { grad: new Proxy(v[1], {}) }] as never, 1),
  ],
];

describe('bad input (SPEC §5)', () => {
  it(`has at least 30 distinct bad calls (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  for (const [label, ErrorClass, pattern, call] of CASES) {
    it(`${label}: ${ErrorClass.name} naming the argument; valid gradients untouched`, () => {
      const valid = validGrads();
      const before = valid.map(bytesOf);
      let thrown: unknown;
      try {
        call(valid);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ErrorClass);
      expect((thrown as Error).message).toMatch(pattern);
      valid.forEach((a, i) => {
        expect(bytesOf(a), `valid gradient ${i}`).toEqual(before[i]);
      });
    });
  }

  it('a generator that throws part-way leaves the gradients it already yielded untouched', () => {
    const valid = validGrads();
    const before = valid.map(bytesOf);
    function* parameters() {
      yield* valid;
      throw new Error('data loader failed');
    }
    expect(() => g.clip_grad_norm_(parameters(), 1)).toThrow('data loader failed');
    valid.forEach((a, i) => {
      expect(bytesOf(a)).toEqual(before[i]);
    });
  });

  it('async variants reject with the same class and message', async () => {
    const valid = validGrads();
    await expect(g.clipGradNormAsync([...valid, 1] as never, 1)).rejects.toThrow(/^parameters\[2\]: /);
    await expect(g.clipGradNormAsync(valid, -1)).rejects.toBeInstanceOf(RangeError);
    await expect(g.getTotalNormAsync(valid, { normType: 'x' as never })).rejects.toBeInstanceOf(RangeError);
    await expect(g.clipGradValueAsync(valid, Number.NaN)).rejects.toThrow(/^clipValue: /);
  });

  it('async variants refuse a gradient on a resizable ArrayBuffer (it could shrink under the work), before any work', async () => {
    const valid = validGrads();
    const before = valid.map(bytesOf);
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const resizable = new Float32Array(new Resizable(16, { maxByteLength: 64 }));
    resizable.set([1, 2, 3, 4]);
    const message = /^parameters\[2\]: its ArrayBuffer is resizable/;
    await expect(g.clipGradNormAsync([...valid, resizable], 1e-3)).rejects.toThrow(message);
    await expect(g.clipGradValueAsync([...valid, resizable], 1e-3)).rejects.toThrow(message);
    await expect(g.getTotalNormAsync([...valid, { grad: resizable }])).rejects.toThrow(
      /^tensors\[2\]\.grad: its ArrayBuffer is resizable/,
    );
    valid.forEach((a, i) => {
      expect(bytesOf(a)).toEqual(before[i]);
    });
    expect([...resizable]).toEqual([1, 2, 3, 4]);
    // The synchronous functions have no work in flight, so they take it.
    expect(g.get_total_norm([resizable])).toBe(Math.sqrt(30));
  });

  it('SharedArrayBuffer-backed gradients are clipped like any other', () => {
    const [shared] = validGrads();
    const copy = Float32Array.from(shared);
    const a = g.clip_grad_norm_(shared, 1);
    const b = g.clip_grad_norm_(copy, 1);
    expect(a).toBe(b);
    expect(Array.from(shared)).toEqual(Array.from(copy));
  });
});
