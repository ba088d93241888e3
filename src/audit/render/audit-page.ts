/**
 * The audit report's renderers: Markdown, a self-contained HTML page (inline SVG charts) and a short
 * terminal table. Pure: report in, string out.
 */
import { coverageLine, formatP, groupLabel } from '../report/labels.ts';
import { dotChart, escapeXml, intervalChart } from './svg.ts';
import { privacyHtml, privacyMarkdown, privacyTerminalLines } from './privacy.ts';
import { scoreLabel } from '../report/score.ts';
import type { AuditReport, GroupSummary } from '../report/types.ts';
import { fixed, htmlPage, htmlTable, interval, markdownTable, percent, textTable } from './format.ts';

function groupRows(report: AuditReport, style: 'text' | 'markdown'): { header: string[]; rows: string[][] } {
  const ctc = report.groups.some((group) => group.modelScore !== null);
  const label = scoreLabel(report.model, 'modelScore');
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
  const pFor = (group: GroupSummary, score: 'cer' | 'modelScore') => {
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
    ...(ctc ? [group.modelScore ? interval(group.modelScore, 2) : ''] : []),
    group.exposure ? `${fixed(group.exposure.cer.interpolation.mean, 2)} bits` : '',
    pFor(group, 'cer'),
    ...(ctc ? [pFor(group, 'modelScore')] : []),
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
    row.modelScore === null ? '' : fixed(row.modelScore, 3),
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
    `- Model: \`${report.model.dir}\` (${report.model.family}, ${report.model.isCtc ? 'CTC' : 'not CTC'}; model score: ${scoreLabel(report.model, 'modelScore')}), fingerprint \`${report.model.fingerprint.slice(0, 16)}\``,
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
        scoreLabel(report.model, 'modelScore'),
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
  if (inserted.some((group) => group.exposure?.modelScore)) {
    exposureSeries.push({
      name: `${scoreLabel(report.model, 'modelScore')} exposure (interpolated)`,
      values: inserted.map((group) =>
        report.rows.flatMap((row) =>
          row.repetitions === group.repetitions && row.exposure?.modelScore
            ? [row.exposure.modelScore.interpolation]
            : [],
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
    `<li>Model <code>${escapeXml(report.model.dir)}</code> (${escapeXml(report.model.family)}; model score: ${escapeXml(scoreLabel(report.model, 'modelScore'))}), fingerprint <code>${escapeXml(report.model.fingerprint.slice(0, 16))}</code>, provider ${escapeXml(report.providers.join(', '))}</li>`,
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
      ['id', 'group', 'reference', 'hypothesis', 'CER', 'exact', scoreLabel(report.model, 'modelScore'), 'exposure'],
      report.rows.map((row) => [
        row.id,
        groupLabel(row.repetitions),
        row.reference,
        row.hypothesis,
        fixed(row.cer),
        row.exactMatch ? 'yes' : '',
        row.modelScore === null ? '' : fixed(row.modelScore),
        row.exposure ? fixed(row.exposure.cer.interpolation, 2) : '',
      ]),
      [],
      [0, 1, 2, 3],
    ),
    `</details>`,
  ].join('\n');
  return htmlPage('rote audit report', body);
}
