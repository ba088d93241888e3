#!/usr/bin/python3
"""Makes rote's small random-weight ONNX test models and the speech fixtures.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/models/make_test_models.py [--out DIR]
Writes (default DIR = test/fixtures/models):

  speech/utt-NN.wav + speech/texts.json   espeak-ng CLI sentences, 16 kHz 16-bit mono
  nemo-ctc/model.onnx + tokens.txt         NeMo CTC export format (audio_signal [B,80,T],
                                           length [B] -> logprobs [B,T',V+1], blank LAST) WITH
                                           sherpa-onnx metadata (vocab_size, subsampling_factor,
                                           normalize_type, model_type): loads in rote AND sherpa-onnx
                                           (test/asr derives a metadata-free copy with a NeMo
                                           vocab.txt at test time: the plain `model.export()` case)
  transducer/encoder.onnx decoder.onnx joiner.onnx tokens.txt
                                           icefall/sherpa-onnx transducer (x [N,T,80], x_lens ->
                                           encoder_out, encoder_out_lens; y [N,2] -> decoder_out;
                                           joiner -> logit), blank 0, context_size 2
  sidecar-ctc/model.onnx + chars.txt + rote-model.json
                                           generic CTC (feats [B,T,80] + feats_len, kaldi fbank,
                                           character vocabulary, blank 0) described by a sidecar
  nemo-transducer/encoder-model.onnx decoder_joint-model.onnx vocab.txt
                                           NeMo RNNT as `model.export()` writes it (LSTM prediction
                                           network, 2 layers; raw joint logits, blank last)
  sherpa-nemo-transducer/encoder.onnx decoder.onnx joiner.onnx tokens.txt
                                           the same weights in sherpa-onnx's layout (encoder metadata,
                                           decoder state batch fixed at 1)
  nemo-tdt/encoder-model.onnx decoder_joint-model.onnx vocab.txt
                                           NeMo TDT (durations 0..4 after the token logits), 128 bins
  transducer-parity/data.f32 + reference.json
                                           features of 3 utterances per model, torch greedy tokens (NeMo's
                                           search), joint lattices for teacher-forced targets and their
                                           log-likelihoods (torchaudio rnnt_loss; TDT forward in float64)
  nemo-ctc-128/model.onnx + vocab.txt      small NeMo CTC export with 128 bins and an encoded_lengths output

Weights are random (seeded) so transcripts are arbitrary, but deterministic and input
dependent. Two things make them usable for tests:
  * every layer masks padded frames, so a padded batch gives the same outputs as one
    utterance alone (pad invariance, up to float rounding);
  * the output layer is scaled (peaky posteriors) and the blank bias is calibrated on the
    speech fixtures so about half the frames are blank and several tokens win.

`--bench` additionally writes a larger model (d_model 256, 6 blocks) to DIR/bench-nemo-ctc
for scripts/bench/transcribe.bench.ts (not committed); `--only-bench-transducer` a larger
NeMo RNNT in both layouts for scripts/bench/transducer.bench.ts (not committed);
`--only-transducers` rewrites only the NeMo transducer fixtures, their parity fixture and
nemo-ctc-128 (byte-reproducible with Debian's torch 1.13); `--only-bpe` rewrites every model whose
vocabulary is BPE_PIECES (nemo-ctc, transducer, the NeMo transducers, nemo-ctc-128) and the transducer
parity fixtures from the committed speech (no espeak-ng CLI needed).
"""
import argparse
import json
import math
import os
import subprocess
import tempfile

import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torchaudio

SAMPLE_RATE = 16000

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "seven silver spoons sat on the table",
    "please call stella and ask her to bring these things",
    "a rainbow is a division of white light",
    "the birch canoe slid on the smooth planks",
    "glue the sheet to the dark blue background",
    "it is easy to tell the depth of a well",
    "these days a chicken leg is a rare dish",
    "rice is often served in round bowls",
    "the juice of lemons makes fine punch",
    "the box was thrown beside the parked truck",
    "the hogs were fed chopped corn and garbage",
    "four hours of steady work faced us",
    "a large size in stockings is hard to sell",
    "the boy was there when the sun rose",
    "a rod is used to catch pink salmon",
    "the source of the huge river is the clear spring",
    "kick the ball straight and follow through",
    "help the woman get back to her feet",
    "a pot of tea helps to pass the evening",
    "smoky fires lack flame and heat",
    "the soft cushion broke the man's fall",
    "the salt breeze came across from the sea",
    "the girl at the booth sold fifty bonds",
    "the small pup gnawed a hole in the sock",
    "the fish twisted and turned on the bent hook",
    "press the pants and sew a button on the vest",
    "the swan dive was far short of perfect",
    "the beauty of the view stunned the young boy",
    "two blue fish swam in the tank",
    "her purse was full of useless trash",
    "the colt reared and threw the tall rider",
    "it snowed rained and hailed the same morning",
    "read verse out loud for pleasure",
    "hoist the load to your left shoulder",
    "take the winding path to reach the lake",
    "note closely the size of the gas tank",
    "wipe the grease off his dirty face",
    "mend the coat before you go out",
    "the wrist was badly strained and hung limp",
]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb+m3"]

# A small SentencePiece-like vocabulary ("▁" starts a word), NeMo order: <unk> first. As in a real
# SentencePiece BPE model (which keeps every character of its training text as a piece), every
# letter a-z is a piece of its own, so any English text is spelled without <unk> ("▁" + "k" + ...):
# rote counts a canary whose text needs <unk> as infeasible.
BPE_PIECES = [
    "<unk>", "▁the", "▁a", "▁", "s", "e", "t", "a", "o", "n", "i", "r", "l", "h", "d", "▁s",
    "▁c", "▁b", "▁p", "▁w", "▁f", "▁t", "ing", "ed", "er", "en", "on", "ar", "u", "m", "y", "g",
    "b", "c", "f", "j", "k", "p", "q", "v", "w", "x", "z",
]
CHARS = ["<blank>", "<space>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'"]


