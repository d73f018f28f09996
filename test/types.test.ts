import { describe, expectTypeOf, it } from 'vitest';
import * as g from '../src/index.js';

/**
 * Types that ordinary code must get through `tsc` (npm run lint type-checks test/): each line here
 * failed to compile before, or is the README's own example. The runtime assertions are incidental.
 */

describe('types', () => {
  it('a parameter interface with an optional grad is a Parameter', () => {
    interface P {
      grad?: Float32Array;
    }
    const params: P[] = [{ grad: new Float32Array([3, 4]) }, { grad: undefined }];
    expectTypeOf(g.clip_grad_norm_(params, 1)).toEqualTypeOf<number>();
    expectTypeOf(g.clipGradNorm(params, 1, { normType: 'inf' })).toEqualTypeOf<number>();
  });

  it('GradientBuffer views have the type of their dtype', () => {
    const f32 = new g.GradientBuffer([4, 5]);
    const f64 = new g.GradientBuffer([4], { dtype: 'float64' });
    expectTypeOf(f32.views[0]).toEqualTypeOf<Float32Array>();
    expectTypeOf(f64.views[0]).toEqualTypeOf<Float64Array>();
    const view: Float32Array = new g.GradientBuffer([3], { dtype: 'float32' }).views[0];
    expectTypeOf(view).toEqualTypeOf<Float32Array>();
    expectTypeOf(f64.dtype).toEqualTypeOf<'float64'>();
    expectTypeOf(f32.flat).toEqualTypeOf<Float32Array>();
    const f16 = new g.GradientBuffer([4], { dtype: 'float16' });
    expectTypeOf(f16.views[0]).toEqualTypeOf<g.HalfGradient>();
    expectTypeOf(f16.views[0].bits).toEqualTypeOf<Uint16Array>();
    expectTypeOf(f16.dtype).toEqualTypeOf<'float16'>();
    g.clipGradNorm(f16.views, 1);
    expectTypeOf(g.GradientBuffer.bytesFor).parameter(1).toEqualTypeOf<g.BufferDtype | undefined>();
    expectTypeOf(g.clipGradValue).parameter(1).toEqualTypeOf<number | g.ValueBounds>();
    g.clipGradValue(f32.views, { min: -1 });
    expectTypeOf(g.clipGradNormPerTensor(f32.views, 1)).toEqualTypeOf<Float64Array>();
    expectTypeOf(g.clipGradRmsPerTensor(f32.views, 1)).toEqualTypeOf<Float64Array>();
    expectTypeOf(g.clipGradNorm(f32.views, 1, { onNonFinite: 'skip' })).toEqualTypeOf<number>();
    expectTypeOf(g.getNorms(f32.views)).toEqualTypeOf<{ total: number; perTensor: Float64Array }>();
    expectTypeOf(f64.flat).toEqualTypeOf<Float64Array>();
  });

  it('the README quick start type-checks', () => {
    const params = [{ grad: new Float32Array([3, 4]) }, { grad: null }, { grad: new Float64Array([12]) }];
    expectTypeOf(g.clip_grad_norm_(params, 1.0)).toEqualTypeOf<number>();
    expectTypeOf(g.clip_grad_value_(params, 0.5)).toEqualTypeOf<void>();
    expectTypeOf(g.nn.utils.clip_grad_norm_(params, 1.0, 'inf', false)).toEqualTypeOf<number>();
    expectTypeOf(g.getTotalNormAsync(params)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(g.getBackend().name).toEqualTypeOf<'native' | 'wasm' | 'js'>();
  });
});
