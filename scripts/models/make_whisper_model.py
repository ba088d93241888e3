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

The modules, the Optimum export and the decoder merge take their sizes from a Dims (this fixture's
by default); make_whisper_bench_model.py builds its whisper-tiny-sized model with them.

Then the independent reference: whisper_reference.py computes the expected transcripts
and teacher-forced scores with this torch model (no KV cache, full recomputation per
step) and writes expected.json.
"""
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "models", "whisper-optimum")

MAX_LENGTH = 14  # generation_config max_length: prompt + generated tokens
OPSET = 14


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


@dataclass(frozen=True)
class Dims:
    """A Whisper's sizes: this fixture's by default; make_whisper_bench_model.py passes whisper-tiny's."""

    d_model: int = 24
    heads: int = 2
    ffn: int = 48
    layers: int = 1  # encoder layers = decoder layers
    n_mels: int = 80
    encoder_positions: int = 1500
    decoder_positions: int = 448
    vocab: int = V
    tied_output: bool = True  # logits = h @ embedding^T; False: a separate [vocab, d_model] output matrix


DIMS = Dims()


def add_layers(module, make, count):
    """One layer is the attribute `layer` (the names in the fixture's ONNX files: decoder.layer.ln1.weight, ...),
    several are the ModuleList `layers`."""
    if count == 1:
        module.layer = make()
    else:
        module.layers = nn.ModuleList([make() for _ in range(count)])


def layers_of(module):
    return [module.layer] if module.dims.layers == 1 else list(module.layers)


class Attention(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.n_heads, self.head_dim = dims.heads, dims.d_model // dims.heads
        self.q = nn.Linear(dims.d_model, dims.d_model)
        self.k = nn.Linear(dims.d_model, dims.d_model, bias=False)
        self.v = nn.Linear(dims.d_model, dims.d_model)
        self.o = nn.Linear(dims.d_model, dims.d_model)

    def heads(self, x):
        b, t, _ = x.shape
        return x.reshape(b, t, self.n_heads, self.head_dim).transpose(1, 2)

    def project_kv(self, x):
        return self.heads(self.k(x)), self.heads(self.v(x))

    def attend(self, x, k, v, causal_offset=None):
        q = self.heads(self.q(x)) * self.head_dim**-0.5
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
    def __init__(self, dims):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(dims.d_model), Attention(dims), nn.LayerNorm(dims.d_model)
        self.fc1, self.fc2 = nn.Linear(dims.d_model, dims.ffn), nn.Linear(dims.ffn, dims.d_model)

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
    def __init__(self, dims=DIMS):
        super().__init__()
        self.dims = dims
        self.conv1 = nn.Conv1d(dims.n_mels, dims.d_model, 3, padding=1)
        self.conv2 = nn.Conv1d(dims.d_model, dims.d_model, 3, stride=2, padding=1)
        self.register_buffer("positions", sinusoids(dims.encoder_positions, dims.d_model))
        add_layers(self, lambda: EncoderLayer(dims), dims.layers)
        self.ln = nn.LayerNorm(dims.d_model)

    def stem(self, input_features):
        return F.gelu(self.conv2(F.gelu(self.conv1(input_features)))).transpose(1, 2)

    def layers_and_norm(self, x):
        for layer in layers_of(self):
            x = layer(x)
        return self.ln(x)

    def forward(self, input_features):
        return self.layers_and_norm(self.stem(input_features) + self.positions)


def extend_cache(past_k, past_v, k, v):
    """The keys and values of the earlier positions (None at the start) followed by the new ones."""
    if past_k is None:
        return k, v
    return torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)


class DecoderLayer(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(dims.d_model), Attention(dims)
        self.ln2, self.cross_attn = nn.LayerNorm(dims.d_model), Attention(dims)
        d, ffn = dims.d_model, dims.ffn
        self.ln3, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, ffn), nn.Linear(ffn, d)

    def project_self_kv(self, x, past_k, past_v):
        return extend_cache(past_k, past_v, *self.self_attn.project_kv(self.ln1(x)))

    def forward(self, x, self_k, self_v, cross_k, cross_v, offset, projected=False):
        """self_k, self_v: the self-attention keys and values of the positions before x's (None at the start),
        x's are projected here; or, projected, those of all positions up to x's, projected by the caller
        (project_self_kv). Returns x and the keys and values of all positions."""
        h = self.ln1(x)
        k, v = (self_k, self_v) if projected else extend_cache(self_k, self_v, *self.self_attn.project_kv(h))
        x = x + self.self_attn.attend(h, k, v, causal_offset=offset)
        x = x + self.cross_attn.attend(self.ln2(x), cross_k, cross_v)
        x = x + self.fc2(F.gelu(self.fc1(self.ln3(x))))
        return x, k, v


