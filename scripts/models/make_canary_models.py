#!/usr/bin/python3
"""A tiny random NeMo Canary (FastConformer-style encoder + Transformer decoder) in the two
ONNX layouts that exist, with the same weights:

  test/fixtures/models/canary-onnx-asr/   (onnx-asr's NeMo export, model_type nemo-conformer-aed)
    encoder-model.onnx: audio_signal [B, 128, T], length [B] -> encoder_embeddings [B, T', d],
                        encoder_mask [B, T'] (int64)
    decoder-model.onnx: input_ids [B, n] (int64), encoder_embeddings, encoder_mask,
                        decoder_mems [M, B, t, d] -> logits [B, n, V] (log-probs; the graph puts
                        new token i at position t + i),
                        decoder_hidden_states [M, B, t + n, d]
    vocab.txt ("<piece> <id>" per line), config.json {model_type, features_size,
    subsampling_factor, max_sequence_length}
  test/fixtures/models/canary-sherpa/      (sherpa-onnx scripts/nemo/canary/export_onnx_180m_flash.py)
    encoder.onnx: x [N, T, 128], x_len [N] -> enc_states [N, T', d], enc_len [N], enc_mask [N, T'] (bool);
                  metadata model_type=EncDecMultiTaskModel, vocab_size, normalize_type=per_feature,
                  subsampling_factor=8, feat_dim=128, num_decoder_layers (= M, the mems count),
                  decoder_hidden_size = d (sherpa-onnx reads the last two with defaults 6 / 1024)
    decoder.onnx: decoder_input_ids [1, n + 1] (int32; the last element is the position of the
                  first token, NeMo's start_pos: sherpa-onnx feeds the prompt at 0.., then the token
                  of generation step i at position i, as NeMo's GreedySequenceGenerator does), decoder_mems_list_0..M-1 [1, t, d], enc_states [1, T', d],
                  enc_mask [1, T'] (bool) -> logits [1, 1, V] (raw, of the last position only),
                  next_decoder_mem_list_0..M-1 [1, t + n, d]
    tokens.txt (the same lines as vocab.txt)
  test/fixtures/models/canary-agg-onnx-asr/, canary-agg-sherpa/: the same network with an aggregate
    vocabulary (AGG_BLOCKS: NeMo's CanaryTokenizer layout, the special tokens' block then an English
    and a German one, each from its own <unk>, sharing pieces); the sherpa layout's tokens.txt
    written as sherpa-onnx's export writes it (NeMo's ids_to_text of each id: "\u2581" as a space)

Run with Debian's PyTorch (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/models/make_canary_models.py
then canary_reference.py for the expected outputs.

The network follows NeMo's EncDecMultiTaskModel at toy size, written here in torch (NeMo is not
installed): encoder: features masked past `length`, 8 frames stacked (a stride-8 convolution over 7
right-padded zero frames: subsampling 8, T' = ceil(T / 8)), tanh, a linear layer (the encoder and encoder_decoder_proj stand-in); decoder: NeMo's
TransformerDecoder (token embedding + positions, LayerNorm; pre-LN layers with causal
self-attention over the memory states and cross-attention masked by the encoder mask with
-10000, NeMo's NEG_INF; a final LayerNorm) and its token classifier head. The decoder memories
are NeMo's decoder_mems_list (return_mems=True): the embedding output, each layer's output and
the final LayerNorm's output, so M = layers + 2; a step feeds one token and the memories.
Positions: NeMo's fixed sinusoids; after the embedding LayerNorm, a ramp towards <|endoftext|>
from position RAMP_FROM on, computed in the graph from the position index (no table), and random weights made peaky, so that
greedy decoding emits a few tokens and stops.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from onnx_metadata import add_metadata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_ONNX_ASR = os.path.join(ROOT, "test", "fixtures", "models", "canary-onnx-asr")
OUT_SHERPA = os.path.join(ROOT, "test", "fixtures", "models", "canary-sherpa")

N_MELS = 128
SUBSAMPLING = 8
D_MODEL = 16
HEADS = 2
FFN = 32
LAYERS = 1
MEMS = LAYERS + 2
RAMP_FROM = 13
MAX_SEQUENCE_LENGTH = 1024
NEG_INF = -10000.0

# NeMo's Canary special tokens (canary_tokenizer.py DEFAULT_TOKENS first, then the canary2 prompt
# tokens), "▁", then a small SentencePiece-style text vocabulary.
SPECIALS = ["<unk>", "<|nospeech|>", "<pad>", "<|endoftext|>", "<|startoftranscript|>", "<|pnc|>", "<|nopnc|>",
            "<|startofcontext|>", "<|itn|>", "<|noitn|>", "<|timestamp|>", "<|notimestamp|>", "<|diarize|>",
            "<|nodiarize|>", "<|emo:undefined|>", "<|en|>", "<|de|>", "<|es|>", "<|fr|>"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
# "▁s" is listed twice on purpose, as Canary's aggregate tokenizer lists a piece once per language.
PIECES = SPECIALS + ["\u2581"] + LETTERS + ["\u2581" + c for c in LETTERS] + [
    "\u2581the", "\u2581The", "er", "\u2581s", ".", ",", "'"]
VOCAB = {}
for _id, _piece in enumerate(PIECES):
    VOCAB.setdefault(_piece, _id)  # the first id of a repeated piece
V = len(PIECES)
EOT = VOCAB["<|endoftext|>"]

# The aggregate fixtures (canary-agg-*): NeMo's CanaryTokenizer layout, one SentencePiece vocabulary
# per language concatenated after the special tokens' (aggregate_tokenizer.py: blocks in the
# config's tokenizer.langs order, spl_tokens first, each block from its own <unk>; the special
# tokenizer of build_special_tokenizer adds "▁" after the tokens). An English and a German
# block share most pieces ("▁", the letters, "▁" + letter, "er", "▁s", punctuation),
# each with pieces of its own language (BPE-like merges; the German one also the umlauts).
OUT_AGG_ONNX_ASR = os.path.join(ROOT, "test", "fixtures", "models", "canary-agg-onnx-asr")
OUT_AGG_SHERPA = os.path.join(ROOT, "test", "fixtures", "models", "canary-agg-sherpa")
_W = "\u2581"
AGG_BLOCKS = {
    "spl_tokens": SPECIALS + [_W],
    "en": ["<unk>", _W] + LETTERS + [_W + c for c in LETTERS] + [
        _W + "the", "th", "he", "in", "ing", "er", "an", "re", "on", "ed", "nd", "ou", "at", "it", "ly", _W + "s",
        ".", ",", "'"],
    "de": ["<unk>", _W] + LETTERS + ["\u00e4", "\u00f6", "\u00fc"] + [_W + c for c in LETTERS] + [
        _W + "der", _W + "die", _W + "und", "en", "er", "ch", "sch", "ei", "ie", "ge", _W + "ge", "st", "un", "be",
        _W + "s", ".", ",", "'"],
}
AGG_PIECES = [p for block in AGG_BLOCKS.values() for p in block]
AGG_OFFSETS = {}
for _lang, _block in AGG_BLOCKS.items():
    AGG_OFFSETS[_lang] = sum(len(b) for b in list(AGG_BLOCKS.values())[:list(AGG_BLOCKS).index(_lang)])


class Encoder(nn.Module):
    """[B, 128, T] features + lengths -> [B, ceil(T/8), d] states and their lengths."""

    def __init__(self):
        super().__init__()
        self.stack = nn.Conv1d(N_MELS, D_MODEL, SUBSAMPLING, stride=SUBSAMPLING)
        self.proj = nn.Linear(D_MODEL, D_MODEL)

    def forward(self, audio_signal, length):
        keep = torch.arange(audio_signal.shape[2]).unsqueeze(0) < length.unsqueeze(1)
        x = audio_signal * keep.unsqueeze(1).to(audio_signal.dtype)
        # 7 zero frames on the right: ceil(T / 8) windows of 8 frames (a linear map of the stacked frames).
        x = F.pad(x, (0, SUBSAMPLING - 1))
        encoded = self.proj(torch.tanh(self.stack(x).transpose(1, 2)))
        encoded_len = torch.div(length + SUBSAMPLING - 1, SUBSAMPLING, rounding_mode="floor")
        mask = torch.arange(encoded.shape[1]).unsqueeze(0) < encoded_len.unsqueeze(1)
        return encoded, encoded_len, mask


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D_MODEL, D_MODEL) for _ in range(4))

    def forward(self, query, keys, additive_mask):
        b, n, _ = query.shape

        def heads(x):
            return x.reshape(b, -1, HEADS, D_MODEL // HEADS).transpose(1, 2)

        q, k, v = heads(self.q(query)), heads(self.k(keys)), heads(self.v(keys))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D_MODEL // HEADS) + additive_mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.o(out.transpose(1, 2).reshape(b, n, D_MODEL))


class DecoderLayer(nn.Module):
    """NeMo's TransformerDecoderBlock, pre-LN (forward_preln)."""

    def __init__(self):
        super().__init__()
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.self_attn, self.cross_attn = Attention(), Attention()
        self.fc1, self.fc2 = nn.Linear(D_MODEL, FFN), nn.Linear(FFN, D_MODEL)

    def forward(self, query, keys, self_mask, encoder_states, cross_mask):
        residual = query
        x = self.self_attn(self.ln1(query), self.ln1(keys), self_mask) + residual
        residual = x
        x = self.cross_attn(self.ln2(x), encoder_states, cross_mask) + residual
        residual = x
        return self.fc2(F.relu(self.fc1(self.ln3(x)))) + residual


