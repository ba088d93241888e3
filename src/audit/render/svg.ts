/**
 * Small inline SVG charts for the HTML reports: strings in, strings out, no
 * scripts, fonts or external assets.
 */
import type { Interval } from '../stats/statistics.ts';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 34, bottom: 46 };

interface Axis {
  y: (value: number) => number;
  x: (category: number, offset?: number) => number;
  band: number;
  frame: string;
}

function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit < 1.5 ? 1 : unit < 3 ? 2 : unit < 7 ? 5 : 10) * power;
}

function axis(title: string, yLabel: string, categories: string[], yMin: number, yMax: number): Axis {
  if (!(yMax > yMin)) yMax = yMin + 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const band = plotWidth / Math.max(1, categories.length);
  const y = (value: number) => MARGIN.top + plotHeight * (1 - (value - yMin) / (yMax - yMin));
  const x = (category: number, offset = 0) => MARGIN.left + band * (category + 0.5) + offset;
  const parts: string[] = [];
  parts.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" class="chart-title">${escapeXml(title)}</text>`);
  const step = niceStep(yMax - yMin);
  for (let tick = Math.ceil(yMin / step) * step; tick <= yMax + 1e-9; tick += step) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" class="grid"/>`);
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle" class="tick">${+tick.toFixed(6)}</text>`,
    );
  }
  categories.forEach((category, i) => {
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle" class="tick">${escapeXml(category)}</text>`,
    );
  });
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>`,
  );
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>`,
  );
  parts.push(
    `<text transform="translate(14 ${MARGIN.top + (HEIGHT - MARGIN.top - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle" class="tick">${escapeXml(yLabel)}</text>`,
  );
  return { y, x, band, frame: parts.join('') };
}

/** The chart's SVG element; a legend of several rows (see legend) makes it taller. */
function wrap(id: string, title: string, body: string, legendRows = 1): string {
  const height = HEIGHT + LEGEND_ROW * (legendRows - 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="chart" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(title)}">${body}</svg>`;
}

/** Height of one row of a legend (px of the viewBox). */
const LEGEND_ROW = 16;

/** Deterministic horizontal spread of the dots of one category. */
function jitter(index: number, count: number, width: number): number {
  if (count <= 1) return 0;
  return (index / (count - 1) - 0.5) * width;
}

export interface IntervalSeries {
  name: string;
  /** One interval per category (null: no value). */
  intervals: (Interval | null)[];
  /** Optional individual values per category, drawn faintly. */
  values?: number[][];
}

/** Estimates with interval bars per category, optionally a shaded reference band (e.g. held-out). */
export function intervalChart(options: {
  id: string;
  title: string;
  yLabel: string;
  categories: string[];
  series: IntervalSeries[];
  band?: { low: number; high: number; estimate: number; label: string };
  yMin?: number;
}): string {
  const all: number[] = [];
  for (const series of options.series) {
    for (const interval of series.intervals) if (interval) all.push(interval.low, interval.high);
    for (const values of series.values ?? []) all.push(...values);
  }
  if (options.band) all.push(options.band.low, options.band.high);
  // 5% room above (and below negative data); an all-zero chart (two models that agree) gets the unit range, not ticks of 1e-9.
  const low = Math.min(0, ...all);
  const high = Math.max(0, ...all);
  const span = high - low > 1e-6 ? high - low : 1;
  const yMin = options.yMin ?? (low < 0 ? low - 0.05 * span : 0);
  const yMax = high - low > 1e-6 ? high + 0.05 * span : yMin + 1;
  const a = axis(options.title, options.yLabel, options.categories, yMin, yMax);
  const parts = [a.frame];
  if (options.band) {
    const top = a.y(options.band.high);
    const bottom = a.y(options.band.low);
    parts.push(
      `<rect x="${MARGIN.left}" y="${top.toFixed(1)}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${Math.max(1, bottom - top).toFixed(1)}" class="band"><title>${escapeXml(options.band.label)}</title></rect>`,
    );
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${a.y(options.band.estimate).toFixed(1)}" y2="${a.y(options.band.estimate).toFixed(1)}" class="band-line"/>`,
    );
  }
  const count = options.series.length;
  const slot = Math.min(36, (a.band * 0.7) / count);
  options.series.forEach((series, s) => {
    const color = SERIES_COLORS[s % SERIES_COLORS.length]!;
    const offset = (s - (count - 1) / 2) * slot;
    series.intervals.forEach((interval, c) => {
      const values = series.values?.[c] ?? [];
      values.forEach((value, i) => {
        parts.push(
          `<circle cx="${a.x(c, offset + jitter(i, values.length, slot * 0.6)).toFixed(1)}" cy="${a.y(value).toFixed(1)}" r="2" fill="${color}" class="dot"/>`,
        );
      });
      if (!interval) return;
      const cx = a.x(c, offset).toFixed(1);
      parts.push(
        `<g class="interval" data-series="${escapeXml(series.name)}"><title>${escapeXml(`${series.name}, ${options.categories[c]}: ${interval.estimate.toFixed(4)} [${interval.low.toFixed(4)}, ${interval.high.toFixed(4)}]`)}</title>` +
          `<line x1="${cx}" x2="${cx}" y1="${a.y(interval.low).toFixed(1)}" y2="${a.y(interval.high).toFixed(1)}" stroke="${color}" stroke-width="2"/>` +
          `<line x1="${(+cx - 5).toFixed(1)}" x2="${(+cx + 5).toFixed(1)}" y1="${a.y(interval.low).toFixed(1)}" y2="${a.y(interval.low).toFixed(1)}" stroke="${color}" stroke-width="2"/>` +
          `<line x1="${(+cx - 5).toFixed(1)}" x2="${(+cx + 5).toFixed(1)}" y1="${a.y(interval.high).toFixed(1)}" y2="${a.y(interval.high).toFixed(1)}" stroke="${color}" stroke-width="2"/>` +
          `<circle cx="${cx}" cy="${a.y(interval.estimate).toFixed(1)}" r="4.5" fill="${color}"/></g>`,
      );
    });
  });
  const key = legend(
    options.series.map((series) => series.name),
    options.band?.label,
  );
  parts.push(key.markup);
  return wrap(options.id, options.title, parts.join(''), key.rows);
}

