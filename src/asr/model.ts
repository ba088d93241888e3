/** loadModel: detect the family of a model directory and open it on a provider. */
import { chooseFamily, gatherDirectoryFacts } from './families/registry.ts';
import type { Engine, LoadModelOptions, ModelInfo } from './families/types.ts';
import type { ProviderReport } from './runtime.ts';

export interface AsrModel {
  info: ModelInfo;
  provider: ProviderReport;
  close(): Promise<void>;
}

/** The engine behind each loaded model (kept out of the public type). */
const engines = new WeakMap<AsrModel, Engine>();

export function engineOf(model: AsrModel): Engine {
  const engine = engines.get(model);
  if (!engine) throw new TypeError('not a model returned by loadModel()');
  return engine;
}

export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<AsrModel> {
  const facts = await gatherDirectoryFacts(dir);
  const { family, because } = chooseFamily(facts, options.head);
  const engine = await family.load(facts, because, options);
  let closed = false;
  const model: AsrModel = {
    info: engine.info,
    provider: engine.provider,
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
    },
  };
  engines.set(model, engine);
  return model;
}

/** What detection would pick, without creating any ONNX Runtime session (for inspect-model). */
export async function detectModel(
  dir: string,
  options: Pick<LoadModelOptions, 'head'> = {},
): Promise<{
  family: ModelInfo['family'];
  because: string[];
  facts: Awaited<ReturnType<typeof gatherDirectoryFacts>>;
}> {
  const facts = await gatherDirectoryFacts(dir);
  const { family, because } = chooseFamily(facts, options.head);
  return { family: family.name, because, facts };
}
