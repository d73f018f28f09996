// The page bundled for Chromium: imports gradclip through its `browser` export condition.
import * as g from 'gradclip';
import { runChecks } from './checks.mjs';
import fixtures from './fixtures.json';

runChecks(g, fixtures).then(
  (r) => {
    globalThis.__gradclipResult = r;
  },
  (err) => {
    globalThis.__gradclipResult = { ok: false, failures: [String(err?.stack ? err.stack : err)] };
  },
);