def sinusoids(positions):
    """NeMo's FixedPositionalEncoding at `positions` (a float tensor [n]): sin on even, cos on odd channels."""
    div = torch.exp(torch.arange(0, D_MODEL, 2).float() * (-math.log(10000.0) / D_MODEL))
    angles = positions.unsqueeze(1) * div.unsqueeze(0)
    return torch.stack((torch.sin(angles), torch.cos(angles)), dim=2).reshape(-1, D_MODEL)


class Decoder(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, D_MODEL)
        self.embed_ln = nn.LayerNorm(D_MODEL)
        self.eot_direction = nn.Parameter(torch.zeros(D_MODEL), requires_grad=False)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.final_ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab_size)

    def run(self, input_ids, positions, mems, encoder_states, encoder_mask):
        """input_ids [B, n] embedded at `positions` ([n]), after the memories (M tensors [B, t, d]) ->
        (head output of every new position [B, n, V], the M memories [B, t + n, d]).
        The causal mask follows the sequence index (t + i), whatever the positions."""
        n = input_ids.shape[1]
        past = torch._shape_as_tensor(mems[0])[1]
        positions = positions.float()
        ramp = F.relu(positions - RAMP_FROM).unsqueeze(1) * self.eot_direction.unsqueeze(0)
        x = self.embed_ln(self.embed(input_ids) + sinusoids(positions)) + ramp
        index = steps_of(input_ids) + past
        keys = torch.arange(mems[0].shape[1] + n)
        self_mask = (keys.unsqueeze(0) > index.unsqueeze(1)).float() * NEG_INF
        cross_mask = (~encoder_mask).float().unsqueeze(1).unsqueeze(1) * NEG_INF
        out = [torch.cat((mems[0], x), dim=1)]
        for i, layer in enumerate(self.layers):
            x = layer(x, out[i], self_mask, encoder_states, cross_mask)
            out.append(torch.cat((mems[i + 1], x), dim=1))
        x = self.final_ln(x)
        out.append(torch.cat((mems[-1], x), dim=1))
        return self.head(x), out


