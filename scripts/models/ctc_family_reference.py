#!/usr/bin/python3
"""Reference implementation of the conventions of three CTC model families, written from
their published sources (not from rote's TypeScript), for rote's golden test values.

  Hugging Face wav2vec2-family CTC (transformers + optimum):
    Wav2Vec2FeatureExtractor     float32 samples at preprocessor_config.sampling_rate (a
                                 different rate is an error); do_normalize: per utterance
                                 (x - mean) / sqrt(var + 1e-7) over its valid samples
                                 (population variance), padding filled with padding_value.
    output frames                _get_feat_extract_output_lengths: for each (kernel, stride)
                                 of config.conv_kernel / conv_stride, L = floor((L - k) / s) + 1,
                                 then num_adapter_layers times floor((L - 1) / adapter_stride) + 1
                                 when add_adapter.
    Wav2Vec2CTCTokenizer         vocab.json (token -> id) plus added tokens; the ASR pipeline
                                 decodes CTC argmax ids with skip_special_tokens=False: group
                                 repeats, drop the pad token (the CTC blank), the word delimiter
                                 token becomes replace_word_delimiter_char, join, strip,
                                 lowercase when do_lower_case; clean_up_tokenization when
                                 clean_up_tokenization_spaces. Targets: upper-case the text
                                 when do_lower_case, spaces -> word delimiter, one token per
                                 character (unknown -> unk).
    batching                     an Optimum export has input_values only (no attention_mask):
                                 padding changes the output (group norm over time, attention
                                 over padded frames), so each file is run on its own, as the
                                 pipeline does with its default batch_size 1.
  WeNet:
    sherpa-onnx export           kaldi fbank as sherpa-onnx's default FeatureExtractorConfig
                                 (80 bins, 25/10 ms, povey, snip_edges false, high_freq -400,
                                 dither 0) with normalize_samples = false: samples * 32768.
    export_onnx_cpu.py           wenet/dataset/processor.py compute_fbank: samples * 32768,
                                 torchaudio.compliance.kaldi.fbank(num_mel_bins, 25, 10,
                                 dither=0, energy_floor=0): torchaudio's defaults otherwise
                                 (povey, snip_edges true, high_freq 0 = Nyquist).
    decoding                     greedy CTC over log-probs; blank <blank> = 0; tokens joined,
                                 "\u2581" read as a space.
  icefall Zipformer CTC          kaldi fbank as sherpa-onnx / kaldifeat in icefall's
                                 onnx_pretrained_ctc.py (samples in [-1, 1], snip_edges false,
                                 high_freq -400, dither 0); blank <blk> = 0.

CTC log-likelihoods: torch.nn.functional.ctc_loss (float64, reduction none), negated.
"""
import json
import os
import re
from itertools import groupby

import numpy as np
import scipy.io.wavfile
import torch
import torchaudio


def read_wav(path):
    """16-bit PCM mono as float32 int16 / 32768, and the sample rate."""
    rate, data = scipy.io.wavfile.read(path)
    if data.dtype != np.int16 or data.ndim != 1:
        raise ValueError(f"{path}: expected 16-bit mono PCM")
    return (data.astype(np.float32) / 32768.0), rate


# ---------------------------------------------------------------------------
# Hugging Face


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def hf_normalize(vectors, lengths=None, padding_value=0.0):
    """Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm on float32 arrays."""
    out = []
    for i, vector in enumerate(vectors):
        vector = np.asarray(vector, dtype=np.float32)
        n = len(vector) if lengths is None else lengths[i]
        normed = (vector - vector[:n].mean()) / np.sqrt(vector[:n].var() + 1e-7)
        if n < len(normed):
            normed[n:] = padding_value
        out.append(normed.astype(np.float32))
    return out


def hf_input_values(samples, rate, preprocessor):
    if rate != preprocessor["sampling_rate"]:
        raise ValueError(f"sampling rate {rate}, the feature extractor wants {preprocessor['sampling_rate']}")
    x = np.asarray(samples, dtype=np.float32)
    return hf_normalize([x])[0] if preprocessor.get("do_normalize", True) else x