def synthesize_speech(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(SENTENCES):
            voice = VOICES[i % len(VOICES)]
            speed = 200 + 15 * (i % 5)
            raw = os.path.join(tmp, "raw.wav")
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", raw, text], check=True)
            name = f"utt-{i:02d}.wav"
            subprocess.run(["sox", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                            os.path.join(out_dir, name)], check=True)
            records.append({"id": f"utt-{i:02d}", "file": name, "text": text, "voice": voice, "speed": speed})
    with open(os.path.join(out_dir, "texts.json"), "w") as f:
        json.dump({"made_by": "scripts/models/make_test_models.py (espeak-ng CLI, sox)",
                   "utterances": records}, f, indent=1)
    return [os.path.join(out_dir, r["file"]) for r in records]


def calibration_features(wavs):
    """Kaldi fbank (normalized per feature for the NeMo models): close enough to every
    frontend to calibrate the blank bias (the models only need plausible inputs)."""
    feats = []
    for path in wavs:
        wave, rate = torchaudio.load(path)
        f = torchaudio.compliance.kaldi.fbank(wave, num_mel_bins=80, sample_frequency=rate, dither=0.0)
        feats.append(f)
    return feats


def normalized(f):
    return (f - f.mean(0, keepdim=True)) / (f.std(0, keepdim=True) + 1e-5)


def lengths_after_conv(lengths):
    # Conv k=3, s=2, p=1: L -> floor((L - 1) / 2) + 1 (= ceil(L / 2)).
    return torch.div(lengths - 1, 2, rounding_mode="floor") + 1


def frame_mask(lengths, max_len):
    """[B, T] True on valid frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class ConvSubsampling(nn.Module):
    """Two stride-2 3x3 convolutions (4x), padded frames zeroed before each one."""

    def __init__(self, num_bins, channels, d_model):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, 2, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 2, 1)
        self.out = nn.Linear(channels * ((num_bins + 3) // 4), d_model)

    def forward(self, x, lengths):  # x [B, T, F]
        x = x * frame_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)
        x = torch.relu(self.conv1(x.unsqueeze(1)))
        l1 = lengths_after_conv(lengths)
        x = x * frame_mask(l1, x.shape[2])[:, None, :, None].to(x.dtype)
        x = torch.relu(self.conv2(x))
        l2 = lengths_after_conv(l1)
        b, c, t, f = x.shape
        x = self.out(x.transpose(1, 2).reshape(b, t, c * f))
        return x, l2


class ConformerBlock(nn.Module):
    def __init__(self, d_model, heads, kernel):
        super().__init__()
        self.heads = heads
        self.ff1 = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, 4 * d_model), nn.SiLU(), nn.Linear(4 * d_model, d_model))
        self.att_norm = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.att_out = nn.Linear(d_model, d_model)
        self.conv_norm = nn.LayerNorm(d_model)
        self.pw1 = nn.Linear(d_model, 2 * d_model)
        self.dw = nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
        self.bn = nn.BatchNorm1d(d_model)
        self.pw2 = nn.Linear(d_model, d_model)
        self.ff2 = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, 4 * d_model), nn.SiLU(), nn.Linear(4 * d_model, d_model))
        self.final_norm = nn.LayerNorm(d_model)

    def forward(self, x, mask):  # x [B, T, D], mask [B, T] bool
        b, t, d = x.shape
        x = x + 0.5 * self.ff1(x)
        q, k, v = self.qkv(self.att_norm(x)).chunk(3, dim=-1)
        hd = d // self.heads
        q = q.reshape(b, t, self.heads, hd).transpose(1, 2)
        k = k.reshape(b, t, self.heads, hd).transpose(1, 2)
        v = v.reshape(b, t, self.heads, hd).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~mask[:, None, None, :], -10000.0)
        att = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, d)
        x = x + self.att_out(att)
        y = nn.functional.glu(self.pw1(self.conv_norm(x)), dim=-1)
        y = y * mask.unsqueeze(-1).to(y.dtype)
        y = self.dw(y.transpose(1, 2))
        y = nn.functional.silu(self.bn(y)).transpose(1, 2)
        x = x + self.pw2(y)
        x = x + 0.5 * self.ff2(x)
        return self.final_norm(x) * mask.unsqueeze(-1).to(x.dtype)


class Encoder(nn.Module):
    def __init__(self, num_bins=80, d_model=64, blocks=2, heads=4, kernel=15, channels=16):
        super().__init__()
        self.subsampling = ConvSubsampling(num_bins, channels, d_model)
        self.blocks = nn.ModuleList([ConformerBlock(d_model, heads, kernel) for _ in range(blocks)])
        self.d_model = d_model

    def forward(self, x, lengths):  # x [B, T, F]
        x, out_lengths = self.subsampling(x, lengths)
        t = x.shape[1]
        position = torch.arange(t, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, self.d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / self.d_model))
        pe = torch.cat([torch.sin(position * div), torch.cos(position * div)], dim=1)
        x = x + 0.3 * pe.unsqueeze(0)
        mask = frame_mask(out_lengths, t)
        for block in self.blocks:
            x = block(x, mask)
        return x, out_lengths


class CtcModel(nn.Module):
    """`layout` 'BFT': input [B, F, T] (NeMo); 'BTF': input [B, T, F]."""

    def __init__(self, vocab_with_blank, layout, d_model=64, blocks=2):
        super().__init__()
        self.layout = layout
        self.encoder = Encoder(d_model=d_model, blocks=blocks)
        self.head = nn.Linear(d_model, vocab_with_blank)

    def forward(self, features, lengths):
        x = features.transpose(1, 2) if self.layout == "BFT" else features
        x, _ = self.encoder(x, lengths)
        return torch.log_softmax(self.head(x), dim=-1)


class TransducerEncoder(nn.Module):
    def __init__(self, joiner_dim):
        super().__init__()
        self.encoder = Encoder()
        self.proj = nn.Linear(64, joiner_dim)

    def forward(self, x, x_lens):
        y, lens = self.encoder(x, x_lens)
        return self.proj(y), lens


class TransducerDecoder(nn.Module):
    """Stateless decoder as in icefall: embedding of the last `context_size` tokens;
    ids < 0 (the start padding sherpa-onnx uses) embed to zero."""

    def __init__(self, vocab, context_size, joiner_dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 64)
        self.context = nn.Linear(64 * context_size, 64)
        self.proj = nn.Linear(64, joiner_dim)

    def forward(self, y):
        valid = (y >= 0).unsqueeze(-1).to(torch.float32)
        e = self.embedding(y.clamp(min=0)) * valid
        h = torch.relu(self.context(e.reshape(e.shape[0], -1)))
        return self.proj(h)


class TransducerJoiner(nn.Module):
    def __init__(self, joiner_dim, vocab):
        super().__init__()
        self.out = nn.Linear(joiner_dim, vocab)

    def forward(self, encoder_out, decoder_out):
        return self.out(torch.tanh(encoder_out + decoder_out))


def make_peaky(linear, scale):
    with torch.no_grad():
        linear.weight.mul_(scale)
        linear.bias.mul_(scale)


def calibrate_ctc_blank(model, feats, blank, normalize, target=0.5, never=()):
    """Centers every class's mean logit (so many tokens win, not one) and then sets
    the blank bias so about `target` of the frames choose blank."""
    def logits():
        out = []
        for f in feats:
            x = (normalized(f) if normalize else f).unsqueeze(0)
            if model.layout == "BFT":
                x = x.transpose(1, 2)
            out.append(model(x, torch.tensor([f.shape[0]]))[0])
        return torch.cat(out)

    with torch.no_grad():
        model.head.bias -= logits().mean(dim=0)
        for token in never:
            model.head.bias[token] -= 50.0
        logp = logits()
        others = torch.cat([logp[:, :blank], logp[:, blank + 1:]], dim=1).max(dim=1).values
        model.head.bias[blank] += torch.quantile(others - logp[:, blank], target)


def calibrate_transducer_blank(encoder, decoder, joiner, feats, target=0.55):
    """As calibrate_ctc_blank, for the joiner (against the start-of-utterance decoder output)."""
    def logits():
        dec = decoder(torch.tensor([[-1, 0]]))
        out = []
        for f in feats:
            enc, _ = encoder(f.unsqueeze(0), torch.tensor([f.shape[0]]))
            out.append(joiner(enc[0], dec.expand(enc.shape[1], -1)))
        return torch.cat(out)

    with torch.no_grad():
        joiner.out.bias -= logits().mean(dim=0)
        joiner.out.bias[1] -= 50.0  # <sos/eos> and <unk> never win (sherpa-onnx reads <unk> as blank)
        joiner.out.bias[2] -= 50.0
        logit = logits()
        joiner.out.bias[0] += torch.quantile(logit[:, 1:].max(dim=1).values - logit[:, 0], target)


def add_metadata(path, metadata):
    model = onnx.load(path)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = str(value)
    onnx.save(model, path)


def export(module, args, path, input_names, output_names, dynamic_axes):
    module.eval()
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=13, do_constant_folding=True)


def write_tokens(path, pieces):
    with open(path, "w") as f:
        for i, p in enumerate(pieces):
            f.write(f"{p} {i}\n")


def make_nemo_ctc(out, feats, d_model=64, blocks=2, seed=1):
    torch.manual_seed(seed)
    vocab = len(BPE_PIECES) + 1
    model = CtcModel(vocab, "BFT", d_model=d_model, blocks=blocks).eval()
    make_peaky(model.head, 6.0)
    calibrate_ctc_blank(model, feats, vocab - 1, normalize=True, never=(0,))  # <unk> never wins
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    x = torch.randn(2, 80, 120)
    export(model, (x, torch.tensor([120, 90])), path, ["audio_signal", "length"], ["logprobs"],
           {"audio_signal": {0: "B", 2: "T"}, "length": {0: "B"}, "logprobs": {0: "B", 1: "T_out"}})
    add_metadata(path, {"vocab_size": vocab, "subsampling_factor": 4, "normalize_type": "per_feature",
                        "model_type": "EncDecCTCModelBPE", "is_giga_am": 0,
                        "comment": "rote random-weight test model (scripts/models/make_test_models.py)"})
    write_tokens(os.path.join(out, "tokens.txt"), BPE_PIECES + ["<blk>"])


def make_transducer(out, feats, seed=2, write=True):
    """write=False: rebuild the modules only and take the joiner's (calibrated) weights from the
    committed OUT/joiner.onnx, so that a reference computed with them is the committed model's
    (recalibrating can differ by float rounding)."""
    torch.manual_seed(seed)
    pieces = ["<blk>", "<sos/eos>", "<unk>"] + BPE_PIECES[1:]
    vocab, context_size, joiner_dim = len(pieces), 2, 64
    encoder = TransducerEncoder(joiner_dim).eval()
    decoder = TransducerDecoder(vocab, context_size, joiner_dim).eval()
    joiner = TransducerJoiner(joiner_dim, vocab).eval()
    make_peaky(joiner.out, 6.0)
    calibrate_transducer_blank(encoder, decoder, joiner, feats)
    if not write:
        committed = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(os.path.join(out, "joiner.onnx")).graph.initializer}
        with torch.no_grad():
            joiner.out.weight.copy_(torch.from_numpy(committed["out.weight"].copy()))
            joiner.out.bias.copy_(torch.from_numpy(committed["out.bias"].copy()))
        return encoder, decoder, joiner, context_size
    os.makedirs(out, exist_ok=True)
    enc_path, dec_path, join_path = (os.path.join(out, n) for n in ("encoder.onnx", "decoder.onnx", "joiner.onnx"))
    export(encoder, (torch.randn(2, 120, 80), torch.tensor([120, 90])), enc_path, ["x", "x_lens"],
           ["encoder_out", "encoder_out_lens"],
           {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "encoder_out": {0: "N", 1: "T_out"}, "encoder_out_lens": {0: "N"}})
    export(decoder, (torch.tensor([[-1, 0], [3, 4]]),), dec_path, ["y"], ["decoder_out"],
           {"y": {0: "N"}, "decoder_out": {0: "N"}})
    export(joiner, (torch.randn(2, joiner_dim), torch.randn(2, joiner_dim)), join_path,
           ["encoder_out", "decoder_out"], ["logit"], {"encoder_out": {0: "N"}, "decoder_out": {0: "N"}, "logit": {0: "N"}})
    add_metadata(enc_path, {"model_type": "conformer", "version": "1", "model_author": "rote-test",
                            "comment": "rote random-weight test model (scripts/models/make_test_models.py)"})
    add_metadata(dec_path, {"vocab_size": vocab, "context_size": context_size})
    add_metadata(join_path, {"joiner_dim": joiner_dim})
    write_tokens(os.path.join(out, "tokens.txt"), pieces)
    return encoder, decoder, joiner, context_size


def write_icefall_parity(out, modules, feats):
    """transducer-parity/icefall.{f32,json}: for the icefall-style transducer, the Kaldi fbank of
    2 utterances (truncated), the joiner lattice for teacher-forced targets (stateless decoder on
    the last context_size tokens, start [-1, blank]) and torchaudio's rnnt_loss on it (blank 0)."""
    encoder, decoder, joiner, context_size = modules
    os.makedirs(out, exist_ok=True)
    targets = [[3, 7, 12, 5, 20], [15, 4, 9, 9, 18, 6]]
    cases, blobs, offset = [], [], 0
    with torch.no_grad():
        for i, frames_in in enumerate((120, 88)):
            f = feats[i][:frames_in].contiguous()
            enc, lens = encoder(f.unsqueeze(0), torch.tensor([frames_in]))
            frames = int(lens[0])
            history = [-1] * (context_size - 1) + [0] + targets[i]
            contexts = torch.tensor([history[u:u + context_size] for u in range(len(targets[i]) + 1)])
            dec = decoder(contexts)
            lattice = joiner(enc[0, :frames].unsqueeze(1), dec.unsqueeze(0))  # [T, U + 1, V]
            loss = torchaudio.functional.rnnt_loss(
                lattice.unsqueeze(0).contiguous(), torch.tensor([targets[i]], dtype=torch.int32),
                torch.tensor([frames], dtype=torch.int32), torch.tensor([len(targets[i])], dtype=torch.int32), blank=0, reduction="none")
            cases.append({"utterance": i, "featureOffset": offset, "numFrames": f.shape[0], "numBins": f.shape[1], "encoderFrames": frames,
                          "targets": targets[i], "latticeOffset": offset + f.numel(), "latticeShape": list(lattice.shape),
                          "logLikelihood": -float(loss[0]), "scorer": "torchaudio.functional.rnnt_loss (raw logits, float32)"})
            blobs += [f.view(-1), lattice.contiguous().view(-1)]
            offset += f.numel() + lattice.numel()
    torch.cat(blobs).numpy().astype("<f4").tofile(os.path.join(out, "icefall.f32"))
    with open(os.path.join(out, "icefall.json"), "w") as fh:
        json.dump({"generator": "scripts/models/make_test_models.py (write_icefall_parity)", "torch": torch.__version__,
                   "torchaudio": torchaudio.__version__, "model": "transducer (icefall-style, committed fixture)",
                   "data": "icefall.f32 (little-endian float32; Kaldi fbank [numFrames, numBins] then joiner lattice [T, U + 1, V])",
                   "cases": cases}, fh, indent=1)


def make_sidecar_ctc(out, feats, seed=3):
    torch.manual_seed(seed)
    model = CtcModel(len(CHARS), "BTF").eval()
    make_peaky(model.head, 6.0)
    calibrate_ctc_blank(model, feats, 0, normalize=False)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, (torch.randn(2, 120, 80), torch.tensor([120, 90])), path, ["feats", "feats_len"], ["log_probs"],
           {"feats": {0: "B", 1: "T"}, "feats_len": {0: "B"}, "log_probs": {0: "B", 1: "T_out"}})
    add_metadata(path, {})
    with open(os.path.join(out, "chars.txt"), "w") as f:
        for c in CHARS:
            f.write(c + "\n")
    sidecar = {
        "format": 1,
        "family": "ctc",
        "model": "model.onnx",
        "inputs": {"features": "feats", "lengths": "feats_len", "layout": "BTF"},
        "output": "log_probs",
        "outputIsLogProbs": True,
        "frontend": {"type": "kaldi-fbank", "numBins": 80},
        "vocabulary": {"file": "chars.txt", "kind": "characters"},
        "blankId": 0,
        "subsampling": 4,
        "outputLengthRule": "ceil",
    }
    with open(os.path.join(out, "rote-model.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------
# NeMo transducers (RNNT with an LSTM prediction network; TDT = token-and-duration)

NEMO_VOCAB = BPE_PIECES  # V pieces (<unk> first); the RNNT blank is id V (last)


class NemoEncoderExport(nn.Module):
    """NeMo's encoder export: audio_signal [B, F, T] + length -> outputs [B, D, T'] + encoded_lengths."""

    def __init__(self, num_bins, d_model, blocks=1, heads=2, kernel=7, channels=4):
        super().__init__()
        self.encoder = Encoder(num_bins=num_bins, d_model=d_model, blocks=blocks, heads=heads, kernel=kernel, channels=channels)

    def forward(self, audio_signal, length):
        x, lengths = self.encoder(audio_signal.transpose(1, 2), length)
        return x.transpose(1, 2), lengths


class NemoPrediction(nn.Module):
    """NeMo RNNTDecoder in export mode: blank_as_pad (the blank, last id, embeds to zeros),
    an LSTM of `layers` layers, no start-of-sequence step (the caller feeds the blank).
    Test-model detail (invisible in the exported interface): the output also carries the last
    label one-hot (zero for the blank), which the joint uses to choose the blank when its best
    token is the last one emitted; random weights otherwise loop for max-symbols steps."""

    def __init__(self, vocab, hidden, layers):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab + 1, hidden, padding_idx=vocab)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers)

    def forward(self, targets, h, c):  # targets [B, U] -> g [B, U, H + V + 1]
        labels = targets.long()
        e = self.embed(labels).transpose(0, 1)
        g, (h, c) = self.lstm(e, (h, c))
        last = nn.functional.one_hot(labels, self.vocab + 1).to(g.dtype)
        last[..., self.vocab] = 0.0
        return torch.cat([g.transpose(0, 1), last], dim=-1), h, c


