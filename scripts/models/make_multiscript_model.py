#!/usr/bin/python3
"""Makes rote's multi-script character CTC test model: test/fixtures/models/multiscript-ctc.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/models/make_multiscript_model.py [--out DIR]

The same random-weight CTC network as make_test_models.py's sidecar-ctc (kaldi fbank
[B,T,80] + lengths -> log_probs, blank 0, 4x subsampling, described by rote-model.json),
with a character vocabulary (tokens.txt, "<piece> <id>") that covers every character of
the shipped word lists of English, German, Russian, Hindi and Mandarin
(canaries/words-{en,de,ru,hi,cmn}.txt) as rote normalizes text: so canaries of those
languages are feasible on it, and a test can tell that the English-only sidecar-ctc
model cannot emit them. Weights are random: transcripts are arbitrary but deterministic.
"""
import argparse
import json
import os
import sys
import unicodedata

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_models import (  # noqa: E402
    CtcModel,
    add_metadata,
    calibrate_ctc_blank,
    calibration_features,
    export,
    make_peaky,
    write_tokens,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LANGUAGES = ["en", "de", "ru", "hi", "cmn"]


def normalized_characters(word):
    """The characters of a word as rote normalizes it (NFKC, lower case, ß -> ss)."""
    return unicodedata.normalize("NFKC", word).lower().replace("ß", "ss")


def vocabulary():
    chars = set()
    for code in LANGUAGES:
        with open(os.path.join(ROOT, "canaries", f"words-{code}.txt"), encoding="utf-8") as f:
            for line in f:
                word = line.split("#")[0].strip()
                chars.update(normalized_characters(word))
    return ["<blk>", "<space>"] + sorted(chars)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "models", "multiscript-ctc"))
    args = parser.parse_args()
    pieces = vocabulary()
    speech = os.path.join(ROOT, "test", "fixtures", "models", "speech")
    wavs = sorted(os.path.join(speech, name) for name in os.listdir(speech) if name.endswith(".wav"))
    feats = calibration_features(wavs)
    torch.manual_seed(25)
    model = CtcModel(len(pieces), "BTF", d_model=32, blocks=1).eval()
    make_peaky(model.head, 6.0)
    calibrate_ctc_blank(model, feats, 0, normalize=False)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    export(model, (torch.randn(2, 120, 80), torch.tensor([120, 90])), path, ["feats", "feats_len"], ["log_probs"],
           {"feats": {0: "B", 1: "T"}, "feats_len": {0: "B"}, "log_probs": {0: "B", 1: "T_out"}})
    add_metadata(path, {})
    write_tokens(os.path.join(args.out, "tokens.txt"), pieces)
    sidecar = {
        "format": 1,
        "family": "ctc",
        "model": "model.onnx",
        "inputs": {"features": "feats", "lengths": "feats_len", "layout": "BTF"},
        "output": "log_probs",
        "outputIsLogProbs": True,
        "frontend": {"type": "kaldi-fbank", "numBins": 80},
        "vocabulary": {"file": "tokens.txt", "kind": "characters"},
        "blankId": 0,
        "subsampling": 4,
        "outputLengthRule": "ceil",
    }
    with open(os.path.join(args.out, "rote-model.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    print(f"{args.out}: {len(pieces)} tokens ({', '.join(LANGUAGES)})")


if __name__ == "__main__":
    main()
