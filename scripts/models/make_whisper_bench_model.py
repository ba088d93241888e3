#!/usr/bin/python3
"""A random-weight Whisper at whisper-tiny's size, for scripts/bench/whisper.bench.ts.

Run with Debian's PyTorch (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/models/make_whisper_bench_model.py --out DIR

Dimensions of openai/whisper-tiny: d_model 384, 4 encoder and 4 decoder layers, 6 heads,
FFN 1536, 80 mel bins, 1500 encoder positions, 448 decoder positions, vocabulary 51865.
The network is make_whisper_model.py's (pre-LN transformer, conv stem, sinusoidal encoder
positions, learned decoder positions; its modules, Optimum export and decoder merge, and
make_whisper_sherpa_model.py's sherpa-onnx wrappers), with several layers, except that the
output projection is not tied to the token embedding (the same [51865, 384] matmul;
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
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_whisper_model as m  # noqa: E402
import make_whisper_sherpa_model as sherpa  # noqa: E402

RAMP_START = 18  # decoder position where the ramp towards <|endoftext|> begins

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


def text_vocabulary():
    """50257 byte-level tokens (the 256 byte characters in GPT-2's order first) and the merges that build
    every token longer than one byte character."""
    tokens = list(m.bytes_to_unicode().values())
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
DIMS = m.Dims(d_model=384, heads=6, ffn=1536, layers=4, n_mels=80, encoder_positions=1500, decoder_positions=448,
              vocab=V, tied_output=False)


def build():
    torch.manual_seed(2024)
    encoder, decoder = m.Encoder(DIMS), m.Decoder(DIMS)
    with torch.no_grad():
        for p in list(encoder.parameters()) + list(decoder.parameters()):
            if p.dim() > 1:
                p.normal_(0, 1.0 / math.sqrt(p.shape[-1] if p.dim() == 2 else p.shape[1] * p.shape[2]))
        decoder.embed.weight.normal_(0, 0.3)
        decoder.positions.normal_(0, 0.3)
        decoder.output.normal_(0, 1.0)
        decoder.output[EOT + 1 :] *= 0.2
        eot = decoder.output[EOT] / decoder.output[EOT].norm()
        for t in range(DIMS.decoder_positions):
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


def write_optimum_configs(out):
    lang_to_id = {f"<|{code}|>": VOCAB[f"<|{code}|>"] for code in LANGUAGES}
    task_to_id = {"transcribe": VOCAB["<|transcribe|>"], "translate": VOCAB["<|translate|>"]}
    layers, heads, ffn = DIMS.layers, DIMS.heads, DIMS.ffn
    m.write_json(out, "config.json", {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": DIMS.d_model,
        "encoder_layers": layers, "decoder_layers": layers, "num_hidden_layers": layers,
        "encoder_attention_heads": heads, "decoder_attention_heads": heads,
        "encoder_ffn_dim": ffn, "decoder_ffn_dim": ffn, "num_mel_bins": DIMS.n_mels, "vocab_size": V,
        "max_source_positions": DIMS.encoder_positions, "max_target_positions": DIMS.decoder_positions,
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "begin_suppress_tokens": BEGIN_SUPPRESS, "suppress_tokens": SUPPRESS, "use_cache": True,
        "scale_embedding": False, "activation_function": "gelu", "is_encoder_decoder": True,
    })
    m.write_json(out, "generation_config.json", {
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "bos_token_id": EOT, "pad_token_id": EOT,
        "max_length": DIMS.decoder_positions, "is_multilingual": True, "lang_to_id": lang_to_id,
        "task_to_id": task_to_id, "no_timestamps_token_id": VOCAB["<|notimestamps|>"],
        "forced_decoder_ids": [[1, None], [2, VOCAB["<|transcribe|>"]]],
        "suppress_tokens": SUPPRESS, "begin_suppress_tokens": BEGIN_SUPPRESS,
    })
    m.write_json(out, "preprocessor_config.json", m.preprocessor_config(DIMS))
    m.write_json(out, "tokenizer.json", m.tokenizer_json(VOCAB, SPECIALS, TEXT, MERGES))
    m.write_json(out, "tokenizer_config.json", {
        "tokenizer_class": "WhisperTokenizer", "model_max_length": 1024, "add_prefix_space": False,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "errors": "replace",
    })


SHERPA_NAME = "tiny"


def export_sherpa(encoder, decoder, out):
    wrapped_encoder = sherpa.AudioEncoderTensorCache(encoder, decoder).eval()
    wrapped_decoder = sherpa.TextDecoderTensorCache(decoder).eval()
    encoder_path = sherpa.export(wrapped_encoder, wrapped_decoder, out, SHERPA_NAME, DIMS, SOT)
    non_speech = [t for t in SUPPRESS if t < EOT]
    sherpa.add_metadata(encoder_path, sherpa.metadata(SHERPA_NAME, DIMS, VOCAB, LANGUAGES, non_speech))
    sherpa.write_tokens(os.path.join(out, f"{SHERPA_NAME}-tokens.txt"), TEXT, VOCAB)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder to write optimum/ and sherpa/ into")
    parser.add_argument("--only-sherpa", action="store_true", help="write sherpa/ only")
    args = parser.parse_args()
    optimum, sherpa_dir = os.path.join(args.out, "optimum"), os.path.join(args.out, "sherpa")
    os.makedirs(optimum, exist_ok=True)
    os.makedirs(sherpa_dir, exist_ok=True)
    encoder, decoder = build()
    with torch.no_grad():
        if not args.only_sherpa:
            prompt = [SOT, VOCAB["<|en|>"], VOCAB["<|transcribe|>"], VOCAB["<|notimestamps|>"]]
            m.export_optimum(encoder, decoder, optimum, prompt, batch=1, projected=True)
        export_sherpa(encoder, decoder, sherpa_dir)
    if not args.only_sherpa:
        m.merge_decoders(optimum, os.path.join(optimum, "decoder_model_merged.onnx"), share_weights=True)
        write_optimum_configs(optimum)


if __name__ == "__main__":
    main()