/** The series' names under the chart, in as many rows as they need (a name is never cut at the edge). */
function legend(names: string[], bandLabel?: string): { markup: string; rows: number } {
  const items: string[] = [];
  let x = MARGIN.left;
  let y = HEIGHT - 12;
  let rows = 1;
  // Each item's width estimated from its text (7 px per character at the tick size), moved to a new row when it would not fit.
  const place = (width: number) => {
    if (x + width > WIDTH - MARGIN.right && x > MARGIN.left) {
      x = MARGIN.left;
      y += LEGEND_ROW;
      rows++;
    }
  };
  names.forEach((name, i) => {
    if (names.length === 1 && !bandLabel) return;
    place(14 + 7 * name.length);
    items.push(
      `<circle cx="${x + 5}" cy="${y - 4}" r="4.5" fill="${SERIES_COLORS[i % SERIES_COLORS.length]}"/><text x="${x + 14}" y="${y}" class="tick">${escapeXml(name)}</text>`,
    );
    x += 24 + 7 * name.length;
  });
  if (bandLabel) {
    place(18 + 7 * bandLabel.length);
    items.push(
      `<rect x="${x}" y="${y - 9}" width="14" height="10" class="band"/><text x="${x + 18}" y="${y}" class="tick">${escapeXml(bandLabel)}</text>`,
    );
  }
  return { markup: items.join(''), rows };
}

/** Individual values per category with their mean marked, and optional horizontal reference lines. */
export function dotChart(options: {
  id: string;
  title: string;
  yLabel: string;
  categories: string[];
  series: { name: string; values: number[][] }[];
  lines?: { value: number; label: string }[];
}): string {
  const all = options.series.flatMap((series) => series.values.flat());
  for (const line of options.lines ?? []) all.push(line.value);
  const yMin = Math.min(0, ...all);
  const yMax = Math.max(...all, yMin + 1) * 1.08;
  const a = axis(options.title, options.yLabel, options.categories, yMin, yMax);
  const parts = [a.frame];
  for (const line of options.lines ?? []) {
    const ly = a.y(line.value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ly}" y2="${ly}" class="reference-line"/>`);
    parts.push(
      `<text x="${WIDTH - MARGIN.right - 4}" y="${+ly - 4}" text-anchor="end" class="tick">${escapeXml(line.label)}</text>`,
    );
  }
  const count = options.series.length;
  const slot = Math.min(40, (a.band * 0.7) / count);
  options.series.forEach((series, s) => {
    const color = SERIES_COLORS[s % SERIES_COLORS.length]!;
    const offset = (s - (count - 1) / 2) * slot;
    series.values.forEach((values, c) => {
      values.forEach((value, i) => {
        parts.push(
          `<circle cx="${a.x(c, offset + jitter(i, values.length, slot * 0.7)).toFixed(1)}" cy="${a.y(value).toFixed(1)}" r="3" fill="${color}" fill-opacity="0.55" class="dot"/>`,
        );
      });
      if (values.length === 0) return;
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const my = a.y(mean).toFixed(1);
      parts.push(
        `<line x1="${a.x(c, offset - slot * 0.45).toFixed(1)}" x2="${a.x(c, offset + slot * 0.45).toFixed(1)}" y1="${my}" y2="${my}" stroke="${color}" stroke-width="3" class="mean"><title>${escapeXml(`${series.name}, ${options.categories[c]}: mean ${mean.toFixed(3)}`)}</title></line>`,
      );
    });
  });
  const key = count > 1 ? legend(options.series.map((series) => series.name)) : { markup: '', rows: 1 };
  parts.push(key.markup);
  return wrap(options.id, options.title, parts.join(''), key.rows);
}
