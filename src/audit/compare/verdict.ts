/**
 * The verdict of one pair of models: one sentence from its tests (primary, control, per group, held-out),
 * in the words the comparison page leads with.
 */
import { formatP, groupLabel } from '../report/labels.ts';
import type { CompareExpectation, ComparisonPair, PairedTest, ScoreName } from '../report/types.ts';
import { SCORE_RESOLUTION } from './paired-tests.ts';

const signed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/**
 * `saturated`: both models recognize every inserted canary perfectly (CER 0), so every inserted canary is
 * tied at the floor: the set cannot tell the models apart (not "no difference").
 */
export function pairVerdict(
  pair: Omit<ComparisonPair, 'verdict'>,
  alpha: number,
  expect: CompareExpectation,
  confidence: number,
  family: number,
  saturated: boolean,
  scoreText: (score: ScoreName) => string,
  insertedTotal: number,
): string {
  const { baseline, other, primary } = pair;
  const sided = expect === 'either' ? 'two-sided' : 'one-sided';
  const evidence = primary.map((test) => `${scoreText(test.score)} p = ${formatP(test.adjustedPValue!)}`).join(', ');
  const n = Math.max(0, ...primary.map((test) => test.pairs));
  // A score missing on some canaries in either model is tested on the canaries both models have it for.
  const partial = primary.filter((test) => test.pairs < insertedTotal);
  const over = `all ${insertedTotal} inserted canaries${partial.length > 0 ? ` (${partial.map((test) => `${scoreText(test.score)}: the ${test.pairs} that have it in both models`).join('; ')})` : ''}`;
  const how = `(paired Wilcoxon signed-rank over ${over}, ${sided}: ${evidence}; Holm-corrected, alpha = ${alpha})`;
  const less = primary.filter((test) => test.finding === 'other-memorizes-less');
  const more = primary.filter((test) => test.finding === 'other-memorizes-more');
  const notBeyond = primary.filter((test) => test.finding === 'not-beyond-held-out');
  const control = (tests: PairedTest[]) =>
    tests
      .map((test) => pair.beyondHeldOut.find((entry) => entry.score === test.score)!)
      .map(
        (entry) =>
          `${scoreText(entry.score)} ${signed(entry.differenceInDifferences)}, p = ${formatP(entry.adjustedPValue)}`,
      )
      .join('; ');
  // Why a significant primary test is not a memorization finding: the held-out control.
  const notBeyondText = (tests: PairedTest[]) => {
    const entries = tests.map((test) => pair.beyondHeldOut.find((entry) => entry.score === test.score)!);
    const heldOutCount = entries[0]?.heldOut ?? 0;
    const details = tests
      .map(
        (test) =>
          `${scoreText(test.score)} ${signed(test.meanDifference.estimate)} on inserted vs ${signed(pair.heldOut.find((h) => h.score === test.score)?.meanDifference.estimate ?? 0)} on held-out`,
      )
      .join(', ');
    return entries.every((entry) => !entry.canReachAlpha)
      ? `${other} and ${baseline} differ on inserted canaries (${details}), but with ${heldOutCount} held-out canaries the control against held-out canaries cannot reach alpha = ${alpha} ` +
          `(smallest Holm-corrected p-value possible: ${formatP(Math.min(...entries.map((entry) => entry.minimumAdjustedPValue)))}): memorization cannot be told from general accuracy, so no memorization difference is established`
      : `no memorization difference established: ${other} and ${baseline} differ on inserted canaries, but the control did not show the inserted difference beyond the held-out one (${details}; ` +
          `inserted vs held-out differences, Mann-Whitney U ${sided}, Holm-corrected: ${control(tests)}; not below alpha = ${alpha}): the difference may be general accuracy, not memorization`;
  };
  let sentence: string;
  if (notBeyond.length > 0 && less.length === 0 && more.length === 0) {
    sentence = `${notBeyondText(notBeyond)} ${how}`;
  } else if (less.length > 0 && more.length > 0) {
    sentence = `${other} and ${baseline} differ in opposite directions by score (${less.map((t) => scoreText(t.score)).join(', ')}: ${other} memorizes less; ${more.map((t) => scoreText(t.score)).join(', ')}: more) ${how}`;
  } else if (less.length > 0) {
    sentence = `${other} memorizes less than ${baseline} ${how}`;
  } else if (more.length > 0) {
    sentence = `${other} memorizes more than ${baseline} ${how}`;
  } else if (primary.length > 0 && saturated && primary.every((test) => test.zeros === test.pairs)) {
    const ctc = primary.some((test) => test.score === 'modelScore')
      ? ` and ${scoreText('modelScore')}s within ${SCORE_RESOLUTION.modelScore} of each other`
      : '';
    sentence =
      `cannot tell ${other} from ${baseline}: both recognize every inserted canary perfectly (CER 0 on all ${n}${ctc}), so this canary set cannot tell them apart ` +
      `(every inserted canary tied: the test cannot reach alpha = ${alpha}); use fewer repetitions or harder canaries (e.g. a higher speed-up)`;
  } else if (primary.length > 0 && primary.every((test) => test.zeros === test.pairs)) {
    const tied =
      partial.length === 0
        ? `${n} of ${n} tied on ${primary.map((t) => scoreText(t.score)).join(' and ')}`
        : primary.map((t) => `${t.pairs} of ${t.pairs} tied on ${scoreText(t.score)}`).join(', ');
    sentence = `no difference: every inserted canary scores the same with ${other} and ${baseline} (${tied})`;
  } else if (primary.length > 0 && primary.every((test) => !test.canReachAlpha)) {
    const best = Math.min(...primary.map((test) => test.minimumAdjustedPValue));
    // Would the test reach alpha if no canary were tied? Then ties (equal scores), not the design, are why it cannot.
    const untiedBest = Math.min(1, family * (expect === 'either' ? 2 : 1) * 2 ** -n);
    const tied = primary.map((test) => `${test.zeros} on ${scoreText(test.score)}`).join(', ');
    sentence =
      untiedBest < alpha
        ? `${other} and ${baseline} score the same on most inserted canaries (of ${n}: ${tied}), too many ties for the test to reach alpha = ${alpha} ` +
          `(smallest Holm-corrected p-value possible with the canaries that differ: ${formatP(best)}): no difference is detectable, and none can be ruled out`
        : `cannot tell ${other} from ${baseline}: with ${n} inserted canaries the smallest Holm-corrected p-value possible is ${formatP(best)}, not below alpha = ${alpha}; audit more canaries`;
  } else {
    sentence = `no difference detected between ${other} and ${baseline} ${how}`;
    if (expect !== 'either') {
      const against = primary.filter(
        (test) =>
          (expect === 'less' ? test.wMinus > test.wPlus : test.wPlus > test.wMinus) && test.pairs - test.zeros > 0,
      );
      if (against.length > 0)
        sentence += `; the ${against.map((t) => scoreText(t.score)).join(' and ')} differences lean the other way (${other} ${expect === 'less' ? 'more' : 'less'} memorized), which --expect ${expect} does not test: use --expect either`;
    }
    const unreachable = primary.filter((test) => !test.canReachAlpha);
    if (unreachable.length > 0)
      sentence += `; ${unreachable.map((t) => scoreText(t.score)).join(' and ')} cannot reach alpha with these canaries`;
  }
  if (less.length > 0 || more.length > 0) {
    const found = [...less, ...more];
    sentence += `; beyond held-out: the inserted differences exceed the held-out ones (difference in mean differences, Mann-Whitney U ${sided}, Holm-corrected: ${control(found)})`;
    if (notBeyond.length > 0)
      sentence += `; on ${notBeyond.map((t) => scoreText(t.score)).join(' and ')}: ${notBeyondText(notBeyond)}`;
  }
  const level = `${Math.round(confidence * 100)}%`;
  if (pair.groupsExcludingZero.length > 0) {
    const byGroup = new Map<number, string[]>();
    for (const entry of pair.groupsExcludingZero)
      byGroup.set(entry.repetitions, [
        ...(byGroup.get(entry.repetitions) ?? []),
        `${scoreText(entry.score)} ${signed(entry.meanDifference.estimate)}`,
      ]);
    sentence += `; per-group ${level} intervals of ${other} - ${baseline} exclude zero at ${[...byGroup].map(([r, parts]) => `${groupLabel(r)} (${parts.join(', ')})`).join(', ')}`;
  } else if (pair.groups.length > 0) {
    sentence += `; no per-group ${level} interval excludes zero`;
  }
  if (pair.heldOut.length > 0) {
    const parts = pair.heldOut.map((test) => {
      const note =
        test.finding === 'other-worse-on-held-out'
          ? `, ${other} worse`
          : test.finding === 'other-better-on-held-out'
            ? `, ${other} better`
            : test.finding === 'cannot-reach-alpha'
              ? `, cannot reach alpha = ${alpha} with ${test.pairs} held-out canaries${test.zeros > 0 ? ` (${test.zeros} tied)` : ''}: smallest possible p ${formatP(test.minimumAdjustedPValue)}`
              : '';
      return `${scoreText(test.score)} ${signed(test.meanDifference.estimate)} (two-sided p = ${formatP(test.pValue)}${note})`;
    });
    const differs = pair.heldOut.some(
      (test) => test.finding === 'other-worse-on-held-out' || test.finding === 'other-better-on-held-out',
    );
    sentence += `; held-out: ${parts.join(', ')}${differs ? ` (${other} and ${baseline} differ on unseen canaries too: part of the difference may be general accuracy)` : ''}`;
  }
  return sentence;
}
