#!/usr/bin/python3
"""A tiny random Whisper in Optimum's ONNX layout: test/fixtures/models/whisper-optimum/.

Run with Debian's PyTorch (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/models/make_whisper_model.py

The network is Whisper's architecture (transformers' WhisperForConditionalGeneration)
at toy size, written here in torch (transformers is not installed):
  encoder: conv1d(n_mels -> d, k3) + GELU, conv1d(d -> d, k3, stride 2) + GELU,
  sinusoidal positions (1500), pre-LN transformer layers, final LayerNorm;
  decoder: token embedding + learned positions (max 448), pre-LN layers with causal
  self-attention and cross-attention, final LayerNorm, logits = h @ embedding^T.
Random weights, made peaky (a large final LayerNorm gain) with a position ramp towards
<|endoftext|> in the learned decoder positions, so that greedy decoding emits a few
tokens and stops.

The three files carry Optimum's I/O names (optimum/exporters/onnx: AudioToTextOnnxConfig
with the torch -> ONNX renames decoder_input_ids -> input_ids, encoder_outputs ->
encoder_hidden_states):
  encoder_model.onnx: input_features [B, n_mels, 3000] -> last_hidden_state [B, 1500, d]
  decoder_model.onnx: input_ids [B, S], encoder_hidden_states [B, 1500, d]
      -> logits [B, S, V], present.N.decoder.key/value [B, H, S, d/H],
         present.N.encoder.key/value [B, H, 1500, d/H]
  decoder_with_past_model.onnx: input_ids [B, 1], past_key_values.N.decoder.key/value,
      past_key_values.N.encoder.key/value -> logits [B, 1, V], present.N.decoder.key/value
      (the encoder states are not an input: the cross-attention keys come from the past,
      and the exporter prunes the unused input).
Also test/fixtures/models/whisper-optimum-merged/: the encoder and decoder_model_merged.onnx
(both decoders in one file behind `use_cache_branch`, as Optimum merges them by default), with the
same configs. Plus config.json, generation_config.json, preprocessor_config.json and tokenizer.json
(byte-level BPE, Whisper's special tokens; a tiny vocabulary: ASCII letters, digits,
punctuation, a few merges).

Then the independent reference: whisper_reference.py computes the expected transcripts
and teacher-forced scores with this torch model (no KV cache, full recomputation per
step) and writes expected.json.
"""
import json
import math
import os

import numpy as np
import onnx
import shutil
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "models", "whisper-optimum")

D_MODEL = 24
HEADS = 2
FFN = 48
N_MELS = 80
ENCODER_POSITIONS = 1500
DECODER_POSITIONS = 448
MAX_LENGTH = 14  # generation_config max_length: prompt + generated tokens


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map (byte-level BPE)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, [chr(c) for c in chars]))


BYTE_CHARS = bytes_to_unicode()
BASE = [BYTE_CHARS[ord(c)] for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',.!?- "]
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("a", "n"), ("Ġ", "a"), ("Ġ", "s"),
          ("o", "n"), ("r", "e"), ("Ġ", "w"), ("a", "t"), ("e", "n"), ("o", "r"), ("Ġ", "c"), ("Ġ", "b")]
