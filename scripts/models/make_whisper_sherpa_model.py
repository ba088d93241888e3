#!/usr/bin/python3
"""The tiny random Whisper of make_whisper_model.py (same seed, same weights) in sherpa-onnx's
layout: test/fixtures/models/whisper-sherpa/.

Run with Debian's PyTorch (torch 1.13, onnx 1.12), after make_whisper_model.py:
    /usr/bin/python3 scripts/models/make_whisper_sherpa_model.py

What sherpa-onnx's scripts/whisper/export-onnx.py writes for `--model <name>` (here name
"tiny-random"), with its wrappers rebuilt on this toy network:
  <name>-encoder.onnx (AudioEncoderTensorCache): mel [n_audio, n_mels, T]
      -> n_layer_cross_k, n_layer_cross_v [n_text_layer, n_audio, T/2, n_text_state]
      (every decoder layer's cross-attention key and value projections of the encoder
      output, not split into heads; the positional embedding sliced to T/2, so T <= 3000);
  <name>-decoder.onnx (TextDecoderTensorCache): tokens [n_audio, n_tokens],
      in_n_layer_self_k_cache, in_n_layer_self_v_cache [n_text_layer, n_audio, n_text_ctx,
      n_text_state], n_layer_cross_k, n_layer_cross_v, offset [1] int64
      -> logits [n_audio, n_tokens, n_vocab], out_n_layer_self_k_cache,
      out_n_layer_self_v_cache (the caches with positions offset .. offset + n_tokens - 1
      written);
  the encoder's metadata: model_type "whisper-<name>", the dimensions (n_mels, n_audio_*,
      n_vocab, n_text_*), sot_sequence, all_language_tokens, all_language_codes, sot,
      sot_index, eot, blank_id (the id of " "), is_multilingual, no_speech,
      non_speech_tokens, transcribe, translate, sot_prev, sot_lm, no_timestamps;
  <name>-tokens.txt: the tiktoken ranks file ("<base64 of the token's bytes> <rank>", one a
      line, the rank being the token id); special tokens are not in it.
The self-attention cache update is written with slices and concatenation instead of
export-onnx.py's in-place slice assignment (the same function of the same inputs). The
int8 variants (<name>-encoder.int8.onnx, ...) need onnxruntime's quantizer and are not made.

Then whisper_reference.py computes expected.json for this layout too.
"""
import base64
import os
import sys

import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_whisper_model as m  # noqa: E402

OUT = os.path.join(m.ROOT, "test", "fixtures", "models", "whisper-sherpa")
NAME = "tiny-random"


class AudioEncoderTensorCache(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, mel):
        e = self.encoder
        x = torch.nn.functional.gelu(e.conv2(torch.nn.functional.gelu(e.conv1(mel)))).transpose(1, 2)
        hidden = e.ln(e.layer(x + e.positions[: x.shape[1]]))
        cross = self.decoder.layer.cross_attn
        return torch.stack([cross.k(hidden)]), torch.stack([cross.v(hidden)])


class TextDecoderTensorCache(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, tokens, in_k, in_v, cross_k, cross_v, offset):
        d = self.decoder
        start = offset[0]
        n = tokens.shape[1]
        x = d.embed(tokens) + d.positions[start : start + n]
        layer = d.layer
        heads = m.Attention.heads
        h = layer.ln1(x)
        k_new, v_new = layer.self_attn.k(h), layer.self_attn.v(h)
        k_all = torch.cat([in_k[0, :, :start], k_new], dim=1)
        v_all = torch.cat([in_v[0, :, :start], v_new], dim=1)
        x = x + layer.self_attn.attend(h, heads(k_all), heads(v_all), causal_offset=start)
        x = x + layer.cross_attn.attend(layer.ln2(x), heads(cross_k[0]), heads(cross_v[0]))
        x = x + layer.fc2(torch.nn.functional.gelu(layer.fc1(layer.ln3(x))))
        logits = d.ln(x) @ d.embed.weight.T
        out_k = torch.cat([k_all, in_k[0, :, start + n :]], dim=1).unsqueeze(0)
        out_v = torch.cat([v_all, in_v[0, :, start + n :]], dim=1).unsqueeze(0)
        return logits, out_k, out_v


