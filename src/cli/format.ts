/** Plain-text tables and progress for the CLI. */

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A one-line progress bar on stderr (only when stderr is a terminal, or when forced). */
export function progressBar(label: string, enabled = Boolean(process.stderr.isTTY)) {
  let last = '';
  return {
    update(done: number, total: number, detail = '') {
      if (!enabled) return;
      const width = 28;
      const filled = Math.round((done / total) * width);
      const text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`;
      if (text === last) return;
      last = text;
      process.stderr.write(`\r${text.slice(0, 110).padEnd(110)}`);
    },
    done() {
      if (enabled) process.stderr.write(`\r${' '.repeat(110)}\r`);
    },
  };
}

export function fixed(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
