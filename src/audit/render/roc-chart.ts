/**
 * ROC curves as inline SVG (the membership-inference figures of the audit
 * page): linear axes, and log-log axes for the low-FPR end that privacy
 * auditors read. Strings in, strings out, like svg.ts.
 */
import { escapeXml, SERIES_COLORS } from './svg.ts';

const WIDTH = 420;
const HEIGHT = 400;
const MARGIN = { left: 58, right: 16, top: 34, bottom: 96 };

export interface RocSeries {
  name: string;
  fpr: readonly number[];
  tpr: readonly number[];
}

function decadeFloor(value: number): number {
  return 10 ** Math.floor(Math.log10(value) + 1e-9);
}

/**
 * One ROC chart. Log scale: the axes start at the decade below 1 / negatives
 * (x) and 1 / positives (y); points at FPR or TPR 0 are drawn on that edge.
 */
export function rocChart(options: {
  id: string;
  title: string;
  series: RocSeries[];
  scale: 'linear' | 'log';
  negatives: number;
  positives: number;
}): string {
  const log = options.scale === 'log';
  const xMin = log ? decadeFloor(1 / Math.max(1, options.negatives)) : 0;
  const yMin = log ? decadeFloor(1 / Math.max(1, options.positives)) : 0;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const position = (value: number, min: number) =>
    log ? (Math.log10(Math.max(value, min)) - Math.log10(min)) / -Math.log10(min) : value;
  const x = (fpr: number) => MARGIN.left + plotWidth * position(fpr, xMin);
  const y = (tpr: number) => MARGIN.top + plotHeight * (1 - position(tpr, yMin));
  const parts: string[] = [
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" class="chart-title">${escapeXml(options.title)}</text>`,
  ];
  const ticks = (min: number) =>
    log
      ? Array.from({ length: Math.round(-Math.log10(min)) + 1 }, (_, i) => min * 10 ** i)
      : [0, 0.2, 0.4, 0.6, 0.8, 1];
  const label = (value: number) =>
    log ? (value >= 0.01 ? String(+value.toFixed(2)) : value.toExponential(0)) : String(value);
  for (const tick of ticks(xMin)) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" class="grid"/>`);
    parts.push(
      `<text x="${tx}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" class="tick">${label(tick)}</text>`,
    );
  }
  for (const tick of ticks(yMin)) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" class="grid"/>`);
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle" class="tick">${label(tick)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>`,
  );
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>`,
  );
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - MARGIN.bottom + 34}" text-anchor="middle" class="tick">false-positive rate (held-out called "in")${log ? ', log' : ''}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="tick">true-positive rate${log ? ', log' : ''}</text>`,
  );
  // Chance: TPR = FPR (a straight line on both scales).
  const chanceStart = Math.max(xMin, yMin);
  parts.push(
    `<line x1="${x(chanceStart).toFixed(1)}" y1="${y(chanceStart).toFixed(1)}" x2="${x(1).toFixed(1)}" y2="${y(1).toFixed(1)}" class="reference-line"><title>chance</title></line>`,
  );
  options.series.forEach((series, s) => {
    const color = SERIES_COLORS[s % SERIES_COLORS.length]!;
    const points = series.fpr.map((fpr, i) => `${x(fpr).toFixed(1)},${y(series.tpr[i]!).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="${s === 0 ? 2.5 : 1.5}" class="roc" data-series="${escapeXml(series.name)}"><title>${escapeXml(series.name)}</title></polyline>`,
    );
  });
  // Legend below the axis label, wrapped onto lines.
  let lx = MARGIN.left;
  let ly = HEIGHT - MARGIN.bottom + 56;
  options.series.forEach((series, s) => {
    const width = 26 + 6.5 * series.name.length;
    if (lx + width > WIDTH - MARGIN.right && lx > MARGIN.left) {
      lx = MARGIN.left;
      ly += 16;
    }
    parts.push(
      `<line x1="${lx}" x2="${lx + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="${SERIES_COLORS[s % SERIES_COLORS.length]}" stroke-width="2.5"/><text x="${lx + 18}" y="${ly}" class="tick">${escapeXml(series.name)}</text>`,
    );
    lx += width;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(options.id)}" class="chart roc-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(options.title)}">${parts.join('')}</svg>`;
}
