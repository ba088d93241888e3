/**
 * trajectory.md and trajectory.html: the same numbers as trajectory.json, as tables and (HTML) inline SVG
 * charts against step. Pure: report in, text out.
 */
import { escapeXml } from '../render/svg.ts';
import type { Interval, ScoreName } from '../report/types.ts';
import { stepChart, type StepLine } from './chart.ts';
import { formatP } from './summarize.ts';
import type { TrajectoryComparison, TrajectoryPoint, TrajectoryReport, TrajectorySeries } from './types.ts';

const interval = (value: Interval, digits = 3) =>
  `${value.estimate.toFixed(digits)} [${value.low.toFixed(digits)}, ${value.high.toFixed(digits)}]`;
const signedInterval = (value: Interval, digits = 3) => {
  const s = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
  return `${s(value.estimate)} [${s(value.low)}, ${s(value.high)}]`;
};
const percent = (fpr: number) => `${+(fpr * 100).toFixed(3)}%`;

function scoreLabel(report: TrajectoryReport, score: ScoreName): string {
  return report.scores.find((entry) => entry.score === score)?.label ?? (score === 'cer' ? 'CER' : 'model score');
}

function groupKeys(report: TrajectoryReport): { repetitions: number | null; label: string }[] {
  const seen = new Map<string, { repetitions: number | null; label: string }>();
  for (const one of report.series)
    for (const point of one.points)
      for (const group of point.groups)
        seen.set(String(group.repetitions), { repetitions: group.repetitions, label: group.label });
  return [...seen.values()].sort((a, b) => (a.repetitions ?? -1) - (b.repetitions ?? -1));
}

const groupOf = (point: TrajectoryPoint, repetitions: number | null) =>
  point.groups.find((group) => group.repetitions === repetitions) ?? null;

function detectionCell(one: TrajectorySeries, repetitions: number): string {
  const entry = one.detection.find((d) => d.repetitions === repetitions);
  if (!entry || entry.firstStep === null) return 'not detected';
  const later = entry.detectedSteps.length;
  const points = one.points.filter((point) => point.step >= entry.firstStep!).length;
  return `step ${entry.firstStep}${later < points ? ` (detected at ${entry.detectedSteps.join(', ')})` : ''}`;
}

interface Table {
  header: string[];
  rows: string[][];
}

function detectionTable(report: TrajectoryReport): Table {
  const inserted = groupKeys(report).filter((group) => group.repetitions !== null);
  return {
    header: ['group', ...report.series.map((one) => one.name)],
    rows: inserted.map((group) => [group.label, ...report.series.map((one) => detectionCell(one, group.repetitions!))]),
  };
}

function meansTable(report: TrajectoryReport, one: TrajectorySeries, score: ScoreName): Table {
  const groups = groupKeys(report);
  return {
    header: ['step', ...groups.map((group) => group.label)],
    rows: one.points.map((point) => [
      String(point.step),
      ...groups.map((group) => {
        const found = groupOf(point, group.repetitions);
        const value = found ? (score === 'cer' ? found.cer : found.modelScore) : null;
        return value ? `${interval(value)}${found!.detected ? ' *' : ''}` : '-';
      }),
    ]),
  };
}

function membershipTable(one: TrajectorySeries): Table {
  const fprs = one.points[0]?.membership.tprAtFpr.map((entry) => entry.fpr) ?? [];
  const epsilon = one.points.some((point) => point.epsilon);
  return {
    header: ['step', 'AUC', ...fprs.map((fpr) => `TPR at ${percent(fpr)} FPR`), ...(epsilon ? ['ε̂ (max)'] : [])],
    rows: one.points.map((point) => [
      String(point.step),
      interval(point.membership.auc),
      ...fprs.map((fpr) => {
        const tpr = point.membership.tprAtFpr.find((entry) => entry.fpr === fpr)?.tpr;
        return tpr ? interval(tpr, 2) : 'n/a';
      }),
      ...(epsilon
        ? [point.epsilon ? `${point.epsilon.epsilon.toFixed(2)} (${point.epsilon.maximumEpsilon.toFixed(2)})` : '-']
        : []),
    ]),
  };
}

