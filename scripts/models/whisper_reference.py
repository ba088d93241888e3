#!/usr/bin/python3
"""Expected outputs of the tiny Whisper fixture (test/fixtures/models/whisper-optimum/expected.json).

Run after make_whisper_model.py, with Debian's PyTorch:
    /usr/bin/python3 scripts/models/whisper_reference.py

Independent of rote's TypeScript and of the ONNX files: the torch model of
make_whisper_model.py (same seed, same weights), its own log-mel (the torch
reference of scripts/parity/make_whisper_mel_fixture.py), its own byte-level BPE
(GPT-2's algorithm over tokenizer.json's merges) and a decoding loop that recomputes
the whole decoder at every step (no KV cache), as transformers' generate does for
Whisper with these settings:
  * prompt: decoder_start_token_id, then lang_to_id["<|en|>"], task_to_id["transcribe"],
    no_timestamps_token_id;
  * greedy: at every step the logits of suppress_tokens are -inf; at the first
    generated position begin_suppress_tokens too; stop at <|endoftext|> or when the
    sequence (prompt included) reaches max_length;
  * the transcript: the generated text tokens decoded (special tokens skipped), stripped.
Teacher-forced score: sum over the canary text's tokens (" " + text, as Whisper
tokenizes a transcript) and then <|endoftext|> of log-softmax(raw logits) (no
suppression) given the prompt; perCharacter divides by the text's characters.

The same for test/fixtures/models/whisper-sherpa/expected.json (the same weights in sherpa-onnx's
layout, make_whisper_sherpa_model.py; run that first), with openai/whisper's rules read from the
encoder's metadata as openai/whisper's decoding.py applies them: the prompt sot_sequence +
no_timestamps; suppress_tokens = non_speech_tokens + transcribe, translate, sot, sot_prev, sot_lm,
no_speech; begin-suppressed " " (blank_id) and eot; at most n_text_ctx // 2 generated tokens; the
reference tokenized by tiktoken's algorithm over the ranks in <name>-tokens.txt.
"""
import base64
import json
import os
import re
import sys
import wave

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "parity"))
import make_whisper_model as m  # noqa: E402
from make_whisper_mel_fixture import whisper_log_mel  # noqa: E402

SPEECH = os.path.join(m.ROOT, "test", "fixtures", "models", "speech")
UTTERANCES = ["utt-00", "utt-01", "utt-02", "utt-03", "utt-04", "utt-05"]


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 16000, path
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float64) / 32768.0


# GPT-2's pre-tokenizer pattern (openai/whisper's tiktoken pattern too), for ASCII text.
PRETOKENIZE = r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"


def bpe_word(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2 :]
    return parts


def encode(text, tokenizer):
    ranks = {tuple(merge.split(" ")): i for i, merge in enumerate(tokenizer["model"]["merges"])}
    vocab = tokenizer["model"]["vocab"]
    # GPT-2's pre-tokenizer pattern, for ASCII text.
    words = re.findall(PRETOKENIZE, text)
    ids = []
    for word in words:
        mapped = "".join(m.BYTE_CHARS[b] for b in word.encode("utf-8"))
        ids.extend(vocab[piece] for piece in bpe_word(mapped, ranks))
    return ids


def decode(ids, tokenizer):
    inverse = {i: t for t, i in tokenizer["model"]["vocab"].items()}
    byte_of = {c: b for b, c in m.BYTE_CHARS.items()}
    text_ids = [i for i in ids if i in inverse]
    return bytes(byte_of[c] for i in text_ids for c in inverse[i]).decode("utf-8", errors="replace")


def logits_of(decoder, ids, hidden):
    logits, _ = decoder.run(torch.tensor([ids]), decoder.cross_kv(hidden))
    return logits[0]


def greedy(decoder, hidden, prompt, generation):
    ids = list(prompt)
    while len(ids) < generation["max_length"]:
        logits = logits_of(decoder, ids, hidden)[-1].clone()
        logits[generation["suppress_tokens"]] = float("-inf")
        if len(ids) == len(prompt):
            logits[generation["begin_suppress_tokens"]] = float("-inf")
        token = int(torch.argmax(logits))
        ids.append(token)
        if token == generation["eos_token_id"]:
            break
    return ids[len(prompt) :]


def score(decoder, hidden, prompt, targets):
    logits = logits_of(decoder, prompt + targets[:-1], hidden)
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    return float(sum(log_probs[len(prompt) - 1 + i, t] for i, t in enumerate(targets)))


