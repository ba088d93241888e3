#!/usr/bin/python3
"""A random-weight Whisper at whisper-tiny's size, for scripts/bench/whisper.bench.ts.

Run with Debian's PyTorch (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/models/make_whisper_bench_model.py --out DIR

Dimensions of openai/whisper-tiny: d_model 384, 4 encoder and 4 decoder layers, 6 heads,
FFN 1536, 80 mel bins, 1500 encoder positions, 448 decoder positions, vocabulary 51865.
The architecture is that of scripts/models/make_whisper_model.py (pre-LN transformer, conv
stem, sinusoidal encoder positions, learned decoder positions) with several layers, except
that the output projection is not tied to the token embedding (the same [51865, 384] matmul;
with random weights a tied one makes greedy decoding repeat its last token). Random weights,
made peaky (a large final LayerNorm gain, small output rows for the special tokens), with a
ramp towards <|endoftext|> in the learned decoder positions from position RAMP_START on, so
that greedy decoding emits some 20 tokens and stops; a strong cross-attention makes the
tokens depend on the audio.

The vocabulary has Whisper's layout: 50257 byte-level BPE text tokens (the 256 byte
characters in GPT-2's order, so " " is id 220 as in Whisper, then letter strings of 2 to 4
characters with and without the leading "Ġ", each with the merge that builds it), then the
special tokens at Whisper's ids: <|endoftext|> 50257, <|startoftranscript|> 50258, the 99
language tokens, <|translate|> 50358, <|transcribe|> 50359, <|startoflm|>, <|startofprev|>,
<|nospeech|>, <|notimestamps|> 50363, the 1501 timestamps <|0.00|>..<|30.00|>;
suppress_tokens and begin_suppress_tokens are whisper-tiny's generation_config lists.

DIR/optimum/: Optimum's layout (encoder_model.onnx, decoder_model.onnx,
decoder_with_past_model.onnx, decoder_model_merged.onnx with the shared weights stored once,
as Optimum's merge does, and config.json, generation_config.json, preprocessor_config.json,
tokenizer.json, tokenizer_config.json).
DIR/sherpa/: the same weights in sherpa-onnx's Whisper layout (scripts/whisper/export-onnx.py
of k2-fsa/sherpa-onnx): tiny-encoder.onnx (mel [N, 80, T] -> n_layer_cross_k,
n_layer_cross_v [layers, N, 1500, d]), tiny-decoder.onnx (tokens, in_n_layer_self_k_cache,
in_n_layer_self_v_cache [layers, N, 448, d], n_layer_cross_k, n_layer_cross_v, offset ->
logits, out_n_layer_self_k_cache, out_n_layer_self_v_cache), tiny-tokens.txt, and the
encoder's metadata.
"""
import argparse
import base64
import hashlib
import json
import math
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

D_MODEL = 384
HEADS = 6
FFN = 1536
LAYERS = 4
N_MELS = 80
ENCODER_POSITIONS = 1500
DECODER_POSITIONS = 448
RAMP_START = 18  # decoder position where the ramp towards <|endoftext|> begins
OPSET = 14

LANGUAGES = ("en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr "
             "bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn "
             "yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su").split()
TEXT_TOKENS_COUNT = 50257
SUPPRESS = [1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 359, 503, 522,
            542, 873, 893, 902, 918, 922, 931, 1350, 1853, 1982, 2460, 2627, 3246, 3253, 3268, 3536, 3846, 3961,
            4183, 4667, 6585, 6647, 7273, 9061, 9383, 10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157,
            14635, 15265, 15618, 16553, 16604, 18362, 18956, 20075, 21675, 22520, 26130, 26161, 26435, 28279,
            29464, 31650, 32302, 32470, 36865, 42863, 47425, 49870, 50254, 50258, 50358, 50359, 50360, 50361, 50362]
BEGIN_SUPPRESS = [220, 50257]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map, in GPT-2's token order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


BYTE_OF_CHAR = {c: b for b, c in bytes_to_unicode().items()}


def text_vocabulary():
    """50257 byte-level tokens and the merges that build every token longer than one byte character."""
    tokens = list(bytes_to_unicode().values())
    merges = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [""]
    while len(tokens) < TEXT_TOKENS_COUNT:
        words = [w + c for w in words for c in letters]
        for word in words:
            for token in ([word] if len(word) > 1 else []) + ["Ġ" + word]:
                if len(tokens) < TEXT_TOKENS_COUNT:
                    tokens.append(token)
                    merges.append((token[:-1], token[-1]))
    return tokens, merges