class Decoder(nn.Module):
    def __init__(self, dims=DIMS):
        super().__init__()
        self.dims = dims
        self.embed = nn.Embedding(dims.vocab, dims.d_model)
        if not dims.tied_output:
            self.output = nn.Parameter(torch.zeros(dims.vocab, dims.d_model))
        self.positions = nn.Parameter(torch.zeros(dims.decoder_positions, dims.d_model))
        add_layers(self, lambda: DecoderLayer(dims), dims.layers)
        self.ln = nn.LayerNorm(dims.d_model)

    def output_weight(self):
        return self.embed.weight if self.dims.tied_output else self.output

    def cross_kv(self, encoder_hidden_states):
        return [layer.cross_attn.project_kv(encoder_hidden_states) for layer in layers_of(self)]

    def run(self, input_ids, cross, past=None, positions=None, projected=False):
        """cross: per layer the cross-attention (k, v); past: per layer the self-attention (k, v) of the earlier
        positions, or None; positions: input_ids' learned positions (by default sliced here); projected: each
        layer's self-attention keys and values are projected before the layer is called (the bench model's
        graphs) instead of inside it (the fixture's). Returns the logits and per layer (k, v) of all positions."""
        offset = 0 if past is None else past[0][0].shape[2]
        if positions is None:
            length = input_ids.shape[1]
            positions = self.positions.narrow(0, offset, length) if past is None else self.positions[offset : offset + length]
        x = self.embed(input_ids) + positions
        present = []
        for n, layer in enumerate(layers_of(self)):
            k, v = (None, None) if past is None else past[n]
            if projected:
                k, v = layer.project_self_kv(x, k, v)
            x, k, v = layer(x, k, v, cross[n][0], cross[n][1], offset, projected)
            present.append((k, v))
        return self.ln(x) @ self.output_weight().T, present


class DecoderNoPast(nn.Module):
    """Optimum's decoder_model: logits and per layer present decoder key, value, encoder key, value."""

    def __init__(self, decoder, projected=False):
        super().__init__()
        self.decoder, self.projected = decoder, projected

    def forward(self, input_ids, encoder_hidden_states):
        cross = self.decoder.cross_kv(encoder_hidden_states)
        logits, present = self.decoder.run(input_ids, cross, projected=self.projected)
        out = [logits]
        for (k, v), (cross_k, cross_v) in zip(present, cross):
            out += [k, v, cross_k, cross_v]
        return tuple(out)


class DecoderWithPast(nn.Module):
    """Optimum's decoder_with_past_model: input_ids and per layer past decoder key, value, encoder key, value
    -> logits and per layer present decoder key, value. projected: as Decoder.run, with the positions sliced
    here (the bench model's graph)."""

    def __init__(self, decoder, projected=False):
        super().__init__()
        self.decoder, self.projected = decoder, projected

    def forward(self, input_ids, *past_flat):
        count = len(past_flat) // 4
        past = [(past_flat[4 * n], past_flat[4 * n + 1]) for n in range(count)]
        cross = [(past_flat[4 * n + 2], past_flat[4 * n + 3]) for n in range(count)]
        positions = None
        if self.projected:
            offset = past[0][0].shape[2]
            positions = self.decoder.positions[offset : offset + input_ids.shape[1]]
        logits, present = self.decoder.run(input_ids, cross, past, positions, self.projected)
        out = [logits]
        for k, v in present:
            out += [k, v]
        return tuple(out)


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
        for t in range(DIMS.decoder_positions):
            decoder.positions[t] += 8.0 * max(0, t - 8) * eot
        decoder.ln.weight.fill_(3.0)
        cross = decoder.layer.cross_attn
        cross.q.weight *= 4
        cross.k.weight *= 4
        cross.o.weight *= 3
    return encoder.eval(), decoder.eval()


def cache_names(prefix, layers, parts):
    return [f"{prefix}.{n}.{part}.{kv}" for n in range(layers) for part in parts for kv in ("key", "value")]