class NemoJoint(nn.Module):
    """NeMo RNNTJoint: relu(enc(f) + pred(g)) -> V + 1 token logits (+ duration logits for TDT).
    Exported with log_softmax OFF (RNNTJoint._prepare_for_export): raw logits."""

    def __init__(self, enc_dim, pred_dim, hidden, width, vocab):
        super().__init__()
        self.pred_dim, self.vocab = pred_dim, vocab
        self.enc = nn.Linear(enc_dim, hidden)
        self.pred = nn.Linear(pred_dim, hidden)
        self.out = nn.Linear(hidden, width)
        self.register_buffer("blank_column", nn.functional.one_hot(torch.tensor([vocab]), width)[0].to(torch.float32))

    def forward(self, f, g):  # f [B, T, D], g [B, U, H + V + 1] -> [B, T, U, width]
        logits = self.out(torch.relu(self.enc(f).unsqueeze(2) + self.pred(g[..., : self.pred_dim]).unsqueeze(1)))
        # the blank wins when the best token is the last one emitted (CTC-like: no runaway repeats)
        last = g[..., self.pred_dim:].unsqueeze(1)  # [B, 1, U, V + 1], one-hot of the last token (zero after blank)
        wanted = nn.functional.one_hot(logits[..., : self.vocab].argmax(-1), self.vocab + 1).to(g.dtype)
        same = (wanted * last).sum(-1, keepdim=True)  # [B, T, U, 1]
        return logits + 20.0 * same * self.blank_column


