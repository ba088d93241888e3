/**
 * Speed-up by resampling (pitch rises with the speed, like playing a tape
 * faster): a Kaiser-windowed sinc low-pass (src/audio/kaiser.ts), then node-web-audio-api's
 * OfflineAudioContext plays the buffer at `playbackRate = factor` into the
 * output rate. The web-audio source resamples without any anti-aliasing
 * filter (a 3 kHz tone sped up 3x into 16 kHz aliases to 7 kHz at full
 * amplitude), so everything that would land above the output Nyquist is
 * removed first, at the input rate.
 */
import { designLowPass, filterZeroPhase, type LowPassDesign } from '../audio/kaiser.ts';

export { designLowPass, filterZeroPhase, type LowPassDesign };

/** The anti-aliasing filter used before a `factor`x speed-up into `outputRate` (stop band from the new Nyquist, 60 dB). */
export function antiAliasDesign(inputRate: number, factor: number, outputRate: number): LowPassDesign | null {
  const stopHz = outputRate / (2 * factor);
  if (stopHz >= inputRate / 2) return null;
  return { cutoffHz: 0.9 * stopHz, transitionHz: 0.2 * stopHz, attenuationDb: 60 };
}

/** Speeds up `samples` by `factor` with pitch change: low-pass, then web-audio playbackRate into `outputRate`. */
export async function resampleSpeedUp(
  samples: Float32Array,
  sampleRate: number,
  options: { factor: number; outputRate: number },
): Promise<Float32Array> {
  const { factor, outputRate } = options;
  const design = antiAliasDesign(sampleRate, factor, outputRate);
  const filtered = design ? filterZeroPhase(samples, designLowPass(sampleRate, design)) : samples;
  const length = Math.max(1, Math.round((samples.length / sampleRate / factor) * outputRate));
  // Loaded on first use: its native binary needs libasound.so.2, which a
  // transcription-only machine may lack.
  const { OfflineAudioContext } = await import('node-web-audio-api');
  const context = new OfflineAudioContext({ numberOfChannels: 1, length, sampleRate: outputRate });
  const buffer = context.createBuffer(1, Math.max(1, filtered.length), sampleRate);
  buffer.copyToChannel(filtered as Float32Array<ArrayBuffer>, 0);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.playbackRate.value = factor;
  source.connect(context.destination);
  source.start(0);
  const rendered = await context.startRendering();
  return Float32Array.from(rendered.getChannelData(0));
}
