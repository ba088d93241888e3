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

Weights are random (seeded) so transcripts are arbitrary, but deterministic and input
dependent. Two things make them usable for tests:
  * every layer masks padded frames, so a padded batch gives the same outputs as one
    utterance alone (pad invariance, up to float rounding);
  * the output layer is scaled (peaky posteriors) and the blank bias is calibrated on the
    speech fixtures so about half the frames are blank and several tokens win.

`--bench` additionally writes a larger model (d_model 256, 6 blocks) to DIR/bench-nemo-ctc
for scripts/bench/transcribe.bench.ts (not committed).
"""
import argparse
import json
import math
import os
import subprocess
import tempfile

import onnx
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

# A small SentencePiece-like vocabulary ("▁" starts a word), NeMo order: <unk> first.
BPE_PIECES = [
    "<unk>", "▁the", "▁a", "▁", "s", "e", "t", "a", "o", "n", "i", "r", "l", "h", "d", "▁s",
    "▁c", "▁b", "▁p", "▁w", "▁f", "▁t", "ing", "ed", "er", "en", "on", "ar", "u", "m", "y", "g",
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


def make_transducer(out, feats, seed=2):
    torch.manual_seed(seed)
    pieces = ["<blk>", "<sos/eos>", "<unk>"] + BPE_PIECES[1:]
    vocab, context_size, joiner_dim = len(pieces), 2, 64
    encoder = TransducerEncoder(joiner_dim).eval()
    decoder = TransducerDecoder(vocab, context_size, joiner_dim).eval()
    joiner = TransducerJoiner(joiner_dim, vocab).eval()
    make_peaky(joiner.out, 6.0)
    calibrate_transducer_blank(encoder, decoder, joiner, feats)
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "test", "fixtures", "models"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--bench", action="store_true", help="also write a larger bench model to OUT/bench-nemo-ctc")
    parser.add_argument("--only-bench", action="store_true", help="write only the bench model (reads the existing speech)")
    parser.add_argument("--speech", help="speech fixtures directory (default OUT/speech)")
    args = parser.parse_args()
    speech_dir = args.speech or os.path.join(args.out, "speech")
    if args.only_bench:
        wavs = sorted(os.path.join(speech_dir, n) for n in os.listdir(speech_dir) if n.endswith(".wav"))
    else:
        wavs = synthesize_speech(speech_dir)
    feats = calibration_features(wavs)
    if not args.only_bench:
        make_nemo_ctc(os.path.join(args.out, "nemo-ctc"), feats)
        make_transducer(os.path.join(args.out, "transducer"), feats)
        make_sidecar_ctc(os.path.join(args.out, "sidecar-ctc"), feats)
    if args.bench or args.only_bench:
        make_nemo_ctc(os.path.join(args.out, "bench-nemo-ctc"), feats, d_model=256, blocks=6, seed=4)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