class NemoDecoderJoint(nn.Module):
    """NeMo's RNNTDecoderJoint export (decoder_joint-*.onnx)."""

    def __init__(self, prediction, joint):
        super().__init__()
        self.prediction = prediction
        self.joint = joint

    def forward(self, encoder_outputs, targets, target_length, input_states_1, input_states_2):
        g, h, c = self.prediction(targets, input_states_1, input_states_2)
        return self.joint(encoder_outputs.transpose(1, 2), g), target_length, h, c


class SherpaNemoDecoder(nn.Module):
    """NeMo RNNTDecoder.export() as sherpa-onnx uses it: targets, target_length, 2 states -> outputs [B, H, U], prednet_lengths, states."""

    def __init__(self, prediction):
        super().__init__()
        self.prediction = prediction

    def forward(self, targets, target_length, state0, state1):
        g, h, c = self.prediction(targets, state0, state1)
        return g.transpose(1, 2), target_length, h, c


class SherpaNemoJoiner(nn.Module):
    """NeMo RNNTJoint.export(): encoder_outputs [B, D, T], decoder_outputs [B, H, U] -> outputs [B, T, U, V + 1]."""

    def __init__(self, joint):
        super().__init__()
        self.joint = joint

    def forward(self, encoder_outputs, decoder_outputs):
        return self.joint(encoder_outputs.transpose(1, 2), decoder_outputs.transpose(1, 2))


