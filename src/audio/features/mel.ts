/**
 * Mel filterbanks as sparse rows (first FFT bin + weights): Kaldi's (HTK mel
 * scale, triangles in mel, no normalization, FFT bins 0..n/2-1) and librosa's
 * `filters.mel` (Slaney mel scale, triangles in Hz, optional Slaney area
 * normalization, FFT bins 0..n/2). The librosa one follows librosa's documented
 * formulas (librosa is not a dependency): mel points are a linspace of
 * hz_to_mel(fmin)..hz_to_mel(fmax) with n_mels + 2 points mapped back to Hz;
 * weight = max(0, min((f - f[i]) / (f[i+1] - f[i]), (f[i+2] - f) / (f[i+2] - f[i+1]))),
 * times 2 / (f[i+2] - f[i]) with Slaney normalization.
 */

export interface SparseMelBank {
  /** Number of filters. */
  readonly numBins: number;
  /** Number of power-spectrum bins the filters read (n/2 + 1). */
  readonly numFftBins: number;
  /** First power-spectrum bin each filter reads. */
  readonly first: Int32Array;
  /** Filter b's weights are weights[start[b] .. start[b + 1]) (one flat array: no per-filter indirection in the hot loop). */
  readonly start: Int32Array;
  readonly weights: Float64Array;
}

/** Kaldi's mel scale: 1127 ln(1 + f / 700). */
export function kaldiMel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

const SLANEY_F_SP = 200 / 3;
const SLANEY_MIN_LOG_HZ = 1000;
const SLANEY_MIN_LOG_MEL = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
const SLANEY_LOGSTEP = Math.log(6.4) / 27;

/** librosa.hz_to_mel with htk=False (Slaney's Auditory Toolbox scale). */
export function slaneyHzToMel(hz: number): number {
  if (hz >= SLANEY_MIN_LOG_HZ) return SLANEY_MIN_LOG_MEL + Math.log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
  return hz / SLANEY_F_SP;
}

/** librosa.mel_to_hz with htk=False. */
export function slaneyMelToHz(mel: number): number {
  if (mel >= SLANEY_MIN_LOG_MEL) return SLANEY_MIN_LOG_HZ * Math.exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
  return SLANEY_F_SP * mel;
}

function sparsify(dense: Float64Array[], numFftBins: number): SparseMelBank {
  const first = new Int32Array(dense.length);
  const start = new Int32Array(dense.length + 1);
  const rows: Float64Array[] = [];
  dense.forEach((row, bin) => {
    let lo = row.findIndex((w) => w !== 0);
    let hi = lo;
    for (let k = 0; k < row.length; k++) if (row[k] !== 0) hi = k;
    if (lo < 0) lo = hi = 0; // an empty filter (too many bins for the FFT): one zero weight
    first[bin] = lo;
    rows.push(row.slice(lo, hi + 1));
    start[bin + 1] = start[bin]! + hi + 1 - lo;
  });
  const weights = new Float64Array(start[dense.length]!);
  rows.forEach((row, bin) => weights.set(row, start[bin]!));
  return { numBins: dense.length, numFftBins, first, start, weights };
}

/** Kaldi / torchaudio.compliance.kaldi mel banks (no VTLN). `highFreq <= 0` means Nyquist + highFreq. */
export function kaldiMelBank(
  numBins: number,
  fftSize: number,
  sampleRate: number,
  lowFreq: number,
  highFreq: number,
): SparseMelBank {
  const nyquist = sampleRate / 2;
  const high = highFreq > 0 ? highFreq : nyquist + highFreq;
  const numFftBins = fftSize / 2;
  const binWidth = sampleRate / fftSize;
  const melLow = kaldiMel(lowFreq);
  const melDelta = (kaldiMel(high) - melLow) / (numBins + 1);
  const dense: Float64Array[] = [];
  for (let bin = 0; bin < numBins; bin++) {
    const left = melLow + bin * melDelta;
    const center = melLow + (bin + 1) * melDelta;
    const right = melLow + (bin + 2) * melDelta;
    const row = new Float64Array(numFftBins + 1); // the Nyquist bin keeps weight 0
    for (let k = 0; k < numFftBins; k++) {
      const mel = kaldiMel(binWidth * k);
      const up = (mel - left) / (center - left);
      const down = (right - mel) / (right - center);
      row[k] = Math.max(0, Math.min(up, down));
    }
    dense.push(row);
  }
  return sparsify(dense, numFftBins + 1);
}

/** librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney' | None). */
export function slaneyMelBank(
  numBins: number,
  fftSize: number,
  sampleRate: number,
  lowFreq: number,
  highFreq: number,
  slaneyNorm: boolean,
): SparseMelBank {
  const numFftBins = fftSize / 2 + 1;
  const melLow = slaneyHzToMel(lowFreq);
  const melHigh = slaneyHzToMel(highFreq);
  const points = numBins + 2;
  const hz = new Float64Array(points);
  for (let i = 0; i < points; i++)
    hz[i] = slaneyMelToHz(i === points - 1 ? melHigh : melLow + (i * (melHigh - melLow)) / (points - 1));
  const dense: Float64Array[] = [];
  for (let bin = 0; bin < numBins; bin++) {
    const row = new Float64Array(numFftBins);
    const lowerWidth = hz[bin + 1]! - hz[bin]!;
    const upperWidth = hz[bin + 2]! - hz[bin + 1]!;
    const norm = slaneyNorm ? 2 / (hz[bin + 2]! - hz[bin]!) : 1;
    for (let k = 0; k < numFftBins; k++) {
      const f = (k * sampleRate) / fftSize;
      const lower = (f - hz[bin]!) / lowerWidth;
      const upper = (hz[bin + 2]! - f) / upperWidth;
      row[k] = Math.max(0, Math.min(lower, upper)) * norm;
    }
    dense.push(row);
  }
  return sparsify(dense, numFftBins);
}

/** out[b] = sum_k weights[start[b] + k] * power[first[b] + k]. */
export function applyMelBank(bank: SparseMelBank, power: Float64Array, out: Float64Array): void {
  const { first, start, weights, numBins } = bank;
  for (let b = 0; b < numBins; b++) {
    const from = start[b]!;
    const shift = first[b]! - from;
    const to = start[b + 1]!;
    let sum = 0;
    for (let k = from; k < to; k++) sum += weights[k]! * power[k + shift]!;
    out[b] = sum;
  }
}
