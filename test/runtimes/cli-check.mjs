// For Deno and Bun: run from a consumer folder whose node_modules/gradclip is this package.
// The fixtures are a JSON module, not a file read: Deno then needs no permission at all.
import * as g from 'gradclip';
import { runChecks } from './checks.mjs';
import fixtures from './fixtures.json' with { type: 'json' };

console.log(JSON.stringify(await runChecks(g, fixtures)));