class NemoTransducer:
    def __init__(self, num_bins=80, d_model=32, pred_hidden=32, layers=2, joint_hidden=32, durations=(), encoder_size=None):
        self.vocab = len(NEMO_VOCAB)
        self.num_bins, self.layers, self.pred_hidden = num_bins, layers, pred_hidden
        self.durations = list(durations)
        self.encoder = NemoEncoderExport(num_bins, d_model, **(encoder_size or {})).eval()
        self.prediction = NemoPrediction(self.vocab, pred_hidden, layers).eval()
        self.joint = NemoJoint(d_model, pred_hidden, joint_hidden, self.vocab + 1 + len(self.durations), self.vocab).eval()

    def zero_states(self, batch):
        return torch.zeros(self.layers, batch, self.pred_hidden), torch.zeros(self.layers, batch, self.pred_hidden)

    def encode(self, feats):
        """feats [T, F] (frame-major) -> encoder frames [T', D]."""
        out, lens = self.encoder(feats.t().unsqueeze(0), torch.tensor([feats.shape[0]]))
        return out[0, :, : int(lens[0])].t()


def calibrate_nemo_transducer(model, feats, target=0.5):
    """Centers the token logits against the start state (last label blank), keeps <unk> from
    winning and sets the blank bias so about `target` of the frames choose blank there (after a
    token the joint raises the blank, see NemoPrediction)."""
    blank = model.vocab
    h, c = model.zero_states(1)
    with torch.no_grad():
        g, _, _ = model.prediction(torch.tensor([[blank]]), h, c)

        def logits():
            return torch.cat([model.joint(model.encode(f).unsqueeze(0), g)[0, :, 0, : blank + 1] for f in feats])

        bias = model.joint.out.bias
        bias[: blank + 1] -= logits().mean(dim=0)
        bias[0] -= 50.0  # <unk> never wins
        logit = logits()
        bias[blank] += torch.quantile(logit[:, :blank].max(dim=1).values - logit[:, blank], target)
        if model.durations:
            # durations: prefer 1 and 2 frames, sometimes 0 (several tokens on one frame) and the longest
            bias[blank + 1:] += torch.tensor([0.5, 1.5, 1.0] + [0.0] * (len(model.durations) - 3))[: len(model.durations)]


def nemo_vocab_txt(pieces):
    """NeMo's tokenizer vocab.txt: no blank, word-initial pieces without the marker, continuations with ##."""
    lines = []
    for p in pieces:
        if p.startswith("<"):
            lines.append(p)
        elif p.startswith("\u2581"):
            lines.append(p[1:] or "\u2581")
        else:
            lines.append("##" + p)
    return "\n".join(lines) + "\n"


