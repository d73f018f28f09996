// The worker bundled for workerd: imports gradclip through its `workerd` export condition.
import * as g from 'gradclip';
import { runChecks } from './checks.mjs';
import fixtures from './fixtures.json';

export default {
  async fetch() {
    try {
      return Response.json(await runChecks(g, fixtures));
    } catch (err) {
      return Response.json({ ok: false, failures: [String(err?.stack ? err.stack : err)] });
    }
  },
};