def special_tokens():
    names = ["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{code}|>" for code in LANGUAGES]
    names += ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]
    names += [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    return names


TEXT, MERGES = text_vocabulary()
SPECIALS = special_tokens()
VOCAB = {token: i for i, token in enumerate(TEXT + SPECIALS)}
V = len(VOCAB)
assert V == 51865 and VOCAB["<|endoftext|>"] == 50257 and VOCAB["<|notimestamps|>"] == 50363 and VOCAB["Ġ"] == 220
EOT = VOCAB["<|endoftext|>"]
SOT = VOCAB["<|startoftranscript|>"]


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
        self.layers = nn.ModuleList([EncoderLayer() for _ in range(LAYERS)])
        self.ln = nn.LayerNorm(D_MODEL)

    def forward(self, input_features):
        x = F.gelu(self.conv2(F.gelu(self.conv1(input_features)))).transpose(1, 2) + self.positions
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(D_MODEL), Attention()
        self.ln2, self.cross_attn = nn.LayerNorm(D_MODEL), Attention()
        self.ln3, self.fc1, self.fc2 = nn.LayerNorm(D_MODEL), nn.Linear(D_MODEL, FFN), nn.Linear(FFN, D_MODEL)

    def forward(self, x, k, v, cross_k, cross_v, offset):
        """k, v: this layer's self-attention keys and values of all positions up to and including x's."""
        x = x + self.self_attn.attend(self.ln1(x), k, v, causal_offset=offset)
        x = x + self.cross_attn.attend(self.ln2(x), cross_k, cross_v)
        return x + self.fc2(F.gelu(self.fc1(self.ln3(x))))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D_MODEL)
        self.output = nn.Parameter(torch.zeros(V, D_MODEL))
        self.positions = nn.Parameter(torch.zeros(DECODER_POSITIONS, D_MODEL))
        self.layers = nn.ModuleList([DecoderLayer() for _ in range(LAYERS)])
        self.ln = nn.LayerNorm(D_MODEL)

    def cross_kv(self, encoder_hidden_states):
        return [layer.cross_attn.project_kv(encoder_hidden_states) for layer in self.layers]

    def run(self, input_ids, cross, past, positions):
        """past: per layer (k, v) of the earlier positions, or None; returns logits and per layer (k, v) of all."""
        offset = 0 if past is None else past[0][0].shape[2]
        x = self.embed(input_ids) + positions
        present = []
        for n, layer in enumerate(self.layers):
            k, v = layer.self_attn.project_kv(layer.ln1(x))
            if past is not None:
                k, v = torch.cat([past[n][0], k], dim=2), torch.cat([past[n][1], v], dim=2)
            present.append((k, v))
            x = layer(x, k, v, cross[n][0], cross[n][1], offset)
        return self.ln(x) @ self.output.T, present


class DecoderNoPast(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids, encoder_hidden_states):
        cross = self.decoder.cross_kv(encoder_hidden_states)
        positions = self.decoder.positions.narrow(0, 0, input_ids.shape[1])
        logits, present = self.decoder.run(input_ids, cross, None, positions)
        out = [logits]
        for (k, v), (ck, cv) in zip(present, cross):
            out += [k, v, ck, cv]
        return tuple(out)


class DecoderWithPast(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids, *past_flat):
        past = [(past_flat[4 * n], past_flat[4 * n + 1]) for n in range(LAYERS)]
        cross = [(past_flat[4 * n + 2], past_flat[4 * n + 3]) for n in range(LAYERS)]
        offset = past[0][0].shape[2]
        positions = self.decoder.positions[offset : offset + input_ids.shape[1]]
        logits, present = self.decoder.run(input_ids, cross, past, positions)
        out = [logits]
        for k, v in present:
            out += [k, v]
        return tuple(out)


def build():
    torch.manual_seed(2024)
    encoder, decoder = Encoder(), Decoder()
    with torch.no_grad():
        for p in list(encoder.parameters()) + list(decoder.parameters()):
            if p.dim() > 1:
                p.normal_(0, 1.0 / math.sqrt(p.shape[-1] if p.dim() == 2 else p.shape[1] * p.shape[2]))
        decoder.embed.weight.normal_(0, 0.3)
        decoder.positions.normal_(0, 0.3)
        decoder.output.normal_(0, 1.0)
        decoder.output[EOT + 1 :] *= 0.2
        eot = decoder.output[EOT] / decoder.output[EOT].norm()
        for t in range(DECODER_POSITIONS):
            decoder.positions[t] += 3.0 * max(0, t - RAMP_START) * eot
        decoder.ln.weight.fill_(4.0)
        for layer in list(encoder.layers) + list(decoder.layers):
            # GELU's outputs have a positive mean: a zero row mean keeps it from adding one fixed direction.
            layer.fc2.weight -= layer.fc2.weight.mean(dim=1, keepdim=True)
        for layer in decoder.layers:
            layer.cross_attn.q.weight *= 3
            layer.cross_attn.k.weight *= 3
            layer.cross_attn.o.weight *= 3
    return encoder.eval(), decoder.eval()


