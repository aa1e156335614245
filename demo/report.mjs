// What the demo shows: a progress line per run (redrawn in place on a terminal, written once when done
// otherwise) and the closing table.

/** The median and the largest of `values` (nearest rank), or undefined when there are none. */
export const percentiles = (values) => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.ceil(sorted.length / 2) - 1], max: sorted[sorted.length - 1] };
};

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const millis = (ms) => (ms === undefined ? '-' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);

/** Writes to `stream`; on a terminal redraws the current line in place and colours the verdicts. */
export const createView = (stream, { quiet = false } = {}) => {
  const live = !quiet && stream.isTTY === true;
  const colour = live && !process.env.NO_COLOR;
  const paint = (code) => (text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const green = paint('32');
  const red = paint('31');
  const dim = paint('2');
  const fit = (text) => (stream.columns ? text.slice(0, stream.columns - 1) : text);
  let drawn = false;

  const write = (text) => {
    if (quiet) return;
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
    stream.write(`${text}\n`);
  };

  return {
    green,
    red,
    dim,
    write,
    /** A run in progress: `update(done)` redraws its line (terminal only, at most 10 times a second). */
    phase(label, total) {
      const started = performance.now();
      let done = 0;
      const draw = () => {
        const width = 24;
        const full = Math.round((done / total) * width);
        const bar = `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
        stream.write(`\r\x1b[2K${fit(`${label}  ${bar} ${done}/${total}  ${seconds(performance.now() - started)}`)}`);
        drawn = true;
      };
      const ticker = live ? setInterval(draw, 100) : undefined;
      if (live) draw();
      return {
        update: (count) => void (done = count),
        /** Replaces the live line by the run's outcome. */
        finish: (text) => {
          clearInterval(ticker);
          write(`${label}  ${text}`);
        },
        stop: () => {
          clearInterval(ticker);
          if (drawn) stream.write('\n');
          drawn = false;
        },
      };
    },
  };
};

const COLUMNS = [
  ['run', 'left'],
  ['requests', 'right'],
  ['processes', 'right'],
  ['wrong', 'right'],
  ['time', 'right'],
  ['lock wait p50', 'right'],
  ['max', 'right'],
];

/** The closing table, one row per run, as lines of text. */
export const table = (rows) => {
  const cells = [COLUMNS.map(([title]) => title), ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => String(row[i]).length)));
  return cells.map((row) =>
    row
      .map((cell, i) => (COLUMNS[i][1] === 'left' ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
};