def export_optimum(encoder, decoder, out, prompt, batch, projected=False):
    """encoder_model.onnx, decoder_model.onnx and decoder_with_past_model.onnx in out, traced on `batch` random
    feature windows and the decoder prompt ids `prompt`. projected: as Decoder.run."""
    features = torch.randn(batch, encoder.dims.n_mels, 3000)
    torch.onnx.export(encoder, (features,), os.path.join(out, "encoder_model.onnx"), opset_version=OPSET,
                      input_names=["input_features"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_features": {0: "batch_size", 1: "feature_size", 2: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
    hidden = encoder(features)
    ids = torch.tensor([prompt] * batch)
    layers = decoder.dims.layers
    present = cache_names("present", layers, ["decoder", "encoder"])
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length / 2"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for name in present:
        axes[name] = {0: "batch_size", 2: "decoder_sequence_length" if ".decoder." in name else "encoder_sequence_length_out"}
    no_past = DecoderNoPast(decoder, projected)
    torch.onnx.export(no_past, (ids, hidden), os.path.join(out, "decoder_model.onnx"), opset_version=OPSET,
                      input_names=["input_ids", "encoder_hidden_states"], output_names=["logits"] + present,
                      dynamic_axes=axes)
    past_values = no_past(ids, hidden)[1:]
    past = cache_names("past_key_values", layers, ["decoder", "encoder"])
    present_decoder = cache_names("present", layers, ["decoder"])
    axes = {"input_ids": {0: "batch_size"}, "logits": {0: "batch_size"}}
    for name in past:
        axes[name] = {0: "batch_size", 2: "past_decoder_sequence_length" if ".decoder." in name else "encoder_sequence_length_out"}
    for name in present_decoder:
        axes[name] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    torch.onnx.export(DecoderWithPast(decoder, projected), (ids[:, :1], *past_values),
                      os.path.join(out, "decoder_with_past_model.onnx"), opset_version=OPSET,
                      input_names=["input_ids"] + past, output_names=["logits"] + present_decoder, dynamic_axes=axes)


def write_json(directory, name, value):
    with open(os.path.join(directory, name), "w") as f:
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


def preprocessor_config(dims):
    return {
        "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": dims.n_mels, "sampling_rate": 16000,
        "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": False, "processor_class": "WhisperProcessor",
    }


def tokenizer_json(vocab, specials, text_tokens, merges):
    """A byte-level BPE tokenizer.json with Whisper's special tokens and post-processor."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s in specials],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|startoftranscript|>", "type_id": 0}},
                                      {"SpecialToken": {"id": "<|notimestamps|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {s: {"id": s, "ids": [vocab[s]], "tokens": [s]}
                                              for s in ["<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>"]}},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: vocab[t] for t in text_tokens}, "merges": [f"{a} {b}" for a, b in merges]},
    }


def write_configs():
    lang_to_id = {"<|en|>": VOCAB["<|en|>"], "<|de|>": VOCAB["<|de|>"]}
    task_to_id = {"transcribe": VOCAB["<|transcribe|>"], "translate": VOCAB["<|translate|>"]}
    write_json(OUT, "config.json", {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": DIMS.d_model,
        "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": DIMS.heads,
        "decoder_attention_heads": DIMS.heads, "encoder_ffn_dim": DIMS.ffn, "decoder_ffn_dim": DIMS.ffn,
        "num_mel_bins": DIMS.n_mels, "vocab_size": V, "max_source_positions": DIMS.encoder_positions,
        "max_target_positions": DIMS.decoder_positions,
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "begin_suppress_tokens": BEGIN_SUPPRESS, "suppress_tokens": suppress_tokens(), "use_cache": True,
    })
    write_json(OUT, "generation_config.json", {
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "max_length": MAX_LENGTH, "is_multilingual": True, "lang_to_id": lang_to_id, "task_to_id": task_to_id,
        "no_timestamps_token_id": VOCAB["<|notimestamps|>"],
        "forced_decoder_ids": [[1, VOCAB["<|en|>"]], [2, VOCAB["<|transcribe|>"]], [3, VOCAB["<|notimestamps|>"]]],
        "suppress_tokens": suppress_tokens(), "begin_suppress_tokens": BEGIN_SUPPRESS,
    })
    write_json(OUT, "preprocessor_config.json", preprocessor_config(DIMS))
    write_json(OUT, "tokenizer.json", tokenizer_json(VOCAB, SPECIALS, TEXT_TOKENS, MERGES))


def shared_initializers(graphs):
    """The initializers of graphs stored once (equal type, shape and bytes), named shared_N, and per graph
    the renaming of its initializers."""
    shared, renames = {}, []
    for graph in graphs:
        renames.append({})
        for tensor in graph.initializer:
            key = hashlib.sha256(tensor.data_type.to_bytes(2, "little") + bytes(str(list(tensor.dims)), "ascii")
                                 + tensor.raw_data).hexdigest()
            if key not in shared:
                renamed = onnx.TensorProto()
                renamed.CopyFrom(tensor)
                renamed.name = f"shared_{len(shared)}"
                shared[key] = renamed
            renames[-1][tensor.name] = shared[key].name
    return list(shared.values()), renames


def renamed_nodes(graph, mapping):
    nodes = []
    for node in graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        for i, name in enumerate(copy.input):
            if name in mapping:
                copy.input[i] = mapping[name]
        nodes.append(copy)
    return nodes


def merge_decoders(directory, target, share_weights=False):
    """decoder_model_merged.onnx (written to target) as Optimum's post-processing writes it from directory's
    decoder_model.onnx and decoder_with_past_model.onnx (optimum/onnx/graph_transformations.py,
    merge_decoders): one If node on a bool [1] input `use_cache_branch` (then: the with-past graph, else: the
    no-past graph), the graph inputs the union of both files' inputs, the outputs the no-past decoder's; the
    with-past branch returns constants for the encoder presents it does not compute (strict=False).
    share_weights: the initializers both branches share are stored once in the outer graph, as Optimum's
    merge does (else each branch keeps its own)."""
    no_past = onnx.load(os.path.join(directory, "decoder_model.onnx")).graph
    with_past = onnx.load(os.path.join(directory, "decoder_with_past_model.onnx")).graph
    if share_weights:
        outer, (no_past_names, with_past_names) = shared_initializers([no_past, with_past])
        no_past_own, with_past_own = [], []
    else:
        outer, no_past_names, with_past_names = [], {}, {}
        no_past_own, with_past_own = list(no_past.initializer), list(with_past.initializer)
    names = [o.name for o in no_past.output]
    then_nodes = renamed_nodes(with_past, with_past_names)
    computed = {o.name for o in with_past.output}
    then_outputs = list(with_past.output)
    for name in names:
        if name not in computed:
            then_nodes.append(onnx.helper.make_node("Constant", [], [name], value=onnx.helper.make_tensor(
                name + "_dummy", onnx.TensorProto.FLOAT, [1, 1, 1, 1], [0.0])))
            then_outputs.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["d0", "d1", "d2", "d3"]))
    order = {name: i for i, name in enumerate(names)}
    then_outputs.sort(key=lambda o: order[o.name])
    then_branch = onnx.helper.make_graph(then_nodes, "with_past", [], then_outputs, with_past_own)
    else_branch = onnx.helper.make_graph(renamed_nodes(no_past, no_past_names), "no_past", [], list(no_past.output),
                                         no_past_own)
    inputs = {}
    for value in list(no_past.input) + list(with_past.input):  # the first declaration of a name wins
        inputs.setdefault(value.name, value)
    use_cache = onnx.helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1])
    node = onnx.helper.make_node("If", ["use_cache_branch"], names, then_branch=then_branch, else_branch=else_branch)
    graph = onnx.helper.make_graph([node], "merged", [*inputs.values(), use_cache], list(no_past.output), outer)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    model.ir_version = onnx.load(os.path.join(directory, "decoder_model.onnx"), load_external_data=False).ir_version
    onnx.checker.check_model(model)
    onnx.save(model, target)


def main():
    os.makedirs(OUT, exist_ok=True)
    encoder, decoder = build()
    with torch.no_grad():
        export_optimum(encoder, decoder, OUT, [SOT, VOCAB["<|en|>"], VOCAB["<|transcribe|>"]], batch=2)
    write_configs()
    merged = os.path.join(os.path.dirname(OUT), "whisper-optimum-merged")
    os.makedirs(merged, exist_ok=True)
    merge_decoders(OUT, os.path.join(merged, "decoder_model_merged.onnx"))
    for name in ["encoder_model.onnx", "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json"]:
        shutil.copyfile(os.path.join(OUT, name), os.path.join(merged, name))


if __name__ == "__main__":
    main()
