/**
 * Worker-thread side of SpeechSynthesisPool: one espeak-ng engine per worker,
 * built from the WebAssembly.Module compiled by the parent thread. Plain
 * JavaScript, started without tsx (see espeak-engine.mjs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adoptEspeakModule, EspeakCore, pcm16WavToFloat } from './espeak-engine.mjs';

const port = parentPort;
if (!port) throw new Error('espeak-worker.mjs must run in a worker thread');

try {
  adoptEspeakModule(workerData.module);
  const engine = await EspeakCore.create();
  port.on('message', (request) => {
    try {
      const { wav, problem } = engine.synthesizeWav(request.text, request);
      if (problem) {
        port.postMessage({ id: request.id, error: problem });
        return;
      }
      const { samples, sampleRate } = pcm16WavToFloat(wav);
      port.postMessage({ id: request.id, samples, sampleRate }, [samples.buffer]);
    } catch (error) {
      port.postMessage({ id: request.id, error: String(error?.message ?? error) });
    }
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ fatal: String(error?.stack ?? error) });
}
