#!/usr/bin/python3
"""Expected outputs of the tiny Canary fixtures (test/fixtures/models/canary-*/expected.json).

Run after make_canary_models.py, with Debian's PyTorch:
    /usr/bin/python3 scripts/models/canary_reference.py

Independent of rote's TypeScript and of the ONNX files: the torch model of
make_canary_models.py (same seed, same weights), NeMo's log-mel (the torch re-implementation of
scripts/parity/make_fixtures.py, 128 bins, per-feature normalization), and a decoding loop that
recomputes the whole decoder at every step (no memories), as NeMo's greedy AED decoding does
with these settings:
  * prompt (NeMo's canary2 prompt format, nemo/collections/common/prompts/canary2.py, for
    transcription in English with punctuation, no ITN, no timestamps, no diarization):
      <|startofcontext|> <|startoftranscript|> <|emo:undefined|> <|en|> <|en|> <|pnc|>
      <|noitn|> <|notimestamp|> <|nodiarize|>
    the sherpa-onnx layout feeds exactly this (offline-recognizer-canary-impl.h); the onnx-asr
    layout puts the "▁" token first, as onnx-asr's NemoConformerAED does (the way a single
    SentencePiece tokenizer encodes the prompt string);
  * greedy: argmax at every step, stop at <|endoftext|> or when the sequence reaches
    max_sequence_length (1024; never reached here). Positions: NeMo's GreedySequenceGenerator
    (nemo/collections/asr/modules/transformer/transformer_generators.py) embeds the prompt at
    0 .. p-1 and the token fed at generation step i at position i (start_pos=i), and so does
    sherpa-onnx (offline-recognizer-canary-impl.h): the sherpa layout's decoder takes the position,
    so its reference does the same; the onnx-asr layout's graph places each token at its index;
  * the transcript: the generated tokens, those written "<|...|>" dropped, "▁" read as a space,
    stripped.
Teacher-forced score: sum over the canary text's pieces (each word "▁" + word, segmented into the
fewest vocabulary pieces; a piece listed twice takes its first id) and then <|endoftext|> of log-softmax(logits) given the prompt;
every token at its index (positions 0 .. L-1, as NeMo's training forward embeds a whole
sequence); perCharacter divides by the text's characters.
The aggregate fixtures (canary-agg-*): English and German canary sets; the text is tokenized as
NeMo's CanaryTokenizer does for a transcript in language L (canary2.py's answer turn in the
supervision's language; aggregate_tokenizer.py text_to_ids: L's own SentencePiece vocabulary, ids
offset by its block's start), here the fewest pieces of L's block; German rows also hold the ids
and score of the text with each piece at its first id in the file (the tokenization this replaces).
"""
import json
import os
import sys
import wave

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "parity"))
import make_canary_models as m  # noqa: E402
from make_fixtures import nemo_reference  # noqa: E402

SPEECH = os.path.join(m.ROOT, "test", "fixtures", "models", "speech")
UTTERANCES = ["utt-00", "utt-01", "utt-02", "utt-03", "utt-04", "utt-05"]
PROMPT = ["<|startofcontext|>", "<|startoftranscript|>", "<|emo:undefined|>", "<|en|>", "<|en|>", "<|pnc|>",
          "<|noitn|>", "<|notimestamp|>", "<|nodiarize|>"]
LAYOUTS = {"canary-sherpa": PROMPT, "canary-onnx-asr": ["\u2581"] + PROMPT}


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 16000, path
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float64) / 32768.0


def logits_of(decoder, ids, states, mask, positions=None):
    """The decoder over the whole sequence (no memories), token k at positions[k] (default k): [len(ids), V]."""
    empty = [torch.zeros(1, 0, m.D_MODEL) for _ in range(m.MEMS)]
    where = torch.tensor(positions if positions is not None else list(range(len(ids))))
    head, _ = decoder.run(torch.tensor([ids]), where, empty, states, mask)
    return head[0]


