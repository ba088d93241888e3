/**
 * JSON Schemas (draft 2020-12) of report.json for audits and comparisons (version 3; version 2 reports,
 * which named the model score `ctcScore`, are read by renaming it),
 * written to mirror src/audit/report/types.ts, plus a validator for the subset of
 * JSON Schema they use (type, const, enum, properties, required,
 * additionalProperties: false, items, anyOf, minimum, maximum). Every object
 * is closed, so a field added to the types but not here fails the report
 * tests (test/audit/report.test.ts validates freshly built reports).
 */
import { RoteError } from '../../util/errors.ts';
import { PROVIDER_CHOICES } from '../../setup/providers.ts';
import {
  AUDIT_REPORT_SCHEMA_VERSION,
  COMPARISON_REPORT_SCHEMA_VERSION,
  type AuditReport,
  type ComparisonReport,
} from './types.ts';

export type JsonSchema = {
  $schema?: string;
  $id?: string;
  title?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
};

const number: JsonSchema = { type: 'number' };
const integer: JsonSchema = { type: 'integer', minimum: 0 };
const string: JsonSchema = { type: 'string' };
const boolean: JsonSchema = { type: 'boolean' };
const probability: JsonSchema = { type: 'number', minimum: 0, maximum: 1 };
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const array = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
/** Fields that reports of older rotes lack: every other property of an object is required. */
const OPTIONAL = new WeakSet<JsonSchema>();
const optional = (schema: JsonSchema): JsonSchema => {
  OPTIONAL.add(schema);
  return schema;
};
const object = (properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((key) => !OPTIONAL.has(properties[key]!)),
  additionalProperties: false,
});

const interval = object({ estimate: number, low: number, high: number });
const summary = object({ count: integer, mean: number, median: number, min: number, max: number });
const scoreName: JsonSchema = { enum: ['cer', 'modelScore'] };
const tool = object({ name: { const: 'rote' }, version: string });
const canaryExposure = object({ rank: integer, interpolation: number, extrapolation: nullable(number) });
const scoreExposureSummary = object({ interpolation: summary, extrapolation: nullable(summary) });
const testMethod: JsonSchema = { enum: ['exact', 'normal'] };
const epsilonGuess = object({
  guesses: integer,
  guessed: integer,
  correct: integer,
  epsilon: { type: 'number', minimum: 0 },
});

export const AUDIT_REPORT_JSON_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://rote.invalid/schemas/audit-report-${AUDIT_REPORT_SCHEMA_VERSION}.json`,
  title: 'rote audit report',
  ...object({
    schemaVersion: { const: AUDIT_REPORT_SCHEMA_VERSION },
    kind: { const: 'rote-audit-report' },
    tool,
    canarySet: object({
      dir: string,
      setId: string,
      fileSha256: string,
      canaries: integer,
      repetitions: array(integer),
      holdout: integer,
      speed: number,
      sampleRate: integer,
      membership: { enum: ['groups', 'bernoulli'] },
      origin: { enum: ['generated', 'imported'] },
    }),
    model: object({
      dir: string,
      family: string,
      isCtc: boolean,
      scoreKind: optional({ enum: ['ctc', 'rnnt', 'tdt', 'transducer', 'decoder'] }),
      fingerprint: string,
      files: array(object({ path: string, sha256: string })),
    }),
    providers: array(string),
    settings: object({
      alpha: probability,
      confidence: probability,
      bootstrapResamples: integer,
      seed: string,
      provider: { enum: [...PROVIDER_CHOICES] },
      deviceId: nullable(integer),
      threads: nullable(integer),
      batchFrames: nullable(integer),
    }),
    normalization: string,
    rows: array(
      object({
        id: string,
        repetitions: nullable(integer),
        reference: string,
        hypothesis: string,
        cer: number,
        wer: number,
        characterEdits: integer,
        referenceCharacters: integer,
        wordEdits: integer,
        referenceWords: integer,
        exactMatch: boolean,
        modelScore: nullable(number),
        modelScorePerToken: nullable(number),
        durationSec: number,
        frames: integer,
        exposure: nullable(object({ cer: canaryExposure, modelScore: nullable(canaryExposure) })),
        notes: array(string),
      }),
    ),
    fits: array(
      object({
        score: scoreName,
        ok: boolean,
        location: nullable(number),
        scale: nullable(number),
        shape: nullable(number),
        logLikelihood: nullable(number),
        shapeAtBound: boolean,
        reason: nullable(string),
      }),
    ),
    groups: array(
      object({
        repetitions: nullable(integer),
        label: string,
        count: integer,
        cer: interval,
        wer: interval,
        exactMatches: integer,
        exactMatchRate: interval,
        modelScore: nullable(interval),
        exposure: nullable(object({ cer: scoreExposureSummary, modelScore: nullable(scoreExposureSummary) })),
      }),
    ),
    tests: array(
      object({
        repetitions: integer,
        score: scoreName,
        test: { const: 'mann-whitney-u-one-sided' },
        n1: integer,
        n2: integer,
        u: number,
        pValue: probability,
        adjustedPValue: probability,
        method: testMethod,
        ties: boolean,
        minimumPValue: probability,
        minimumAdjustedPValue: probability,
        canReachAlpha: boolean,
        perfectMemorizationPValue: probability,
        rankBiserial: number,
        commonLanguage: probability,
        significant: boolean,
      }),
    ),
    feasibility: object({
      checked: boolean,
      canaries: integer,
      infeasible: integer,
      limit: probability,
      byGroup: array(object({ repetitions: nullable(integer), count: integer, infeasible: integer })),
      infeasibleIds: array(string),
      missingCharacters: optional(array(string)),
    }),
    scores: optional(
      array(
        object({
          score: scoreName,
          label: string,
          used: integer,
          canaries: integer,
          byGroup: array(object({ repetitions: nullable(integer), count: integer, used: integer })),
          leftOut: array(object({ reason: string, ids: array(string) })),
          tested: boolean,
          note: nullable(string),
        }),
      ),
    ),
    membershipInference: object({
      score: scoreName,
      method: string,
      groups: array(
        object({
          repetitions: nullable(integer),
          label: string,
          positives: integer,
          negatives: integer,
          curve: object({ fpr: array(probability), tpr: array(probability) }),
          auc: interval,
          tprAtFpr: array(
            object({
              fpr: probability,
              allowedFalsePositives: integer,
              tpr: nullable(interval),
              note: nullable(string),
            }),
          ),
        }),
      ),
    }),
    epsilon: nullable(
      object({
        method: { const: 'one-run' },
        score: scoreName,
        candidates: integer,
        included: integer,
        delta: probability,
        confidence: probability,
        significancePerGuess: probability,
        grid: array(epsilonGuess),
        epsilon: { type: 'number', minimum: 0 },
        maximumEpsilon: { type: 'number', minimum: 0 },
        best: nullable(epsilonGuess),
        sentence: string,
      }),
    ),
    verdict: object({
      status: { enum: ['detected', 'not-detected', 'inconclusive'] },
      memorizationDetected: boolean,
      smallestRepetitions: nullable(integer),
      detectedRepetitions: array(integer),
      sentence: string,
      inconclusiveReasons: array(string),
      notes: array(string),
    }),
  }),
};

