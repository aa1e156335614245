import type { LockInspection } from '../shared/inspection.js';

/** True for a C0 or C1 control character (or DEL), which could drive the terminal. */
const isControl = (char: string): boolean => char <= '\u001f' || (char >= '\u007f' && char <= '\u009f');

/** A value as the table shows it: with a control character in it, as a JSON string with every control character escaped. */
const cell = (value: string): string =>
  [...value].some(isControl)
    ? JSON.stringify(value).replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : value;

const HEADER = ['CHANNEL', 'HELD', 'HOLDER', 'EXPIRES IN', 'WAITERS', 'TOKEN'];

/** The inspections as an aligned text table, one line per channel, `-` for what is not there. */
export const formatTable = (rows: readonly LockInspection[]): string => {
  const lines = [
    HEADER,
    ...rows.map((row) => [
      cell(row.channel),
      row.held ? 'yes' : 'no',
      row.holder === undefined ? '-' : cell(row.holder),
      row.expiresInMs === undefined ? '-' : `${row.expiresInMs} ms`,
      String(row.waiters),
      row.token === undefined ? '-' : String(row.token),
    ]),
  ];
  const widths = HEADER.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines.map((line) => line.map((text, column) => (column === line.length - 1 ? text : text.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
};