def export_nemo_layout(model, out, suffix="model", free_time_axes=True):
    """`model.export("model.onnx")` for a transducer: encoder-model.onnx + decoder_joint-model.onnx.
    Dynamic axes as lists, as NeMo's Exportable passes them (names *_dynamic_axes_N).
    free_time_axes=False fixes encoder_outputs' T and targets' U at 1 (a one-step-only export:
    rote then scores cell by cell instead of one lattice call)."""
    os.makedirs(out, exist_ok=True)
    enc_path = os.path.join(out, f"encoder-{suffix}.onnx")
    export(model.encoder, (torch.randn(2, model.num_bins, 120), torch.tensor([120, 90])), enc_path,
           ["audio_signal", "length"], ["outputs", "encoded_lengths"],
           {"audio_signal": [0, 2], "length": [0], "outputs": [0, 2], "encoded_lengths": [0]})
    dj = NemoDecoderJoint(model.prediction, model.joint).eval()
    h, c = model.zero_states(2)
    dec_path = os.path.join(out, f"decoder_joint-{suffix}.onnx")
    export(dj, (torch.randn(2, model.encoder.encoder.d_model, 1), torch.tensor([[3], [4]], dtype=torch.int32),
                torch.tensor([1, 1], dtype=torch.int32), h, c), dec_path,
           ["encoder_outputs", "targets", "target_length", "input_states_1", "input_states_2"],
           ["outputs", "prednet_lengths", "output_states_1", "output_states_2"],
           {"encoder_outputs": [0, 2] if free_time_axes else [0], "targets": [0, 1] if free_time_axes else [0], "target_length": [0],
            "input_states_1": [1], "input_states_2": [1], "outputs": [0, 1, 2] if free_time_axes else [0],
            "prednet_lengths": [0], "output_states_1": [1], "output_states_2": [1]})
    add_metadata(enc_path, {})
    add_metadata(dec_path, {})


def export_sherpa_layout(model, out, model_type="EncDecRNNTBPEModel", fixed_batch_state=True):
    """sherpa-onnx's NeMo transducer export: encoder.onnx (with metadata), decoder.onnx, joiner.onnx,
    tokens.txt (blank "<blk>" last). As in sherpa's published models, the decoder's second state input
    can have its batch fixed at 1 (`fixed_batch_state`)."""
    os.makedirs(out, exist_ok=True)
    enc_path, dec_path, join_path = (os.path.join(out, n) for n in ("encoder.onnx", "decoder.onnx", "joiner.onnx"))
    export(model.encoder, (torch.randn(2, model.num_bins, 120), torch.tensor([120, 90])), enc_path,
           ["audio_signal", "length"], ["outputs", "encoded_lengths"],
           {"audio_signal": [0, 2], "length": [0], "outputs": [0, 2], "encoded_lengths": [0]})
    batch = 1 if fixed_batch_state else 2
    h, c = model.zero_states(batch)
    second = "onnx::LSTM_3" if fixed_batch_state else "states.2"
    axes = {"targets": [0, 1], "target_length": [0], "states.1": [1], "outputs": [0, 2], "prednet_lengths": [0], "states": [1]}
    if not fixed_batch_state:
        axes.update({second: [1], "states.2.out": [1]})
    export(SherpaNemoDecoder(model.prediction), (torch.full((batch, 1), 3, dtype=torch.int32), torch.ones(batch, dtype=torch.int32), h, c),
           dec_path, ["targets", "target_length", "states.1", second], ["outputs", "prednet_lengths", "states", "states.2.out"], axes)
    export(SherpaNemoJoiner(model.joint), (torch.randn(2, model.encoder.encoder.d_model, 3), torch.randn(2, model.pred_hidden + model.vocab + 1, 1)), join_path,
           ["encoder_outputs", "decoder_outputs"], ["outputs"],
           {"encoder_outputs": [0, 2], "decoder_outputs": [0, 2], "outputs": [0, 1, 2]})
    meta = {"vocab_size": model.vocab, "normalize_type": "per_feature", "pred_rnn_layers": model.layers,
            "pred_hidden": model.pred_hidden, "subsampling_factor": 4, "model_type": model_type, "feat_dim": model.num_bins,
            "version": "1", "model_author": "rote-test", "comment": "rote random-weight test model (scripts/models/make_test_models.py)"}
    if model.durations:
        meta["model_type"] = "EncDecRNNTBPEModel"
        meta["durations"] = ",".join(str(d) for d in model.durations)
    add_metadata(enc_path, meta)
    add_metadata(dec_path, {})
    add_metadata(join_path, {})
    write_tokens(os.path.join(out, "tokens.txt"), NEMO_VOCAB + ["<blk>"])


def reference_greedy(model, frames, max_symbols=10):
    """NeMo's greedy search (ONNXGreedyBatchedRNNTInfer for RNNT; GreedyTDTInfer for TDT) on
    one utterance's encoder frames [T, D], in torch: the reference the TS search is checked against."""
    blank, tokens = model.vocab, []
    label, (h, c) = blank, model.zero_states(1)
    t, symbols = 0, 0
    with torch.no_grad():
        while t < frames.shape[0]:
            g, h2, c2 = model.prediction(torch.tensor([[label]]), h, c)
            logit = model.joint(frames[t:t + 1].unsqueeze(0), g)[0, 0, 0]
            k = int(logit[: blank + 1].argmax())
            if model.durations:
                skip = model.durations[int(logit[blank + 1:].argmax())]
                if k != blank:
                    tokens.append(k)
                    label, h, c = k, h2, c2
                    symbols += 1
                if k == blank and skip == 0:
                    skip = 1
                if symbols >= max_symbols and skip == 0:
                    skip = 1
                if skip > 0:
                    symbols = 0
                t += skip
            else:
                if k == blank:
                    t, symbols = t + 1, 0
                else:
                    tokens.append(k)
                    label, h, c = k, h2, c2
                    symbols += 1
                    if symbols >= max_symbols:
                        t, symbols = t + 1, 0
    return tokens


def reference_lattice(model, frames, targets):
    """Raw joint outputs [T, U + 1, width] for the teacher-forced targets."""
    blank = model.vocab
    h, c = model.zero_states(1)
    with torch.no_grad():
        g, _, _ = model.prediction(torch.tensor([[blank] + list(targets)]), h, c)
        return model.joint(frames.unsqueeze(0), g)[0]


