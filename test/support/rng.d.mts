/** A small seeded PRNG (mulberry32): numbers in [0, 1), the same on every run and machine. */
export function rng(seed: number): () => number;
