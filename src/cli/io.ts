import { accessSync, constants, mkdirSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The command's input and output rules: a usage error (unknown command or option, a bad or missing
 * value) is a one-line message and exit status 2; a failure while running (an output folder that
 * cannot be made, a full disk) is a one-line message and exit status 1; a reader that went away
 * (`gradclip info --json | head -c1`, EPIPE) ends the command quietly, as Unix tools do.
 */

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes to standard output synchronously, so a write error surfaces here, not as an unhandled stream event. */
export function print(text = ''): void {
  const data = `${text}\n`;
  let done = 0;
  while (done < data.length) {
    try {
      done += writeSync(1, data.slice(done));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe that is full: try again
      if (code === 'EPIPE') process.exit(0);
      throw new Error(`cannot write to standard output: ${(err as Error).message}`);
    }
  }
}

/**
 * Makes `dir` (and its missing parents) and checks it can be written, before any work is done.
 * Done by hand: Node 20's recursive mkdir never returns for some paths (/proc/x).
 */
export function prepareOutputDir(dir: string, option: string): string {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch {
      const parent = dirname(at);
      if (parent === at) throw new Error(`${option}: cannot create ${target}`);
      missing.unshift(at);
      at = parent;
      continue;
    }
    if (!isDir) throw new Error(`${option}: ${at} is not a folder`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      throw new Error(
        `${option}: cannot create ${d} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  try {
    accessSync(target, constants.W_OK);
  } catch {
    throw new Error(`${option}: ${target} is not writable`);
  }
  return target;
}

/** Refuses any argument that is not one of `known` flags (usage error). */
export function onlyFlags(args: readonly string[], known: readonly string[], command: string): void {
  for (const a of args) {
    if (!known.includes(a))
      throw new UsageError(`unknown option '${a}' for ${command} (see gradclip ${command} --help)`);
  }
}
