/**
 * Worker-thread side of SpeechSynthesisPool: one EspeakEngine per worker,
 * built from the WebAssembly.Module compiled by the parent thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adoptEspeakModule, EspeakEngine } from './espeak.ts';
import type { SynthesisReply, SynthesisRequest } from './synthesis-pool.ts';

const port = parentPort;
if (!port) throw new Error('espeak-worker.ts must run in a worker thread');

adoptEspeakModule((workerData as { module: WebAssembly.Module }).module);
const engine = await EspeakEngine.create();
port.on('message', (request: SynthesisRequest) => {
  let reply: SynthesisReply;
  try {
    const { samples, sampleRate } = engine.synthesize(request.text, request);
    reply = { id: request.id, samples, sampleRate };
    port.postMessage(reply, [samples.buffer as ArrayBuffer]);
  } catch (error) {
    reply = { id: request.id, error: (error as Error).message };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
