#!/usr/bin/env node
// Real runtimes: the same checks (test/runtimes/checks.mjs: a torch fixture subset, wasm == js
// bit for bit, a zero-copy GradientBuffer) inside headless Chromium (the `browser` export, bundled
// by esbuild, served from 127.0.0.1), Deno (`deno`), Bun (`bun`) and workerd via Miniflare
// (`workerd`, which imports the .wasm files). Needs `npm run build` first and Debian's chromium.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'build', 'runtime-check');
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);

function prepare() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'node_modules'), { recursive: true });
  symlinkSync(root, join(work, 'node_modules', 'gradclip'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'gradclip-runtime-check', private: true, type: 'module' }));
  // The bundles resolve 'gradclip' as a user's would, through the package's exports: not through the
  // repository tsconfig's "paths" (which map it to src/ for the type check), which esbuild would apply.
  writeFileSync(join(work, 'tsconfig.json'), '{}');
  for (const f of ['checks.mjs', 'browser-page.mjs', 'tfjs-page.mjs', 'worker.mjs', 'cli-check.mjs']) {
    copyFileSync(join(root, 'test', 'runtimes', f), join(work, f));
  }
  // A fixture subset, decoded to plain numbers so no runtime needs zlib or Buffer.
  const { cases } = JSON.parse(gunzipSync(readFileSync(join(root, 'test', 'fixtures', 'torch-2.11-clip.json.gz'))));
  const decode = (t) => {
    const bytes = Buffer.from(t.b64, 'base64');
    const Ctor = t.dtype === 'float32' ? Float32Array : Float64Array;
    const arr = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return Array.from(arr, (x) => (Number.isFinite(x) ? x : String(x)));
  };
  const picked = cases.filter(
    (c, i) =>
      /^(float32|float64)\/(normal|sparse|value|get_total_norm|nan|inf)/.test(c.name) &&
      !c.name.includes('[0, 5]') &&
      (!c.error || /non-finite/.test(c.error.message)) &&
      i % 7 === 0,
  );
  const subset = picked.map((c) => ({
    name: c.name,
    fn: c.fn,
    dtype: c.grads[0].dtype,
    call: c.call,
    grads: c.grads.map(decode),
    result: c.result,
    after: c.after ? c.after.map(decode) : null,
    error: c.error ? c.error.message : null,
  }));
  writeFileSync(join(work, 'fixtures.json'), JSON.stringify(subset));
  return subset.length;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Bundles `entry` (from the work folder) for the browser, serves it from 127.0.0.1 with `extra`
 * answering other paths, opens it in headless Chromium with `args`, and returns the page's
 * globalThis[resultKey] once set, with the page's uncaught errors and the browser's version.
 */