function exposureTable(report: TrajectoryReport, one: TrajectorySeries): Table {
  const inserted = groupKeys(report).filter((group) => group.repetitions !== null);
  return {
    header: ['step', ...inserted.map((group) => group.label)],
    rows: one.points.map((point) => [
      String(point.step),
      ...inserted.map((group) => {
        const exposure = groupOf(point, group.repetitions)?.exposure;
        if (!exposure) return '-';
        return `${exposure.cer.toFixed(2)} / ${exposure.modelScore === null ? '-' : exposure.modelScore.toFixed(2)}`;
      }),
    ]),
  };
}

function comparisonTable(report: TrajectoryReport, comparisons: readonly TrajectoryComparison[]): Table {
  const rows: string[][] = [];
  for (const comparison of comparisons)
    for (const pair of comparison.pairs)
      for (const test of pair.primary)
        rows.push([
          String(comparison.step),
          `${pair.other} vs ${comparison.reference}`,
          scoreLabel(report, test.score),
          signedInterval(test.meanDifference),
          test.adjustedPValue === null ? '-' : formatP(test.adjustedPValue),
          test.finding,
        ]);
  return {
    header: ['step', 'pair', 'score', 'mean difference (other - reference)', 'Holm p', 'finding'],
    rows,
  };
}

