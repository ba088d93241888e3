/**
 * The comparison's renderers: Markdown, a self-contained HTML page and a short terminal table. Pure:
 * comparison in, string out.
 */
import { formatP, groupLabel } from '../report/labels.ts';
import { escapeXml, intervalChart } from './svg.ts';
import { comparisonScoreLabel, pairScoreLabel } from '../report/score.ts';
import type { ComparisonReport, PairedTest, ScoreName } from '../report/types.ts';
import { htmlPage, interval, markdownTable, signedFixed, signedInterval, textTable } from './format.ts';

/** A pair's name of `score`: CER, or the two models' model score. */
function pairScoreName(report: ComparisonReport, pair: ComparisonReport['pairs'][number], score: ScoreName): string {
  if (score === 'cer') return 'CER';
  const label = (name: string) => comparisonScoreLabel(report.models.find((model) => model.name === name)!);
  return pairScoreLabel(label(pair.baseline), label(pair.other));
}

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

/**
 * A pair's verdict in one line, for the reader who glances: the finding, the primary p-values (Holm) and
 * whether the inserted difference goes beyond the held-out one (the control). The full verdict follows it.
 */
export function pairHeadline(report: ComparisonReport, pair: ComparisonReport['pairs'][number]): string {
  const { primary } = pair;
  const has = (finding: PairedTest['finding']) => primary.some((test) => test.finding === finding);
  const finding =
    has('other-memorizes-less') && has('other-memorizes-more')
      ? 'memorizes less on one score and more on another'
      : has('other-memorizes-less')
        ? 'memorizes less'
        : has('other-memorizes-more')
          ? 'memorizes more'
          : has('not-beyond-held-out')
            ? 'differs on inserted canaries, not shown beyond held-out: no memorization difference established'
            : primary.length > 0 && primary.every((test) => test.zeros === test.pairs)
              ? 'cannot tell apart: every inserted canary tied'
              : primary.length > 0 && primary.every((test) => !test.canReachAlpha)
                ? 'cannot tell apart: the test cannot reach alpha'
                : 'no difference detected';
  const pValues = primary
    .map((test) => `${pairScoreName(report, pair, test.score)} p = ${formatP(test.adjustedPValue!)}`)
    .join(', ');
  const beyond = primary.map((test) => {
    const control = pair.beyondHeldOut.find((entry) => entry.score === test.score);
    const yes = control?.finding === 'inserted-higher' || control?.finding === 'inserted-lower';
    return { name: pairScoreName(report, pair, test.score), yes };
  });
  // Whether the difference goes beyond held-out matters only where the primary test found one.
  const found = has('other-memorizes-less') || has('other-memorizes-more') || has('not-beyond-held-out');
  const beyondText =
    beyond.length === 0 || !found
      ? ''
      : beyond.every((entry) => entry.yes === beyond[0]!.yes)
        ? `; beyond held-out: ${beyond[0]!.yes ? 'yes' : 'no'}`
        : `; beyond held-out: ${beyond.map((entry) => `${entry.name} ${entry.yes ? 'yes' : 'no'}`).join(', ')}`;
  const inconclusive = report.models.some(
    (model) => (model.name === pair.baseline || model.name === pair.other) && model.verdictStatus === 'inconclusive',
  );
  return `${finding}${pValues ? ` (${pValues})` : ''}${beyondText}${inconclusive ? '; caution: an audit is inconclusive' : ''}`;
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

/**
 * Text rote did not write (model names from --names, directories) with its Markdown inline syntax
 * backslash-escaped and line breaks made spaces, so a name cannot bold, link, inject HTML or break a table
 * row; `|` is escaped by markdownTable (and is plain text outside a table).
 */
const markdownText = (text: string) => text.replace(/\r\n?|\n/g, ' ').replace(/[\\`*_[\]<>~&]/g, '\\$&');

/** The comparison with every name, directory and verdict (which quotes the names) escaped for Markdown. */
function markdownEscaped(report: ComparisonReport): ComparisonReport {
  return {
    ...report,
    models: report.models.map((model) => ({
      ...model,
      name: markdownText(model.name),
      modelDir: markdownText(model.modelDir),
      verdict: markdownText(model.verdict),
    })),
    groups: report.groups.map((group) => ({
      ...group,
      models: group.models.map((entry) => ({ ...entry, name: markdownText(entry.name) })),
    })),
    pairs: report.pairs.map((pair) => ({
      ...pair,
      baseline: markdownText(pair.baseline),
      other: markdownText(pair.other),
      verdict: markdownText(pair.verdict),
    })),
    verdict: markdownText(report.verdict),
  };
}

export function comparisonMarkdown(original: ComparisonReport): string {
  const report = markdownEscaped(original);
  const groups = comparisonRows(report);
  const primary = primaryRows(report);
  const secondary = groupTestRows(report);
  return [
    '# rote comparison report',
    '',
    ...report.pairs.map((pair) => `- **${pair.other} vs ${pair.baseline}:** ${pairHeadline(report, pair)}`),
    '',
    `Canary set \`${report.canarySet.setId}\` (${report.canarySet.canaries} canaries); alpha ${report.settings.alpha}; ${Math.round(report.settings.confidence * 100)}% bootstrap intervals (seed \`${report.settings.seed}\`).`,
    '',
    '## Verdicts in full',
    '',
    ...report.pairs.map((pair) => `**${pair.other} vs ${pair.baseline}:** ${pair.verdict}.\n`),
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
.pairs details{margin:0;padding:0;border:0}.pairs summary{cursor:pointer}.pairs details p{margin:.45rem 0 .1rem}
body.wide th.wrap{white-space:normal;overflow-wrap:anywhere;max-width:12rem;text-align:right}
table.groups caption{caption-side:bottom;text-align:left;color:#555;font-size:13px;padding-top:.3rem}
table.groups tr.detail td{color:#555;font-size:12px;border-top:0;text-align:right}table.groups tr.group td{border-bottom:0}
`;

/**
 * Groups side by side on the page: one column per model, each group on two rows (the mean CER with its
 * interval; below it the exact matches and the model's own p-value), so that the six demo models fit a
 * 1280 px window; with more models the table scrolls inside its own box, never the page.
 */
function groupsHtmlTable(report: ComparisonReport): string {
  const level = Math.round(report.settings.confidence * 100);
  const head = `<tr><th class="text">group</th><th>n</th>${report.models.map((model) => `<th class="wrap">${escapeXml(model.name)}</th>`).join('')}</tr>`;
  const body = report.groups.map((group) => {
    const label = `<td class="text" rowspan="2">${escapeXml(group.label)}</td><td rowspan="2">${group.models[0]?.count ?? ''}</td>`;
    const cer = group.models.map((entry) => `<td>${escapeXml(interval(entry.cer))}</td>`).join('');
    const detail = group.models
      .map(
        (entry) =>
          `<td>${(100 * entry.exactMatchRate.estimate).toFixed(0)}% exact${entry.cerAdjustedPValue === null ? '' : `, p ${escapeXml(formatP(entry.cerAdjustedPValue))}`}</td>`,
      )
      .join('');
    return `<tr class="group">${label}${cer}</tr>\n<tr class="detail">${detail}</tr>`;
  });
  const caption = `<caption>Each model's mean CER per group [${level}% interval]; below it, its exact matches and its own audit's Holm-corrected p-value for the group (inserted vs held-out).</caption>`;
  return `<table class="fit groups">\n${caption}\n${head}\n${body.join('\n')}\n</table>`;
}

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
    // Each pair leads with one line; its full verdict (every p-value and interval) is folded beneath it.
    `<ul class="pairs" id="verdict">${report.pairs
      .map(
        (pair) =>
          `<li class="${pairClass(pair)}"><details><summary><strong>${escapeXml(pair.other)} vs ${escapeXml(pair.baseline)}:</strong> ${escapeXml(pairHeadline(report, pair))}</summary>` +
          `<p>${escapeXml(pair.verdict)}</p></details></li>`,
      )
      .join('')}</ul>`,
    `<p>Canary set <code>${escapeXml(report.canarySet.setId)}</code> (${report.canarySet.canaries} canaries); alpha ${report.settings.alpha}; ${Math.round(report.settings.confidence * 100)}% bootstrap intervals; difference = other - reference (${escapeXml(report.models[0]?.name ?? '')}).</p>`,
    '<h2>Primary test per pair</h2>',
    wideTable(primary.header, primary.rows, primary.classes, [0, 1, 2, 6], { fit: true }),
    `<p class="explain">${escapeXml(primaryNote(report))}</p>`,
    '<h2>Groups side by side</h2>',
    // One column per model: with many models this table is wider than the window, so it scrolls in its own box.
    `<div class="scroll-x">${groupsHtmlTable(report)}</div>`,
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
  const { cer, modelScore } = report.settings.scoreResolution;
  const cerPart = cer > 0 ? `CER differences under ${cer} also count as ties.` : 'CER differences are exact.';
  const labels = [...new Set(report.models.map(comparisonScoreLabel))];
  const label = labels.length === 1 ? labels[0]! : 'model-score';
  return `${label[0]!.toUpperCase()}${label.slice(1)} differences under ${modelScore} nats per character count as ties (below that, scores of the same model differ by inference noise alone); ${cerPart}`;
}
