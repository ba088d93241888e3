#!/usr/bin/python3
"""Reference log-mel features of Whisper's frontend for test/audio/whisper-mel.test.ts.

Run with Debian's PyTorch (torch 1.13):
    /usr/bin/python3 scripts/parity/make_whisper_mel_fixture.py

What it computes, as openai/whisper (whisper/audio.py, log_mel_spectrogram +
pad_or_trim) and transformers' WhisperFeatureExtractor describe it, written here
with torch primitives (neither package is installed):
  * samples padded with zeros or trimmed to 30 s (480000 samples at 16 kHz);
  * torch.stft(n_fft=400, hop_length=160, window=torch.hann_window(400)
    (periodic), center=True, pad_mode='reflect'), the last frame dropped
    (3000 frames);
  * the power spectrum |X|^2, librosa's Slaney mel filters (fmin 0, fmax 8000,
    norm 'slaney'), rebuilt in numpy from librosa's documented formulas;
  * log10(max(mel, 1e-10)), floored at (its maximum - 8), then (x + 4) / 4.
Everything in float64 (the toolkits run float32: rote's tolerance covers that).

Output: test/fixtures/parity/whisper-mel.json (cases) and whisper-mel.f32
(little-endian float32, frame-major [frame][bin], the stored frames of each case).
"""
import json
import os
import wave

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "parity")
SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_SAMPLES = 30 * SAMPLE_RATE
N_FRAMES = N_SAMPLES // HOP


def read_wav(name):
    with wave.open(os.path.join(FIXTURES, name), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == SAMPLE_RATE, name
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float64) / 32768.0


def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mel = hz / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-12) / min_log_hz) / logstep, mel)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def slaney_mel_filters(n_mels):
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_points = np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), n_mels + 2)
    hz_points = mel_to_hz(mel_points)
    widths = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, fft_freqs.size))
    for i in range(n_mels):
        lower = -ramps[i] / widths[i]
        upper = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2 : n_mels + 2] - hz_points[:n_mels]))[:, None]
    return weights


def whisper_log_mel(samples, n_mels):
    audio = np.zeros(N_SAMPLES)
    count = min(len(samples), N_SAMPLES)
    audio[:count] = samples[:count]
    x = torch.from_numpy(audio)
    window = torch.hann_window(N_FFT, periodic=True, dtype=torch.float64)
    stft = torch.stft(x, N_FFT, HOP, window=window, center=True, pad_mode="reflect", return_complex=True)
    power = stft[:, :-1].abs() ** 2
    mel = torch.from_numpy(slaney_mel_filters(n_mels)) @ power
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).T.numpy()  # [frames, bins]


def main():
    cases = []
    chunks = []
    offset = 0
    tiled = np.tile(read_wav("espeak-3.wav"), 12)  # about 35 s: trimmed to 30 s
    inputs = [
        ("espeak-1, 80 bins", {"kind": "wav", "file": "espeak-1.wav"}, read_wav("espeak-1.wav"), 80),
        ("espeak-2, 128 bins", {"kind": "wav", "file": "espeak-2.wav"}, read_wav("espeak-2.wav"), 128),
        ("espeak-3 tiled 12 times, trimmed to 30 s", {"kind": "wav", "file": "espeak-3.wav", "tile": 12}, tiled, 80),
    ]
    for name, input_spec, samples, n_mels in inputs:
        features = whisper_log_mel(samples, n_mels)
        assert features.shape == (N_FRAMES, n_mels)
        if len(samples) < N_SAMPLES:
            # Frames past the audio (and the reflect-padded edge) are all the floor value.
            stored = len(samples) // HOP + 4
            floor = float(features[-1, 0])
            assert np.all(features[stored:] == floor), name
        else:
            stored = N_FRAMES
            floor = None
        first = 0 if stored < N_FRAMES else N_FRAMES - 60
        block = features[first:stored].astype("<f4")
        cases.append(
            {
                "name": name,
                "input": input_spec,
                "numBins": n_mels,
                "firstFrame": first,
                "numStoredFrames": stored - first,
                "floorAfterStored": floor,
                "offset": offset,
            }
        )
        chunks.append(block.tobytes())
        offset += block.size
    with open(os.path.join(FIXTURES, "whisper-mel.f32"), "wb") as f:
        f.write(b"".join(chunks))
    with open(os.path.join(FIXTURES, "whisper-mel.json"), "w") as f:
        json.dump({"generator": "scripts/parity/make_whisper_mel_fixture.py", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