TEXT_TOKENS = BASE + [a + b for a, b in MERGES]
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>", "<|0.00|>", "<|0.02|>"]
VOCAB = {token: i for i, token in enumerate(TEXT_TOKENS + SPECIALS)}
V = len(VOCAB)
EOT = VOCAB["<|endoftext|>"]
SOT = VOCAB["<|startoftranscript|>"]
SPACE = VOCAB["Ġ"]


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(D_MODEL, D_MODEL)
        self.k = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.v = nn.Linear(D_MODEL, D_MODEL)
        self.o = nn.Linear(D_MODEL, D_MODEL)

    @staticmethod
    def heads(x):
        b, t, _ = x.shape
        return x.reshape(b, t, HEADS, D_MODEL // HEADS).transpose(1, 2)

    def project_kv(self, x):
        return self.heads(self.k(x)), self.heads(self.v(x))

    def attend(self, x, k, v, causal_offset=None):
        q = self.heads(self.q(x)) * (D_MODEL // HEADS) ** -0.5
        scores = q @ k.transpose(-1, -2)
        if causal_offset is not None:
            t, s = q.shape[2], k.shape[2]
            rows = torch.arange(t).unsqueeze(1) + causal_offset
            mask = torch.arange(s).unsqueeze(0) > rows
            scores = scores.masked_fill(mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        b, h, t, hd = out.shape
        return self.o(out.transpose(1, 2).reshape(b, t, h * hd))


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(D_MODEL), Attention(), nn.LayerNorm(D_MODEL)
        self.fc1, self.fc2 = nn.Linear(D_MODEL, FFN), nn.Linear(FFN, D_MODEL)

    def forward(self, x):
        h = self.ln1(x)
        k, v = self.attn.project_kv(h)
        x = x + self.attn.attend(h, k, v)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def sinusoids(length, channels):
    increment = math.log(10000) / (channels // 2 - 1)
    inv = torch.exp(-increment * torch.arange(channels // 2))
    t = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(N_MELS, D_MODEL, 3, padding=1)
        self.conv2 = nn.Conv1d(D_MODEL, D_MODEL, 3, stride=2, padding=1)
        self.register_buffer("positions", sinusoids(ENCODER_POSITIONS, D_MODEL))
        self.layer = EncoderLayer()
        self.ln = nn.LayerNorm(D_MODEL)

    def forward(self, input_features):
        x = F.gelu(self.conv2(F.gelu(self.conv1(input_features)))).transpose(1, 2)
        return self.ln(self.layer(x + self.positions))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(D_MODEL), Attention()
        self.ln2, self.cross_attn = nn.LayerNorm(D_MODEL), Attention()
        self.ln3, self.fc1, self.fc2 = nn.LayerNorm(D_MODEL), nn.Linear(D_MODEL, FFN), nn.Linear(FFN, D_MODEL)

    def forward(self, x, self_k, self_v, cross_k, cross_v, offset):
        h = self.ln1(x)
        k, v = self.self_attn.project_kv(h)
        if self_k is not None:
            k, v = torch.cat([self_k, k], dim=2), torch.cat([self_v, v], dim=2)
        x = x + self.self_attn.attend(h, k, v, causal_offset=offset)
        x = x + self.cross_attn.attend(self.ln2(x), cross_k, cross_v)
        x = x + self.fc2(F.gelu(self.fc1(self.ln3(x))))
        return x, k, v


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D_MODEL)
        self.positions = nn.Parameter(torch.zeros(DECODER_POSITIONS, D_MODEL))
        self.layer = DecoderLayer()
        self.ln = nn.LayerNorm(D_MODEL)

    def run(self, input_ids, cross_k, cross_v, self_k=None, self_v=None):
        offset = 0 if self_k is None else self_k.shape[2]
        length = input_ids.shape[1]
        positions = self.positions.narrow(0, offset, length) if self_k is None else self.positions[offset : offset + length]
        x = self.embed(input_ids) + positions
        x, k, v = self.layer(x, self_k, self_v, cross_k, cross_v, offset)
        logits = self.ln(x) @ self.embed.weight.T
        return logits, k, v


class DecoderNoPast(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids, encoder_hidden_states):
        cross_k, cross_v = self.decoder.layer.cross_attn.project_kv(encoder_hidden_states)
        logits, k, v = self.decoder.run(input_ids, cross_k, cross_v)
        return logits, k, v, cross_k, cross_v


class DecoderWithPast(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids, past_dk, past_dv, past_ek, past_ev):
        logits, k, v = self.decoder.run(input_ids, past_ek, past_ev, past_dk, past_dv)
        return logits, k, v


def build():
    torch.manual_seed(24)
    encoder, decoder = Encoder(), Decoder()
    with torch.no_grad():
        for p in list(encoder.parameters()) + list(decoder.parameters()):
            if p.dim() > 1:
                p.normal_(0, 0.4)
        decoder.positions.normal_(0, 0.3)
        # Special tokens other than <|endoftext|> get small embeddings (rarely chosen);
        # the learned positions ramp towards <|endoftext|> so that decoding stops; a
        # sharp, strong cross-attention makes the tokens depend on the audio. With these
        # settings most reference WAVs stop at <|endoftext|>, at least one at max_length
        # (whisper_reference.py prints which).
        decoder.embed.weight[EOT + 1 :] *= 0.2
        eot = decoder.embed.weight[EOT] / decoder.embed.weight[EOT].norm()
        for t in range(DECODER_POSITIONS):
            decoder.positions[t] += 8.0 * max(0, t - 8) * eot
        decoder.ln.weight.fill_(3.0)
        cross = decoder.layer.cross_attn
        cross.q.weight *= 4
        cross.k.weight *= 4
        cross.o.weight *= 3
    return encoder.eval(), decoder.eval()


def export(encoder, decoder):
    features = torch.randn(2, N_MELS, 3000)
    torch.onnx.export(encoder, (features,), os.path.join(OUT, "encoder_model.onnx"), opset_version=14,
                      input_names=["input_features"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_features": {0: "batch_size", 1: "feature_size", 2: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
    hidden = encoder(features)
    ids = torch.tensor([[SOT, VOCAB["<|en|>"], VOCAB["<|transcribe|>"]]] * 2)
    present = ["present.0.decoder.key", "present.0.decoder.value", "present.0.encoder.key", "present.0.encoder.value"]
    kv_axes = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    torch.onnx.export(DecoderNoPast(decoder), (ids, hidden), os.path.join(OUT, "decoder_model.onnx"), opset_version=14,
                      input_names=["input_ids", "encoder_hidden_states"], output_names=["logits"] + present,
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
                                    "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length / 2"},
                                    "logits": {0: "batch_size", 1: "decoder_sequence_length"},
                                    present[0]: {0: "batch_size", 2: "decoder_sequence_length"},
                                    present[1]: {0: "batch_size", 2: "decoder_sequence_length"},
                                    present[2]: {0: "batch_size", 2: "encoder_sequence_length_out"},
                                    present[3]: {0: "batch_size", 2: "encoder_sequence_length_out"}})
    _, dk, dv, ek, ev = DecoderNoPast(decoder)(ids, hidden)
    past = ["past_key_values.0.decoder.key", "past_key_values.0.decoder.value",
            "past_key_values.0.encoder.key", "past_key_values.0.encoder.value"]
    torch.onnx.export(DecoderWithPast(decoder), (ids[:, :1], dk, dv, ek, ev),
                      os.path.join(OUT, "decoder_with_past_model.onnx"), opset_version=14,
                      input_names=["input_ids"] + past, output_names=["logits"] + present[:2],
                      dynamic_axes={"input_ids": {0: "batch_size"},
                                    past[0]: {0: "batch_size", 2: "past_decoder_sequence_length"},
                                    past[1]: {0: "batch_size", 2: "past_decoder_sequence_length"},
                                    past[2]: {0: "batch_size", 2: "encoder_sequence_length_out"},
                                    past[3]: {0: "batch_size", 2: "encoder_sequence_length_out"},
                                    "logits": {0: "batch_size"},
                                    present[0]: kv_axes, present[1]: kv_axes})


def write_json(name, value):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def suppress_tokens():
    # Whisper's lists hold punctuation and the task tokens; "H" and "z" are added here because this
    # random model picks them, so that the fixture's transcripts depend on suppression.
    punctuation = [VOCAB[c] for c in ["!", "?", "-", "H", "z"]]
    return punctuation + [SOT, VOCAB["<|translate|>"], VOCAB["<|transcribe|>"], VOCAB["<|startoflm|>"],
                          VOCAB["<|startofprev|>"], VOCAB["<|nospeech|>"]]


# Whisper's are [" ", <|endoftext|>]; "Ġt" (" t", which this model picks first) makes the list matter.
BEGIN_SUPPRESS = [SPACE, VOCAB["Ġt"], EOT]


def write_configs():
    lang_to_id = {"<|en|>": VOCAB["<|en|>"], "<|de|>": VOCAB["<|de|>"]}
    task_to_id = {"transcribe": VOCAB["<|transcribe|>"], "translate": VOCAB["<|translate|>"]}
    write_json("config.json", {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": D_MODEL,
        "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": HEADS, "decoder_attention_heads": HEADS,
        "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN, "num_mel_bins": N_MELS, "vocab_size": V,
        "max_source_positions": ENCODER_POSITIONS, "max_target_positions": DECODER_POSITIONS,
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "begin_suppress_tokens": BEGIN_SUPPRESS, "suppress_tokens": suppress_tokens(), "use_cache": True,
    })
    write_json("generation_config.json", {
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "max_length": MAX_LENGTH, "is_multilingual": True, "lang_to_id": lang_to_id, "task_to_id": task_to_id,
        "no_timestamps_token_id": VOCAB["<|notimestamps|>"],
        "forced_decoder_ids": [[1, VOCAB["<|en|>"]], [2, VOCAB["<|transcribe|>"]], [3, VOCAB["<|notimestamps|>"]]],
        "suppress_tokens": suppress_tokens(), "begin_suppress_tokens": BEGIN_SUPPRESS,
    })
    write_json("preprocessor_config.json", {
        "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": N_MELS, "sampling_rate": 16000,
        "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": False, "processor_class": "WhisperProcessor",
    })
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    write_json("tokenizer.json", {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": VOCAB[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s in SPECIALS],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|startoftranscript|>", "type_id": 0}},
                                      {"SpecialToken": {"id": "<|notimestamps|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {s: {"id": s, "ids": [VOCAB[s]], "tokens": [s]}
                                              for s in ["<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>"]}},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: VOCAB[t] for t in TEXT_TOKENS}, "merges": [f"{a} {b}" for a, b in MERGES]},
    })


def merge_decoders():
    """decoder_model_merged.onnx as Optimum's post-processing writes it (optimum/onnx/graph_transformations.py,
    merge_decoders): one If node on a bool [1] input `use_cache_branch` (then: the with-past graph, else: the
    no-past graph), the graph inputs the union of both files' inputs, the outputs the no-past decoder's; the
    with-past branch returns constants for the encoder presents it does not compute (strict=False)."""
    no_past = onnx.load(os.path.join(OUT, "decoder_model.onnx")).graph
    with_past = onnx.load(os.path.join(OUT, "decoder_with_past_model.onnx")).graph
    names = [o.name for o in no_past.output]
    then_nodes = list(with_past.node)
    computed = {o.name for o in with_past.output}
    then_outputs = list(with_past.output)
    for name in names:
        if name not in computed:
            then_nodes.append(onnx.helper.make_node("Constant", [], [name], value=onnx.helper.make_tensor(
                name + "_dummy", onnx.TensorProto.FLOAT, [1, 1, 1, 1], [0.0])))
            then_outputs.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["d0", "d1", "d2", "d3"]))
    order = {name: i for i, name in enumerate(names)}
    then_outputs.sort(key=lambda o: order[o.name])
    then_branch = onnx.helper.make_graph(then_nodes, "with_past", [], then_outputs, list(with_past.initializer))
    else_branch = onnx.helper.make_graph(list(no_past.node), "no_past", [], list(no_past.output), list(no_past.initializer))
    inputs = {}
    for value in list(no_past.input) + list(with_past.input):  # the first declaration of a name wins
        inputs.setdefault(value.name, value)
    use_cache = onnx.helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1])
    node = onnx.helper.make_node("If", ["use_cache_branch"], names, then_branch=then_branch, else_branch=else_branch)
    graph = onnx.helper.make_graph([node], "merged", [*inputs.values(), use_cache], list(no_past.output))
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 14)])
    model.ir_version = onnx.load(os.path.join(OUT, "decoder_model.onnx")).ir_version
    onnx.checker.check_model(model)
    merged = os.path.join(os.path.dirname(OUT), "whisper-optimum-merged")
    os.makedirs(merged, exist_ok=True)
    onnx.save(model, os.path.join(merged, "decoder_model_merged.onnx"))
    for name in ["encoder_model.onnx", "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json"]:
        shutil.copyfile(os.path.join(OUT, name), os.path.join(merged, name))


def main():
    os.makedirs(OUT, exist_ok=True)
    encoder, decoder = build()
    with torch.no_grad():
        export(encoder, decoder)
    write_configs()
    merge_decoders()


if __name__ == "__main__":
    main()