def names(prefix, parts):
    return [f"{prefix}.{n}.{part}.{kv}" for n in range(LAYERS) for part in parts for kv in ("key", "value")]


def export_optimum(encoder, decoder, out):
    features = torch.randn(1, N_MELS, 3000)
    torch.onnx.export(encoder, (features,), os.path.join(out, "encoder_model.onnx"), opset_version=OPSET,
                      input_names=["input_features"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_features": {0: "batch_size", 1: "feature_size", 2: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
    hidden = encoder(features)
    ids = torch.tensor([[SOT, VOCAB["<|en|>"], VOCAB["<|transcribe|>"], VOCAB["<|notimestamps|>"]]])
    present = names("present", ["decoder", "encoder"])
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length / 2"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for name in present:
        axes[name] = {0: "batch_size", 2: "decoder_sequence_length" if ".decoder." in name else "encoder_sequence_length_out"}
    torch.onnx.export(DecoderNoPast(decoder), (ids, hidden), os.path.join(out, "decoder_model.onnx"),
                      opset_version=OPSET, input_names=["input_ids", "encoder_hidden_states"],
                      output_names=["logits"] + present, dynamic_axes=axes)
    past_values = DecoderNoPast(decoder)(ids, hidden)[1:]
    past = names("past_key_values", ["decoder", "encoder"])
    present_decoder = names("present", ["decoder"])
    axes = {"input_ids": {0: "batch_size"}, "logits": {0: "batch_size"}}
    for name in past:
        axes[name] = {0: "batch_size", 2: "past_decoder_sequence_length" if ".decoder." in name else "encoder_sequence_length_out"}
    for name in present_decoder:
        axes[name] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    torch.onnx.export(DecoderWithPast(decoder), (ids[:, :1], *past_values),
                      os.path.join(out, "decoder_with_past_model.onnx"), opset_version=OPSET,
                      input_names=["input_ids"] + past, output_names=["logits"] + present_decoder, dynamic_axes=axes)


def merge_decoders(out):
    """decoder_model_merged.onnx as Optimum's merge writes it (optimum/onnx/graph_transformations.py): one If on
    use_cache_branch [1] bool (then: the with-past graph, else: the no-past graph), the graph inputs the union of
    both files', the outputs the no-past decoder's, dummy constants for the encoder presents of the with-past
    branch, and the initializers both branches share stored once in the outer graph."""
    no_past = onnx.load(os.path.join(out, "decoder_model.onnx")).graph
    with_past = onnx.load(os.path.join(out, "decoder_with_past_model.onnx")).graph
    shared, renames = {}, [{}, {}]
    for side, graph in enumerate([no_past, with_past]):
        for tensor in graph.initializer:
            key = hashlib.sha256(tensor.data_type.to_bytes(2, "little") + bytes(str(list(tensor.dims)), "ascii")
                                 + tensor.raw_data).hexdigest()
            if key not in shared:
                renamed = onnx.TensorProto()
                renamed.CopyFrom(tensor)
                renamed.name = f"shared_{len(shared)}"
                shared[key] = renamed
            renames[side][tensor.name] = shared[key].name

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

    output_names = [o.name for o in no_past.output]
    then_nodes = renamed_nodes(with_past, renames[1])
    computed = {o.name for o in with_past.output}
    then_outputs = list(with_past.output)
    for name in output_names:
        if name not in computed:
            then_nodes.append(onnx.helper.make_node("Constant", [], [name], value=onnx.helper.make_tensor(
                name + "_dummy", onnx.TensorProto.FLOAT, [1, 1, 1, 1], [0.0])))
            then_outputs.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["d0", "d1", "d2", "d3"]))
    order = {name: i for i, name in enumerate(output_names)}
    then_outputs.sort(key=lambda o: order[o.name])
    then_branch = onnx.helper.make_graph(then_nodes, "with_past", [], then_outputs)
    else_branch = onnx.helper.make_graph(renamed_nodes(no_past, renames[0]), "no_past", [], list(no_past.output))
    inputs = {}
    for value in list(no_past.input) + list(with_past.input):
        inputs.setdefault(value.name, value)
    use_cache = onnx.helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1])
    node = onnx.helper.make_node("If", ["use_cache_branch"], output_names, then_branch=then_branch, else_branch=else_branch)
    graph = onnx.helper.make_graph([node], "merged", [*inputs.values(), use_cache], list(no_past.output),
                                   list(shared.values()))
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    model.ir_version = onnx.load(os.path.join(out, "decoder_model.onnx"), load_external_data=False).ir_version
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "decoder_model_merged.onnx"))


