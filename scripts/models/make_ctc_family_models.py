#!/usr/bin/python3
"""Makes rote's small random-weight test models of three CTC families, each built to its
family's published export interface, and their golden values.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/models/make_ctc_family_models.py [--out DIR]
(reads the speech fixtures DIR/speech that make_test_models.py writes). Writes (DIR = test/fixtures/models):

  hf-ctc/           as `optimum-cli export onnx --model <Wav2Vec2ForCTC repo>` leaves it:
                     model.onnx (input_values [batch_size, sequence_length] float32 -> logits
                     [batch_size, sequence_length, vocab_size], raw logits; no attention_mask, as
                     Optimum's AudioOnnxConfig), config.json (model_type wav2vec2, the base model's
                     conv_kernel/conv_stride, feat_extract_norm "group"), preprocessor_config.json
                     (Wav2Vec2FeatureExtractor, do_normalize, return_attention_mask false),
                     vocab.json + added_tokens.json + tokenizer_config.json + special_tokens_map.json
                     (a fine-tuning-tutorial vocabulary: lower-case letters, "|" delimiter, [UNK],
                     [PAD] last as the CTC blank, <s> </s> added after it)
  hf-ctc-masked/     the same files for a feat_extract_norm "layer" model exported with an
                     attention_mask input (int64 [batch_size, sequence_length]; not Optimum's default,
                     a custom export): pad invariant under its mask, so it batches
  sherpa-wenet-ctc/  sherpa-onnx's scripts/wenet/export-onnx.py: model.onnx (x [N, T, 80], x_lens
                     int64 -> log_probs, log_probs_lens) with metadata model_type=wenet_ctc,
                     subsampling_factor, vocab_size; tokens.txt (<blank> 0, <unk> 1, ..., <sos/eos>)
  wenet-ctc/         WeNet's wenet/bin/export_onnx_cpu.py in its non-streaming mode (chunk_size -1,
                     left_chunks -1): encoder.onnx (chunk [1, T, 80], offset, att_cache, cnn_cache ->
                     output, r_att_cache, r_cnn_cache; every export argument as metadata), ctc.onnx
                     (hidden -> probs, log-softmax), units.txt. Same weights as sherpa-wenet-ctc.
  wenet-ctc-16-4/    the same network exported in the 16/4 mode (chunk_size 16, left_chunks 4):
                     encoder.onnx also takes required_cache_size and att_mask [1, 1, 64 + 16]
  zipformer-ctc/     icefall's zipformer/export-onnx-ctc.py: model.onnx (x [N, T, 80], x_lens int64 ->
                     log_probs [N, T', V], log_probs_len) with metadata model_type=zipformer2_ctc;
                     tokens.txt (<blk> 0, <sos/eos> 1, <unk> 2, pieces)
  ctc-reference/<family>.json
                     golden values from scripts/models/ctc_family_reference.py: per utterance the
                     frontend's frame count and sample values, output frames, greedy token ids, the
                     transcript and the CTC log-likelihood of the utterance's text.

The encoders are small stand-ins (a few layers, random seeded weights) that keep each family's
interface exactly: input/output names, dtypes, shapes, metadata and companion files. Peaky
output layers with calibrated blank biases (as make_test_models.py) make transcripts
input-dependent; special tokens never win. Every model except the Hugging Face one masks padded
frames (pad invariant); the Hugging Face one normalizes its first convolution over time
(feat_extract_norm "group"), so padding changes its output, as the real base models.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn

import ctc_family_reference as ref
from make_test_models import add_metadata, export, frame_mask, make_peaky

REFERENCE_UTTERANCES = ["utt-00", "utt-01", "utt-02", "utt-03"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
# sentencepiece-like pieces ("\u2581" starts a word) holding every letter, so every word splits
PIECES = (["\u2581the", "\u2581a", "\u2581of", "\u2581is", "\u2581and", "\u2581to", "\u2581", "ing", "ed", "er", "en", "on", "ar",
           "ow", "ai", "ight", "th", "ll", "is"] + ["\u2581" + c for c in "bcdfhilmoprstw"] + LETTERS + ["'"])


def calibrate_head(head, outputs, blank, never, target=0.5):
    """Centers every class's mean output and sets the blank bias so about `target` of the
    frames choose blank; ids in `never` never win. `outputs()` -> [frames, V] (logits or log-probs)."""
    with torch.no_grad():
        head.bias -= outputs().mean(dim=0)
        for token in never:
            head.bias[token] -= 50.0
        out = outputs()
        others = torch.cat([out[:, :blank], out[:, blank + 1:]], dim=1).max(dim=1).values
        head.bias[blank] += torch.quantile(others - out[:, blank], target)


def sinusoids(positions, dim):
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    angles = positions.to(torch.float32).unsqueeze(1) * div
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, key_mask, cache=None):
        """x [B, T, D]; key_mask [B, Tc + T] bool; cache [B, H, Tc, 2 * dk] (WeNet's att_cache layout)."""
        b, t, d = x.shape
        dk = d // self.heads
        q, k, v = (y.reshape(b, t, self.heads, dk).transpose(1, 2) for y in self.qkv(x).chunk(3, dim=-1))
        if cache is not None:
            k = torch.cat([cache[..., :dk], k], dim=2)
            v = torch.cat([cache[..., dk:], v], dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dk)
        scores = scores.masked_fill(~key_mask[:, None, None, :], -10000.0)
        y = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, d)
        return self.out(y), torch.cat([k, v], dim=-1)