def greedy(decoder, states, mask, prompt, nemo_positions):
    """nemo_positions: the positions NeMo's GreedySequenceGenerator gives (the prompt at 0.., the token
    fed at step i at position i); else every token at its index (the onnx-asr fixture's graph)."""
    ids = list(prompt)
    while len(ids) < m.MAX_SEQUENCE_LENGTH:
        steps = len(ids) - len(prompt)
        positions = list(range(len(prompt))) + list(range(1, steps + 1)) if nemo_positions else None
        token = int(torch.argmax(logits_of(decoder, ids, states, mask, positions)[-1]))
        ids.append(token)
        if token == m.EOT:
            break
    return ids[len(prompt):]


def segment(word, vocab=m.VOCAB):
    """The fewest vocabulary pieces spelling "▁" + word (every character is a piece here); on a tie,
    the longest last piece. vocab: piece -> id."""
    chars = "\u2581" + word
    best = [(0, [])] + [None] * len(chars)
    for end in range(1, len(chars) + 1):
        for start in range(end):
            piece = chars[start:end]
            if piece in vocab and best[start] is not None:
                candidate = (best[start][0] + 1, best[start][1] + [vocab[piece]])
                if best[end] is None or candidate[0] < best[end][0]:
                    best[end] = candidate
    return best[-1][1]


def text_of(ids, pieces=m.PIECES):
    pieces = [pieces[i] for i in ids if not pieces[i].startswith("<")]
    return "".join(pieces).replace("\u2581", " ").strip()


def score(decoder, states, mask, prompt, targets):
    log_probs = torch.log_softmax(logits_of(decoder, prompt + targets[:-1], states, mask).double(), dim=-1)
    return float(sum(log_probs[len(prompt) - 1 + i, t] for i, t in enumerate(targets)))


def main():
    with open(os.path.join(SPEECH, "texts.json")) as f:
        texts = {u["id"]: u["text"] for u in json.load(f)["utterances"]}
    encoder, decoder = m.build()
    for layout, prompt_pieces in LAYOUTS.items():
        prompt = [m.VOCAB[p] for p in prompt_pieces]
        rows = []
        with torch.no_grad():
            for utt in UTTERANCES:
                features = nemo_reference(read_wav(os.path.join(SPEECH, utt + ".wav")), {"numBins": m.N_MELS})
                x = torch.from_numpy(features.T.copy()).unsqueeze(0)
                states, _, mask = encoder(x, torch.tensor([x.shape[2]]))
                generated = greedy(decoder, states, mask, prompt, nemo_positions=layout == "canary-sherpa")
                text = texts[utt]
                targets = [i for word in text.split() for i in segment(word)] + [m.EOT]
                log_likelihood = score(decoder, states, mask, prompt, targets)
                rows.append({
                    "id": utt, "file": utt + ".wav", "generatedIds": generated,
                    "transcript": text_of(generated),
                    "stoppedAt": "end-of-text" if generated and generated[-1] == m.EOT else "max_length",
                    "reference": text, "referenceIds": targets, "logLikelihood": log_likelihood,
                    "characters": len(text), "perCharacter": log_likelihood / len(text),
                })
        out = os.path.join(m.ROOT, "test", "fixtures", "models", layout, "expected.json")
        with open(out, "w") as f:
            json.dump({"generator": "scripts/models/canary_reference.py", "prompt": prompt, "utterances": rows}, f,
                      indent=1)
            f.write("\n")
        for row in rows:
            print(layout, row["id"], row["stoppedAt"], repr(row["transcript"]), row["generatedIds"],
                  round(row["perCharacter"], 4))
    aggregate_main(texts)


# German reference texts for the aggregate fixtures (the audio is the English speech: the weights
# are random, only the tokens and their scores matter).
GERMAN_TEXTS = ["die schöne brücke über den fluss", "der bürgermeister und die schule", "sechs grüne äpfel",
                "schreiben und lesen", "die kinder spielen gern", "über berge und täler"]