def write_json(out, name, value):
    with open(os.path.join(out, name), "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_optimum_configs(out):
    lang_to_id = {f"<|{code}|>": VOCAB[f"<|{code}|>"] for code in LANGUAGES}
    task_to_id = {"transcribe": VOCAB["<|transcribe|>"], "translate": VOCAB["<|translate|>"]}
    write_json(out, "config.json", {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": D_MODEL,
        "encoder_layers": LAYERS, "decoder_layers": LAYERS, "num_hidden_layers": LAYERS,
        "encoder_attention_heads": HEADS, "decoder_attention_heads": HEADS,
        "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN, "num_mel_bins": N_MELS, "vocab_size": V,
        "max_source_positions": ENCODER_POSITIONS, "max_target_positions": DECODER_POSITIONS,
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "begin_suppress_tokens": BEGIN_SUPPRESS, "suppress_tokens": SUPPRESS, "use_cache": True,
        "scale_embedding": False, "activation_function": "gelu", "is_encoder_decoder": True,
    })
    write_json(out, "generation_config.json", {
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "max_length": DECODER_POSITIONS, "is_multilingual": True, "lang_to_id": lang_to_id, "task_to_id": task_to_id,
        "no_timestamps_token_id": VOCAB["<|notimestamps|>"],
        "forced_decoder_ids": [[1, None], [2, VOCAB["<|transcribe|>"]]],
        "suppress_tokens": SUPPRESS, "begin_suppress_tokens": BEGIN_SUPPRESS,
    })
    write_json(out, "preprocessor_config.json", {
        "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": N_MELS, "sampling_rate": 16000,
        "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": False, "processor_class": "WhisperProcessor",
    })
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    write_json(out, "tokenizer.json", {
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
                  "vocab": {t: VOCAB[t] for t in TEXT}, "merges": [f"{a} {b}" for a, b in MERGES]},
    })
    write_json(out, "tokenizer_config.json", {
        "tokenizer_class": "WhisperTokenizer", "model_max_length": 1024, "add_prefix_space": False,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "errors": "replace",
    })

SHERPA_NAME = "tiny"