class Block(nn.Module):
    """Attention, a causal depthwise convolution (its left context is WeNet's cnn_cache) and a
    feed-forward layer, pre-norm; padded frames are zeroed."""

    def __init__(self, dim, heads, kernel):
        super().__init__()
        self.kernel = kernel
        self.att_norm = nn.LayerNorm(dim)
        self.att = Attention(dim, heads)
        self.conv_norm = nn.LayerNorm(dim)
        self.conv = nn.Conv1d(dim, dim, kernel, groups=dim)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))

    def forward(self, x, mask, key_mask, att_cache=None, cnn_cache=None):
        keep = mask.unsqueeze(-1).to(x.dtype)
        y, new_att_cache = self.att(self.att_norm(x), key_mask, att_cache)
        x = x + y
        y = (self.conv_norm(x) * keep).transpose(1, 2)
        left = cnn_cache if cnn_cache is not None else torch.zeros(y.shape[0], y.shape[1], self.kernel - 1)
        y = torch.cat([left, y], dim=2)
        new_cnn_cache = y[:, :, -(self.kernel - 1):]
        x = x + torch.nn.functional.silu(self.conv(y)).transpose(1, 2)
        x = x + self.ff(x)
        return x * keep, new_att_cache, new_cnn_cache


# ---------------------------------------------------------------------------
# WeNet (one network, two export layouts)


