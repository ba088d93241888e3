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

The wrappers, the export, the metadata and the tokens file serve make_whisper_bench_model.py too
(TextDecoderTensorCache: any number of layers); this fixture's decoder is OneLayerTextDecoderTensorCache,
the same function with the one layer's steps written out, whose graph is the committed file's.

Then whisper_reference.py computes expected.json for this layout too.
"""
import base64
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_whisper_model as m  # noqa: E402
from onnx_metadata import add_metadata  # noqa: E402

OUT = os.path.join(m.ROOT, "test", "fixtures", "models", "whisper-sherpa")
NAME = "tiny-random"


class AudioEncoderTensorCache(nn.Module):
    """mel -> every decoder layer's cross-attention keys and values of the encoder output, not split into heads,
    stacked [layers, N, T/2, d]; the positions sliced to T/2 (T <= 3000)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, mel):
        x = self.encoder.stem(mel)
        hidden = self.encoder.layers_and_norm(x + self.encoder.positions[: x.shape[1]])
        layers = m.layers_of(self.decoder)
        return (torch.stack([layer.cross_attn.k(hidden) for layer in layers]),
                torch.stack([layer.cross_attn.v(hidden) for layer in layers]))


class TextDecoderTensorCache(nn.Module):
    """Self-attention caches [layers, N, n_text_ctx, d] in and out, with positions offset .. offset + n_tokens - 1
    written (by slices and concatenation); any number of layers (make_whisper_bench_model.py's)."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def embed(self, tokens, offset):
        """The embeddings of tokens at positions offset.., the first position and the number of tokens."""
        start = offset[0]
        n = tokens.shape[1]
        return self.decoder.embed(tokens) + self.decoder.positions[start : start + n], start, n

    def forward(self, tokens, in_k, in_v, cross_k, cross_v, offset):
        x, start, n = self.embed(tokens, offset)
        d = self.decoder
        out_k, out_v = [], []
        for i, layer in enumerate(m.layers_of(d)):
            h = layer.ln1(x)
            k_all = torch.cat([in_k[i, :, :start], layer.self_attn.k(h)], dim=1)
            v_all = torch.cat([in_v[i, :, :start], layer.self_attn.v(h)], dim=1)
            out_k.append(torch.cat([k_all, in_k[i, :, start + n :]], dim=1))
            out_v.append(torch.cat([v_all, in_v[i, :, start + n :]], dim=1))
            heads = layer.self_attn.heads
            x, _, _ = layer(x, heads(k_all), heads(v_all), heads(cross_k[i]), heads(cross_v[i]), start, True)
        return d.ln(x) @ d.output_weight().T, torch.stack(out_k), torch.stack(out_v)


class OneLayerTextDecoderTensorCache(TextDecoderTensorCache):
    """TextDecoderTensorCache's function for this fixture's one decoder layer, with the layer's steps written
    out here: the graph (and so the bytes) of the committed tiny-random-decoder.onnx."""

    def forward(self, tokens, in_k, in_v, cross_k, cross_v, offset):
        x, start, n = self.embed(tokens, offset)
        d = self.decoder
        layer = d.layer
        heads = layer.self_attn.heads
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


def metadata(name, dims, vocab, language_codes, non_speech):
    """export-onnx.py's encoder metadata for a vocabulary with Whisper's special tokens."""
    sot = vocab["<|startoftranscript|>"]
    sot_sequence = [sot, vocab["<|en|>"], vocab["<|transcribe|>"]]
    return {
        "model_type": f"whisper-{name}", "version": "1", "maintainer": "k2-fsa",
        "n_mels": dims.n_mels, "n_audio_ctx": dims.encoder_positions, "n_audio_state": dims.d_model,
        "n_audio_head": dims.heads, "n_audio_layer": dims.layers, "n_vocab": dims.vocab,
        "n_text_ctx": dims.decoder_positions, "n_text_state": dims.d_model, "n_text_head": dims.heads,
        "n_text_layer": dims.layers, "sot_sequence": ",".join(map(str, sot_sequence)),
        "all_language_tokens": ",".join(str(vocab[f"<|{code}|>"]) for code in language_codes),
        "all_language_codes": ",".join(language_codes),
        "sot": sot, "sot_index": 0, "eot": vocab["<|endoftext|>"], "blank_id": vocab["Ġ"], "is_multilingual": 1,
        "no_speech": vocab["<|nospeech|>"], "non_speech_tokens": ",".join(map(str, non_speech)),
        "transcribe": vocab["<|transcribe|>"], "translate": vocab["<|translate|>"],
        "sot_prev": vocab["<|startofprev|>"], "sot_lm": vocab["<|startoflm|>"], "no_timestamps": vocab["<|notimestamps|>"],
    }


def write_tokens(path, text_tokens, vocab):
    byte_of = {c: b for b, c in m.bytes_to_unicode().items()}
    with open(path, "w") as f:
        for token in text_tokens:
            raw = bytes(byte_of[c] for c in token)
            f.write(f"{base64.b64encode(raw).decode('ascii')} {vocab[token]}\n")


def export(wrapped_encoder, wrapped_decoder, out, name, dims, sot):
    """<name>-encoder.onnx and <name>-decoder.onnx in out (call with torch.no_grad())."""
    mel = torch.randn(1, dims.n_mels, 3000)
    encoder_path = os.path.join(out, f"{name}-encoder.onnx")
    torch.onnx.export(wrapped_encoder, mel, encoder_path, opset_version=m.OPSET, input_names=["mel"],
                      output_names=["n_layer_cross_k", "n_layer_cross_v"],
                      dynamic_axes={"mel": {0: "n_audio", 2: "T"}, "n_layer_cross_k": {1: "n_audio", 2: "T"},
                                    "n_layer_cross_v": {1: "n_audio", 2: "T"}})
    cross_k, cross_v = wrapped_encoder(mel)
    cache = torch.zeros(dims.layers, 1, dims.decoder_positions, dims.d_model)
    tokens = torch.tensor([[sot, sot, sot]])
    _, k, v = wrapped_decoder(tokens, cache, cache, cross_k, cross_v, torch.zeros(1, dtype=torch.int64))
    torch.onnx.export(wrapped_decoder, (tokens[:, :1], k, v, cross_k, cross_v, torch.tensor([3])),
                      os.path.join(out, f"{name}-decoder.onnx"), opset_version=m.OPSET,
                      input_names=["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache",
                                   "n_layer_cross_k", "n_layer_cross_v", "offset"],
                      output_names=["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
                      dynamic_axes={"tokens": {0: "n_audio", 1: "n_tokens"}, "in_n_layer_self_k_cache": {1: "n_audio"},
                                    "in_n_layer_self_v_cache": {1: "n_audio"},
                                    "n_layer_cross_k": {1: "n_audio", 2: "T"}, "n_layer_cross_v": {1: "n_audio", 2: "T"}})
    return encoder_path


def main():
    os.makedirs(OUT, exist_ok=True)
    encoder, decoder = m.build()
    wrapped_encoder = AudioEncoderTensorCache(encoder, decoder).eval()
    wrapped_decoder = OneLayerTextDecoderTensorCache(decoder).eval()
    with torch.no_grad():
        encoder_path = export(wrapped_encoder, wrapped_decoder, OUT, NAME, m.DIMS, m.SOT)
    # openai/whisper's non_speech_tokens are punctuation and symbols; this toy vocabulary's
    # are the ones make_whisper_model.py suppresses (whose suppress_tokens add the task tokens).
    non_speech = [m.VOCAB[c] for c in ["!", "?", "-", "H", "z"]]
    add_metadata(encoder_path, metadata(NAME, m.DIMS, m.VOCAB, ["en", "de"], non_speech))
    write_tokens(os.path.join(OUT, f"{NAME}-tokens.txt"), m.TEXT_TOKENS, m.VOCAB)


if __name__ == "__main__":
    main()