def tdt_log_likelihood(lattice, targets, blank, durations):
    """The TDT forward variable (Xu et al. 2023; NeMo's TDT loss at inference, no sigma), float64.
    Token and duration logits are normalized separately. alpha(t, u), t < T: reach frame t having
    emitted u tokens, by a token with any duration d (from (t - d, u - 1)) or a blank with d >= 1
    (from (t - d, u)); the utterance ends with a blank that steps exactly onto t = T."""
    T, U1, _ = lattice.shape
    tok = torch.log_softmax(lattice[:, :, : blank + 1].double(), dim=-1)
    dur = torch.log_softmax(lattice[:, :, blank + 1:].double(), dim=-1)
    neg = float("-inf")

    def lse(terms):
        return float(torch.logsumexp(torch.tensor(terms, dtype=torch.float64), 0)) if terms else neg

    alpha = [[neg] * U1 for _ in range(T)]
    alpha[0][0] = 0.0
    for t in range(T):
        for u in range(U1):
            if t == 0 and u == 0:
                continue
            terms = []
            for i, d in enumerate(durations):
                s = t - d
                if s < 0:
                    continue
                if u > 0:
                    terms.append(alpha[s][u - 1] + float(tok[s, u - 1, targets[u - 1]]) + float(dur[s, u - 1, i]))
                if d > 0:
                    terms.append(alpha[s][u] + float(tok[s, u, blank]) + float(dur[s, u, i]))
            alpha[t][u] = lse(terms)
    final = [alpha[T - d][U1 - 1] + float(tok[T - d, U1 - 1, blank]) + float(dur[T - d, U1 - 1, i])
             for i, d in enumerate(durations) if 0 < d <= T]
    return lse(final)


def make_nemo_transducers(out, feats, seed=5):
    """RNNT in NeMo's own layout and in sherpa-onnx's (same weights), a TDT in NeMo's layout with
    128 mel bins, and the parity fixture (features, reference greedy tokens, lattices, scores)."""
    torch.manual_seed(seed)
    rnnt = NemoTransducer()
    make_peaky(rnnt.joint.out, 2.0)
    make_peaky(rnnt.joint.pred, 0.3)
    make_peaky(rnnt.joint.enc, 5.0)
    calibrate_nemo_transducer(rnnt, [normalized(f) for f in feats])
    export_nemo_layout(rnnt, os.path.join(out, "nemo-transducer"))
    with open(os.path.join(out, "nemo-transducer", "vocab.txt"), "w") as f:
        f.write(nemo_vocab_txt(NEMO_VOCAB))
    export_sherpa_layout(rnnt, os.path.join(out, "sherpa-nemo-transducer"))

    torch.manual_seed(seed + 1)
    feats128 = calibration_features_bins(128)
    tdt = NemoTransducer(num_bins=128, durations=(0, 1, 2, 3, 4))
    make_peaky(tdt.joint.out, 2.0)
    make_peaky(tdt.joint.pred, 0.3)
    make_peaky(tdt.joint.enc, 5.0)
    calibrate_nemo_transducer(tdt, [normalized(f) for f in feats128])
    export_nemo_layout(tdt, os.path.join(out, "nemo-tdt"), free_time_axes=False)
    with open(os.path.join(out, "nemo-tdt", "vocab.txt"), "w") as f:
        f.write(nemo_vocab_txt(NEMO_VOCAB))
    write_transducer_parity(os.path.join(out, "transducer-parity"), rnnt, tdt, feats, feats128)


class SmallCtcWithLengths(nn.Module):
    """A small NeMo-style CTC export with 128 mel bins (Parakeet-CTC's frontend) that also
    returns its output lengths: audio_signal [B, 128, T], length -> logprobs, encoded_lengths."""

    def __init__(self, vocab_with_blank, num_bins=128):
        super().__init__()
        self.layout = "BFT"
        self.encoder = Encoder(num_bins=num_bins, d_model=32, blocks=1, heads=2, kernel=7, channels=4)
        self.head = nn.Linear(32, vocab_with_blank)

    def forward(self, features, lengths):
        x, out_lengths = self.encoder(features.transpose(1, 2), lengths)
        return torch.log_softmax(self.head(x), dim=-1), out_lengths


def make_bench_transducer(out, feats, seed=9):
    """A larger random-weight NeMo RNNT (d_model 256, 6 blocks, LSTM 2 x 320) in sherpa-onnx's
    layout (decoder state batch fixed at 1, as distributed) and NeMo's own, for
    scripts/bench/transducer.bench.ts (not committed)."""
    torch.manual_seed(seed)
    model = NemoTransducer(d_model=256, pred_hidden=320, joint_hidden=320, encoder_size={"blocks": 6, "heads": 4, "kernel": 15, "channels": 16})
    make_peaky(model.joint.out, 2.0)
    make_peaky(model.joint.pred, 0.3)
    make_peaky(model.joint.enc, 5.0)
    calibrate_nemo_transducer(model, [normalized(f) for f in feats])
    export_sherpa_layout(model, os.path.join(out, "bench-sherpa-nemo-transducer"))
    export_nemo_layout(model, os.path.join(out, "bench-nemo-transducer"))
    with open(os.path.join(out, "bench-nemo-transducer", "vocab.txt"), "w") as f:
        f.write(nemo_vocab_txt(NEMO_VOCAB))


def make_nemo_ctc_128(out, seed=7):
    torch.manual_seed(seed)
    vocab = len(BPE_PIECES) + 1
    model = SmallCtcWithLengths(vocab).eval()
    make_peaky(model.head, 6.0)
    feats = calibration_features_bins(128)
    wrapped = lambda x, l: model(x, l)[0]  # calibrate_ctc_blank reads log-probs only
    wrapped.layout, wrapped.head = "BFT", model.head
    calibrate_ctc_blank(wrapped, feats, vocab - 1, normalize=True, never=(0,))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, (torch.randn(2, 128, 120), torch.tensor([120, 90])), path, ["audio_signal", "length"], ["logprobs", "encoded_lengths"],
           {"audio_signal": [0, 2], "length": [0], "logprobs": [0, 1], "encoded_lengths": [0]})
    add_metadata(path, {})
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write(nemo_vocab_txt(BPE_PIECES))


