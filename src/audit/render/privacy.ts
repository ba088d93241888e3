/**
 * The membership-inference and one-run ε sections of the audit report
 * (markdown, HTML, terminal); render.ts places them.
 */
import { escapeXml } from './svg.ts';
import { rocChart } from './roc-chart.ts';
import { scoreLabel } from '../report/score.ts';
import type { AuditReport, Interval, MembershipInferenceGroup } from '../report/types.ts';

function interval(value: Interval, digits = 2): string {
  return `${value.estimate.toFixed(digits)} [${value.low.toFixed(digits)}, ${value.high.toFixed(digits)}]`;
}

function percent(value: number): string {
  return `${+(value * 100).toFixed(3)}%`;
}

function scoreText(report: AuditReport): string {
  if (report.membershipInference.score === 'cer') return 'CER (lower = called "in"; no model score to rank by)';
  const coverage = report.scores?.find((entry) => entry.score === 'modelScore');
  const part =
    coverage && coverage.used < coverage.canaries
      ? `; the ${coverage.used} of ${coverage.canaries} canaries that have it`
      : '';
  return `${scoreLabel(report.model, 'modelScore')}: log-likelihood per character (higher = called "in")${part}`;
}

function header(report: AuditReport): string[] {
  const level = `${Math.round(report.settings.confidence * 100)}%`;
  return [
    'group',
    'inserted',
    'held-out',
    `AUC [${level}]`,
    ...report.membershipInference.groups[0]!.tprAtFpr.map((entry) => `TPR at ${percent(entry.fpr)} FPR [${level}]`),
  ];
}

function cells(group: MembershipInferenceGroup): string[] {
  return [
    group.label,
    String(group.positives),
    String(group.negatives),
    interval(group.auc),
    ...group.tprAtFpr.map((entry) =>
      entry.tpr === null
        ? `not resolvable (needs >= ${Math.ceil(1 / entry.fpr - 1e-9)} held-out)`
        : `${interval(entry.tpr)}${entry.allowedFalsePositives < 5 ? ` (${entry.allowedFalsePositives} FP allowed)` : ''}`,
    ),
  ];
}

function epsilonRows(report: AuditReport): string[][] {
  return report.epsilon!.grid.map((row) => [
    String(row.guesses),
    String(row.guessed),
    String(row.correct),
    row.epsilon.toFixed(3),
  ]);
}

const EPSILON_HEADER = ['k+ (grid)', 'guessed "in" r', 'correct v', 'ε̂ at this k+'];

function markdownTable(head: string[], rows: string[][]): string {
  const line = (cellsOfRow: string[]) => `| ${cellsOfRow.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function privacyMarkdown(report: AuditReport): string {
  const mi = report.membershipInference;
  const parts = [
    '## Membership inference (inserted against held-out canaries)',
    '',
    `Score: ${scoreText(report)}.`,
    '',
    markdownTable(header(report), mi.groups.map(cells)),
    '',
    mi.method,
    '',
  ];
  if (report.epsilon) {
    const e = report.epsilon;
    parts.push(
      '## One-run ε lower bound (Steinke, Nasr, Jagielski, NeurIPS 2023)',
      '',
      `**${e.sentence}**`,
      '',
      markdownTable(EPSILON_HEADER, epsilonRows(report)),
      '',
      `δ = ${e.delta}, confidence ${percent(e.confidence)}, each k+ tested at ${e.significancePerGuess.toPrecision(3)} (Bonferroni over ${e.grid.length}). Guessing "in" for every canary scoring at least the k+-th highest score (ties never split).`,
      '',
    );
  }
  return parts.join('\n');
}

export function privacyHtml(report: AuditReport): string {
  const mi = report.membershipInference;
  const pooled = mi.groups[0]!;
  const series = mi.groups.map((group) => ({ name: group.label, fpr: group.curve.fpr, tpr: group.curve.tpr }));
  const chart = (scale: 'linear' | 'log') =>
    `<div style="flex:1 1 400px;max-width:460px">${rocChart({ id: `chart-roc-${scale}`, title: `ROC, ${scale === 'log' ? 'log-log' : 'linear'} axes`, series, scale, negatives: pooled.negatives, positives: Math.min(...mi.groups.map((group) => group.positives)) })}</div>`;
  const table = (head: string[], rows: string[][]) =>
    `<table>\n<tr>${head.map((cell) => `<th>${escapeXml(cell)}</th>`).join('')}</tr>\n${rows.map((row) => `<tr>${row.map((cell, c) => `<td${c === 0 ? ' class="text"' : ''}>${escapeXml(cell)}</td>`).join('')}</tr>`).join('\n')}\n</table>`;
  const parts = [
    `<h2 id="membership-inference">Membership inference</h2>`,
    `<p>Inserted against held-out canaries; score: ${escapeXml(scoreText(report))}.</p>`,
    table(header(report), mi.groups.map(cells)),
    `<div style="display:flex;flex-wrap:wrap;gap:1rem">${chart('linear')}${chart('log')}</div>`,
    `<p>${escapeXml(mi.method)}</p>`,
  ];
  if (report.epsilon) {
    const e = report.epsilon;
    parts.push(
      `<h2 id="epsilon">One-run ε lower bound</h2>`,
      `<p class="verdict" id="epsilon-sentence"><strong>${escapeXml(e.sentence)}</strong></p>`,
      table(EPSILON_HEADER, epsilonRows(report)),
      `<p>Steinke, Nasr, Jagielski, "Privacy auditing with one (1) training run" (NeurIPS 2023). δ = ${e.delta}, confidence ${percent(e.confidence)}, each k+ tested at ${e.significancePerGuess.toPrecision(3)} (Bonferroni over ${e.grid.length}).</p>`,
    );
  }
  return parts.join('\n');
}

export function privacyTerminalLines(report: AuditReport): string[] {
  const pooled = report.membershipInference.groups[0]!;
  const lines = [
    `membership inference (${scoreLabel(report.model, report.membershipInference.score)}): AUC ${interval(pooled.auc)}, ${pooled.tprAtFpr.map((entry) => `TPR at ${percent(entry.fpr)} FPR ${entry.tpr ? interval(entry.tpr) : 'not resolvable'}`).join(', ')}`,
  ];
  if (report.epsilon) lines.push(report.epsilon.sentence);
  return lines;
}
