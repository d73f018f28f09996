import type * as tf from '@tensorflow/tfjs';

/** n sequences of T steps: a value channel and a marker channel; the target is the sum of the two marked values. */
export function addingProblem(n: number, T: number, seed: number): { xs: tf.Tensor3D; ys: tf.Tensor2D };
/** SimpleRNN(32) → Dense(1), seeded, with a recurrent matrix of gain 1.5: its gradients can explode. */
export function simpleRnn(T?: number): tf.Sequential;