def hf_output_length(num_samples, config):
    length = num_samples
    for kernel, stride in zip(config["conv_kernel"], config["conv_stride"]):
        length = (length - kernel) // stride + 1
    if config.get("add_adapter"):
        for _ in range(config.get("num_adapter_layers", 3)):
            length = (length - 1) // config.get("adapter_stride", 2) + 1
    return length


class HfTokenizer:
    def __init__(self, model_dir):
        vocab = load_json(os.path.join(model_dir, "vocab.json"))
        config = load_json(os.path.join(model_dir, "tokenizer_config.json"))
        self.encoder = dict(vocab)
        added = os.path.join(model_dir, "added_tokens.json")
        if os.path.exists(added):
            self.encoder.update(load_json(added))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.pad = config.get("pad_token", "<pad>")
        self.unk = config.get("unk_token", "<unk>")
        self.delimiter = config.get("word_delimiter_token", "|")
        self.replace_delimiter = config.get("replace_word_delimiter_char", " ")
        self.do_lower_case = config.get("do_lower_case", False)
        self.clean_up = config.get("clean_up_tokenization_spaces", False)

    @property
    def pad_id(self):
        return self.encoder[self.pad]

    def decode(self, ids):
        tokens = [self.decoder.get(int(i), self.unk) for i in ids]
        chars = [token for token, _ in groupby(tokens)]
        chars = [c for c in chars if c != self.pad]
        chars = [self.replace_delimiter if c == self.delimiter else c for c in chars]
        text = "".join(chars).strip()
        if self.do_lower_case:
            text = text.lower()
        if self.clean_up:
            for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                         (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
                text = text.replace(a, b)
        return text

    def encode(self, text):
        if self.do_lower_case:
            text = text.upper()
        return [self.encoder.get(c, self.encoder.get(self.unk)) for c in text.replace(" ", self.delimiter)]


# ---------------------------------------------------------------------------
# Kaldi fbank as each family's runtime configures it (torchaudio's Kaldi-compatible fbank)


def wenet_fbank(samples, num_bins=80):
    """WeNet's own pipeline (processor.compute_fbank at decode time)."""
    wave = torch.from_numpy(np.asarray(samples, dtype=np.float32)).unsqueeze(0) * (1 << 15)
    return torchaudio.compliance.kaldi.fbank(wave, num_mel_bins=num_bins, frame_length=25, frame_shift=10,
                                             dither=0.0, energy_floor=0.0, sample_frequency=16000)


def sherpa_fbank(samples, scale=1.0, num_bins=80):
    """sherpa-onnx's default FeatureExtractorConfig (knf); scale 32768 for WeNet (normalize_samples false)."""
    wave = torch.from_numpy(np.asarray(samples, dtype=np.float32)).unsqueeze(0) * scale
    return torchaudio.compliance.kaldi.fbank(wave, num_mel_bins=num_bins, frame_length=25, frame_shift=10,
                                             dither=0.0, energy_floor=0.0, sample_frequency=16000,
                                             snip_edges=False, high_freq=-400.0, low_freq=20.0)


# ---------------------------------------------------------------------------
# Token files and CTC


def read_token_file(path):
    """sherpa-onnx tokens.txt / WeNet units.txt: "<symbol> <id>" per line."""
    pieces = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                match = re.match(r"^(.+?)\s+(\d+)$", line) or re.match(r"^(\s)\s*(\d+)$", line)
                pieces[int(match.group(2))] = match.group(1)
    return [pieces[i] for i in range(len(pieces))]


def symbols_text(pieces, ids):
    """sherpa-onnx / WeNet: concatenate the symbols, "\u2581" is a space, one leading space dropped."""
    text = "".join(pieces[i] for i in ids).replace("\u2581", " ")
    return text[1:] if text.startswith(" ") else text


def symbols_targets(pieces, text):
    """Targets for a text in a sentencepiece-like symbol table without its bpe.model: each word,
    prefixed "\u2581", split into the fewest pieces (on a tie, the split whose last piece is longest).
    The fixtures' tables hold every letter, so every word splits."""
    index = {p: i for i, p in enumerate(pieces) if not (p.startswith("<") and p.endswith(">"))}
    ids = []
    for word in text.split():
        chars = "\u2581" + word
        best = [(0, None, None)] + [None] * len(chars)  # (pieces, start, id)
        for end in range(1, len(chars) + 1):
            for start in range(end):
                piece = chars[start:end]
                if piece in index and best[start] is not None:
                    candidate = (best[start][0] + 1, start, index[piece])
                    if best[end] is None or candidate[0] < best[end][0]:
                        best[end] = candidate
        if best[-1] is None:
            raise ValueError(f"cannot split {word!r} into the table's pieces")
        word_ids, end = [], len(chars)
        while end > 0:
            word_ids.insert(0, best[end][2])
            end = best[end][1]
        ids += word_ids
    return ids


def ctc_greedy(log_probs, blank):
    best = log_probs.argmax(dim=-1).tolist()
    return [t for t, _ in groupby(best) if t != blank]


def ctc_log_likelihood(log_probs, targets, blank):
    """ln P(targets | log_probs [T, V]) with torch's CTC loss (float64)."""
    lp = log_probs.double().log_softmax(dim=-1).unsqueeze(1)
    loss = torch.nn.functional.ctc_loss(lp, torch.tensor([targets]), torch.tensor([lp.shape[0]]),
                                        torch.tensor([len(targets)]), blank=blank, reduction="none",
                                        zero_infinity=False)
    return -float(loss[0])


def wenet_chunked_log_probs(encoder_chunk, ctc, feats, chunk_size, subsampling, right_context, att_cache, cnn_cache,
                            left_chunks=-1):
    """WeNet's runtime decoding loop (runtime/core/decoder: AsrDecoder::AdvanceDecoding,
    AsrModel::num_frames_for_chunk / ForwardEncoder / CacheFeature, OnnxAsrModel): the first
    read takes (chunk_size - 1) * subsampling + right_context + 1 frames, later reads
    chunk_size * subsampling (chunk_size <= 0: everything at once); a chunk runs only when the
    cached frames plus the new ones exceed right_context + 1, on the cached frames followed by
    the new ones, at `offset` (output frames so far), with the attention and convolution caches
    the previous run returned; after a run the last 1 + right_context - subsampling new frames
    are cached. With left_chunks > 0 (OnnxAsrModel::Reset / ForwardEncoderFunc): offset starts
    at required_cache_size = chunk_size * left_chunks, `att_cache` holds that many (zero)
    frames, and each run also gets required_cache_size and att_mask [1, 1, required + chunk_size]
    of ones with the first (left_chunks - chunk_idx) * chunk_size zeroed while chunk_idx =
    offset / chunk_size - left_chunks < left_chunks. Returns the concatenated log-probs [T', V]."""
    cached = feats[:0]
    required = chunk_size * left_chunks
    offset = required if left_chunks > 0 else 0
    position, outputs, first = 0, [], True
    total = feats.shape[0]
    while True:
        if chunk_size <= 0:
            need = total + 1
        else:
            need = (chunk_size - 1) * subsampling + right_context + 1 if first else chunk_size * subsampling
        new = feats[position:position + need]
        position += new.shape[0]
        finished = new.shape[0] < need  # the feature pipeline's Read() came up short: end of input
        chunk = torch.cat([cached, new])
        if chunk.shape[0] > right_context + 1:
            if left_chunks > 0:
                att_mask = torch.ones(1, 1, required + chunk_size, dtype=torch.bool)
                chunk_idx = offset // chunk_size - left_chunks
                if chunk_idx < left_chunks:
                    att_mask[:, :, :(left_chunks - chunk_idx) * chunk_size] = False
                out, att_cache, cnn_cache = encoder_chunk(chunk.unsqueeze(0), torch.tensor(offset), torch.tensor(required),
                                                          att_cache, cnn_cache, att_mask)
            else:
                out, att_cache, cnn_cache = encoder_chunk(chunk.unsqueeze(0), torch.tensor(offset), att_cache, cnn_cache)
            offset += out.shape[1]
            outputs.append(ctc(out)[0])
            keep = 1 + right_context - subsampling
            if new.shape[0] >= keep:
                cached = new[new.shape[0] - keep:]
        first = False
        if finished:
            break
    return torch.cat(outputs) if outputs else feats.new_zeros(0, 0)
