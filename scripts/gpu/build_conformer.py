#!/usr/bin/env python3
"""Builds a random-weight Conformer CTC model in NeMo's ONNX export form for the GPU check.

    python3 scripts/gpu/build_conformer.py --out DIR [--small] [--seed N]

Writes DIR/model.onnx (inputs `audio_signal` float32 [B, 80, T] and `length` int64 [B],
output `logprobs` float32 [B, T', V+1], blank LAST, opset 17 (18 if only the dynamo
exporter works), dynamic batch and time)
with the sherpa-onnx NeMo-CTC metadata (`vocab_size`, `subsampling_factor`,
`normalize_type`, `model_type`) and DIR/tokens.txt ("<piece> <id>", `<blk>` last), so
rote detects it as a NeMo CTC model; plus DIR/model-card.json (what was built, in numbers).

Default size is Conformer-L-like (NeMo conformer_ctc_bpe "large": d_model 512, 8 heads,
ff 2048, conv kernel 31, striding 4x subsampling with 512 channels; 18 blocks):
about 120M parameters. `--small` builds a 2-block d_model 144 model for dry runs.

The blocks follow NeMo's ConformerLayer (half-step FF, relative-position MHSA with
pos_bias_u/v and rel_shift, conv module with GLU, depthwise conv, BatchNorm, SiLU,
half-step FF, LayerNorm), written with plain torch.nn so the file builds the same on
Debian's torch 1.13 and on torch 2.x; weights are random, so transcripts are
meaningless: the model exists to time the engine, not to recognize speech.
"""
import argparse
import inspect
import json
import math
import os
import time

import torch
import torch.nn as nn

FEATURES = 80


def bpe_like_pieces(count):
    """A fixed SentencePiece-like vocabulary ('▁' starts a word), NeMo order: <unk> first."""
    words = ("the of and to in is it that was for on are with as his they be at one have this "
             "from or had by word but what some we can out other were all there when up use your "
             "how said an each she which do their time if will way about many then them").split()
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    suffixes = "ing ed er es ly tion en on ar re an or al st th ch sh ou ow ai ee oo ll ss".split()
    pieces = ["<unk>", "▁"] + ["▁" + w for w in words] + ["▁" + c for c in letters] + letters + suffixes + ["'"]
    seen, unique = set(), []
    for p in pieces:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    if len(unique) < count:
        raise SystemExit(f"vocabulary has only {len(unique)} pieces, {count} requested")
    return unique[:count]


def conv_out_length(lengths):
    # NeMo calc_length for kernel 3, stride 2, padding 1 (both sides): floor((L + 2 - 3) / 2) + 1.
    return torch.div(lengths - 1, 2, rounding_mode="floor") + 1


class StridingSubsampling(nn.Module):
    """NeMo 'striding' subsampling, factor 4: two Conv2d(3x3, stride 2) + ReLU, then Linear."""

    def __init__(self, channels, d_model):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, channels, 3, 2, 1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, 2, 1), nn.ReLU())
        freq = FEATURES
        for _ in range(2):
            freq = (freq - 1) // 2 + 1
        self.out = nn.Linear(channels * freq, d_model)

    def forward(self, x, lengths):  # x [B, T, F]
        x = self.conv(x.unsqueeze(1))  # [B, C, T', F']
        b, c, t, f = x.shape
        x = self.out(x.transpose(1, 2).reshape(b, t, c * f))
        return x, conv_out_length(conv_out_length(lengths))


def relative_positions(t, d_model, dtype):
    """Sinusoidal embeddings of relative positions t-1 ... -(t-1): [1, 2t-1, d_model]."""
    positions = torch.arange(t - 1, -t, -1, dtype=dtype).unsqueeze(1)
    inverse = torch.exp(torch.arange(0, d_model, 2, dtype=dtype) * (-math.log(10000.0) / d_model))
    angles = positions * inverse.unsqueeze(0)
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(1, -1, d_model)


def rel_shift(x):
    """Transformer-XL relative shift as NeMo does it: [B, H, T, 2T-1] -> aligned scores."""
    b, h, qlen, pos_len = x.shape
    x = torch.nn.functional.pad(x, (1, 0))
    x = x.view(b, h, -1, qlen)
    return x[:, :, 1:].reshape(b, h, qlen, pos_len)


