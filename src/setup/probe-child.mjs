/**
 * The provider probe of `rote doctor`, run as a child process (plain JavaScript, started without tsx). Native
 * code (Dawn and the Vulkan loader for WebGPU, the CUDA libraries) writes its warnings straight to file
 * descriptor 2, where JavaScript cannot silence them; the parent captures this process's stderr instead
 * (probeProvider in provider-check.ts). Input: argv[2], JSON { model: base64 ONNX bytes, options: session options }.
 * Output: one JSON line on stdout, { error: string | null }.
 */
import * as ort from 'onnxruntime-node';

const { model, options } = JSON.parse(process.argv[2] ?? '{}');
let error = null;
try {
  const session = await ort.InferenceSession.create(new Uint8Array(Buffer.from(model, 'base64')), options);
  await session.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
  await session.release();
} catch (failure) {
  error = failure instanceof Error ? failure.message : String(failure);
}
// Exit once the answer is out: a provider's native threads may keep the process alive.
process.stdout.write(`${JSON.stringify({ error })}\n`, () => process.exit(0));