def steps_of(input_ids):
    """0 .. n-1 for input_ids [B, n], as a traced tensor."""
    return torch.cumsum(torch.ones_like(input_ids[0]), 0) - 1


class OnnxAsrEncoder(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, audio_signal, length):
        encoded, _, mask = self.encoder(audio_signal, length)
        return encoded, mask.to(torch.int64)


class OnnxAsrDecoder(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids, encoder_embeddings, encoder_mask, decoder_mems):
        # The position of a new token is its index in the sequence (the memories' length + i).
        positions = steps_of(input_ids) + torch._shape_as_tensor(decoder_mems)[2]
        mems = [decoder_mems[i] for i in range(MEMS)]
        head, out = self.decoder.run(input_ids, positions, mems, encoder_embeddings, encoder_mask.bool())
        return torch.log_softmax(head, dim=-1), torch.stack(out, dim=0)


class SherpaEncoder(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x, x_len):
        return self.encoder(x.transpose(1, 2), x_len)


class SherpaDecoder(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, decoder_input_ids, *rest):
        mems, enc_states, enc_mask = list(rest[:MEMS]), rest[MEMS], rest[MEMS + 1]
        ids = decoder_input_ids[:, :-1].to(torch.int64)
        # The caller gives the position of the first token (NeMo's start_pos).
        positions = steps_of(ids) + decoder_input_ids[0, -1].to(torch.int64)
        head, out = self.decoder.run(ids, positions, mems, enc_states, enc_mask)
        return (head[:, -1:], *out)