class WenetModel(nn.Module):
    """GlobalCMVN, Conv2dSubsampling4 (two unpadded 3x3 stride-2 convolutions, as WeNet: valid
    frames (T - 1) // 2, then (T1 - 1) // 2), scaled input plus sinusoid positions from `offset`,
    blocks, after-norm; CTC head with log-softmax (WeNet's ctc.log_softmax)."""

    def __init__(self, vocab, mean, istd, num_bins=80, dim=48, heads=2, blocks=1, kernel=5, channels=8):
        super().__init__()
        self.dim, self.heads, self.blocks_n, self.kernel = dim, heads, blocks, kernel
        self.register_buffer("mean", mean)
        self.register_buffer("istd", istd)
        self.conv1 = nn.Conv2d(1, channels, 3, 2)
        self.conv2 = nn.Conv2d(channels, channels, 3, 2)
        bins = ((num_bins - 1) // 2 - 1) // 2
        self.embed = nn.Linear(channels * bins, dim)
        self.blocks = nn.ModuleList([Block(dim, heads, kernel) for _ in range(blocks)])
        self.after_norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    @staticmethod
    def out_lengths(lengths):
        return torch.div(torch.div(lengths - 1, 2, rounding_mode="floor") - 1, 2, rounding_mode="floor")

    def subsample(self, x, offset):
        x = (x - self.mean) * self.istd
        x = torch.relu(self.conv2(torch.relu(self.conv1(x.unsqueeze(1)))))
        b, c, t, f = x.shape
        x = self.embed(x.transpose(1, 2).reshape(b, t, c * f)) * math.sqrt(self.dim)
        return x + 0.3 * sinusoids(torch.arange(t) + offset, self.dim).unsqueeze(0)

    def encode(self, x, lengths):
        """Whole padded batch, no caches (the sherpa-onnx export's forward)."""
        x = self.subsample(x, 0)
        out_lengths = self.out_lengths(lengths)
        mask = frame_mask(out_lengths, x.shape[1])
        for block in self.blocks:
            x, _, _ = block(x, mask, mask)
        return self.after_norm(x), out_lengths

    def log_probs(self, hidden):
        return torch.log_softmax(self.head(hidden), dim=-1)


class WenetSherpaExport(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, x_lens):
        hidden, lengths = self.model.encode(x, x_lens)
        return self.model.log_probs(hidden), lengths


class WenetEncoderChunk(nn.Module):
    """encoder.forward_chunk as export_onnx_cpu.py exports it with chunk_size -1, left_chunks -1
    (required_cache_size and att_mask are unused in that mode and not graph inputs)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, chunk, offset, att_cache, cnn_cache):
        x = self.model.subsample(chunk, offset)
        t, cached = x.shape[1], att_cache.shape[2]
        mask = torch.ones(1, t, dtype=torch.bool)
        key_mask = torch.ones(1, cached + t, dtype=torch.bool)
        new_att, new_cnn = [], []
        for i, block in enumerate(self.model.blocks):
            x, a, c = block(x, mask, key_mask, att_cache[i:i + 1], cnn_cache[i])
            new_att.append(a)
            new_cnn.append(c.unsqueeze(0))
        return self.model.after_norm(x), torch.cat(new_att, dim=0), torch.cat(new_cnn, dim=0)


class WenetEncoderChunkCached(WenetEncoderChunk):
    """encoder.forward_chunk as export_onnx_cpu.py exports it with left_chunks > 0 (16/4): also
    required_cache_size (the attention cache keeps that many frames) and att_mask [1, 1,
    required + chunk_size], cut to the keys' length, as WeNet's attention does."""

    def forward(self, chunk, offset, required_cache_size, att_cache, cnn_cache, att_mask):
        x = self.model.subsample(chunk, offset)
        t, cached = x.shape[1], att_cache.shape[2]
        mask = torch.ones(1, t, dtype=torch.bool)
        key_mask = att_mask[:, 0, :cached + t]
        new_att, new_cnn = [], []
        for i, block in enumerate(self.model.blocks):
            x, a, c = block(x, mask, key_mask, att_cache[i:i + 1], cnn_cache[i])
            start = torch.clamp(a.shape[2] - required_cache_size, min=0)
            new_att.append(a.index_select(2, torch.arange(start, a.shape[2])))
            new_cnn.append(c.unsqueeze(0))
        return self.model.after_norm(x), torch.cat(new_att, dim=0), torch.cat(new_cnn, dim=0)


class WenetCtc(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, hidden):
        return self.model.log_probs(hidden)


# ---------------------------------------------------------------------------
# icefall Zipformer CTC


class ZipformerCtcModel(nn.Module):
    """Conv2dSubsampling's frame arithmetic (3-frame unpadded convolutions, strides 1, 2, 1:
    (T - 7) // 2 frames), blocks, the output downsampling by 2 ((T + 1) // 2) and the CTC
    output (Linear + LogSoftmax, as icefall's ctc_output)."""

    def __init__(self, vocab, num_bins=80, dim=48, heads=2, blocks=1, kernel=5):
        super().__init__()
        self.conv1 = nn.Conv1d(num_bins, dim, 3)
        self.conv2 = nn.Conv1d(dim, dim, 3, stride=2)
        self.conv3 = nn.Conv1d(dim, dim, 3)
        self.blocks = nn.ModuleList([Block(dim, heads, kernel) for _ in range(blocks)])
        self.head = nn.Linear(dim, vocab)
        self.dim = dim

    def forward(self, x, x_lens):
        x = torch.relu(self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x.transpose(1, 2))))))).transpose(1, 2)
        lengths = torch.div(x_lens - 7, 2, rounding_mode="floor")
        t = x.shape[1]
        x = x + 0.3 * sinusoids(torch.arange(t), self.dim).unsqueeze(0)
        mask = frame_mask(lengths, t)
        for block in self.blocks:
            x, _, _ = block(x, mask, mask)
        x = nn.functional.pad(x, (0, 0, 0, t % 2))
        x = 0.5 * (x[:, 0::2] + x[:, 1::2])
        return torch.log_softmax(self.head(x), dim=-1), torch.div(lengths + 1, 2, rounding_mode="floor")


# ---------------------------------------------------------------------------
# Hugging Face Wav2Vec2ForCTC (feat_extract_norm "group")

HF_CONV_KERNEL = [10, 3, 3, 3, 3, 2, 2]
HF_CONV_STRIDE = [5, 2, 2, 2, 2, 2, 2]