class SherpaEncoder(nn.Module):
    """sherpa-onnx's AudioEncoderTensorCache: every decoder layer's cross-attention keys and values of the
    encoder output, not split into heads, stacked [layers, N, T/2, d]; positions sliced to T/2 (T <= 3000)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, mel):
        e = self.encoder
        x = F.gelu(e.conv2(F.gelu(e.conv1(mel)))).transpose(1, 2)
        x = x + e.positions[: x.shape[1]]
        for layer in e.layers:
            x = layer(x)
        hidden = e.ln(x)
        return (torch.stack([layer.cross_attn.k(hidden) for layer in self.decoder.layers]),
                torch.stack([layer.cross_attn.v(hidden) for layer in self.decoder.layers]))


class SherpaDecoder(nn.Module):
    """sherpa-onnx's TextDecoderTensorCache: self-attention caches [layers, N, 448, d] with positions
    offset .. offset + n_tokens - 1 written (by slices and concatenation, the same function as
    export-onnx.py's in-place slice assignment)."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, tokens, in_k, in_v, cross_k, cross_v, offset):
        d = self.decoder
        start = offset[0]
        n = tokens.shape[1]
        x = d.embed(tokens) + d.positions[start : start + n]
        heads = Attention.heads
        out_k, out_v = [], []
        for i, layer in enumerate(d.layers):
            h = layer.ln1(x)
            k_all = torch.cat([in_k[i, :, :start], layer.self_attn.k(h)], dim=1)
            v_all = torch.cat([in_v[i, :, :start], layer.self_attn.v(h)], dim=1)
            out_k.append(torch.cat([k_all, in_k[i, :, start + n :]], dim=1))
            out_v.append(torch.cat([v_all, in_v[i, :, start + n :]], dim=1))
            x = layer(x, heads(k_all), heads(v_all), heads(cross_k[i]), heads(cross_v[i]), start)
        return d.ln(x) @ d.output.T, torch.stack(out_k), torch.stack(out_v)


def sherpa_metadata():
    sot_sequence = [SOT, VOCAB["<|en|>"], VOCAB["<|transcribe|>"]]
    return {
        "model_type": f"whisper-{SHERPA_NAME}", "version": "1", "maintainer": "k2-fsa",
        "n_mels": N_MELS, "n_audio_ctx": ENCODER_POSITIONS, "n_audio_state": D_MODEL, "n_audio_head": HEADS,
        "n_audio_layer": LAYERS, "n_vocab": V, "n_text_ctx": DECODER_POSITIONS, "n_text_state": D_MODEL,
        "n_text_head": HEADS, "n_text_layer": LAYERS, "sot_sequence": ",".join(map(str, sot_sequence)),
        "all_language_tokens": ",".join(str(VOCAB[f"<|{code}|>"]) for code in LANGUAGES),
        "all_language_codes": ",".join(LANGUAGES), "sot": SOT, "sot_index": 0, "eot": EOT, "blank_id": VOCAB["Ġ"],
        "is_multilingual": 1, "no_speech": VOCAB["<|nospeech|>"],
        "non_speech_tokens": ",".join(str(t) for t in SUPPRESS if t < EOT),
        "transcribe": VOCAB["<|transcribe|>"], "translate": VOCAB["<|translate|>"],
        "sot_prev": VOCAB["<|startofprev|>"], "sot_lm": VOCAB["<|startoflm|>"],
        "no_timestamps": VOCAB["<|notimestamps|>"],
    }


def export_sherpa(encoder, decoder, out):
    wrapped_encoder, wrapped_decoder = SherpaEncoder(encoder, decoder).eval(), SherpaDecoder(decoder).eval()
    encoder_path = os.path.join(out, f"{SHERPA_NAME}-encoder.onnx")
    decoder_path = os.path.join(out, f"{SHERPA_NAME}-decoder.onnx")
    mel = torch.randn(1, N_MELS, 3000)
    torch.onnx.export(wrapped_encoder, mel, encoder_path, opset_version=OPSET, input_names=["mel"],
                      output_names=["n_layer_cross_k", "n_layer_cross_v"],
                      dynamic_axes={"mel": {0: "n_audio", 2: "T"}, "n_layer_cross_k": {1: "n_audio", 2: "T"},
                                    "n_layer_cross_v": {1: "n_audio", 2: "T"}})
    cross_k, cross_v = wrapped_encoder(mel)
    cache = torch.zeros(LAYERS, 1, DECODER_POSITIONS, D_MODEL)
    tokens = torch.tensor([[SOT, SOT, SOT]])
    _, k, v = wrapped_decoder(tokens, cache, cache, cross_k, cross_v, torch.zeros(1, dtype=torch.int64))
    torch.onnx.export(wrapped_decoder, (tokens[:, :1], k, v, cross_k, cross_v, torch.tensor([3])), decoder_path,
                      opset_version=OPSET,
                      input_names=["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache",
                                   "n_layer_cross_k", "n_layer_cross_v", "offset"],
                      output_names=["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
                      dynamic_axes={"tokens": {0: "n_audio", 1: "n_tokens"}, "in_n_layer_self_k_cache": {1: "n_audio"},
                                    "in_n_layer_self_v_cache": {1: "n_audio"},
                                    "n_layer_cross_k": {1: "n_audio", 2: "T"}, "n_layer_cross_v": {1: "n_audio", 2: "T"}})
    model = onnx.load(encoder_path)
    for key, value in sherpa_metadata().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model, encoder_path)
    with open(os.path.join(out, f"{SHERPA_NAME}-tokens.txt"), "w") as f:
        for token in TEXT:
            raw = bytes(BYTE_OF_CHAR[c] for c in token)
            f.write(f"{base64.b64encode(raw).decode('ascii')} {VOCAB[token]}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder to write optimum/ and sherpa/ into")
    parser.add_argument("--only-sherpa", action="store_true", help="write sherpa/ only")
    args = parser.parse_args()
    optimum, sherpa = os.path.join(args.out, "optimum"), os.path.join(args.out, "sherpa")
    os.makedirs(optimum, exist_ok=True)
    os.makedirs(sherpa, exist_ok=True)
    encoder, decoder = build()
    with torch.no_grad():
        if not args.only_sherpa:
            export_optimum(encoder, decoder, optimum)
        export_sherpa(encoder, decoder, sherpa)
    if not args.only_sherpa:
        merge_decoders(optimum)
        write_optimum_configs(optimum)


if __name__ == "__main__":
    main()