function checkpointTable(report: TrajectoryReport): Table {
  return {
    header: ['series', 'step', 'model', 'audit', 'verdict'],
    rows: report.series.flatMap((one) =>
      one.points.map((point) => [
        one.name,
        String(point.step),
        point.modelDir,
        `${point.auditDir} (${point.audit}${point.reusedFrom ? ` from ${point.reusedFrom}` : ''})`,
        point.verdict + (point.detectedRepetitions.length ? ` (${point.detectedRepetitions.join(', ')})` : ''),
      ]),
    ),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
function markdownTable({ header, rows }: Table): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function intro(report: TrajectoryReport): string[] {
  const steps = report.series.map((one) => `${one.name}: ${one.points.map((point) => point.step).join(', ')}`);
  return [
    `Canary set ${report.canarySet.setId.slice(0, 12)} (${report.canarySet.dir}): ${report.canarySet.canaries} canaries, ` +
      `${report.canarySet.holdout} held out, repetitions ${report.canarySet.repetitions.join(', ')}` +
      `${report.canarySet.membership === 'bernoulli' ? ' (bernoulli membership)' : ''}; model family ${report.family}.`,
    `Series (steps): ${steps.join('; ')}.`,
    `Every checkpoint audited with alpha ${report.settings.alpha} (Holm over its groups x scores), ${report.settings.confidence * 100}% bootstrap intervals ` +
      `(${report.settings.bootstrapResamples} resamples); the series compared at every common step with compare --expect ${report.settings.expect}.`,
  ];
}

export function trajectoryMarkdown(report: TrajectoryReport): string {
  const parts: string[] = ['# rote trajectory', '', ...intro(report), '', ...report.summary.map((line) => `- ${line}`)];
  parts.push('', "## When each group is first detected (the audit's own Holm-corrected test)", '');
  parts.push(markdownTable(detectionTable(report)));
  for (const score of report.scores.map((entry) => entry.score)) {
    parts.push('', `## Mean ${scoreLabel(report, score)} per group against step (* detected at that step)`);
    for (const one of report.series)
      parts.push('', `### ${one.name}`, '', markdownTable(meansTable(report, one, score)));
  }
  parts.push('', '## Membership inference (all inserted canaries pooled) against step');
  for (const one of report.series) parts.push('', `### ${one.name}`, '', markdownTable(membershipTable(one)));
  parts.push('', '## Mean exposure (bits, CER / model score) against step');
  for (const one of report.series) parts.push('', `### ${one.name}`, '', markdownTable(exposureTable(report, one)));
  if (report.comparisons.length > 0) {
    parts.push(
      '',
      `## compare at every common step (primary test: all inserted canaries, --expect ${report.settings.expect})`,
      '',
    );
    parts.push(markdownTable(comparisonTable(report, report.comparisons)));
  }
  parts.push('', '## Checkpoints', '', markdownTable(checkpointTable(report)), '');
  return parts.join('\n');
}

function htmlTable({ header, rows }: Table): string {
  return `<table>\n<tr>${header.map((text) => `<th>${escapeXml(text)}</th>`).join('')}</tr>\n${rows
    .map((row) => `<tr>${row.map((text) => `<td>${escapeXml(text)}</td>`).join('')}</tr>`)
    .join('\n')}\n</table>`;
}

function meanCharts(report: TrajectoryReport, score: ScoreName): string[] {
  return groupKeys(report).map((group) =>
    stepChart({
      id: `mean-${score}-${group.repetitions ?? 'held-out'}`,
      title: `${group.label}: mean ${scoreLabel(report, score)}`,
      yLabel: scoreLabel(report, score),
      lines: report.series.map((one) => ({
        name: one.name,
        points: one.points.flatMap((point) => {
          const found = groupOf(point, group.repetitions);
          const value = found ? (score === 'cer' ? found.cer : found.modelScore) : null;
          return value ? [{ step: point.step, value: value.estimate, low: value.low, high: value.high }] : [];
        }),
      })),
    }),
  );
}

function membershipCharts(report: TrajectoryReport): string[] {
  const charts = [
    stepChart({
      id: 'auc',
      title: 'AUC (all inserted canaries pooled)',
      yLabel: 'AUC',
      yRange: [0, 1],
      reference: { value: 0.5, label: 'chance' },
      lines: report.series.map((one) => ({
        name: one.name,
        points: one.points.map((point) => ({
          step: point.step,
          value: point.membership.auc.estimate,
          low: point.membership.auc.low,
          high: point.membership.auc.high,
        })),
      })),
    }),
  ];
  const fprs = [
    ...new Set(report.series.flatMap((one) => one.points.flatMap((p) => p.membership.tprAtFpr.map((t) => t.fpr)))),
  ];
  for (const fpr of fprs.sort((a, b) => a - b)) {
    const lines: StepLine[] = report.series.map((one) => ({
      name: one.name,
      points: one.points.flatMap((point) => {
        const tpr = point.membership.tprAtFpr.find((entry) => entry.fpr === fpr)?.tpr;
        return tpr ? [{ step: point.step, value: tpr.estimate, low: tpr.low, high: tpr.high }] : [];
      }),
    }));
    if (lines.every((line) => line.points.length === 0)) continue;
    charts.push(
      stepChart({ id: `tpr-${fpr}`, title: `TPR at ${percent(fpr)} FPR`, yLabel: 'TPR', yRange: [0, 1], lines }),
    );
  }
  if (report.series.some((one) => one.points.some((point) => point.epsilon)))
    charts.push(
      stepChart({
        id: 'epsilon',
        title: 'one-run ε lower bound',
        yLabel: 'ε̂',
        lines: report.series.map((one) => ({
          name: one.name,
          points: one.points.flatMap((point) =>
            point.epsilon ? [{ step: point.step, value: point.epsilon.epsilon }] : [],
          ),
        })),
      }),
    );
  return charts;
}

function exposureCharts(report: TrajectoryReport): string[] {
  const inserted = groupKeys(report).filter((group) => group.repetitions !== null);
  const modelScore = report.scores.some((entry) => entry.score === 'modelScore');
  return report.series.map((one) =>
    stepChart({
      id: `exposure-${one.name}`,
      title: `${one.name}: mean exposure (${modelScore ? scoreLabel(report, 'modelScore') : 'CER'})`,
      yLabel: 'bits',
      lines: inserted.map((group) => ({
        name: group.label.replace(' repetitions', 'x').replace(' repetition', 'x'),
        points: one.points.flatMap((point) => {
          const exposure = groupOf(point, group.repetitions)?.exposure;
          const value = exposure ? (modelScore ? exposure.modelScore : exposure.cer) : null;
          return value === null || value === undefined ? [] : [{ step: point.step, value }];
        }),
      })),
    }),
  );
}

function comparisonCharts(report: TrajectoryReport): string[] {
  if (report.comparisons.length === 0) return [];
  const reference = report.comparisons[0]!.reference;
  return report.scores.map(({ score }) =>
    stepChart({
      id: `compare-${score}`,
      title: `${scoreLabel(report, score)}: inserted, ${report.series.length === 2 ? report.series[1]!.name : 'other'} - ${reference}`,
      yLabel: 'mean difference',
      reference: { value: 0, label: 'no difference' },
      lines: report.series.slice(1).map((one) => ({
        name: one.name,
        points: report.comparisons.flatMap((comparison) => {
          const test = comparison.pairs
            .find((pair) => pair.other === one.name)
            ?.primary.find((entry) => entry.score === score);
          return test
            ? [
                {
                  step: comparison.step,
                  value: test.meanDifference.estimate,
                  low: test.meanDifference.low,
                  high: test.meanDifference.high,
                },
              ]
            : [];
        }),
      })),
    }),
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1500px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.8rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:.5rem}.chart{width:100%;max-width:470px;height:auto;display:block;margin:.5rem 0}
.chart .grid{stroke:#e6e6e6}.chart .axis{stroke:#444}.chart .tick{font-size:11px;fill:#333}.chart .chart-title{font-size:13px;font-weight:600;fill:#222}
.chart .reference-line{stroke:#999;stroke-dasharray:5 4}
`;
/** Proves in a browser that the page's script ran and found its charts (as the audit reports do). */
const SCRIPT = `(function(){var charts=document.querySelectorAll('svg.chart');document.documentElement.setAttribute('data-rote-rendered',String(charts.length));})();`;

export function trajectoryHtml(report: TrajectoryReport): string {
  const charts = (list: string[]) => `<div class="charts">${list.join('\n')}</div>`;
  const body: string[] = [
    '<h1>rote trajectory</h1>',
    ...intro(report).map((line) => `<p>${escapeXml(line)}</p>`),
    `<ul>${report.summary.map((line) => `<li>${escapeXml(line)}</li>`).join('')}</ul>`,
    "<h2>When each group is first detected (the audit's own Holm-corrected test)</h2>",
    htmlTable(detectionTable(report)),
  ];
  for (const { score } of report.scores) {
    body.push(
      `<h2>Mean ${escapeXml(scoreLabel(report, score))} per group against step (${report.settings.confidence * 100}% intervals; held-out included)</h2>`,
      charts(meanCharts(report, score)),
    );
  }
  body.push('<h2>Membership inference against step</h2>', charts(membershipCharts(report)));
  for (const one of report.series) body.push(`<h3>${escapeXml(one.name)}</h3>`, htmlTable(membershipTable(one)));
  body.push('<h2>Exposure against step</h2>', charts(exposureCharts(report)));
  for (const one of report.series)
    body.push(
      `<h3>${escapeXml(one.name)} (mean exposure, bits: CER / model score)</h3>`,
      htmlTable(exposureTable(report, one)),
    );
  if (report.comparisons.length > 0)
    body.push(
      `<h2>compare at every common step (primary test over all inserted canaries, --expect ${escapeXml(report.settings.expect)})</h2>`,
      charts(comparisonCharts(report)),
      htmlTable(comparisonTable(report, report.comparisons)),
    );
  body.push('<h2>Checkpoints</h2>', htmlTable(checkpointTable(report)));
  for (const one of report.series) {
    body.push(`<h3>${escapeXml(one.name)}: per-step tables</h3>`);
    for (const { score } of report.scores)
      body.push(
        `<p>mean ${escapeXml(scoreLabel(report, score))} (* detected)</p>`,
        htmlTable(meansTable(report, one, score)),
      );
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rote trajectory</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** A few lines for the terminal: the summary and when each group is first detected. */
export function trajectoryTerminalLines(report: TrajectoryReport): string[] {
  const table = detectionTable(report);
  const widths = table.header.map((head, i) => Math.max(head.length, ...table.rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((text, i) => text.padEnd(widths[i]!)).join('  ');
  return [...report.summary, '', 'first step detected:', line(table.header), ...table.rows.map(line)];
}