def language_vocab(lang):
    """NeMo's AggregateTokenizer.text_to_ids(text, lang): lang's own block, its ids offset by the
    block's start (a piece at its first place in the block; <unk> and <|...|> never in text)."""
    vocab = {}
    for i, piece in enumerate(m.AGG_BLOCKS[lang]):
        if not piece.startswith("<"):
            vocab.setdefault(piece, m.AGG_OFFSETS[lang] + i)
    return vocab


def aggregate_main(texts):
    """canary-agg-*: per language, the prompt <|lang|> twice, the reference in lang's own block;
    for German also the score of the same text with each piece at its first id in the file (the
    special block's "▁", the English block's letters, the German block's umlauts: what a tokenizer
    blind to the blocks feeds)."""
    encoder, decoder = m.build(m.AGG_PIECES)
    agg_vocab = {}
    for i, piece in enumerate(m.AGG_PIECES):
        agg_vocab.setdefault(piece, i)
    first_ids = {p: i for p, i in agg_vocab.items() if not p.startswith("<")}
    for layout in ("canary-agg-onnx-asr", "canary-agg-sherpa"):
        languages = {}
        for lang, references in (("en", [texts[u] for u in UTTERANCES]), ("de", GERMAN_TEXTS)):
            pieces = ["<|startofcontext|>", "<|startoftranscript|>", "<|emo:undefined|>", f"<|{lang}|>", f"<|{lang}|>",
                      "<|pnc|>", "<|noitn|>", "<|notimestamp|>", "<|nodiarize|>"]
            # onnx-asr looks the prompt's pieces up in a dictionary of the file: "▁" at its last id.
            last_space = max(i for i, p in enumerate(m.AGG_PIECES) if p == "\u2581")
            prompt = ([last_space] if layout == "canary-agg-onnx-asr" else []) + [agg_vocab[p] for p in pieces]
            rows = []
            with torch.no_grad():
                for utt, text in zip(UTTERANCES, references):
                    features = nemo_reference(read_wav(os.path.join(SPEECH, utt + ".wav")), {"numBins": m.N_MELS})
                    x = torch.from_numpy(features.T.copy()).unsqueeze(0)
                    states, _, mask = encoder(x, torch.tensor([x.shape[2]]))
                    generated = greedy(decoder, states, mask, prompt, nemo_positions=layout == "canary-agg-sherpa")
                    targets = [i for word in text.split() for i in segment(word, language_vocab(lang))] + [m.EOT]
                    row = {"id": utt, "file": utt + ".wav", "generatedIds": generated,
                           "transcript": text_of(generated, m.AGG_PIECES),
                           "stoppedAt": "end-of-text" if generated and generated[-1] == m.EOT else "max_length",
                           "reference": text, "referenceIds": targets,
                           "logLikelihood": score(decoder, states, mask, prompt, targets), "characters": len(text)}
                    if lang == "de":
                        first = [i for word in text.split() for i in segment(word, first_ids)] + [m.EOT]
                        row["firstIdReferenceIds"] = first
                        row["firstIdLogLikelihood"] = score(decoder, states, mask, prompt, first)
                    rows.append(row)
                    print(layout, lang, utt, row["stoppedAt"], repr(row["transcript"]), round(row["logLikelihood"], 4))
            languages[lang] = {"prompt": prompt, "utterances": rows}
        out = os.path.join(m.ROOT, "test", "fixtures", "models", layout, "expected.json")
        with open(out, "w") as f:
            json.dump({"generator": "scripts/models/canary_reference.py", "blocks": {
                lang: [m.AGG_OFFSETS[lang], m.AGG_OFFSETS[lang] + len(block)] for lang, block in m.AGG_BLOCKS.items()},
                "languages": languages}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
