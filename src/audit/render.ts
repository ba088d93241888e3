/**
 * Report renderers: Markdown, a self-contained HTML page (inline CSS, inline
 * SVG, a tiny inline script, a Content-Security-Policy that forbids any
 * network access) and a short terminal table. Pure: report in, string out.
 */
import { coverageLine, formatP, groupLabel } from './build-report.ts';
import { dotChart, escapeXml, intervalChart } from './svg.ts';
import { privacyHtml, privacyMarkdown, privacyTerminalLines } from './render-privacy.ts';
import { comparisonScoreLabel, pairScoreLabel, scoreLabel } from './score.ts';
import type { AuditReport, ComparisonReport, GroupSummary, Interval, PairedTest, ScoreName } from './types.ts';

const fixed = (value: number, digits = 3) => value.toFixed(digits);
const interval = (value: Interval, digits = 3) =>
  `${fixed(value.estimate, digits)} [${fixed(value.low, digits)}, ${fixed(value.high, digits)}]`;
const percent = (value: Interval) =>
  `${(100 * value.estimate).toFixed(0)}% [${(100 * value.low).toFixed(0)}, ${(100 * value.high).toFixed(0)}]`;

function markdownTable(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function groupRows(report: AuditReport, style: 'text' | 'markdown'): { header: string[]; rows: string[][] } {
  const ctc = report.groups.some((group) => group.ctcScore !== null);
  const label = scoreLabel(report.model, 'ctcScore');
  const header = [
    'group',
    'n',
    'mean CER [CI]',
    'mean WER [CI]',
    'exact [Wilson]',
    ...(ctc ? [`${label} [CI]`] : []),
    'exposure (CER)',
    'p CER (Holm)',
    ...(ctc ? [`p ${label} (Holm)`] : []),
  ];
  const pFor = (group: GroupSummary, score: 'cer' | 'ctcScore') => {
    const test = report.tests.find((t) => t.repetitions === group.repetitions && t.score === score);
    if (!test) return '';
    return `${formatP(test.adjustedPValue)}${test.significant ? (style === 'markdown' ? ' **\\***' : ' *') : ''}`;
  };
  const rows = report.groups.map((group) => [
    group.label,
    String(group.count),
    interval(group.cer),
    interval(group.wer),
    `${group.exactMatches}/${group.count} ${percent(group.exactMatchRate)}`,
    ...(ctc ? [group.ctcScore ? interval(group.ctcScore, 2) : ''] : []),
    group.exposure ? `${fixed(group.exposure.cer.interpolation.mean, 2)} bits` : '',
    pFor(group, 'cer'),
    ...(ctc ? [pFor(group, 'ctcScore')] : []),
  ]);
  return { header, rows };
}

/** The short terminal table printed after an audit. */
export function auditTerminalTable(report: AuditReport): string {
  const { header, rows } = groupRows(report, 'text');
  return [
    `canary set ${report.canarySet.setId.slice(0, 12)}, model ${report.model.dir} (${report.model.family}, ${report.providers.join('+')})`,
    textTable(header, rows),
    `* significant at alpha = ${report.settings.alpha} (one-sided Mann-Whitney vs held-out, Holm-corrected)`,
    `verdict: ${report.verdict.sentence}`,
    ...report.verdict.inconclusiveReasons.map((reason) => `inconclusive because: ${reason}`),
    ...(report.feasibility.infeasible > 0 ? [feasibilityLine(report)] : []),
    ...report.verdict.notes.map((note) => `note: ${note}`),
    ...privacyTerminalLines(report),
  ].join('\n');
}

export function auditMarkdown(report: AuditReport): string {
  const { header, rows } = groupRows(report, 'markdown');
  const maxExposure = Math.log2(report.groups.find((group) => group.repetitions === null)!.count);
  const canaryRows = report.rows.map((row) => [
    row.id,
    groupLabel(row.repetitions),
    row.reference,
    row.hypothesis,
    fixed(row.cer),
    fixed(row.wer),
    row.exactMatch ? 'yes' : '',
    row.ctcScore === null ? '' : fixed(row.ctcScore, 3),
    row.exposure ? fixed(row.exposure.cer.interpolation, 2) : '',
    row.exposure?.cer.extrapolation == null ? '' : fixed(row.exposure.cer.extrapolation, 2),
  ]);
  return [
    `# rote audit report`,
    '',
    `**Verdict: ${report.verdict.sentence}.**`,
    ...report.verdict.inconclusiveReasons.map((reason) => `\n> Inconclusive because: ${reason}.`),
    ...report.verdict.notes.map((note) => `\n> Note: ${note}.`),
    '',
    `- ${feasibilityLine(report)}`,
    ...(report.scores ? [`- Scores: ${report.scores.map(coverageLine).join('; ')}`] : []),
    `- Canary set: \`${report.canarySet.setId}\` (${report.canarySet.canaries} canaries, repetitions ${report.canarySet.repetitions.join(', ')}; ${report.canarySet.holdout} held-out, speed ${report.canarySet.speed}x) from \`${report.canarySet.dir}\``,
    `- Model: \`${report.model.dir}\` (${report.model.family}, ${report.model.isCtc ? 'CTC' : 'not CTC'}; model score: ${scoreLabel(report.model, 'ctcScore')}), fingerprint \`${report.model.fingerprint.slice(0, 16)}\``,
    `- Provider: ${report.providers.join(', ')}; rote ${report.tool.version}; alpha ${report.settings.alpha}; ${Math.round(report.settings.confidence * 100)}% intervals (${report.settings.bootstrapResamples} bootstrap resamples, seed \`${report.settings.seed}\`; Wilson for exact-match rates)`,
    '',
    '## Groups',
    '',
    markdownTable(header, rows),
    '',
    `\\* significant at alpha = ${report.settings.alpha}: one-sided Mann-Whitney U (inserted scores lower than held-out), Holm-corrected over ${report.tests.length} tests. Exposure: interpolated (maximum log2 ${report.groups.find((g) => g.repetitions === null)!.count} = ${fixed(maxExposure, 2)} bits).`,
    '',
    '## Tests',
    '',
    markdownTable(
      TEST_HEADER,
      report.tests.map((test) => testCells(report, test)),
    ),
    '',
    POWER_NOTE,
    '',
    privacyMarkdown(report),
    '## Skew-normal fits to held-out scores (extrapolated exposure)',
    '',
    markdownTable(
      ['score', 'location', 'scale', 'shape', 'note'],
      report.fits.map((fit) => [
        scoreLabel(report.model, fit.score),
        fit.location === null ? '' : fixed(fit.location, 4),
        fit.scale === null ? '' : fixed(fit.scale, 4),
        fit.shape === null ? '' : fixed(fit.shape, 2),
        fit.reason ?? (fit.shapeAtBound ? 'shape at its bound' : ''),
      ]),
    ),
    '',
    '## Canaries',
    '',
    `Text normalization: ${report.normalization}.`,
    '',
    markdownTable(
      [
        'id',
        'group',
        'reference',
        'hypothesis',
        'CER',
        'WER',
        'exact',
        scoreLabel(report.model, 'ctcScore'),
        'exposure (interp.)',
        'exposure (extrap.)',
      ],
      canaryRows,
    ),
    '',
  ].join('\n');
}

const TEST_HEADER = [
  'group',
  'score',
  'canaries (inserted vs held-out)',
  'U',
  'p',
  'p (Holm)',
  'smallest possible p (Holm)',
  'p if recognized perfectly (Holm)',
  'method',
  'rank-biserial',
  'P(inserted < held-out)',
];

function testCells(report: AuditReport, test: AuditReport['tests'][number]): string[] {
  return [
    groupLabel(test.repetitions),
    scoreLabel(report.model, test.score),
    `${test.n1} vs ${test.n2}`,
    String(test.u),
    formatP(test.pValue),
    formatP(test.adjustedPValue),
    `${formatP(test.minimumAdjustedPValue)}${test.canReachAlpha ? '' : ' (cannot reach alpha)'}`,
    formatP(test.perfectMemorizationPValue),
    test.method + (test.ties ? ' (ties)' : ''),
    fixed(test.rankBiserial, 2),
    fixed(test.commonLanguage, 2),
  ];
}

const POWER_NOTE =
  '"Smallest possible p" is the Holm-corrected p-value of the most extreme data these group sizes allow; "p if recognized perfectly" is what the group would get with every canary recognized perfectly against these held-out scores. ' +
  'A test whose smallest possible p is not below alpha cannot find memorization (flagged); an audit where no group could reach alpha even if recognized perfectly is inconclusive, never "no memorization".';

function feasibilityLine(report: AuditReport): string {
  const f = report.feasibility;
  if (!f.checked) return "Feasibility: not checked (report built without the model's frame budgets)";
  const groups = f.byGroup
    .filter((group) => group.infeasible > 0)
    .map((group) => `${groupLabel(group.repetitions)}: ${group.infeasible}/${group.count}`);
  return (
    `Feasibility: ${f.infeasible} of ${f.canaries} canaries cannot be recognized by this model at any level of memorization (${f.missingCharacters ? `characters the vocabulary cannot emit: ${f.missingCharacters.join(' ')}; or ` : ''}reference needs more output frames than the audio gives)` +
    `${groups.length > 0 ? ` (${groups.join(', ')})` : ''}; an audit that detects nothing is inconclusive above ${Math.round(f.limit * 100)}%`
  );
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

function htmlPage(title: string, body: string, options: { bodyClass?: string; extraStyle?: string } = {}): string {
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

function htmlTable(header: string[], rows: string[][], rowClasses: string[] = [], textColumns: number[] = []): string {
  const head = `<tr>${header.map((cell) => `<th>${escapeXml(cell)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (row, r) =>
        `<tr${rowClasses[r] ? ` class="${rowClasses[r]}"` : ''}>${row.map((cell, c) => `<td${textColumns.includes(c) ? ' class="text"' : ''}>${escapeXml(cell)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

export function auditHtml(report: AuditReport): string {
  const { header, rows } = groupRows(report, 'text');
  const heldOut = report.groups.find((group) => group.repetitions === null)!;
  const categories = report.groups.map((group) => group.label);
  const cerChart = intervalChart({
    id: 'chart-cer',
    title: 'Mean CER per group (lower = better recognized)',
    yLabel: 'CER',
    categories,
    series: [
      {
        name: 'mean CER',
        intervals: report.groups.map((group) => group.cer),
        values: report.groups.map((group) =>
          report.rows.filter((row) => row.repetitions === group.repetitions).map((row) => row.cer),
        ),
      },
    ],
    band: { low: heldOut.cer.low, high: heldOut.cer.high, estimate: heldOut.cer.estimate, label: 'held-out interval' },
    yMin: 0,
  });
  const inserted = report.groups.filter((group) => group.repetitions !== null);
  const exposureSeries = [
    {
      name: 'CER exposure (interpolated)',
      values: inserted.map((group) =>
        report.rows
          .filter((row) => row.repetitions === group.repetitions)
          .map((row) => row.exposure!.cer.interpolation),
      ),
    },
  ];
  if (inserted.some((group) => group.exposure?.ctcScore)) {
    exposureSeries.push({
      name: `${scoreLabel(report.model, 'ctcScore')} exposure (interpolated)`,
      values: inserted.map((group) =>
        report.rows.flatMap((row) =>
          row.repetitions === group.repetitions && row.exposure?.ctcScore ? [row.exposure.ctcScore.interpolation] : [],
        ),
      ),
    });
  }
  const exposureChart = dotChart({
    id: 'chart-exposure',
    title: 'Exposure per inserted canary (bits; bar = group mean)',
    yLabel: 'exposure (bits)',
    categories: inserted.map((group) => group.label),
    series: exposureSeries,
    lines: [{ value: Math.log2(heldOut.count), label: `max log2 ${heldOut.count}` }],
  });
  const significantRows = report.groups.map((group) =>
    report.tests.some((test) => test.repetitions === group.repetitions && test.significant) ? 'significant' : '',
  );
  const verdictClass =
    report.verdict.status === 'detected'
      ? 'detected'
      : report.verdict.status === 'inconclusive'
        ? 'inconclusive'
        : 'clear';
  const body = [
    `<h1>rote audit report</h1>`,
    `<p class="verdict ${verdictClass}" id="verdict"><strong>${escapeXml(report.verdict.sentence)}</strong></p>`,
    ...report.verdict.inconclusiveReasons.map(
      (reason) => `<p class="note">Inconclusive because: ${escapeXml(reason)}</p>`,
    ),
    ...report.verdict.notes.map((note) => `<p class="note">Note: ${escapeXml(note)}</p>`),
    `<ul><li>${escapeXml(feasibilityLine(report))}</li>${report.scores ? `<li>Scores: ${escapeXml(report.scores.map(coverageLine).join('; '))}</li>` : ''}<li>Canary set <code>${escapeXml(report.canarySet.setId)}</code>: ${report.canarySet.canaries} canaries, repetitions ${escapeXml(report.canarySet.repetitions.join(', '))}; ${report.canarySet.holdout} held-out, speed ${report.canarySet.speed}x</li>`,
    `<li>Model <code>${escapeXml(report.model.dir)}</code> (${escapeXml(report.model.family)}; model score: ${escapeXml(scoreLabel(report.model, 'ctcScore'))}), fingerprint <code>${escapeXml(report.model.fingerprint.slice(0, 16))}</code>, provider ${escapeXml(report.providers.join(', '))}</li>`,
    `<li>rote ${escapeXml(report.tool.version)}, alpha ${report.settings.alpha}, ${Math.round(report.settings.confidence * 100)}% intervals (bootstrap, ${report.settings.bootstrapResamples} resamples, seed <code>${escapeXml(report.settings.seed)}</code>; Wilson for exact matches)</li></ul>`,
    `<h2>Groups</h2>`,
    htmlTable(header, rows, significantRows),
    `<p>* significant at alpha = ${report.settings.alpha}: one-sided Mann-Whitney U against held-out, Holm-corrected over ${report.tests.length} tests.</p>`,
    cerChart,
    exposureChart,
    `<h2>Tests</h2>`,
    htmlTable(
      TEST_HEADER,
      report.tests.map((test) => testCells(report, test)),
      report.tests.map((test) => (test.significant ? 'significant' : test.canReachAlpha ? '' : 'flagged')),
    ),
    `<p>${escapeXml(POWER_NOTE)}</p>`,
    privacyHtml(report),
    `<details><summary>Canaries (${report.rows.length})</summary>`,
    `<p>Text normalization: ${escapeXml(report.normalization)}.</p>`,
    htmlTable(
      ['id', 'group', 'reference', 'hypothesis', 'CER', 'exact', scoreLabel(report.model, 'ctcScore'), 'exposure'],
      report.rows.map((row) => [
        row.id,
        groupLabel(row.repetitions),
        row.reference,
        row.hypothesis,
        fixed(row.cer),
        row.exactMatch ? 'yes' : '',
        row.ctcScore === null ? '' : fixed(row.ctcScore),
        row.exposure ? fixed(row.exposure.cer.interpolation, 2) : '',
      ]),
      [],
      [0, 1, 2, 3],
    ),
    `</details>`,
  ].join('\n');
  return htmlPage('rote audit report', body);
}

/** A pair's name of `score`: CER, or the two models' model score. */
function pairScoreName(report: ComparisonReport, pair: ComparisonReport['pairs'][number], score: ScoreName): string {
  if (score === 'cer') return 'CER';
  const label = (name: string) => comparisonScoreLabel(report.models.find((model) => model.name === name)!);
  return pairScoreLabel(label(pair.baseline), label(pair.other));
}
const signedFixed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${fixed(value, digits)}`;
const signedInterval = (value: Interval, digits = 3) =>
  `${signedFixed(value.estimate, digits)} [${signedFixed(value.low, digits)}, ${signedFixed(value.high, digits)}]`;

function findingText(test: PairedTest): string {
  switch (test.finding) {
    case 'other-memorizes-less':
      return 'memorizes less';
    case 'other-memorizes-more':
      return 'memorizes more';
    case 'not-beyond-held-out':
      return 'general accuracy';
    case 'cannot-reach-alpha':
      return 'cannot reach alpha';
    case 'other-worse-on-held-out':
      return 'worse on held-out';
    case 'other-better-on-held-out':
      return 'better on held-out';
    default:
      return 'no difference';
  }
}

/** Groups side by side: one cell per model and group, "CER [CI] · exact % · own p". */
function comparisonRows(report: ComparisonReport): { header: string[]; rows: string[][] } {
  const header = ['group', 'n', ...report.models.map((model) => `${model.name}: CER [CI], exact, own p`)];
  const rows = report.groups.map((group) => [
    group.label,
    String(group.models[0]?.count ?? ''),
    ...group.models.map(
      (entry) =>
        `${interval(entry.cer)}, ${(100 * entry.exactMatchRate.estimate).toFixed(0)}%${entry.cerAdjustedPValue === null ? '' : `, p ${formatP(entry.cerAdjustedPValue)}`}`,
    ),
  ]);
  return { header, rows };
}

/** The primary test of each pair and score (all inserted canaries), then held-out as context. */
function primaryRows(report: ComparisonReport): { header: string[]; rows: string[][]; classes: string[] } {
  const header = ['pair', 'canaries', 'score', 'mean difference [CI]', 'p (Holm)', 'smallest possible p', 'finding'];
  const rows: string[][] = [];
  const classes: string[] = [];
  for (const pair of report.pairs) {
    for (const test of [...pair.primary, ...pair.heldOut]) {
      const inserted = test.scope === 'all-inserted';
      rows.push([
        `${pair.other} - ${pair.baseline}`,
        `${inserted ? 'all inserted' : 'held-out'} (${test.pairs}${test.zeros > 0 ? `, ${test.zeros} tied` : ''})`,
        pairScoreName(report, pair, test.score),
        signedInterval(test.meanDifference),
        inserted ? formatP(test.adjustedPValue!) : `${formatP(test.pValue)} (two-sided)`,
        formatP(test.minimumAdjustedPValue),
        findingText(test),
      ]);
      classes.push(
        inserted
          ? test.finding === 'no-difference'
            ? 'primary'
            : `primary ${test.finding === 'cannot-reach-alpha' || test.finding === 'not-beyond-held-out' ? 'flagged' : 'significant'}`
          : 'context',
      );
    }
    for (const test of pair.beyondHeldOut) {
      const finding = {
        'inserted-higher': 'inserted above held-out',
        'inserted-lower': 'inserted below held-out',
        'no-difference': 'no difference',
        'cannot-reach-alpha': 'cannot reach alpha',
      }[test.finding];
      rows.push([
        `${pair.other} - ${pair.baseline}`,
        `vs held-out (${test.inserted}, ${test.heldOut})`,
        pairScoreName(report, pair, test.score),
        `${signedFixed(test.differenceInDifferences)} (diff. in diff.)`,
        formatP(test.adjustedPValue),
        formatP(test.minimumAdjustedPValue),
        finding,
      ]);
      classes.push(
        test.finding === 'cannot-reach-alpha'
          ? 'flagged'
          : test.finding === 'no-difference'
            ? 'context'
            : 'significant',
      );
    }
  }
  return { header, rows, classes };
}

/** Secondary per-group tests. */
function groupTestRows(report: ComparisonReport): { header: string[]; rows: string[][]; classes: string[] } {
  const header = [
    'pair',
    'group',
    'score',
    'mean difference [CI]',
    'median',
    'p (Holm)',
    'smallest possible p',
    'finding',
  ];
  const rows: string[][] = [];
  const classes: string[] = [];
  for (const pair of report.pairs) {
    for (const test of pair.groups) {
      rows.push([
        `${pair.other} - ${pair.baseline}`,
        `${groupLabel(test.repetitions)} (${test.pairs})`,
        pairScoreName(report, pair, test.score),
        signedInterval(test.meanDifference),
        signedFixed(test.medianDifference),
        formatP(test.adjustedPValue!),
        formatP(test.minimumAdjustedPValue),
        findingText(test),
      ]);
      // As groupsExcludingZero (compare.ts): at least 3 canaries and an interval of positive width.
      const excludes =
        test.pairs >= 3 &&
        test.meanDifference.high > test.meanDifference.low &&
        (test.meanDifference.low > 0 || test.meanDifference.high < 0);
      classes.push(test.finding === 'cannot-reach-alpha' ? 'flagged' : excludes ? 'significant' : '');
    }
  }
  return { header, rows, classes };
}

function primaryNote(report: ComparisonReport): string {
  const expect = report.settings.expect;
  const direction =
    expect === 'less'
      ? `one-sided, H1: the other model's scores are higher on inserted canaries (it memorizes less; --expect less)`
      : expect === 'more'
        ? `one-sided, H1: the other model's scores are lower (it memorizes more; --expect more)`
        : 'two-sided (--expect either)';
  return (
    `Primary test: Wilcoxon signed-rank over all inserted canaries paired by canary (difference = other - reference), ${direction}; ` +
    `Holm-corrected over ${report.pairs.reduce((sum, pair) => sum + pair.primary.length, 0)} tests (models x scores), alpha = ${report.settings.alpha}. ` +
    `"Smallest possible p" is what the test would give if every canary differed the same way: where it is not below alpha the test cannot find anything ("cannot reach alpha"), which is not evidence of no difference. ` +
    'Inserted-vs-held-out rows are the control: a Mann-Whitney U test (same direction, Holm over models x scores) of the differences on inserted canaries against those on held-out canaries; ' +
    '"memorizes less/more" needs both it and the primary test, since a model less accurate everywhere differs on inserted canaries too. ' +
    'Held-out rows are context (two-sided, uncorrected): a difference there is general accuracy, not memorization.'
  );
}

function secondaryNote(report: ComparisonReport): string {
  return (
    `Secondary: the same test per repetition group, Holm-corrected over each pair's groups x scores; ${Math.round(report.settings.confidence * 100)}% bootstrap intervals of the mean difference (pairs resampled; all-inserted: within groups). ` +
    'Small groups rarely reach alpha alone; read them as effect sizes.'
  );
}

export function comparisonTerminalTable(report: ComparisonReport): string {
  const groups = comparisonRows(report);
  const primary = primaryRows(report);
  const flagged = report.pairs
    .flatMap((pair) => [...pair.primary, ...pair.beyondHeldOut])
    .some((test) => !test.canReachAlpha);
  return [
    textTable(groups.header, groups.rows),
    '',
    textTable(primary.header, primary.rows),
    ...(flagged
      ? [
          'note: a primary test marked "cannot reach alpha" could not go below alpha with the canaries whose scores differ (too few canaries, or too many tied): it is not evidence of no difference',
        ]
      : []),
    '',
    `verdict: ${report.verdict}`,
  ].join('\n');
}

export function comparisonMarkdown(report: ComparisonReport): string {
  const groups = comparisonRows(report);
  const primary = primaryRows(report);
  const secondary = groupTestRows(report);
  return [
    '# rote comparison report',
    '',
    ...report.pairs.map((pair) => `**${pair.other} vs ${pair.baseline}: ${pair.verdict}.**\n`),
    `Canary set \`${report.canarySet.setId}\` (${report.canarySet.canaries} canaries); alpha ${report.settings.alpha}; ${Math.round(report.settings.confidence * 100)}% bootstrap intervals (seed \`${report.settings.seed}\`).`,
    '',
    '## Primary tests',
    '',
    markdownTable(primary.header, primary.rows),
    '',
    primaryNote(report),
    '',
    '## Models',
    '',
    markdownTable(MODEL_HEADER, modelRows(report)),
    '',
    '## Groups side by side',
    '',
    markdownTable(groups.header, groups.rows),
    '',
    '## Per-group paired tests (secondary)',
    '',
    secondaryNote(report),
    tiesNote(report),
    '',
    markdownTable(secondary.header, secondary.rows),
    '',
  ].join('\n');
}

const MODEL_HEADER = ['model', 'directory', 'fingerprint', 'provider', 'own verdict'];

/** One row per compared model (the comparison's "Models" table). */
function modelRows(report: ComparisonReport): string[][] {
  return report.models.map((model) => [
    model.name,
    model.modelDir,
    model.modelFingerprint.slice(0, 16),
    model.providers.join(', '),
    model.verdict,
  ]);
}

const COMPARISON_STYLE = `
body.wide{max-width:none;margin:1.25rem 1.5rem}
body.wide table{width:100%}body.wide table.fit{width:auto}
body.wide td,body.wide th{white-space:nowrap}body.wide th{vertical-align:bottom}
body.wide td.wrap{white-space:normal;text-align:left;min-width:16rem}
body.wide th.text{text-align:left}
.scroll-x{overflow-x:auto;max-width:100%}
tr.primary td{font-weight:600}tr.context td{color:#555}tr.flagged td{background:#fff3cd}
.pairs{margin:.5rem 0 1rem;padding:0;list-style:none}.pairs li{margin:.4rem 0;padding:.5rem .8rem;border-left:5px solid #888;background:#f4f4f4}
.pairs li.less{border-color:#27ae60;background:#eafaf1}.pairs li.more{border-color:#c0392b;background:#fdecea}.pairs li.flagged{border-color:#d4a000;background:#fff8e1}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts .chart{flex:1 1 560px;max-width:720px;margin:0}
.explain{color:#555;font-size:13px;max-width:110ch}
`;

function wideTable(
  header: string[],
  rows: string[][],
  rowClasses: string[],
  textColumns: number[],
  options: { fit?: boolean; wrapColumns?: number[] } = {},
): string {
  const head = `<tr>${header.map((cell, c) => `<th${textColumns.includes(c) ? ' class="text"' : ''}>${escapeXml(cell)}</th>`).join('')}</tr>`;
  const cellClass = (c: number) =>
    options.wrapColumns?.includes(c) ? ' class="wrap"' : textColumns.includes(c) ? ' class="text"' : '';
  const body = rows
    .map(
      (row, r) =>
        `<tr${rowClasses[r] ? ` class="${rowClasses[r]}"` : ''}>${row.map((cell, c) => `<td${cellClass(c)}>${escapeXml(cell)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table${options.fit ? ' class="fit"' : ''}>\n${head}\n${body}\n</table>`;
}

export function comparisonHtml(report: ComparisonReport): string {
  const groups = comparisonRows(report);
  const primary = primaryRows(report);
  const secondary = groupTestRows(report);
  const categories = report.groups.map((group) => group.label);
  const cerChart = intervalChart({
    id: 'chart-cer',
    title: 'Mean CER per group and model',
    yLabel: 'CER',
    categories,
    series: report.models.map((model) => ({
      name: model.name,
      intervals: report.groups.map((group) => group.models.find((entry) => entry.name === model.name)?.cer ?? null),
    })),
    yMin: 0,
  });
  const differenceCharts = report.pairs.map((pair, index) =>
    intervalChart({
      id: `chart-difference-${index}`,
      title: `CER difference, ${pair.other} - ${pair.baseline} (above 0: ${pair.other} worse)`,
      yLabel: 'CER difference',
      categories,
      series: [
        {
          name: `${pair.other} - ${pair.baseline}`,
          intervals: report.groups.map(
            (group) =>
              [...pair.groups, ...pair.heldOut].find(
                (test) => test.repetitions === group.repetitions && test.score === 'cer',
              )?.meanDifference ?? null,
          ),
        },
      ],
      band: { low: 0, high: 0, estimate: 0, label: 'no difference' },
    }),
  );
  const pairClass = (pair: ComparisonReport['pairs'][number]) =>
    pair.primary.some((t) => t.finding === 'other-memorizes-less')
      ? 'less'
      : pair.primary.some((t) => t.finding === 'other-memorizes-more')
        ? 'more'
        : pair.primary.every((t) => !t.canReachAlpha)
          ? 'flagged'
          : '';
  const body = [
    '<h1>rote comparison report</h1>',
    `<ul class="pairs" id="verdict">${report.pairs.map((pair) => `<li class="${pairClass(pair)}"><strong>${escapeXml(pair.other)} vs ${escapeXml(pair.baseline)}:</strong> ${escapeXml(pair.verdict)}</li>`).join('')}</ul>`,
    `<p>Canary set <code>${escapeXml(report.canarySet.setId)}</code> (${report.canarySet.canaries} canaries); alpha ${report.settings.alpha}; ${Math.round(report.settings.confidence * 100)}% bootstrap intervals; difference = other - reference (${escapeXml(report.models[0]?.name ?? '')}).</p>`,
    '<h2>Primary test per pair</h2>',
    wideTable(primary.header, primary.rows, primary.classes, [0, 1, 2, 6], { fit: true }),
    `<p class="explain">${escapeXml(primaryNote(report))}</p>`,
    '<h2>Groups side by side</h2>',
    // One column per model: with many models this table is wider than the window, so it scrolls in its own box.
    `<div class="scroll-x">${wideTable(groups.header, groups.rows, [], [0], { fit: true })}</div>`,
    `<div class="charts">${cerChart}${differenceCharts.join('')}</div>`,
    `<details><summary>Per-group paired tests (secondary, ${secondary.rows.length} rows)</summary>`,
    `<p class="explain">${escapeXml(secondaryNote(report))} ${escapeXml(tiesNote(report))}</p>`,
    wideTable(secondary.header, secondary.rows, secondary.classes, [0, 1, 2, 7], { fit: true }),
    '</details>',
    '<details><summary>Models</summary>',
    wideTable(MODEL_HEADER, modelRows(report), [], [0, 1, 2, 3], { wrapColumns: [4] }),
    '</details>',
  ].join('\n');
  return htmlPage('rote comparison report', body, { bodyClass: 'wide', extraStyle: COMPARISON_STYLE });
}

function tiesNote(report: ComparisonReport): string {
  const { cer, ctcScore } = report.settings.scoreResolution;
  const cerPart = cer > 0 ? `CER differences under ${cer} also count as ties.` : 'CER differences are exact.';
  const labels = [...new Set(report.models.map(comparisonScoreLabel))];
  const label = labels.length === 1 ? labels[0]! : 'model-score';
  return `${label[0]!.toUpperCase()}${label.slice(1)} differences under ${ctcScore} nats per character count as ties (below that, scores of the same model differ by inference noise alone); ${cerPart}`;
}
