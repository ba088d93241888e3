/** Test signals and measurements shared by the DSP tests. */

export function sine(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(sampleRate * seconds) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate),
  );
}

/** Amplitude of the `frequency` component (single-bin DFT, Hann window), relative to a full-scale sine. */
export function toneAmplitude(samples: Float32Array, sampleRate: number, frequency: number): number {
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = 0; i < samples.length; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (samples.length - 1));
    const phase = (2 * Math.PI * frequency * i) / sampleRate;
    re += w * samples[i]! * Math.cos(phase);
    im -= w * samples[i]! * Math.sin(phase);
    windowSum += w;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}
