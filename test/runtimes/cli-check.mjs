// For Deno and Bun: run from a consumer folder whose node_modules/gradclip is this package.
import * as g from 'gradclip';
import { runChecks } from './checks.mjs';

const fixtures = JSON.parse(
  await (await import('node:fs/promises')).readFile(new URL('./fixtures.json', import.meta.url), 'utf8'),
);
console.log(JSON.stringify(await runChecks(g, fixtures)));