def build(pieces=PIECES):
    torch.manual_seed(2402)
    encoder, decoder = Encoder(), Decoder(len(pieces))
    with torch.no_grad():
        for p in list(encoder.parameters()) + list(decoder.parameters()):
            if p.dim() > 1:
                p.normal_(0, 0.4)
        encoder.stack.weight.normal_(0, 0.08)
        # Special tokens are rarely chosen (small head weights, the prompt's ones negative bias);
        # the position ramp pushes towards <|endoftext|>; a strong cross-attention makes the
        # tokens depend on the audio.
        decoder.head.bias.zero_()
        for i, piece in enumerate(pieces):
            if piece.startswith("<"):
                decoder.head.bias[i] = -4.0
        decoder.head.bias[EOT] = 0.0
        eot = decoder.head.weight[EOT] / decoder.head.weight[EOT].norm()
        decoder.eot_direction.copy_(6.0 * eot)
        decoder.final_ln.weight.fill_(3.0)
        for layer in decoder.layers:
            layer.cross_attn.q.weight *= 4
            layer.cross_attn.k.weight *= 4
            layer.cross_attn.o.weight *= 3
    return encoder.eval(), decoder.eval()


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def export_onnx_asr(encoder, decoder, out=OUT_ONNX_ASR, pieces=PIECES):
    os.makedirs(out, exist_ok=True)
    features = torch.randn(2, N_MELS, 77)
    lengths = torch.tensor([77, 60])
    torch.onnx.export(OnnxAsrEncoder(encoder), (features, lengths), os.path.join(out, "encoder-model.onnx"),
                      opset_version=14, input_names=["audio_signal", "length"],
                      output_names=["encoder_embeddings", "encoder_mask"],
                      dynamic_axes={"audio_signal": {0: "batch", 2: "time"}, "length": {0: "batch"},
                                    "encoder_embeddings": {0: "batch", 1: "encoded_time"},
                                    "encoder_mask": {0: "batch", 1: "encoded_time"}})
    states, mask = OnnxAsrEncoder(encoder)(features, lengths)
    # Example shapes away from 0 and 1 (a traced size of 0 or 1 could be specialized).
    ids = torch.tensor([[VOCAB["<|startofcontext|>"], VOCAB["<|startoftranscript|>"]]] * 2)
    mems = torch.randn(MEMS, 2, 3, D_MODEL)
    torch.onnx.export(OnnxAsrDecoder(decoder), (ids, states, mask, mems), os.path.join(out, "decoder-model.onnx"),
                      opset_version=14, input_names=["input_ids", "encoder_embeddings", "encoder_mask", "decoder_mems"],
                      output_names=["logits", "decoder_hidden_states"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                    "encoder_embeddings": {0: "batch", 1: "encoded_time"},
                                    "encoder_mask": {0: "batch", 1: "encoded_time"},
                                    "decoder_mems": {1: "batch", 2: "past_tokens"},
                                    "logits": {0: "batch", 1: "tokens"},
                                    "decoder_hidden_states": {1: "batch", 2: "all_tokens"}})
    write_lines(os.path.join(out, "vocab.txt"), [f"{p} {i}" for i, p in enumerate(pieces)])
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"model_type": "nemo-conformer-aed", "features_size": N_MELS, "subsampling_factor": SUBSAMPLING,
                   "max_sequence_length": MAX_SEQUENCE_LENGTH}, f, indent=2)
        f.write("\n")


