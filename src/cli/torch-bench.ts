import { spawnSync } from 'node:child_process';
import type { Shape } from './bench.js';

/**
 * PyTorch on the same shapes, when `python3 -c "import torch"` works (Debian's python3-torch,
 * say). Never a dependency: without torch this returns null and the bench says so.
 */

const SCRIPT = String.raw`
import json, sys, time, statistics
import torch
shapes = json.loads(sys.argv[1]); min_time = float(sys.argv[2])
if len(sys.argv) > 3: torch.set_num_threads(int(sys.argv[3]))
out = {"version": torch.__version__, "threads": torch.get_num_threads(), "rows": []}
def timed(fn):
    fn(); ts = []; start = time.perf_counter()
    while len(ts) < 3 or (time.perf_counter() - start < min_time and len(ts) < 100):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)
for shape in shapes:
    params = [torch.nn.Parameter(torch.empty(n)) for n in shape["sizes"]]
    for p in params:
        p.grad = torch.rand(p.shape) * 2 - 1
    state = {"norm": float(torch.nn.utils.clip_grad_norm_(params, float("inf")))}
    def clip():
        m = state["norm"] * (1 - 1e-4)
        t = float(torch.nn.utils.clip_grad_norm_(params, m))
        state["norm"] = t * min(1.0, m / (t + 1e-6))
    out["rows"].append({"shape": shape["name"], "op": "clip", "ms": timed(clip)})
    out["rows"].append({"shape": shape["name"], "op": "no-clip", "ms": timed(lambda: torch.nn.utils.clip_grad_norm_(params, float("inf")))})
    out["rows"].append({"shape": shape["name"], "op": "value", "ms": timed(lambda: torch.nn.utils.clip_grad_value_(params, 1e-3))})
    grads = [p.grad for p in params]
    # The total norm alone, as clip_grad_norm_ computes it (torch 1.13: the norm of the per-tensor norms).
    out["rows"].append({"shape": shape["name"], "op": "norm", "ms": timed(lambda: torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))})
    one = torch.tensor(1.0)
    def scale():
        for g in grads: g.mul_(one)
    # The write pass alone, as clip_grad_norm_ does it (grad.mul_ by a 0-dim tensor).
    out["rows"].append({"shape": shape["name"], "op": "scale", "ms": timed(scale)})
    out["rows"].append({"shape": shape["name"], "op": "p=3 norm", "ms": timed(lambda: torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, 3) for g in grads]), 3))})
    def per_tensor():
        norms = torch.stack([torch.linalg.vector_norm(g) for g in grads])
        return torch.linalg.vector_norm(norms), norms
    out["rows"].append({"shape": shape["name"], "op": "per-tensor norms", "ms": timed(per_tensor)})
print(json.dumps(out))
`;

export interface TorchTimings {
  version: string;
  threads: number;
  python: string;
  rows: { shape: string; op: string; ms: number }[];
}

/** `threads`: torch.set_num_threads first (default: torch's own choice, all cores). */
export function torchTimings(shapes: Shape[], minTimeMs: number, threads?: number): TorchTimings | string {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const args = [JSON.stringify(shapes), String(minTimeMs / 1000), ...(threads ? [String(threads)] : [])];
    const run = spawnSync(python, ['-c', SCRIPT, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (run.status !== 0) return `torch run failed: ${run.stderr.trim().split('\n').at(-1)}`;
    // The results are the last line; a startup hook or a warning may print lines before it.
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    try {
      return { ...JSON.parse(line), python };
    } catch {
      return `torch run printed no results (last line: ${line.slice(0, 80)})`;
    }
  }
  return 'python3 -c "import torch" failed: PyTorch is not installed (Debian: apt-get install python3-torch)';
}