const pairedTest = object({
  scope: { enum: ['all-inserted', 'group', 'held-out'] },
  repetitions: nullable(integer),
  score: scoreName,
  test: { const: 'wilcoxon-signed-rank' },
  alternative: { enum: ['greater', 'less', 'two-sided'] },
  pairs: integer,
  zeros: integer,
  meanDifference: interval,
  medianDifference: number,
  wPlus: number,
  wMinus: number,
  pValue: probability,
  adjustedPValue: nullable(probability),
  method: testMethod,
  rankBiserial: number,
  minimumPValue: probability,
  minimumAdjustedPValue: probability,
  canReachAlpha: boolean,
  finding: {
    enum: [
      'other-memorizes-less',
      'other-memorizes-more',
      'not-beyond-held-out',
      'no-difference',
      'cannot-reach-alpha',
      'other-better-on-held-out',
      'other-worse-on-held-out',
    ],
  },
});

const beyondHeldOutTest = object({
  score: scoreName,
  test: { const: 'mann-whitney-u' },
  alternative: { enum: ['greater', 'less', 'two-sided'] },
  inserted: integer,
  heldOut: integer,
  differenceInDifferences: number,
  pValue: probability,
  adjustedPValue: probability,
  method: testMethod,
  rankBiserial: number,
  minimumPValue: probability,
  minimumAdjustedPValue: probability,
  canReachAlpha: boolean,
  finding: { enum: ['inserted-higher', 'inserted-lower', 'no-difference', 'cannot-reach-alpha'] },
});

export const COMPARISON_REPORT_JSON_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://rote.invalid/schemas/comparison-report-${COMPARISON_REPORT_SCHEMA_VERSION}.json`,
  title: 'rote comparison report',
  ...object({
    schemaVersion: { const: COMPARISON_REPORT_SCHEMA_VERSION },
    kind: { const: 'rote-comparison-report' },
    tool,
    canarySet: object({ setId: string, canaries: integer }),
    settings: object({
      alpha: probability,
      confidence: probability,
      bootstrapResamples: integer,
      seed: string,
      scoreResolution: object({ cer: number, modelScore: number }),
      expect: { enum: ['less', 'more', 'either'] },
    }),
    models: array(
      object({
        name: string,
        reportPath: nullable(string),
        modelDir: string,
        modelFingerprint: string,
        family: string,
        // A fresh schema: optional() marks the object, and `string` is shared by every other field.
        scoreLabel: optional({ type: 'string' }),
        providers: array(string),
        verdict: string,
        verdictStatus: { enum: ['detected', 'not-detected', 'inconclusive'] },
      }),
    ),
    groups: array(
      object({
        repetitions: nullable(integer),
        label: string,
        models: array(
          object({
            name: string,
            count: integer,
            cer: interval,
            exactMatchRate: interval,
            modelScore: nullable(interval),
            meanCerExposure: nullable(number),
            cerAdjustedPValue: nullable(probability),
          }),
        ),
      }),
    ),
    pairs: array(
      object({
        baseline: string,
        other: string,
        primary: array(pairedTest),
        groups: array(pairedTest),
        heldOut: array(pairedTest),
        beyondHeldOut: array(beyondHeldOutTest),
        groupsExcludingZero: array(object({ repetitions: integer, score: scoreName, meanDifference: interval })),
        verdict: string,
      }),
    ),
    verdict: string,
  }),
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