async function inChromium(entry, resultKey, args, extra = () => false, timeout = 120_000) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found (Debian: apt-get install -y chromium)`);
  const esbuild = await import('esbuild');
  const outfile = join(work, `${entry}.bundle.js`);
  await esbuild.build({
    entryPoints: [join(work, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile,
    tsconfig: join(work, 'tsconfig.json'),
    logLevel: 'error',
  });
  const bundle = readFileSync(outfile, 'utf8');
  if (/require\(["']node:|\.node["']/.test(bundle)) throw new Error(`the ${entry} bundle references Node built-ins or a .node file`);
  const html = '<!doctype html><meta charset="utf-8"><title>gradclip</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (!extra(req.url ?? '/', res)) res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium: browserType } = await import('playwright-core');
  const browser = await browserType.launch({ executablePath, args: [...CHROMIUM_ARGS, ...args] });
  try {
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction((key) => globalThis[key] !== undefined, resultKey, { timeout });
    const result = await page.evaluate((key) => globalThis[key], resultKey);
    return { result, errors, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

async function chromium() {
  const { result, errors, version } = await inChromium('browser-page.mjs', '__gradclipResult', ['--disable-gpu']);
  if (errors.length) result.failures = [...(result.failures ?? []), ...errors];
  result.runtime = `Chromium ${version}`;
  return result;
}

/**
 * gradclip/tfjs in Chromium on tfjs's cpu, wasm and webgl backends (test/runtimes/tfjs-page.mjs).
 * WebGL runs on SwiftShader (software): the page checks correctness and what is read back, not speed.
 * WebGPU (SwiftShader's Vulkan) is tried and reported, not required.
 */
async function chromiumTfjs() {
  const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const serveWasm = (url, res) => {
    if (!url.startsWith('/tfjs-wasm/')) return false;
    const file = url.slice('/tfjs-wasm/'.length);
    if (/^[\w.-]+\.wasm$/.test(file) && existsSync(join(wasmDir, file))) {
      res.writeHead(200, { 'content-type': 'application/wasm' }).end(readFileSync(join(wasmDir, file)));
    } else res.writeHead(404).end();
    return true;
  };
  const gpu = [
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-vulkan=swiftshader',
    '--use-webgpu-adapter=swiftshader',
  ];
  const { result: r, errors, version } = await inChromium('tfjs-page.mjs', '__tfjsResult', gpu, serveWasm, 300_000);
  const failures = [...(r.failures ?? []), ...r.results.flatMap((x) => x.failures), ...errors];
  const ran = r.results.filter((x) => x.ran);
  const line =
    `Chromium ${version} + tfjs: gradclip ${r.gradclipBackend?.name}/${r.gradclipBackend?.isa}; ` +
    r.results.map((x) => (x.ran ? `${x.name} ${x.transport} (leaked ${x.leaked})` : `${x.name} did not run`)).join(', ') +
    `; webgpu ${r.webgpu?.ran ? `${r.webgpu.transport} (leaked ${r.webgpu.leaked})${r.webgpu.failures.length ? ` with failures: ${r.webgpu.failures.join('; ')}` : ''}` : `did not run (${r.webgpu?.why ?? r.webgpu?.failures?.join('; ')})`} (tried, not required)`;
  return { tfjsLine: line, ok: failures.length === 0 && ran.length === 3, failures };
}

function cliRuntime(name, command, args) {
  const bin = join(root, 'node_modules', '.bin', command);
  const run = spawnSync(bin, args, { cwd: work, encoding: 'utf8', env: { ...process.env, GRADCLIP_BACKEND: '' } });
  if (run.status !== 0) throw new Error(`${name} exited ${run.status}: ${(run.stderr || run.stdout || String(run.error)).slice(-800)}`);
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  return { ...JSON.parse(run.stdout.trim().split('\n').at(-1)), runtime: `${name} ${version}` };
}

async function workerd() {
  const esbuild = await import('esbuild');
  const dir = join(work, 'worker');
  mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(work, 'worker.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker'],
    external: ['*.wasm'],
    outfile: join(dir, 'worker.js'),
    tsconfig: join(work, 'tsconfig.json'),
    logLevel: 'warning',
  });
  for (const f of ['gradclip.wasm', 'gradclip-simd.wasm']) copyFileSync(join(root, 'dist', f), join(dir, f));
  const { Miniflare } = await import('miniflare');
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, 'worker.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    host: '127.0.0.1',
  });
  try {
    const res = await mf.dispatchFetch('http://127.0.0.1/');
    return { ...(await res.json()), runtime: 'workerd (Miniflare)' };
  } finally {
    await mf.dispose();
  }
}

const count = prepare();
// Node's digest of general-p norms (gradclip's own pow): every runtime and backend must match it.
const nodeGradclip = await import(join(root, 'dist', 'index.js'));
const { powDigest } = await import(join(root, 'test', 'runtimes', 'checks.mjs'));
nodeGradclip.setBackend('js');
const nodeDigest = powDigest(nodeGradclip);
console.log(`runtime checks: ${count} torch fixture cases, 144 wasm-vs-js identity cases, general-p norm bits against Node's, a zero-copy GradientBuffer, NaN bits over 20,000 calls per case and backend, 10,000 live GradientBuffers`);
const runtimes = [
  ['chromium', chromium],
  ['chromium-tfjs', chromiumTfjs],
  // No permission flags at all, and the environment explicitly denied: reading GRADCLIP_* is optional.
  ['deno', () => cliRuntime('Deno', 'deno', ['run', 'cli-check.mjs'])],
  ['deno', () => cliRuntime('Deno --deny-env', 'deno', ['run', '--deny-env', 'cli-check.mjs'])],
  ['bun', () => cliRuntime('Bun', 'bun', ['cli-check.mjs'])],
  ['workerd', workerd],
];
let failed = 0;
let passed = 0;
for (const [name, run] of runtimes) {
  if (!wanted(name)) continue;
  try {
    const r = await run();
    if (r.tfjsLine) {
      if (r.ok) passed++;
      else failed++;
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.tfjsLine}${r.ok ? '' : `\n     ${r.failures.join('\n     ')}`}`);
      continue;
    }
    let line = `${r.runtime}: backend ${r.backend?.name}/${r.backend?.isa}, fixtures ${r.fixtures?.passed} passed / ${r.fixtures?.failed} failed, identity ${r.identity?.cases - r.identity?.failed}/${r.identity?.cases}, zero-copy ${r.zeroCopy ? 'ok' : 'FAILED'}, NaN bits written ${(r.nanBits ?? []).join(' ') || 'none'}, ${r.gradientBuffers?.live} live GradientBuffers in ${r.gradientBuffers?.memories} wasm memories, 16-bit: ${r.float16 ?? 'not checked'}`;
    const digests = Object.entries(r.powDigest ?? {});
    const differing = digests.filter(([, d]) => d !== nodeDigest).map(([b]) => b);
    line += `, general-p bits ${digests.length > 0 && differing.length === 0 ? `= Node's on ${digests.map(([b]) => b).join('/')}` : `DIFFER on ${differing.join('/') || 'all'}`}`;
    if (differing.length > 0 || digests.length === 0) {
      r.ok = false;
      r.failures = [...(r.failures ?? []), `general-p norms differ from Node's on ${differing.join(', ') || 'every backend'}`];
    }
    if (r.ok) {
      passed++;
      console.log(`ok   ${line}`);
    } else {
      failed++;
      console.log(`FAIL ${line}\n     ${(r.failures ?? []).join('\n     ')}`);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