def add_metadata(path, metadata):
    model = onnx.load(path)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model, path)


def metadata():
    v = m.VOCAB
    languages = ["<|en|>", "<|de|>"]
    sot_sequence = [m.SOT, v["<|en|>"], v["<|transcribe|>"]]
    # openai/whisper's non_speech_tokens are punctuation and symbols; this toy vocabulary's
    # are the ones make_whisper_model.py suppresses (whose suppress_tokens add the task tokens).
    non_speech = [v[c] for c in ["!", "?", "-", "H", "z"]]
    return {
        "model_type": f"whisper-{NAME}", "version": "1", "maintainer": "k2-fsa",
        "n_mels": m.N_MELS, "n_audio_ctx": m.ENCODER_POSITIONS, "n_audio_state": m.D_MODEL,
        "n_audio_head": m.HEADS, "n_audio_layer": 1, "n_vocab": m.V, "n_text_ctx": m.DECODER_POSITIONS,
        "n_text_state": m.D_MODEL, "n_text_head": m.HEADS, "n_text_layer": 1,
        "sot_sequence": ",".join(map(str, sot_sequence)),
        "all_language_tokens": ",".join(str(v[t]) for t in languages),
        "all_language_codes": ",".join(t[2:-2] for t in languages),
        "sot": m.SOT, "sot_index": 0, "eot": m.EOT, "blank_id": m.SPACE, "is_multilingual": 1,
        "no_speech": v["<|nospeech|>"], "non_speech_tokens": ",".join(map(str, non_speech)),
        "transcribe": v["<|transcribe|>"], "translate": v["<|translate|>"],
        "sot_prev": v["<|startofprev|>"], "sot_lm": v["<|startoflm|>"], "no_timestamps": v["<|notimestamps|>"],
    }


def write_tokens(path):
    byte_of = {c: b for b, c in m.BYTE_CHARS.items()}
    with open(path, "w") as f:
        for token in m.TEXT_TOKENS:
            raw = bytes(byte_of[c] for c in token)
            f.write(f"{base64.b64encode(raw).decode('ascii')} {m.VOCAB[token]}\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    encoder, decoder = m.build()
    wrapped_encoder = AudioEncoderTensorCache(encoder, decoder).eval()
    wrapped_decoder = TextDecoderTensorCache(decoder).eval()
    encoder_path = os.path.join(OUT, f"{NAME}-encoder.onnx")
    decoder_path = os.path.join(OUT, f"{NAME}-decoder.onnx")
    with torch.no_grad():
        mel = torch.randn(1, m.N_MELS, 3000)
        torch.onnx.export(wrapped_encoder, mel, encoder_path, opset_version=14, input_names=["mel"],
                          output_names=["n_layer_cross_k", "n_layer_cross_v"],
                          dynamic_axes={"mel": {0: "n_audio", 2: "T"}, "n_layer_cross_k": {1: "n_audio", 2: "T"},
                                        "n_layer_cross_v": {1: "n_audio", 2: "T"}})
        cross_k, cross_v = wrapped_encoder(mel)
        cache = torch.zeros(1, 1, m.DECODER_POSITIONS, m.D_MODEL)
        tokens = torch.tensor([[m.SOT, m.SOT, m.SOT]])
        _, k, v = wrapped_decoder(tokens, cache, cache, cross_k, cross_v, torch.zeros(1, dtype=torch.int64))
        torch.onnx.export(wrapped_decoder, (tokens[:, :1], k, v, cross_k, cross_v, torch.tensor([3])), decoder_path,
                          opset_version=14,
                          input_names=["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache",
                                       "n_layer_cross_k", "n_layer_cross_v", "offset"],
                          output_names=["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
                          dynamic_axes={"tokens": {0: "n_audio", 1: "n_tokens"}, "in_n_layer_self_k_cache": {1: "n_audio"},
                                        "in_n_layer_self_v_cache": {1: "n_audio"},
                                        "n_layer_cross_k": {1: "n_audio", 2: "T"}, "n_layer_cross_v": {1: "n_audio", 2: "T"}})
    add_metadata(encoder_path, metadata())
    write_tokens(os.path.join(OUT, f"{NAME}-tokens.txt"))


if __name__ == "__main__":
    main()