def export_sherpa(encoder, decoder, out=OUT_SHERPA, pieces=PIECES, spaces=False):
    """spaces: write tokens.txt as sherpa-onnx's export does (NeMo's ids_to_text of each id: "\u2581" as a space)."""
    os.makedirs(out, exist_ok=True)
    features = torch.randn(1, 77, N_MELS)
    lengths = torch.tensor([77])
    path = os.path.join(out, "encoder.onnx")
    torch.onnx.export(SherpaEncoder(encoder), (features, lengths), path, opset_version=14,
                      input_names=["x", "x_len"], output_names=["enc_states", "enc_len", "enc_mask"],
                      dynamic_axes={"x": {0: "N", 1: "T"}, "x_len": {0: "N"}, "enc_states": {0: "N", 1: "T"},
                                    "enc_len": {0: "N"}, "enc_mask": {0: "N", 1: "T"}})
    add_metadata(path, {"vocab_size": len(pieces), "normalize_type": "per_feature", "subsampling_factor": SUBSAMPLING,
                        "model_type": "EncDecMultiTaskModel", "version": "1", "model_author": "rote test fixture",
                        "feat_dim": N_MELS, "num_decoder_layers": MEMS, "decoder_hidden_size": D_MODEL})
    states, _, mask = SherpaEncoder(encoder)(features, lengths)
    ids = torch.tensor([[VOCAB["<|startofcontext|>"], VOCAB["<|startoftranscript|>"], 3]], dtype=torch.int32)
    mems = [torch.randn(1, 3, D_MODEL) for _ in range(MEMS)]
    mem_names = [f"decoder_mems_list_{i}" for i in range(MEMS)]
    next_names = [f"next_decoder_mem_list_{i}" for i in range(MEMS)]
    torch.onnx.export(SherpaDecoder(decoder), (ids, *mems, states, mask), os.path.join(out, "decoder.onnx"),
                      opset_version=14, input_names=["decoder_input_ids", *mem_names, "enc_states", "enc_mask"],
                      output_names=["logits", *next_names],
                      dynamic_axes={"decoder_input_ids": {1: "num_tokens"}, "enc_states": {1: "T"},
                                    "enc_mask": {1: "T"},
                                    **{name: {1: "num_tokens"} for name in mem_names + next_names}})
    write_lines(os.path.join(out, "tokens.txt"),
                [f"{p.replace(_W, ' ') if spaces else p} {i}" for i, p in enumerate(pieces)])


def main():
    encoder, decoder = build()
    with torch.no_grad():
        export_onnx_asr(encoder, decoder)
        export_sherpa(encoder, decoder)
    encoder, decoder = build(AGG_PIECES)
    with torch.no_grad():
        export_onnx_asr(encoder, decoder, OUT_AGG_ONNX_ASR, AGG_PIECES)
        export_sherpa(encoder, decoder, OUT_AGG_SHERPA, AGG_PIECES, spaces=True)
    for out in (OUT_ONNX_ASR, OUT_SHERPA, OUT_AGG_ONNX_ASR, OUT_AGG_SHERPA):
        for name in sorted(os.listdir(out)):
            print(os.path.join(os.path.relpath(out, ROOT), name), os.path.getsize(os.path.join(out, name)))


if __name__ == "__main__":
    main()