CALIBRATION_WAVS = []


def calibration_features_bins(bins):
    out = []
    for path in CALIBRATION_WAVS:
        wave, rate = torchaudio.load(path)
        out.append(torchaudio.compliance.kaldi.fbank(wave, num_mel_bins=bins, sample_frequency=rate, dither=0.0))
    return out


def write_transducer_parity(out, rnnt, tdt, feats, feats128):
    """features.f32: the normalized fbank of 3 utterances (truncated) for each model; reference.json:
    torch greedy tokens, and per utterance a target sequence with torchaudio's rnnt_loss (RNNT) /
    the TDT forward above, on the lattice the torch model computes."""
    os.makedirs(out, exist_ok=True)
    cases, blobs, offset = [], [], 0
    targets = [[1, 5, 9, 2, 17, 6], [3, 3, 11, 20, 8], [15, 4, 7, 7, 22, 12, 9, 30]]
    for name, model, source in (("rnnt", rnnt, feats), ("tdt", tdt, feats128)):
        for i, frames_in in enumerate((160, 112, 72)):
            f = normalized(source[i])[:frames_in].contiguous()
            enc = model.encode(f)
            tokens = reference_greedy(model, enc)
            lattice = reference_lattice(model, enc, targets[i])
            blank = model.vocab
            if model.durations:
                score = tdt_log_likelihood(lattice, targets[i], blank, model.durations)
                scorer = "tdt_log_likelihood (float64, this script)"
            else:
                loss = torchaudio.functional.rnnt_loss(
                    lattice[:, :, : blank + 1].unsqueeze(0).contiguous(), torch.tensor([targets[i]], dtype=torch.int32),
                    torch.tensor([lattice.shape[0]], dtype=torch.int32), torch.tensor([len(targets[i])], dtype=torch.int32),
                    blank=blank, reduction="none")
                score = -float(loss[0])
                scorer = "torchaudio.functional.rnnt_loss (raw logits, float32)"
            lat = lattice.contiguous().view(-1)
            cases.append({"model": name, "utterance": i, "featureOffset": offset, "numFrames": f.shape[0], "numBins": f.shape[1],
                          "encoderFrames": enc.shape[0], "greedyTokens": tokens, "targets": targets[i],
                          "latticeOffset": offset + f.numel(), "latticeShape": list(lattice.shape),
                          "logLikelihood": score, "scorer": scorer})
            blobs += [f.view(-1), lat]
            offset += f.numel() + lat.numel()
    torch.cat(blobs).numpy().astype("<f4").tofile(os.path.join(out, "data.f32"))
    with open(os.path.join(out, "reference.json"), "w") as fh:
        json.dump({"generator": "scripts/models/make_test_models.py (make_nemo_transducers)", "torch": torch.__version__,
                   "torchaudio": torchaudio.__version__, "data": "data.f32 (little-endian float32; features [numFrames, numBins] then lattice [T, U + 1, width] raw logits)",
                   "cases": cases}, fh, indent=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "test", "fixtures", "models"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--bench", action="store_true", help="also write a larger bench model to OUT/bench-nemo-ctc")
    parser.add_argument("--only-bench", action="store_true", help="write only the bench model (reads the existing speech)")
    parser.add_argument("--speech", help="speech fixtures directory (default OUT/speech)")
    parser.add_argument("--only-bench-transducer", action="store_true",
                        help="write only the larger NeMo RNNT bench models to OUT/bench-{sherpa-,}nemo-transducer (reads the existing speech)")
    parser.add_argument("--only-bpe", action="store_true",
                        help="write only the models whose vocabulary is BPE_PIECES (nemo-ctc, the transducers, nemo-ctc-128) "
                             "and the transducer parity fixtures (reads the existing speech)")
    parser.add_argument("--only-transducers", action="store_true",
                        help="write only the transducer models (NeMo and icefall-style), their parity fixtures and the 128-bin CTC model (reads the existing speech)")
    args = parser.parse_args()
    speech_dir = args.speech or os.path.join(args.out, "speech")
    if args.only_bench or args.only_transducers or args.only_bench_transducer or args.only_bpe:
        wavs = sorted(os.path.join(speech_dir, n) for n in os.listdir(speech_dir) if n.endswith(".wav"))
    else:
        wavs = synthesize_speech(speech_dir)
    feats = calibration_features(wavs)
    CALIBRATION_WAVS[:] = wavs
    if args.only_bench_transducer:
        make_bench_transducer(args.out, feats)
        print("wrote", args.out)
        return
    if args.only_bpe:
        make_nemo_ctc(os.path.join(args.out, "nemo-ctc"), feats)
        icefall = make_transducer(os.path.join(args.out, "transducer"), feats)
        make_nemo_transducers(args.out, feats)
        write_icefall_parity(os.path.join(args.out, "transducer-parity"), icefall, feats)
        make_nemo_ctc_128(os.path.join(args.out, "nemo-ctc-128"))
        print("wrote", args.out)
        return
    if args.only_transducers:
        icefall = make_transducer(os.path.join(args.out, "transducer"), feats, write=False)
        write_icefall_parity(os.path.join(args.out, "transducer-parity"), icefall, feats)
        make_nemo_transducers(args.out, feats)
        make_nemo_ctc_128(os.path.join(args.out, "nemo-ctc-128"))
        print("wrote", args.out)
        return
    if not args.only_bench:
        make_nemo_ctc(os.path.join(args.out, "nemo-ctc"), feats)
        icefall = make_transducer(os.path.join(args.out, "transducer"), feats)
        make_sidecar_ctc(os.path.join(args.out, "sidecar-ctc"), feats)
        make_nemo_transducers(args.out, feats)
        write_icefall_parity(os.path.join(args.out, "transducer-parity"), icefall, feats)
        make_nemo_ctc_128(os.path.join(args.out, "nemo-ctc-128"))
    if args.bench or args.only_bench:
        make_nemo_ctc(os.path.join(args.out, "bench-nemo-ctc"), feats, d_model=256, blocks=6, seed=4)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
