/**
 * What the report renderers share: number formats, Markdown and text tables, the HTML page (inline CSS, a
 * tiny inline script, a Content-Security-Policy that forbids any network access) and its tables.
 */
import { escapeXml } from './svg.ts';
import type { Interval } from '../report/types.ts';

export const fixed = (value: number, digits = 3) => value.toFixed(digits);
export const interval = (value: Interval, digits = 3) =>
  `${fixed(value.estimate, digits)} [${fixed(value.low, digits)}, ${fixed(value.high, digits)}]`;
export const percent = (value: Interval) =>
  `${(100 * value.estimate).toFixed(0)}% [${(100 * value.low).toFixed(0)}, ${(100 * value.high).toFixed(0)}]`;

export function markdownTable(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
.verdict{font-size:1.1rem;padding:.75rem 1rem;border-left:5px solid #888;background:#f4f4f4}
.verdict.detected{border-color:#c0392b;background:#fdecea}.verdict.clear{border-color:#27ae60;background:#eafaf1}.verdict.inconclusive{border-color:#d4a000;background:#fff8e1}
tr.flagged td{background:#fff3cd}
.note{color:#7a5b00}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child,td.text{text-align:left}tr.significant td{background:#fff4e5}
.chart{width:100%;max-width:680px;height:auto;display:block;margin:1rem 0}
.chart .grid{stroke:#e6e6e6}.chart .axis{stroke:#444}.chart .tick{font-size:11px;fill:#333}.chart .chart-title{font-size:14px;font-weight:600;fill:#222}
.chart .band{fill:#bbb;fill-opacity:.35}.chart .band-line{stroke:#777;stroke-dasharray:4 3}.chart .reference-line{stroke:#999;stroke-dasharray:5 4}
.chart .dot{fill-opacity:.4}
details{margin:1rem 0}code{font-size:12px}
`;

/** Proves in a browser that the page's script ran and found its charts (tests read data-rote-rendered). */
const SCRIPT = `(function(){var charts=document.querySelectorAll('svg.chart');document.documentElement.setAttribute('data-rote-rendered',String(charts.length));})();`;

export function htmlPage(
  title: string,
  body: string,
  options: { bodyClass?: string; extraStyle?: string } = {},
): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${STYLE}${options.extraStyle ?? ''}</style>
</head>
<body${options.bodyClass ? ` class="${options.bodyClass}"` : ''}>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export function htmlTable(
  header: string[],
  rows: string[][],
  rowClasses: string[] = [],
  textColumns: number[] = [],
): string {
  const head = `<tr>${header.map((cell) => `<th>${escapeXml(cell)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (row, r) =>
        `<tr${rowClasses[r] ? ` class="${rowClasses[r]}"` : ''}>${row.map((cell, c) => `<td${textColumns.includes(c) ? ' class="text"' : ''}>${escapeXml(cell)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

export const signedFixed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${fixed(value, digits)}`;
export const signedInterval = (value: Interval, digits = 3) =>
  `${signedFixed(value.estimate, digits)} [${signedFixed(value.low, digits)}, ${signedFixed(value.high, digits)}]`;