class RelPositionAttention(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.heads, self.d_k = heads, d_model // heads
        self.linear_q = nn.Linear(d_model, d_model)
        self.linear_k = nn.Linear(d_model, d_model)
        self.linear_v = nn.Linear(d_model, d_model)
        self.linear_out = nn.Linear(d_model, d_model)
        self.linear_pos = nn.Linear(d_model, d_model, bias=False)
        self.pos_bias_u = nn.Parameter(torch.randn(heads, self.d_k) * 0.02)
        self.pos_bias_v = nn.Parameter(torch.randn(heads, self.d_k) * 0.02)

    def forward(self, x, pos_emb, pad_mask):  # x [B, T, D], pad_mask [B, T] True on padding
        b, t, _ = x.shape
        q = self.linear_q(x).view(b, t, self.heads, self.d_k)
        k = self.linear_k(x).view(b, t, self.heads, self.d_k).transpose(1, 2)
        v = self.linear_v(x).view(b, t, self.heads, self.d_k).transpose(1, 2)
        p = self.linear_pos(pos_emb).view(1, -1, self.heads, self.d_k).transpose(1, 2)
        matrix_ac = torch.matmul((q + self.pos_bias_u).transpose(1, 2), k.transpose(-2, -1))
        matrix_bd = rel_shift(torch.matmul((q + self.pos_bias_v).transpose(1, 2), p.transpose(-2, -1)))
        matrix_bd = matrix_bd[:, :, :, : matrix_ac.shape[-1]]
        scores = (matrix_ac + matrix_bd) / math.sqrt(self.d_k)
        key_mask = pad_mask[:, None, None, :]
        attention = torch.softmax(scores.masked_fill(key_mask, -10000.0), dim=-1).masked_fill(key_mask, 0.0)
        out = torch.matmul(attention, v).transpose(1, 2).reshape(b, t, -1)
        return self.linear_out(out)


class ConvModule(nn.Module):
    def __init__(self, d_model, kernel):
        super().__init__()
        self.pointwise_conv1 = nn.Conv1d(d_model, 2 * d_model, 1)
        self.depthwise_conv = nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
        self.batch_norm = nn.BatchNorm1d(d_model)
        self.activation = nn.SiLU()
        self.pointwise_conv2 = nn.Conv1d(d_model, d_model, 1)

    def forward(self, x, pad_mask):  # x [B, T, D]
        x = torch.nn.functional.glu(self.pointwise_conv1(x.transpose(1, 2)), dim=1)
        x = x.masked_fill(pad_mask[:, None, :], 0.0)
        x = self.activation(self.batch_norm(self.depthwise_conv(x)))
        return self.pointwise_conv2(x).transpose(1, 2)


def feed_forward(d_model, d_ff):
    return nn.Sequential(nn.Linear(d_model, d_ff), nn.SiLU(), nn.Linear(d_ff, d_model))


class ConformerLayer(nn.Module):
    def __init__(self, d_model, heads, d_ff, kernel):
        super().__init__()
        self.norm_feed_forward1 = nn.LayerNorm(d_model)
        self.feed_forward1 = feed_forward(d_model, d_ff)
        self.norm_self_att = nn.LayerNorm(d_model)
        self.self_attn = RelPositionAttention(d_model, heads)
        self.norm_conv = nn.LayerNorm(d_model)
        self.conv = ConvModule(d_model, kernel)
        self.norm_feed_forward2 = nn.LayerNorm(d_model)
        self.feed_forward2 = feed_forward(d_model, d_ff)
        self.norm_out = nn.LayerNorm(d_model)

    def forward(self, x, pos_emb, pad_mask):
        x = x + 0.5 * self.feed_forward1(self.norm_feed_forward1(x))
        x = x + self.self_attn(self.norm_self_att(x), pos_emb, pad_mask)
        x = x + self.conv(self.norm_conv(x), pad_mask)
        x = x + 0.5 * self.feed_forward2(self.norm_feed_forward2(x))
        return self.norm_out(x)


class ConformerCtc(nn.Module):
    """audio_signal [B, 80, T], length [B] -> logprobs [B, T', V+1] (NeMo export form)."""

    def __init__(self, vocab_with_blank, layers, d_model, heads, d_ff, kernel, channels):
        super().__init__()
        self.d_model = d_model
        self.pre_encode = StridingSubsampling(channels, d_model)
        self.layers = nn.ModuleList([ConformerLayer(d_model, heads, d_ff, kernel) for _ in range(layers)])
        self.decoder = nn.Conv1d(d_model, vocab_with_blank, 1)

    def forward(self, audio_signal, length):
        x, lengths = self.pre_encode(audio_signal.transpose(1, 2), length)
        x = x * math.sqrt(self.d_model)
        t = x.shape[1]
        pos_emb = relative_positions(t, self.d_model, x.dtype)
        pad_mask = torch.arange(t, device=x.device)[None, :] >= lengths[:, None]
        for layer in self.layers:
            x = layer(x, pos_emb, pad_mask)
        logits = self.decoder(x.transpose(1, 2)).transpose(1, 2)
        return torch.log_softmax(logits, dim=-1)


def dynamic_time_axis(path):
    """True when the exported graph keeps the batch and time axes of audio_signal symbolic."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 3:
            return bool(dims[0].dim_param) and bool(dims[2].dim_param)
    return False


def export_onnx(model, args, path, log):
    """The TorchScript exporter where it exists (torch 1.13 .. 2.x, `dynamo=False` from 2.5 on),
    else the dynamo one (opset 18, dynamic shapes); the first that yields dynamic B and T wins."""
    names = dict(input_names=["audio_signal", "length"], output_names=["logprobs"])
    axes = {"audio_signal": {0: "B", 2: "T"}, "length": {0: "B"}, "logprobs": {0: "B", 1: "T_out"}}
    params = inspect.signature(torch.onnx.export).parameters
    attempts = []
    if "dynamo" in params:
        attempts.append(("torchscript", dict(dynamo=False, dynamic_axes=axes, opset_version=17, do_constant_folding=True)))
        inline = dict(external_data=False) if "external_data" in params else {}
        dim = getattr(getattr(torch, "export", None), "Dim", None)
        if dim is not None and hasattr(dim, "AUTO") and "dynamic_shapes" in params:
            shapes = {"audio_signal": {0: dim.AUTO, 2: dim.AUTO}, "length": {0: dim.AUTO}}
            attempts.append(("dynamo", dict(dynamo=True, dynamic_shapes=shapes, opset_version=18, **inline)))
        attempts.append(("dynamo", dict(dynamo=True, dynamic_axes=axes, opset_version=18, **inline)))
    else:
        attempts.append(("torchscript", dict(dynamic_axes=axes, opset_version=17, do_constant_folding=True)))
    errors = []
    for exporter, extra in attempts:
        described = f"{exporter} ({', '.join(f'{k}={v}' for k, v in extra.items() if k != 'dynamic_axes')})"
        try:
            started = time.time()
            torch.onnx.export(model, args, path, **names, **extra)
            if not dynamic_time_axis(path):
                raise RuntimeError("the exported graph has a fixed batch or time axis")
            log(f"exported with the {described} exporter in {time.time() - started:.1f} s")
            return exporter, extra["opset_version"]
        except Exception as error:  # noqa: BLE001 - try the next exporter, report all at the end
            errors.append(f"{described}: {type(error).__name__}: {str(error)[:400]}")
            log(f"export attempt failed: {errors[-1]}")
    raise SystemExit("every ONNX export attempt failed:\n" + "\n".join(errors))


def finish_onnx(path, metadata, log):
    """Names inputs/outputs as NeMo does (the dynamo exporter may not), adds metadata, inlines weights."""
    import onnx
    model = onnx.load(path)  # also loads external data, if an exporter wrote any
    graph = model.graph
    wanted_inputs, wanted_outputs = ["audio_signal", "length"], ["logprobs"]
    renames = {}
    for value, wanted in zip(list(graph.input), wanted_inputs):
        if value.name != wanted:
            renames[value.name] = wanted
    for value, wanted in zip(list(graph.output), wanted_outputs):
        if value.name != wanted:
            renames[value.name] = wanted
    if renames:
        log(f"renaming graph inputs/outputs: {renames}")
        for value in list(graph.input) + list(graph.output):
            value.name = renames.get(value.name, value.name)
        for node in graph.node:
            for i, name in enumerate(node.input):
                node.input[i] = renames.get(name, name)
            for i, name in enumerate(node.output):
                node.output[i] = renames.get(name, name)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    for leftover in [f for f in os.listdir(os.path.dirname(path) or ".") if f.startswith(os.path.basename(path) + ".")]:
        os.remove(os.path.join(os.path.dirname(path) or ".", leftover))
    onnx.save(model, path)
    inputs = [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in model.graph.input]
    outputs = [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in model.graph.output]
    ops = sorted({n.op_type for n in model.graph.node})
    return inputs, outputs, ops


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--small", action="store_true", help="2 blocks, d_model 144: for dry runs")
    parser.add_argument("--layers", type=int, help="override the number of Conformer blocks")
    parser.add_argument("--seed", type=int, default=20240, help="weight seed (default 20240)")
    opts = parser.parse_args()

    def log(message):
        print(f"[build-model] {message}", flush=True)

    if opts.small:
        config = dict(layers=2, d_model=144, heads=4, d_ff=576, kernel=31, channels=144)
    else:
        config = dict(layers=18, d_model=512, heads=8, d_ff=2048, kernel=31, channels=512)
    if opts.layers:
        config["layers"] = opts.layers
    pieces = bpe_like_pieces(128)
    tokens = pieces + ["<blk>"]
    torch.manual_seed(opts.seed)
    started = time.time()
    model = ConformerCtc(len(tokens), **config).eval()
    with torch.no_grad():
        model.decoder.bias[-1] += 2.0  # blank wins more often, as in a trained CTC model
    parameters = sum(p.numel() for p in model.parameters())
    log(f"torch {torch.__version__}; config {config}; vocab {len(tokens)} (blank last); "
        f"{parameters / 1e6:.1f}M parameters; built in {time.time() - started:.1f} s")

    os.makedirs(opts.out, exist_ok=True)
    path = os.path.join(opts.out, "model.onnx")
    example = (torch.randn(2, FEATURES, 400), torch.tensor([400, 311], dtype=torch.int64))
    with torch.no_grad():
        reference = model(*example)
        exporter, opset = export_onnx(model, example, path, log)
    metadata = {"vocab_size": len(tokens), "subsampling_factor": 4, "normalize_type": "per_feature",
                "model_type": "EncDecCTCModelBPE", "is_giga_am": 0,
                "comment": "rote GPU check: random-weight Conformer-CTC (scripts/gpu/build_conformer.py)"}
    inputs, outputs, ops = finish_onnx(path, metadata, log)
    with open(os.path.join(opts.out, "tokens.txt"), "w", encoding="utf-8") as f:
        for i, piece in enumerate(tokens):
            f.write(f"{piece} {i}\n")
    size = os.path.getsize(path)
    card = {"made_by": "scripts/gpu/build_conformer.py", "torch": torch.__version__, "exporter": exporter,
            "opset": opset, "config": config, "parameters": parameters, "vocab_with_blank": len(tokens),
            "blank_id": len(tokens) - 1, "onnx_bytes": size, "inputs": inputs, "outputs": outputs,
            "op_types": ops, "metadata": metadata, "seed": opts.seed}
    with open(os.path.join(opts.out, "model-card.json"), "w") as f:
        json.dump(card, f, indent=1)
    log(f"wrote {path} ({size / 2**20:.1f} MiB), inputs {inputs}, outputs {outputs}")

    try:
        import numpy as np
        import onnxruntime
    except ImportError as error:
        log(f"onnxruntime (Python) not importable here ({error}); skipped the ONNX-vs-torch check")
        return
    try:
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        started = time.time()
        (got,) = session.run(None, {"audio_signal": example[0].numpy(), "length": example[1].numpy()})
        difference = float(np.max(np.abs(got - reference.numpy())))
    except Exception as error:  # noqa: BLE001 - a check, not a gate: rote's own run is the real test
        log(f"WARNING: onnxruntime {onnxruntime.__version__} could not run the model: {type(error).__name__}: {error}")
        return
    log(f"onnxruntime {onnxruntime.__version__} CPU check: output {list(got.shape)} in {time.time() - started:.2f} s, "
        f"max |onnx - torch| = {difference:.2e}")
    card["onnx_vs_torch_max_abs"] = difference
    with open(os.path.join(opts.out, "model-card.json"), "w") as f:
        json.dump(card, f, indent=1)
    if not difference < 1e-2:  # timing stays meaningful; say it loudly
        log(f"WARNING: the exported model disagrees with torch (max abs difference {difference:.3g})")

if __name__ == "__main__":
    main()