class Wav2Vec2Ctc(nn.Module):
    """Wav2Vec2ForCTC's shape: feature encoder (conv stack without bias, GELU; norm "group": a
    GroupNorm with one group per channel after the first convolution, "layer": a LayerNorm after
    each), feature projection, convolutional positional embedding (even kernel, last frame
    removed), one post-norm transformer layer, lm_head. With an attention_mask (the "layer"
    export with a mask input), frames past each utterance's valid ones are zeroed before the
    positional convolution and masked out of attention, as Wav2Vec2Model does."""

    def __init__(self, vocab, conv_dim=16, hidden=32, heads=2, pos_kernel=8, pos_groups=4, norm="group", layers=1):
        super().__init__()
        convs, channels = [], 1
        for kernel, stride in zip(HF_CONV_KERNEL, HF_CONV_STRIDE):
            convs.append(nn.Conv1d(channels, conv_dim, kernel, stride, bias=False))
            channels = conv_dim
        self.convs = nn.ModuleList(convs)
        self.norm = norm
        if norm == "group":
            self.group_norm = nn.GroupNorm(conv_dim, conv_dim)
        else:
            self.conv_norms = nn.ModuleList([nn.LayerNorm(conv_dim) for _ in HF_CONV_KERNEL])
        self.projection_norm = nn.LayerNorm(conv_dim)
        self.projection = nn.Linear(conv_dim, hidden)
        self.pos_conv = nn.Conv1d(hidden, hidden, pos_kernel, padding=pos_kernel // 2, groups=pos_groups)
        self.encoder_norm = nn.LayerNorm(hidden)
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.att_out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden)
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.norm2 = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, vocab)
        # layers past the first are made after the head, so that a one-layer model draws the
        # same seeded weights as before this option existed (the committed fixtures)
        self.more_layers = nn.ModuleList([HfEncoderLayer(hidden, heads) for _ in range(layers - 1)])
        self.config = {"conv_dim": [conv_dim] * len(HF_CONV_KERNEL), "hidden_size": hidden, "num_attention_heads": heads,
                       "num_conv_pos_embeddings": pos_kernel, "num_conv_pos_embedding_groups": pos_groups}

    def forward(self, input_values, attention_mask=None):
        x = input_values.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.norm == "group" and i == 0:
                x = self.group_norm(x)
            elif self.norm == "layer":
                x = self.conv_norms[i](x.transpose(1, 2)).transpose(1, 2)
            x = nn.functional.gelu(x)
        x = self.projection(self.projection_norm(x.transpose(1, 2)))
        mask = None
        if attention_mask is not None:
            lengths = attention_mask.sum(-1)
            for kernel, stride in zip(HF_CONV_KERNEL, HF_CONV_STRIDE):
                lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
            mask = frame_mask(lengths, x.shape[1])
            x = x * mask.unsqueeze(-1).to(x.dtype)
        pos = self.pos_conv(x.transpose(1, 2))[:, :, :-1]
        x = self.encoder_norm(x + nn.functional.gelu(pos).transpose(1, 2))
        b, t, d = x.shape
        dk = d // self.heads
        q, k, v = (y.reshape(b, t, self.heads, dk).transpose(1, 2) for y in self.qkv(x).chunk(3, dim=-1))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dk)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], -10000.0)
        att = torch.softmax(scores, dim=-1)
        x = self.norm1(x + self.att_out(torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)))
        x = self.norm2(x + self.ff(x))
        for layer in self.more_layers:
            x = layer(x, mask, self.heads)
        return self.head(x)


