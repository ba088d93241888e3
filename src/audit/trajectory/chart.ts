/**
 * A value-against-step line chart as inline SVG (strings in, string out, no scripts or assets), in the
 * style of the audit reports' charts: one line per series, interval bars where given, and a log-scaled
 * step axis where the steps span a decade or more.
 */
import { escapeXml, SERIES_COLORS } from '../render/svg.ts';

export interface StepLine {
  name: string;
  points: { step: number; value: number; low?: number; high?: number }[];
  /** Drawn dashed (e.g. held-out next to inserted groups). */
  dashed?: boolean;
}

const WIDTH = 460;
const HEIGHT = 260;
const MARGIN = { left: 52, right: 12, top: 30, bottom: 58 };

/** Log-scaled when every step is positive and the largest is at least 10x the smallest. */
export function useLogSteps(steps: readonly number[]): boolean {
  const positive = steps.filter((step) => step > 0);
  return positive.length === steps.length && steps.length > 1 && Math.max(...steps) >= 10 * Math.min(...steps);
}

function niceStep(span: number): number {
  const raw = span / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit < 1.5 ? 1 : unit < 3 ? 2 : unit < 7 ? 5 : 10) * power;
}

const shortNumber = (value: number) =>
  Math.abs(value) >= 10000 ? `${+(value / 1000).toFixed(1)}k` : String(+value.toFixed(6));

export function stepChart(options: {
  id: string;
  title: string;
  yLabel: string;
  lines: StepLine[];
  /** Fixed y range (e.g. 0..1 for AUC); else from the data, including 0. */
  yRange?: [number, number];
  /** A horizontal reference line (e.g. AUC 0.5). */
  reference?: { value: number; label: string };
}): string {
  const steps = [...new Set(options.lines.flatMap((line) => line.points.map((point) => point.step)))].sort(
    (a, b) => a - b,
  );
  const log = useLogSteps(steps);
  const values = options.lines.flatMap((line) =>
    line.points.flatMap((point) => [point.value, point.low ?? point.value, point.high ?? point.value]),
  );
  if (options.reference) values.push(options.reference.value);
  let [yMin, yMax] = options.yRange ?? [Math.min(0, ...values), Math.max(0, ...values)];
  if (!options.yRange) yMax += 0.05 * (yMax - yMin);
  if (!(yMax > yMin)) yMax = yMin + 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const position = (step: number) => (log ? Math.log10(step) : step);
  const xLow = steps.length ? position(steps[0]!) : 0;
  const xHigh = steps.length ? position(steps[steps.length - 1]!) : 1;
  const pad = (xHigh - xLow || 1) * 0.06;
  const xAt = (step: number) =>
    MARGIN.left + (plotWidth * (position(step) - xLow + pad)) / (xHigh - xLow + 2 * pad || 1);
  const y = (value: number) => MARGIN.top + plotHeight * (1 - (value - yMin) / (yMax - yMin));
  const parts: string[] = [
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" class="chart-title">${escapeXml(options.title)}</text>`,
  ];
  const tick = niceStep(yMax - yMin);
  for (let value = Math.ceil(yMin / tick) * tick; value <= yMax + 1e-9; value += tick) {
    const ty = y(value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" class="grid"/>`);
    parts.push(
      `<text x="${MARGIN.left - 5}" y="${ty}" text-anchor="end" dominant-baseline="middle" class="tick">${shortNumber(value)}</text>`,
    );
  }
  for (const step of steps) {
    const tx = xAt(step).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom + 4}" class="axis"/>`,
      `<text x="${tx}" y="${HEIGHT - MARGIN.bottom + 15}" text-anchor="middle" class="tick">${shortNumber(step)}</text>`,
    );
  }
  const bottom = HEIGHT - MARGIN.bottom;
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}" class="axis"/>`,
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${bottom}" y2="${bottom}" class="axis"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${bottom + 30}" text-anchor="middle" class="tick">${log ? 'step (log scale)' : 'step'}</text>`,
    `<text transform="translate(12 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="tick">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.reference) {
    const ry = y(options.reference.value).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ry}" y2="${ry}" class="reference-line"/>`,
      `<text x="${WIDTH - MARGIN.right - 3}" y="${+ry - 3}" text-anchor="end" class="tick">${escapeXml(options.reference.label)}</text>`,
    );
  }
  // Series side by side at each step (4 px apart), so equal values stay visible.
  const dodge = (i: number) =>
    (i - (options.lines.length - 1) / 2) * Math.min(4, 24 / Math.max(1, options.lines.length));
  options.lines.forEach((line, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
    const points = line.points.slice().sort((a, b) => a.step - b.step);
    const x = (step: number) => xAt(step) + dodge(i);
    if (points.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 4"' : ''} points="${points.map((point) => `${x(point.step).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const point of points) {
      const px = x(point.step).toFixed(1);
      const interval =
        point.low !== undefined && point.high !== undefined
          ? ` [${point.low.toFixed(4)}, ${point.high.toFixed(4)}]`
          : '';
      const bar =
        point.low !== undefined && point.high !== undefined
          ? `<path d="M${px} ${y(point.low).toFixed(1)}V${y(point.high).toFixed(1)}M${+px - 3} ${y(point.low).toFixed(1)}h6M${+px - 3} ${y(point.high).toFixed(1)}h6" stroke="${color}" stroke-width="1.5" fill="none"/>`
          : '';
      parts.push(
        `<g class="point" data-series="${escapeXml(line.name)}" data-step="${point.step}"><title>${escapeXml(`${line.name}, step ${point.step}: ${point.value.toFixed(4)}${interval}`)}</title>` +
          `${bar}<circle cx="${px}" cy="${y(point.value).toFixed(1)}" r="3.5" fill="${color}"/></g>`,
      );
    }
  });
  let legendX = MARGIN.left;
  for (const [i, line] of options.lines.entries()) {
    if (options.lines.length === 1) break;
    const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 14}" y1="${HEIGHT - 8}" y2="${HEIGHT - 8}" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${legendX + 18}" y="${HEIGHT - 4}" class="tick">${escapeXml(line.name)}</text>`,
    );
    legendX += 28 + 6.5 * line.name.length;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(options.id)}" class="chart step-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}</svg>`;
}
