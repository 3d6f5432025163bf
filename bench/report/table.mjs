/** Tables for the terminal and for Markdown, from rows of plain objects. */

/** @param {Array<[key: string, title: string]>} columns */
export function textTable(columns, rows) {
  const cells = [columns.map(([, t]) => t), ...rows.map((r) => columns.map(([k]) => fmt(r[k])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(columns, rows) {
  const head = `| ${columns.map(([, t]) => t).join(' | ')} |`;
  const rule = `|${columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  return [head, rule, ...rows.map((r) => `| ${columns.map(([k]) => fmt(r[k])).join(' | ')} |`)].join('\n');
}

export function fmt(v) {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return '–';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
  }
  return String(v);
}