class HfEncoderLayer(nn.Module):
    """One more post-norm transformer layer (Wav2Vec2EncoderLayer's shape), as the first one above."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.att_out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden)
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.norm2 = nn.LayerNorm(hidden)

    def forward(self, x, mask, heads):
        b, t, d = x.shape
        dk = d // heads
        q, k, v = (y.reshape(b, t, heads, dk).transpose(1, 2) for y in self.qkv(x).chunk(3, dim=-1))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dk)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], -10000.0)
        att = torch.softmax(scores, dim=-1)
        x = self.norm1(x + self.att_out(torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)))
        return self.norm2(x + self.ff(x))


def hf_files(model, out, vocab, added):
    pad_id = vocab["[PAD]"]
    config = {
        "_name_or_path": "rote-test/wav2vec2-tiny-ctc",
        "architectures": ["Wav2Vec2ForCTC"],
        "model_type": "wav2vec2",
        "feat_extract_norm": model.norm,
        "feat_extract_activation": "gelu",
        "conv_bias": False,
        "conv_kernel": HF_CONV_KERNEL,
        "conv_stride": HF_CONV_STRIDE,
        "do_stable_layer_norm": model.norm == "layer",
        "add_adapter": False,
        "num_hidden_layers": 1 + len(model.more_layers),
        "ctc_loss_reduction": "mean",
        "pad_token_id": pad_id,
        "bos_token_id": added["<s>"],
        "eos_token_id": added["</s>"],
        "vocab_size": len(vocab) + len(added),
        "transformers_version": "4.46.3",
        **model.config,
    }
    preprocessor = {"do_normalize": True, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,
                    "padding_side": "right", "padding_value": 0.0, "processor_class": "Wav2Vec2Processor",
                    "return_attention_mask": model.norm == "layer", "sampling_rate": 16000}
    tokenizer = {"bos_token": "<s>", "clean_up_tokenization_spaces": True, "do_lower_case": False, "eos_token": "</s>",
                 "model_max_length": 1000000000000000019884624838656, "pad_token": "[PAD]",
                 "processor_class": "Wav2Vec2Processor", "replace_word_delimiter_char": " ", "target_lang": None,
                 "tokenizer_class": "Wav2Vec2CTCTokenizer", "unk_token": "[UNK]", "word_delimiter_token": "|"}
    special = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "[PAD]", "unk_token": "[UNK]"}
    for name, value in (("config.json", config), ("preprocessor_config.json", preprocessor), ("vocab.json", vocab),
                        ("added_tokens.json", added), ("tokenizer_config.json", tokenizer),
                        ("special_tokens_map.json", special)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, ensure_ascii=False)
            f.write("\n")


def make_hf(out, speech, seed=11, norm="group", **size):
    torch.manual_seed(seed)
    vocab = {"'": 0, "|": 1}
    for letter in LETTERS:
        vocab[letter] = len(vocab)
    vocab["[UNK]"] = len(vocab)
    vocab["[PAD]"] = len(vocab)
    added = {"<s>": len(vocab), "</s>": len(vocab) + 1}
    model = Wav2Vec2Ctc(len(vocab) + len(added), norm=norm, **size).eval()
    make_peaky(model.head, 6.0)
    preprocessor = {"sampling_rate": 16000, "do_normalize": True}
    inputs = [torch.from_numpy(ref.hf_input_values(s, r, preprocessor)).unsqueeze(0) for s, r in speech.values()]
    calibrate_head(model.head, lambda: torch.cat([model(x)[0] for x in inputs]), vocab["[PAD]"],
                   never=(vocab["[UNK]"], added["<s>"], added["</s>"]))
    os.makedirs(out, exist_ok=True)
    if norm == "group":  # Optimum's export: input_values only
        export(model, (torch.randn(2, 16000),), os.path.join(out, "model.onnx"), ["input_values"], ["logits"],
               {"input_values": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}})
    else:  # a custom export that keeps the attention mask
        export(model, (torch.randn(2, 16000), torch.ones(2, 16000, dtype=torch.int64)), os.path.join(out, "model.onnx"),
               ["input_values", "attention_mask"], ["logits"],
               {"input_values": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"},
                "logits": {0: "batch_size", 1: "sequence_length"}})
    hf_files(model, out, vocab, added)
    return model


# ---------------------------------------------------------------------------


def write_tokens(path, pieces):
    with open(path, "w", encoding="utf-8") as f:
        for i, p in enumerate(pieces):
            f.write(f"{p} {i}\n")


def make_wenet(out_sherpa, out_export, out_cached, speech, seed=12):
    torch.manual_seed(seed)
    units = ["<blank>", "<unk>"] + PIECES + ["<sos/eos>"]
    feats = [ref.wenet_fbank(s) for s, _ in speech.values()]
    stacked = torch.cat(feats)
    model = WenetModel(len(units), stacked.mean(0), 1.0 / (stacked.std(0) + 1e-5)).eval()
    make_peaky(model.head, 6.0)

    def outputs():
        return torch.cat([model.log_probs(model.encode(f.unsqueeze(0), torch.tensor([f.shape[0]]))[0])[0] for f in feats])

    calibrate_head(model.head, outputs, 0, never=(1, len(units) - 1))
    metadata_common = {"comment": "rote random-weight test model (scripts/models/make_ctc_family_models.py)"}
    os.makedirs(out_sherpa, exist_ok=True)
    path = os.path.join(out_sherpa, "model.onnx")
    export(WenetSherpaExport(model), (torch.randn(2, 120, 80), torch.tensor([120, 90])), path, ["x", "x_lens"],
           ["log_probs", "log_probs_lens"],
           {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "log_probs": {0: "N", 1: "T"}, "log_probs_lens": {0: "N"}})
    add_metadata(path, {"model_type": "wenet_ctc", "version": "1", "model_author": "wenet", **metadata_common,
                        "subsampling_factor": 4, "vocab_size": len(units), "url": ""})
    write_tokens(os.path.join(out_sherpa, "tokens.txt"), units)

    os.makedirs(out_export, exist_ok=True)
    head_dim = model.dim // model.heads
    arguments = {"output_dir": "exp/onnx", "batch": 1, "chunk_size": -1, "left_chunks": -1, "beam": 10,
                 "reverse_weight": 0.0, "output_size": model.dim, "num_blocks": model.blocks_n,
                 "cnn_module_kernel": model.kernel, "head": model.heads, "feature_size": 80, "vocab_size": len(units),
                 "decoding_window": 67, "encoder": "conformer", "decoder": "transformer", "subsampling_rate": 4,
                 "right_context": 6, "sos_symbol": len(units) - 1, "eos_symbol": len(units) - 1,
                 "is_bidirectional_decoder": 0}
    enc_path = os.path.join(out_export, "encoder.onnx")
    export(WenetEncoderChunk(model),
           (torch.randn(1, 67, 80), torch.tensor(0), torch.zeros(model.blocks_n, model.heads, 0, 2 * head_dim),
            torch.zeros(model.blocks_n, 1, model.dim, model.kernel - 1)),
           enc_path, ["chunk", "offset", "att_cache", "cnn_cache"], ["output", "r_att_cache", "r_cnn_cache"],
           {"chunk": {1: "T"}, "att_cache": {2: "T_CACHE"}, "output": {1: "T"}, "r_att_cache": {2: "T_CACHE"}})
    add_metadata(enc_path, arguments)
    ctc_path = os.path.join(out_export, "ctc.onnx")
    export(WenetCtc(model), (torch.randn(1, 16, model.dim),), ctc_path, ["hidden"], ["probs"],
           {"hidden": {1: "T"}, "probs": {1: "T"}})
    add_metadata(ctc_path, arguments)
    write_tokens(os.path.join(out_export, "units.txt"), units)

    # the same network exported in the 16/4 mode (chunk_size 16, left_chunks 4)
    os.makedirs(out_cached, exist_ok=True)
    required = 16 * 4
    enc_path = os.path.join(out_cached, "encoder.onnx")
    att_mask = torch.ones(1, 1, required + 16, dtype=torch.bool)
    att_mask[:, :, :required] = False
    export(WenetEncoderChunkCached(model),
           (torch.randn(1, 67, 80), torch.tensor(required), torch.tensor(required),
            torch.zeros(model.blocks_n, model.heads, required, 2 * head_dim),
            torch.zeros(model.blocks_n, 1, model.dim, model.kernel - 1), att_mask),
           enc_path, ["chunk", "offset", "required_cache_size", "att_cache", "cnn_cache", "att_mask"],
           ["output", "r_att_cache", "r_cnn_cache"],
           {"chunk": {1: "T"}, "att_cache": {2: "T_CACHE"}, "att_mask": {2: "T_ADD_T_CACHE"}, "output": {1: "T"},
            "r_att_cache": {2: "T_CACHE"}})
    add_metadata(enc_path, {**arguments, "chunk_size": 16, "left_chunks": 4, "decoding_window": 67})
    ctc_path = os.path.join(out_cached, "ctc.onnx")
    export(WenetCtc(model), (torch.randn(1, 16, model.dim),), ctc_path, ["hidden"], ["probs"],
           {"hidden": {1: "T"}, "probs": {1: "T"}})
    add_metadata(ctc_path, {**arguments, "chunk_size": 16, "left_chunks": 4, "decoding_window": 67})
    write_tokens(os.path.join(out_cached, "units.txt"), units)
    return model, units


def make_zipformer(out, speech, seed=13):
    torch.manual_seed(seed)
    tokens = ["<blk>", "<sos/eos>", "<unk>"] + PIECES
    feats = [ref.sherpa_fbank(s) for s, _ in speech.values()]
    model = ZipformerCtcModel(len(tokens)).eval()
    make_peaky(model.head, 6.0)
    calibrate_head(model.head, lambda: torch.cat([model(f.unsqueeze(0), torch.tensor([f.shape[0]]))[0][0] for f in feats]),
                   0, never=(1, 2))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, (torch.randn(2, 120, 80), torch.tensor([120, 91])), path, ["x", "x_lens"], ["log_probs", "log_probs_len"],
           {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "log_probs": {0: "N", 1: "T"}, "log_probs_len": {0: "N"}})
    add_metadata(path, {"model_type": "zipformer2_ctc", "version": "1", "model_author": "k2-fsa",
                        "comment": "non-streaming zipformer2 CTC (rote random-weight test model, scripts/models/make_ctc_family_models.py)"})
    write_tokens(os.path.join(out, "tokens.txt"), tokens)
    return model, tokens


# ---------------------------------------------------------------------------
# Golden values


MIN_MARGIN = 2e-3


def check_margin(scores, what):
    """The smallest gap between the best and second-best class over the frames: a golden transcript
    must not hang on a near tie that float rounding (torch here, ONNX Runtime in rote) can flip."""
    top = scores.topk(2, dim=-1).values
    margin = float((top[:, 0] - top[:, 1]).min())
    if margin < MIN_MARGIN:
        raise SystemExit(f"{what}: a frame's best two classes are {margin:.2e} apart; choose another seed")
    return margin


def rounded(values, digits=6):
    return [round(float(v), digits) for v in values]


def feature_summary(feats):
    """Frame count and three frames (first, middle, last) of a [frames, bins] matrix."""
    n = feats.shape[0]
    return {"numFrames": n, "frames": {str(i): rounded(feats[i], 5) for i in (0, n // 2, n - 1)}}


def write_reference(path, family, cases, extra=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/models/make_ctc_family_models.py + ctc_family_reference.py", "family": family,
                   "torch": torch.__version__, **(extra or {}), "utterances": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def hf_reference(model, model_dir, speech, texts):
    config = ref.load_json(os.path.join(model_dir, "config.json"))
    preprocessor = ref.load_json(os.path.join(model_dir, "preprocessor_config.json"))
    tokenizer = ref.HfTokenizer(model_dir)
    cases = []
    with torch.no_grad():
        for utt in REFERENCE_UTTERANCES:
            samples, rate = speech[utt]
            x = ref.hf_input_values(samples, rate, preprocessor)
            logits = model(torch.from_numpy(x).unsqueeze(0))[0]
            frames = ref.hf_output_length(len(samples), config)
            assert frames == logits.shape[0], (frames, logits.shape)
            check_margin(logits, f"{model_dir} {utt}")
            ids = ref.ctc_greedy(logits, tokenizer.pad_id)
            targets = tokenizer.encode(texts[utt])
            cases.append({"id": utt, "numSamples": len(samples),
                          "inputValues": {str(i): round(float(x[i]), 6) for i in (0, 1, 1000, len(x) // 2, len(x) - 1)},
                          "outFrames": frames, "tokenIds": ids, "transcript": tokenizer.decode(logits.argmax(-1).tolist()),
                          "reference": texts[utt], "targets": targets,
                          "logLikelihood": ref.ctc_log_likelihood(logits, targets, tokenizer.pad_id)})
        # the padded batch HF would make of two files (normalized each, padded with padding_value):
        # the shorter one's output changes, which is why each file runs on its own
        a, b = (ref.hf_input_values(*speech[u], preprocessor) for u in REFERENCE_UTTERANCES[:2])
        padded = np.zeros((2, max(len(a), len(b))), dtype=np.float32)
        padded[0, :len(a)], padded[1, :len(b)] = a, b
        short = 0 if len(a) < len(b) else 1
        alone = model(torch.from_numpy([a, b][short]).unsqueeze(0))[0]
        if model.norm == "layer":
            mask = torch.zeros(padded.shape, dtype=torch.int64)
            mask[0, :len(a)], mask[1, :len(b)] = 1, 1
            batched = model(torch.from_numpy(padded), mask)[short, :alone.shape[0]]
            assert float((alone - batched).abs().max()) < 1e-4, "the masked model must be pad invariant"
        else:
            batched = model(torch.from_numpy(padded))[short, :alone.shape[0]]
    extra = {"paddedBatchMaxLogitChange": float((alone - batched).abs().max()),
             "outputLengths": {str(n): ref.hf_output_length(n, config) for n in (400, 401, 719, 720, 16000, 48123)}}
    return cases, extra


def symbols_reference(run, frontend, pieces, blank, speech, texts, summarize=False):
    cases = []
    with torch.no_grad():
        for utt in REFERENCE_UTTERANCES:
            samples, _ = speech[utt]
            feats = frontend(samples)
            log_probs = run(feats)
            check_margin(log_probs, utt)
            ids = ref.ctc_greedy(log_probs, blank)
            targets = ref.symbols_targets(pieces, texts[utt])
            case = {"id": utt, "numFrames": feats.shape[0], "outFrames": log_probs.shape[0], "tokenIds": ids,
                    "transcript": ref.symbols_text(pieces, ids), "reference": texts[utt], "targets": targets,
                    "logLikelihood": ref.ctc_log_likelihood(log_probs, targets, blank)}
            if summarize:
                case["features"] = feature_summary(feats)
            cases.append(case)
    return cases


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "test", "fixtures", "models"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--speech", help="the speech fixtures (default OUT/speech)")
    parser.add_argument("--only-bench-hf", action="store_true",
                        help="only the larger Hugging Face models of scripts/bench/hf-ctc.bench.ts: OUT/bench-hf-ctc "
                        "(as hf-ctc) and OUT/bench-hf-ctc-masked (as hf-ctc-masked), conv_dim 128, hidden 256, "
                        "4 heads, 4 layers; no golden values")
    args = parser.parse_args()
    speech_dir = args.speech or os.path.join(args.out, "speech")
    listing = ref.load_json(os.path.join(speech_dir, "texts.json"))["utterances"]
    texts = {u["id"]: u["text"] for u in listing}
    speech = {u["id"]: ref.read_wav(os.path.join(speech_dir, u["file"])) for u in listing}
    if args.only_bench_hf:
        size = {"conv_dim": 128, "hidden": 256, "heads": 4, "layers": 4, "pos_kernel": 16, "pos_groups": 8}
        make_hf(os.path.join(args.out, "bench-hf-ctc"), speech, seed=21, **size)
        make_hf(os.path.join(args.out, "bench-hf-ctc-masked"), speech, seed=25, norm="layer", **size)
        print("wrote", args.out)
        return
    reference_dir = os.path.join(args.out, "ctc-reference")

    hf_dir = os.path.join(args.out, "hf-ctc")
    hf = make_hf(hf_dir, speech)
    cases, extra = hf_reference(hf, hf_dir, speech, texts)
    write_reference(os.path.join(reference_dir, "hf-ctc.json"), "hf-ctc", cases, extra)

    hf_masked_dir = os.path.join(args.out, "hf-ctc-masked")
    hf_masked = make_hf(hf_masked_dir, speech, seed=15, norm="layer")
    cases, extra = hf_reference(hf_masked, hf_masked_dir, speech, texts)
    write_reference(os.path.join(reference_dir, "hf-ctc-masked.json"), "hf-ctc", cases, extra)

    wenet, units = make_wenet(os.path.join(args.out, "sherpa-wenet-ctc"), os.path.join(args.out, "wenet-ctc"),
                              os.path.join(args.out, "wenet-ctc-16-4"), speech)
    units_read = ref.read_token_file(os.path.join(args.out, "wenet-ctc", "units.txt"))
    assert units_read == units

    def wenet_run(feats):
        hidden, lengths = wenet.encode(feats.unsqueeze(0), torch.tensor([feats.shape[0]]))
        return wenet.log_probs(hidden)[0, :int(lengths[0])]

    write_reference(os.path.join(reference_dir, "sherpa-wenet-ctc.json"), "sherpa-wenet-ctc",
                    symbols_reference(wenet_run, lambda s: ref.sherpa_fbank(s, scale=32768.0), units, 0, speech, texts, True),
                    {"frontend": "sherpa-onnx default fbank, samples * 32768"})
    write_reference(os.path.join(reference_dir, "wenet-ctc.json"), "wenet-ctc",
                    symbols_reference(wenet_run, ref.wenet_fbank, units, 0, speech, texts, True),
                    {"frontend": "WeNet compute_fbank: samples * 32768, torchaudio kaldi.fbank defaults (snip_edges, high_freq 0)"})

    # WeNet's runtime loop on the exported interface (forward_chunk, then the CTC head): whole
    # utterance for chunk_size -1 (it must equal the batch forward above), 16-frame chunks for an
    # export with chunk_size 16 and left_chunks -1 (the same files with those metadata values)
    head_dim = wenet.dim // wenet.heads

    def wenet_runtime(chunk_size):
        def run(feats):
            return ref.wenet_chunked_log_probs(
                WenetEncoderChunk(wenet), WenetCtc(wenet), feats, chunk_size, 4, 6,
                torch.zeros(wenet.blocks_n, wenet.heads, 0, 2 * head_dim),
                torch.zeros(wenet.blocks_n, 1, wenet.dim, wenet.kernel - 1))
        return run

    with torch.no_grad():
        for utt in REFERENCE_UTTERANCES:
            feats = ref.wenet_fbank(speech[utt][0])
            assert float((wenet_runtime(-1)(feats) - wenet_run(feats)).abs().max()) < 1e-4
    write_reference(os.path.join(reference_dir, "wenet-ctc-chunk16.json"), "wenet-ctc",
                    symbols_reference(wenet_runtime(16), ref.wenet_fbank, units, 0, speech, texts),
                    {"frontend": "as wenet-ctc.json", "decoding": "WeNet's runtime loop, chunk_size 16, left_chunks -1 "
                     "(the wenet-ctc files with those metadata values)"})

    def wenet_runtime_cached(feats):
        return ref.wenet_chunked_log_probs(
            WenetEncoderChunkCached(wenet), WenetCtc(wenet), feats, 16, 4, 6,
            torch.zeros(wenet.blocks_n, wenet.heads, 64, 2 * head_dim),
            torch.zeros(wenet.blocks_n, 1, wenet.dim, wenet.kernel - 1), left_chunks=4)

    write_reference(os.path.join(reference_dir, "wenet-ctc-16-4.json"), "wenet-ctc",
                    symbols_reference(wenet_runtime_cached, ref.wenet_fbank, units, 0, speech, texts),
                    {"frontend": "as wenet-ctc.json", "decoding": "WeNet's runtime loop, chunk_size 16, left_chunks 4"})

    zipformer, tokens = make_zipformer(os.path.join(args.out, "zipformer-ctc"), speech)

    def zipformer_run(feats):
        log_probs, lengths = zipformer(feats.unsqueeze(0), torch.tensor([feats.shape[0]]))
        return log_probs[0, :int(lengths[0])]

    write_reference(os.path.join(reference_dir, "zipformer-ctc.json"), "zipformer-ctc",
                    symbols_reference(zipformer_run, ref.sherpa_fbank, tokens, 0, speech, texts),
                    {"frontend": "kaldi fbank, icefall/sherpa-onnx defaults"})
    print("wrote", args.out)


if __name__ == "__main__":
    main()