def sherpa_settings(directory):
    """Whisper's decoding rules from sherpa-onnx's encoder metadata, as openai/whisper applies them
    (decoding.py: suppress_tokens "-1" = non_speech_tokens plus the task and start tokens and
    no_speech; SuppressBlank = encode(" ") + [eot] at the first position; sample_len n_text_ctx // 2)."""
    import onnx

    names = sorted(os.listdir(directory))
    encoder = next(n for n in names if n.endswith("-encoder.onnx"))
    meta = {p.key: p.value for p in onnx.load(os.path.join(directory, encoder)).metadata_props}
    ints = lambda key: [int(x) for x in meta[key].split(",")]  # noqa: E731
    sot_sequence = ints("sot_sequence")
    prompt = sot_sequence + [int(meta["no_timestamps"])]
    suppress = sorted(set(ints("non_speech_tokens") + [int(meta[k]) for k in
                                                       ["transcribe", "translate", "sot", "sot_prev", "sot_lm", "no_speech"]]))
    tokens = next(n for n in names if n.endswith("-tokens.txt"))
    with open(os.path.join(directory, tokens)) as f:
        ranks = {base64.b64decode(b64): int(rank) for b64, rank in (line.split() for line in f if line.strip())}
    return prompt, {
        "eos_token_id": int(meta["eot"]), "suppress_tokens": suppress,
        "begin_suppress_tokens": [int(meta["blank_id"]), int(meta["eot"])],
        "max_length": len(prompt) + int(meta["n_text_ctx"]) // 2,
    }, ranks


def tiktoken_encode(text, ranks):
    """tiktoken's byte-pair encoding (openai/whisper's tokenizer): the GPT-2 pre-tokenizer, then in
    each piece the adjacent pair whose concatenation has the lowest rank is merged, until none has one
    (a piece that is itself a token is taken whole, as tiktoken's encode_ordinary does)."""
    ids = []
    for word in re.findall(PRETOKENIZE, text):
        if word.encode("utf-8") in ranks:
            ids.append(ranks[word.encode("utf-8")])
            continue
        parts = [bytes([b]) for b in word.encode("utf-8")]
        while len(parts) > 1:
            rank, i = min((ranks.get(a + b, 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:])))
            if rank == 1 << 30:
                break
            parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2 :]
        ids.extend(ranks[p] for p in parts)
    return ids


def tiktoken_decode(ids, ranks):
    inverse = {rank: token for token, rank in ranks.items()}
    return b"".join(inverse[i] for i in ids if i in inverse).decode("utf-8", errors="replace")


def reference_rows(encoder, decoder, prompt, generation, encode_text, decode_ids, texts):
    rows = []
    with torch.no_grad():
        for utt in UTTERANCES:
            features = torch.from_numpy(whisper_log_mel(read_wav(os.path.join(SPEECH, utt + ".wav")), m.DIMS.n_mels).T)
            hidden = encoder(features.float().unsqueeze(0))
            generated = greedy(decoder, hidden, prompt, generation)
            unsuppressed = greedy(decoder, hidden, prompt, {**generation, "suppress_tokens": [], "begin_suppress_tokens": []})
            text = texts[utt]
            targets = encode_text(" " + text) + [generation["eos_token_id"]]
            log_likelihood = score(decoder, hidden, prompt, targets)
            rows.append({
                "id": utt, "file": utt + ".wav", "generatedIds": generated, "generatedIdsWithoutSuppression": unsuppressed,
                "transcript": decode_ids(generated).strip(),
                "stoppedAt": "end-of-text" if generated and generated[-1] == generation["eos_token_id"] else "max_length",
                "reference": text, "referenceIds": targets, "logLikelihood": log_likelihood,
                "characters": len(text), "perCharacter": log_likelihood / len(text),
            })
    return rows


def write_expected(out, prompt, rows):
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"generator": "scripts/models/whisper_reference.py", "prompt": prompt, "utterances": rows}, f, indent=1)
        f.write("\n")
    print(out)
    for row in rows:
        print(row["id"], row["stoppedAt"], repr(row["transcript"]), row["generatedIds"], round(row["perCharacter"], 4))


def main():
    out = m.OUT
    with open(os.path.join(out, "generation_config.json")) as f:
        generation = json.load(f)
    with open(os.path.join(out, "tokenizer.json")) as f:
        tokenizer = json.load(f)
    with open(os.path.join(SPEECH, "texts.json")) as f:
        texts = {u["id"]: u["text"] for u in json.load(f)["utterances"]}
    prompt = [generation["decoder_start_token_id"], generation["lang_to_id"]["<|en|>"],
              generation["task_to_id"]["transcribe"], generation["no_timestamps_token_id"]]
    encoder, decoder = m.build()
    rows = reference_rows(encoder, decoder, prompt, generation, lambda t: encode(t, tokenizer),
                          lambda ids: decode(ids, tokenizer), texts)
    write_expected(out, prompt, rows)
    # The same weights in sherpa-onnx's layout (make_whisper_sherpa_model.py), under openai/whisper's rules.
    sherpa = os.path.join(os.path.dirname(out), "whisper-sherpa")
    if os.path.isdir(sherpa):
        prompt, generation, ranks = sherpa_settings(sherpa)
        rows = reference_rows(encoder, decoder, prompt, generation, lambda t: tiktoken_encode(t, ranks),
                              lambda ids: tiktoken_decode(ids, ranks), texts)
        write_expected(sherpa, prompt, rows)


if __name__ == "__main__":
    main()