/** Problems of `value` against `schema`, each as "path: what is wrong" (empty when valid). */
export function schemaProblems(value: unknown, schema: JsonSchema, path = '$', limit = 20): string[] {
  const problems: string[] = [];
  const visit = (v: unknown, s: JsonSchema, p: string): void => {
    if (problems.length >= limit) return;
    if (s.anyOf) {
      if (!s.anyOf.some((option) => schemaProblems(v, option, p, 1).length === 0)) {
        const nonNull = s.anyOf.find((option) => option.type !== 'null');
        if (v !== null && nonNull) visit(v, nonNull, p);
        else problems.push(`${p}: matches none of the allowed forms`);
      }
      return;
    }
    if ('const' in s && v !== s.const)
      problems.push(`${p}: expected ${JSON.stringify(s.const)}, found ${JSON.stringify(v)}`);
    if (s.enum && !s.enum.includes(v))
      problems.push(
        `${p}: expected one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(v)}`,
      );
    if (s.type) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.some((type) => matchesType(v, type))) {
        problems.push(
          `${p}: expected ${types.join(' or ')}, found ${typeOf(v)}${typeof v === 'number' ? ` ${v}` : ''}`,
        );
        return;
      }
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) problems.push(`${p}: ${v} is below ${s.minimum}`);
      if (s.maximum !== undefined && v > s.maximum) problems.push(`${p}: ${v} is above ${s.maximum}`);
    }
    if (Array.isArray(v) && s.items) v.forEach((item, index) => visit(item, s.items!, `${p}[${index}]`));
    if (typeOf(v) === 'object' && s.properties) {
      const record = v as Record<string, unknown>;
      for (const key of s.required ?? []) if (!(key in record)) problems.push(`${p}: missing field "${key}"`);
      for (const [key, child] of Object.entries(record)) {
        const childSchema = s.properties[key];
        if (childSchema) visit(child, childSchema, `${p}.${key}`);
        else if (s.additionalProperties === false) problems.push(`${p}: unexpected field "${key}"`);
      }
    }
  };
  visit(value, schema, path);
  return problems;
}

/** The schema version before the model score's rename: its fields were called `ctcScore`. */
const RENAMED_SCORE_VERSION = 2;

/**
 * A report (audit or comparison) of schema version 2 in today's names: every `ctcScore` key becomes
 * `modelScore` (`ctcScorePerToken`: `modelScorePerToken`), every score name `ctcScore` (the `score` fields)
 * `modelScore`; nothing else differs between versions 2 and 3. Returns a new value; `value` is left as it was.
 */
function fromVersion2(value: unknown, currentVersion: number): unknown {
  const rename = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rename);
    if (typeOf(node) !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>).map(([key, child]) => {
        const name = key === 'ctcScore' ? 'modelScore' : key === 'ctcScorePerToken' ? 'modelScorePerToken' : key;
        return [name, key === 'score' && child === 'ctcScore' ? 'modelScore' : rename(child)];
      }),
    );
  };
  return { ...(rename(value) as Record<string, unknown>), schemaVersion: currentVersion };
}

function validate<T>(value: unknown, schema: JsonSchema, what: string, source: string, expectedVersion: number): T {
  const record = value as { kind?: unknown; schemaVersion?: unknown } | null;
  const ours = typeOf(value) === 'object' && schema.properties?.kind?.const === record!.kind;
  if (ours && record!.schemaVersion === RENAMED_SCORE_VERSION) value = fromVersion2(value, expectedVersion);
  else if (ours && record!.schemaVersion !== undefined && record!.schemaVersion !== expectedVersion) {
    throw new RoteError(
      `${source}: ${what} schema version ${String(record!.schemaVersion)}; this rote reads versions ${RENAMED_SCORE_VERSION} and ${expectedVersion}. Re-run the audit with this rote.`,
    );
  }
  const problems = schemaProblems(value, schema);
  if (problems.length > 0) throw new RoteError(`${source}: not a valid ${what}:\n  ${problems.join('\n  ')}`);
  return value as T;
}

/** Checks a parsed report.json against the audit-report schema; throws RoteError naming `source` and each bad field. */
export function validateReport(value: unknown, source = 'report'): AuditReport {
  return validate<AuditReport>(
    value,
    AUDIT_REPORT_JSON_SCHEMA,
    'rote audit report',
    source,
    AUDIT_REPORT_SCHEMA_VERSION,
  );
}

export function validateComparisonReport(value: unknown, source = 'comparison'): ComparisonReport {
  return validate<ComparisonReport>(
    value,
    COMPARISON_REPORT_JSON_SCHEMA,
    'rote comparison report',
    source,
    COMPARISON_REPORT_SCHEMA_VERSION,
  );
}
