/**
 * The one module that owns ONNX Runtime sessions: the deliberate provider fallback
 * (onnxruntime-node has none: `['cuda', 'cpu']` throws when CUDA cannot load; which
 * providers can run here and why not is src/setup/provider-check.ts), session creation
 * and timed runs.
 */
import * as ort from 'onnxruntime-node';
import { RoteError } from '../util/errors.ts';
import { resolveOptions, type OptionsOf } from '../util/options.ts';
import { RUNTIME_OPTION_SPECS } from './options.ts';
import { autoPrecheck, firstLine, fixFor, precheck, providerError, sessionOptions } from '../setup/provider-check.ts';
import { AUTO_ORDER, type ProviderName } from '../setup/providers.ts';
export {
  AUTO_ORDER,
  PROVIDER_CHOICES,
  PROVIDER_NAMES,
  type ProviderChoice,
  type ProviderName,
} from '../setup/providers.ts';

export interface ProviderReport {
  used: ProviderName;
  /** Every provider tried, in order; `error` says why one did not run. */
  tried: { name: ProviderName; error?: string }[];
}

/** provider, deviceId and threads (RUNTIME_OPTION_SPECS: types, defaults and ranges there). */
export type RuntimeOptions = OptionsOf<typeof RUNTIME_OPTION_SPECS>;

export {
  CUDA_PROVIDER_LIBRARIES,
  missingCudaProviderLibraries,
  ortBinaryDir,
  SETUP_CUDA_COMMAND,
} from '../setup/cuda.ts';

export interface SessionSet {
  sessions: ort.InferenceSession[];
  report: ProviderReport;
}

/**
 * Creates one session per model file, all on the same provider. `auto` tries
 * cuda, webgpu, cpu in order, catching each failure; a named provider that fails
 * is a RoteError naming the fix.
 */
export async function createSessions(paths: string[], options: RuntimeOptions = {}): Promise<SessionSet> {
  const { provider: requested } = resolveOptions(RUNTIME_OPTION_SPECS, options);
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const tried: ProviderReport['tried'] = [];
  for (const name of order) {
    const reason = precheck(name) ?? (requested === 'auto' ? autoPrecheck(name) : null);
    if (reason) {
      tried.push({ name, error: reason });
      continue;
    }
    const sessions: ort.InferenceSession[] = [];
    try {
      for (const path of paths) sessions.push(await ort.InferenceSession.create(path, sessionOptions(name, options)));
      tried.push({ name });
      return { sessions, report: { used: name, tried } };
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
      if (name === 'cpu') {
        throw new RoteError(
          `ONNX Runtime cannot load ${paths.join(', ')} on the CPU: ${firstLine(error)}; check the file is a complete ONNX model`,
          { cause: error },
        );
      }
      tried.push({ name, error: providerError(name, error) });
    }
  }
  const last = tried[tried.length - 1]!;
  throw new RoteError(`provider ${last.name} is not available: ${last.error}. Fix: ${fixFor(last.name, last.error)}`);
}

/** One sentence per provider that did not run, for reports. */
export function describeProviderReport(report: ProviderReport): string {
  const skipped = report.tried.filter((t) => t.error).map((t) => `${t.name}: ${t.error}`);
  return skipped.length ? `ran on ${report.used} (not used: ${skipped.join('; ')})` : `ran on ${report.used}`;
}

/** Accumulates time spent inside session.run. */
export class RunClock {
  runMs = 0;
  runs = 0;
  async run(
    session: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    describe: () => string,
  ): Promise<ort.InferenceSession.OnnxValueMapType> {
    const started = performance.now();
    try {
      return await session.run(feeds);
    } catch (error) {
      throw new RoteError(`model input mismatch or model failure: ${describe()}: ${firstLine(error)}`, {
        cause: error,
      });
    } finally {
      this.runMs += performance.now() - started;
      this.runs++;
    }
  }
}

export { ort };
