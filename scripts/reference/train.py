#!/usr/bin/env python3
"""Reference Conformer-CTC models for rote: train, clip, evaluate, export.

Runs unchanged on Debian's torch 1.13 (functorch) and on torch 2.x (torch.func),
on CPU or CUDA. Subcommands:
  selftest  checks the pieces (CTC vs F.ctc_loss, padding invariance, vmap
            per-example gradients vs a loop, torchaudio layer parity)
  train     trains one variant from a feature store, evaluates, exports ONNX
  probe     trains the baseline recipe for a few hundred steps, then measures
            per-example and per-micro-batch gradient norms (probe.json), from
            which `train --clip-from probe.json --clip-quantile q` sets C
  select    picks C for the clipped variants from finished runs (c-search.json)
  canary-transcripts
            the canaries' greedy transcripts by finished runs' model.pt from a
            float32 canary store (canary-features-f32.ts): transcripts-f32.json
  evaluate  transcribes an evaluation set with finished runs' model.pt and adds
            its CER (errors, characters) to each run's metrics.json as devEval

Feature store (written by scripts/reference/features.ts): `features.f16` holds
little-endian float16 frames [N, 80] back to back; each index JSON lists
utterances {id, text, offset (frame row), frames[, repetitions]}.
"""
import argparse
import glob
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:  # torch >= 2.0
    from torch.func import functional_call, grad_and_value, vjp, vmap
    FUNC_API = 'torch.func'
except ImportError:  # torch 1.13: functorch + stateless.functional_call
    from functorch import grad_and_value, vjp, vmap
    from torch.nn.utils.stateless import functional_call
    FUNC_API = 'functorch'

FEATURE_DIM = 80
SUBSAMPLING = 2
# NeMo's English character labels in NeMo's order; blank is appended LAST (id 28).
# tokens.txt writes the space as "▁" (sherpa-onnx splits lines on whitespace).
LABELS = [' '] + [chr(c) for c in range(ord('a'), ord('z') + 1)] + ["'"]
BLANK = len(LABELS)
VOCAB_SIZE = len(LABELS) + 1
SPACE_TOKEN = '\u2581'
NEG = -1e30


# ----------------------------------------------------------------------------- model
class FeedForward(nn.Module):
    """torchaudio's _FeedForwardModule (same parameter names)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.sequential = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.SiLU(), nn.Dropout(0.0),
            nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.sequential(x)


class ConvModule(nn.Module):
    """torchaudio's _ConvolutionModule with a per-frame LayerNorm in place of
    BatchNorm (no mixing across examples, so per-example gradients are defined)
    and padded frames zeroed after the GLU, before the depthwise convolution."""

    def __init__(self, dim, kernel):
        super().__init__()
        self.layer_norm = nn.LayerNorm(dim)
        self.sequential = nn.Sequential(
            nn.Conv1d(dim, 2 * dim, 1), nn.GLU(dim=1),
            nn.Conv1d(dim, dim, kernel, padding=(kernel - 1) // 2, groups=dim),
            nn.LayerNorm(dim), nn.SiLU(), nn.Conv1d(dim, dim, 1), nn.Dropout(0.0))

    def forward(self, x, valid):  # x [B,T,D], valid [B,T] float
        s = self.sequential
        y = self.layer_norm(x).transpose(1, 2)
        y = s[1](s[0](y)) * valid.unsqueeze(1)
        y = s[2](y)
        y = s[3](y.transpose(1, 2)).transpose(1, 2)
        y = s[6](s[5](s[4](y)))
        return y.transpose(1, 2)


class ConformerLayer(nn.Module):
    """torchaudio.models.conformer.ConformerLayer (convolution after attention),
    batch-first, with masks taken from tensors (no .item()) so the same code
    traces for ONNX at any length and runs under vmap."""

    def __init__(self, dim, ffn, heads, kernel):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.scale = 1.0 / math.sqrt(dim // heads)
        self.ffn1 = FeedForward(dim, ffn)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        # Used as a parameter holder (in_proj_weight/bias, out_proj) so the state
        # dict matches torchaudio's; attention is computed below.
        self.self_attn = nn.MultiheadAttention(dim, heads)
        self.self_attn_dropout = nn.Dropout(0.0)
        self.conv_module = ConvModule(dim, kernel)
        self.ffn2 = FeedForward(dim, ffn)
        self.final_layer_norm = nn.LayerNorm(dim)

    def attention(self, x, valid):
        b, t = x.shape[0], x.shape[1]
        h, d = self.heads, self.dim
        qkv = F.linear(x, self.self_attn.in_proj_weight, self.self_attn.in_proj_bias)
        q, k, v = qkv.reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        scores = scores + (valid[:, None, None, :] - 1.0) * 1e9
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        out = out.permute(0, 2, 1, 3).reshape(b, t, d)
        return self.self_attn.out_proj(out)

    def forward(self, x, valid):
        x = x + 0.5 * self.ffn1(x)
        x = x + self.self_attn_dropout(self.attention(self.self_attn_layer_norm(x), valid))
        x = x + self.conv_module(x, valid)
        x = x + 0.5 * self.ffn2(x)
        return self.final_layer_norm(x)


def frame_mask(length, lengths):
    """[B, length] float mask of valid frames, built from shapes only."""
    steps = torch.arange(length, device=lengths.device)
    return (steps.unsqueeze(0) < lengths.unsqueeze(1)).float()


class ConformerCTC(nn.Module):
    """NeMo CTC export form: audio_signal [B,80,T] + length [B] -> logprobs [B,T',V]."""

    def __init__(self, dim=96, layers=4, heads=4, ffn=None, kernel=15):
        ffn = ffn or 4 * dim
        super().__init__()
        self.config = dict(dim=dim, layers=layers, heads=heads, ffn=ffn, kernel=kernel)
        self.subsample1 = nn.Conv1d(FEATURE_DIM, dim, 3, stride=2, padding=1)
        self.subsample2 = nn.Conv1d(dim, dim, 3, stride=1, padding=1)
        self.layers = nn.ModuleList([ConformerLayer(dim, ffn, heads, kernel) for _ in range(layers)])
        self.output = nn.Linear(dim, VOCAB_SIZE)

    @staticmethod
    def output_lengths(lengths):
        return torch.div(lengths + 1, 2, rounding_mode='floor')

    def forward(self, audio_signal, length):
        x = audio_signal * frame_mask(audio_signal.shape[2], length).unsqueeze(1)
        out_lengths = self.output_lengths(length)
        x = F.relu(self.subsample1(x))
        valid = frame_mask(x.shape[2], out_lengths)
        x = F.relu(self.subsample2(x * valid.unsqueeze(1))) * valid.unsqueeze(1)
        x = x.transpose(1, 2)
        for layer in self.layers:
            x = layer(x, valid)
        return torch.log_softmax(self.output(x), dim=-1), out_lengths


# ----------------------------------------------------------------------------- CTC
def logsumexp3(a, b, c):
    m = torch.maximum(torch.maximum(a, b), c).detach()
    return m + torch.log(torch.exp(a - m) + torch.exp(b - m) + torch.exp(c - m))


def ctc_nll(log_probs, in_lens, targets, tgt_lens, blank=BLANK):
    """Negative log-likelihood per example, log-space forward algorithm in plain
    tensor ops (vmappable, unlike F.ctc_loss). log_probs [B,T,V], targets [B,S]
    padded (any id), lengths [B]. Impossible alignments give 0 (zero_infinity)."""
    b, t_max, _ = log_probs.shape
    s = targets.shape[1]
    blanks = torch.full_like(targets, blank)
    ext = torch.cat([torch.stack([blanks, targets], dim=2).reshape(b, 2 * s), blanks[:, :1]], dim=1)
    lp = log_probs.gather(2, ext.unsqueeze(1).expand(b, t_max, 2 * s + 1))
    neg = torch.full_like(lp[:, 0, :2], NEG)
    skip_ok = torch.cat([torch.zeros_like(ext[:, :2], dtype=torch.bool),
                         (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])], dim=1)
    alpha = torch.cat([lp[:, 0, :2], torch.full_like(lp[:, 0, 2:], NEG)], dim=1)
    for t in range(1, t_max):
        prev1 = torch.cat([neg[:, :1], alpha[:, :-1]], dim=1)
        prev2 = torch.where(skip_ok, torch.cat([neg, alpha[:, :-2]], dim=1), neg[:, :1].expand_as(alpha))
        new = logsumexp3(alpha, prev1, prev2) + lp[:, t]
        alpha = torch.where((in_lens > t).unsqueeze(1), new, alpha)
    last = (2 * tgt_lens).unsqueeze(1)
    end = torch.stack([alpha.gather(1, last), alpha.gather(1, last - 1)], dim=0).squeeze(2)
    ll = torch.logsumexp(end, dim=0)
    return torch.where(ll < NEG / 2, torch.zeros_like(ll), -ll)


def native_ctc_nll(log_probs, in_lens, targets, tgt_lens):
    return F.ctc_loss(log_probs.transpose(0, 1), targets, in_lens, tgt_lens, blank=BLANK,
                      reduction='none', zero_infinity=True)


# ----------------------------------------------------------------------------- data
def encode_text(text):
    ids = []
    for ch in ' '.join(text.lower().split()):
        if ch in LABEL_IDS:
            ids.append(LABEL_IDS[ch])
    return ids


LABEL_IDS = {c: i for i, c in enumerate(LABELS)}


def decode_ids(ids):
    return ''.join(LABELS[i] for i in ids)


def greedy(log_probs, lengths):
    best = log_probs.argmax(-1).cpu().numpy()
    out = []
    for row, n in zip(best, lengths.cpu().numpy()):
        ids, prev = [], -1
        for k in row[:n]:
            if k != prev and k != BLANK:
                ids.append(int(k))
            prev = k
        out.append(decode_ids(ids).strip())
    return out


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


class FeatureStore:
    def __init__(self, directory, device):
        # features.f32: a float32 store (canary-features-f32.ts), else the fp16 store of features.ts
        path = os.path.join(directory, 'features.f32')
        dtype = np.float32
        if not os.path.exists(path):
            path, dtype = os.path.join(directory, 'features.f16'), np.float16
        if not os.path.exists(path):
            raise SystemExit(f'{directory}: no features.f16 or features.f32 (build it with scripts/reference/build-data.sh '
                             'or canary-features-f32.ts)')
        raw = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder('<'))
        if raw.size % FEATURE_DIM:
            raise SystemExit(f'{path}: size is not a multiple of {FEATURE_DIM} values')
        self.directory = directory
        self.frames = torch.from_numpy(raw.reshape(-1, FEATURE_DIM).astype(dtype)).to(device)
        self.device = device

    def index(self, name):
        if not os.path.exists(os.path.join(self.directory, name)):
            raise SystemExit(f'{self.directory}: no index {name} in this feature store')
        with open(os.path.join(self.directory, name)) as f:
            data = json.load(f)
        for u in data['utterances']:
            if u['offset'] + u['frames'] > self.frames.shape[0]:
                raise SystemExit(f'{name}: utterance {u["id"]} points past the end of features.f16')
            u['tokens'] = encode_text(u['text'])
        return data['utterances']

    def batch(self, utts):
        t_max = max(u['frames'] for u in utts)
        feats = torch.zeros(len(utts), FEATURE_DIM, t_max, device=self.device)
        for i, u in enumerate(utts):
            feats[i, :, :u['frames']] = self.frames[u['offset']:u['offset'] + u['frames']].t().float()
        lengths = torch.tensor([u['frames'] for u in utts], device=self.device)
        s_max = max(1, max(len(u['tokens']) for u in utts))
        targets = torch.zeros(len(utts), s_max, dtype=torch.long)
        for i, u in enumerate(utts):
            targets[i, :len(u['tokens'])] = torch.tensor(u['tokens'], dtype=torch.long)
        tgt_lens = torch.tensor([len(u['tokens']) for u in utts])
        return feats, lengths, targets.to(self.device), tgt_lens.to(self.device)


def batches_in_order(utts, batch_size, seed):
    """Endless stream of seeded random batches (a fresh permutation per epoch)."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(utts))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            yield [utts[j] for j in order[i:i + batch_size]]


# ----------------------------------------------------------------------------- gradients
def make_group_loss(model, ctc):
    def group_loss(params, feats, lengths, targets, tgt_lens):
        log_probs, out_lens = functional_call(model, params, (feats, lengths))
        return (ctc(log_probs, out_lens, targets, tgt_lens) / tgt_lens.clamp(min=1)).mean()
    return group_loss


def grouped_grads(model, batch, groups, method='vjp'):
    """Gradients of the mean loss of each of `groups` equal micro-batches, stacked
    [groups, ...] per parameter (per-example when groups == batch size), and the
    batch's mean loss.
    method 'ctc-in-vmap': vmap(grad(model + pure CTC)) over the groups.
    method 'vjp' (faster, same values): the loss's gradient w.r.t. the log-probs
    comes from one batched native CTC (examples are independent: no BatchNorm,
    strict masks), then vmap(vjp(model)) pulls each group's part back to the
    parameters, so the CTC recursion never runs under vmap."""
    feats, lengths, targets, tgt_lens = batch
    params = {k: v.detach() for k, v in model.named_parameters()}
    size = feats.shape[0] // groups
    split = lambda x: x.reshape(groups, size, *x.shape[1:])
    if method == 'ctc-in-vmap':
        per_group, losses = vmap(grad_and_value(make_group_loss(model, ctc_nll)), in_dims=(None, 0, 0, 0, 0))(
            params, split(feats), split(lengths), split(targets), split(tgt_lens))
        return per_group, losses.mean()
    with torch.no_grad():
        log_probs, out_lens = model(feats, lengths)
    log_probs = log_probs.detach().requires_grad_()
    losses = native_ctc_nll(log_probs, out_lens, targets, tgt_lens) / tgt_lens.clamp(min=1)
    cotangent = torch.autograd.grad(losses.sum(), log_probs)[0] / size

    def pull_back(feats_g, lengths_g, cotangent_g):
        _, back = vjp(lambda p: functional_call(model, p, (feats_g, lengths_g))[0], params)
        return back(cotangent_g)[0]

    per_group = vmap(pull_back)(split(feats), split(lengths), split(cotangent))
    return per_group, losses.detach().mean()


def group_norms(per_group):
    return torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in per_group.values()))


def clipped_mean(per_group, clip):
    norms = group_norms(per_group)
    scale = 1.0 / torch.clamp(norms / clip, min=1.0)  # divisor = max(norm / C, 1)
    mean = {k: (g * scale.view(-1, *[1] * (g.dim() - 1))).mean(0) for k, g in per_group.items()}
    return mean, norms


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def transcribe(model, store, utts, batch_size=32, with_nll=True):
    model.eval()
    results = []
    order = sorted(range(len(utts)), key=lambda i: utts[i]['frames'])
    for i in range(0, len(order), batch_size):
        chunk = [utts[j] for j in order[i:i + batch_size]]
        feats, lengths, targets, tgt_lens = store.batch(chunk)
        log_probs, out_lens = model(feats, lengths)
        hyps = greedy(log_probs, out_lens)
        nll = native_ctc_nll(log_probs.float().cpu(), out_lens.cpu(), targets.cpu(), tgt_lens.cpu()) if with_nll else None
        for k, (u, h) in enumerate(zip(chunk, hyps)):
            ref = ' '.join(u['text'].lower().split())
            results.append({'id': u['id'], 'text': ref, 'hypothesis': h,
                            'errors': edit_distance(ref, h), 'chars': len(ref),
                            'ctcNll': None if nll is None else round(float(nll[k]), 4),
                            **({'repetitions': u['repetitions']} if 'repetitions' in u else {})})
    model.train()
    return sorted(results, key=lambda r: r['id'])


def cer(results):
    return sum(r['errors'] for r in results) / max(1, sum(r['chars'] for r in results))


def canary_table(results):
    groups = {}
    for r in results:
        key = 'holdout' if r.get('repetitions') is None else f"x{r['repetitions']}"
        groups.setdefault(key, []).append(r)
    return {k: {'n': len(v), 'cer': round(cer(v), 4),
                'ctcNllPerChar': round(sum(r['ctcNll'] for r in v) / max(1, sum(r['chars'] for r in v)), 4)}
            for k, v in sorted(groups.items(), key=lambda kv: (kv[0] != 'holdout', len(kv[0]), kv[0]))}


# ----------------------------------------------------------------------------- export
class LogProbsOnly(nn.Module):
    """NeMo's export has one output, `logprobs`; the lengths stay inside."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, audio_signal, length):
        return self.model(audio_signal, length)[0]


def export_onnx(model, path, example):
    model = LogProbsOnly(model.cpu().eval())
    feats, lengths = example
    kwargs = dict(input_names=['audio_signal', 'length'], output_names=['logprobs'],
                  dynamic_axes={'audio_signal': {0: 'batch', 2: 'time'}, 'length': {0: 'batch'},
                                'logprobs': {0: 'batch', 1: 'time_out'}},
                  opset_version=17, do_constant_folding=True)
    import inspect
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False  # the TorchScript exporter: no onnxscript needed
    torch.onnx.export(model, (feats.cpu(), lengths.cpu()), path, **kwargs)
    import onnx
    proto = onnx.load(path)
    meta = {'vocab_size': str(VOCAB_SIZE), 'subsampling_factor': str(SUBSAMPLING),
            'normalize_type': 'per_feature', 'model_type': 'EncDecCTCModel',
            'is_giga_am': '0', 'model_author': 'rote reference recipe (scripts/reference)',
            'comment': 'character CTC, blank last; features: NeMo mel (rote nemo-mel frontend)'}
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def write_tokens(path):
    with open(path, 'w') as f:
        for i, c in enumerate(LABELS):
            f.write(f"{SPACE_TOKEN if c == ' ' else c} {i}\n")
        f.write(f'<blk> {BLANK}\n')


def check_onnx(model, path, store, utts):
    """Max |ONNX - PyTorch| on padded batches, through onnxruntime when installed."""
    try:
        import onnxruntime as ort
    except ImportError:
        return {'checked': False, 'note': 'onnxruntime not installed here; checked by rote tests (onnxruntime-node)'}
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    worst, agree, total = 0.0, 0, 0
    model = model.cpu().eval()
    cpu_store = store.on_cpu()
    for i in range(0, min(len(utts), 48), 16):
        feats, lengths, _, _ = cpu_store.batch(utts[i:i + 16])
        with torch.no_grad():
            ref, out_lens = model(feats, lengths)
        got = sess.run(['logprobs'], {'audio_signal': feats.numpy(), 'length': lengths.numpy().astype(np.int64)})[0]
        for k in range(feats.shape[0]):
            n = int(out_lens[k])
            worst = max(worst, float(np.abs(got[k, :n] - ref[k, :n].numpy()).max()))
        hyp_ref = greedy(ref, out_lens)
        hyp_got = greedy(torch.from_numpy(got), out_lens)
        agree += sum(a == b for a, b in zip(hyp_ref, hyp_got))
        total += len(hyp_ref)
    return {'checked': True, 'maxAbsDiff': worst, 'greedyAgreement': f'{agree}/{total}'}


def cpu_view(store):
    clone = FeatureStore.__new__(FeatureStore)
    clone.directory, clone.frames, clone.device = store.directory, store.frames.cpu(), 'cpu'
    return clone


FeatureStore.on_cpu = cpu_view


# ----------------------------------------------------------------------------- train
def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def agree_on_steps(args, name, sec_per_step, started):
    """Barrier across the runs started together: every run reports its speed after
    the calibration steps, then all take the same step count that the slowest
    can finish before the deadline."""
    if not args.barrier_dir:
        return args.steps
    os.makedirs(args.barrier_dir, exist_ok=True)
    with open(os.path.join(args.barrier_dir, f'{name}.json.tmp'), 'w') as f:
        json.dump({'secPerStep': sec_per_step}, f)
    os.replace(os.path.join(args.barrier_dir, f'{name}.json.tmp'), os.path.join(args.barrier_dir, f'{name}.json'))
    wait_until = time.time() + args.barrier_timeout
    while True:
        reports = glob.glob(os.path.join(args.barrier_dir, '*.json'))
        if len(reports) >= args.barrier_count or time.time() > wait_until:
            break
        time.sleep(0.5)
    rates = []
    for path in reports:
        with open(path) as f:
            rates.append(json.load(f)['secPerStep'])
    slowest = max(rates)
    left = args.deadline - time.time() - args.reserve_sec
    fit = args.calibration_steps + int(max(0.0, left) / slowest)
    steps = max(args.calibration_steps, min(args.steps, fit))
    log(f'barrier: {len(rates)}/{args.barrier_count} runs reported, slowest {slowest:.3f} s/step, '
        f'{left:.0f} s left -> {steps} steps (asked {args.steps})')
    return steps


def log(msg):
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', flush=True)


NORM_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9)


def measure_norms(model, store, utts, args, groups, keep=False):
    """Gradient norms of `groups` equal parts of each of args.norm_batches batches
    (a stream apart from training's), with the current parameters; nothing is updated."""
    stream = batches_in_order(utts, args.batch_size, args.seed + 1)
    norms = []
    for _ in range(args.norm_batches):
        per_group, _ = grouped_grads(model, store.batch(next(stream)), groups, args.per_example_method)
        norms.append(group_norms(per_group).cpu())
    norms = torch.cat(norms)
    out = {'groups': groups, 'batches': args.norm_batches, 'median': float(norms.median()),
           'quantiles': {str(q): float(torch.quantile(norms, q)) for q in NORM_QUANTILES}}
    if keep:
        out['norms'] = sorted(round(float(x), 5) for x in norms)
    return out


def setup_device(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device


def plain_backward(model, batch):
    """The baseline's (and control's) step: mean per-character CTC loss of the batch, backward."""
    feats, lengths, targets, tgt_lens = batch
    lp, ol = model(feats, lengths)
    loss = (native_ctc_nll(lp, ol, targets, tgt_lens) / tgt_lens).mean()
    loss.backward()
    return loss


def clip_from_probe(path, quantile, variant, args):
    """C = the given quantile of the probe's norms for this variant's grouping (per example, or per micro-batch)."""
    with open(path) as f:
        probe = json.load(f)
    kind = 'perExample' if variant.endswith('per-example-clip') else 'perCore'
    if probe['batchSize'] != args.batch_size or (kind == 'perCore' and probe['perCore']['groups'] != args.micro_batches):
        raise SystemExit(f'{path}: probed with batch {probe["batchSize"]} / {probe["perCore"]["groups"]} micro-batches, '
                         f'this run has {args.batch_size} / {args.micro_batches}')
    norms = torch.tensor(probe[kind]['norms'], dtype=torch.float64)
    clip = float(torch.quantile(norms, quantile))
    return clip, {'file': os.path.basename(path), 'kind': kind, 'quantile': quantile, 'probeSteps': probe['steps'],
                  'probeLoss': probe['loss'], 'probeMedian': probe[kind]['median'], 'probeNorms': len(probe[kind]['norms'])}


def cmd_probe(args):
    """The baseline recipe (injected data, seed, batch, AdamW, schedule over --schedule-steps)
    for --steps steps, then gradient norms per example and per micro-batch."""
    started = time.time()
    device = setup_device(args)
    store = FeatureStore(args.features, device)
    train_utts = store.index(args.train_index)
    model = ConformerCTC(dim=args.dim, layers=args.layers).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=args.weight_decay)
    stream = batches_in_order(train_utts, args.batch_size, args.seed)
    losses = []
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location=device))
        log(f'probe: the baseline run\'s weights after {args.steps} steps ({args.weights}), {len(train_utts)} training utterances')
    else:
        log(f'probe: {args.steps} baseline steps on {device}, batch {args.batch_size}, {len(train_utts)} training utterances')
    for step in range(0 if args.weights else args.steps):
        for g in optimizer.param_groups:
            g['lr'] = lr_at(step, args.schedule_steps, args.lr, args.warmup)
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(plain_backward(model, store.batch(next(stream)))))
        optimizer.step()
        if (step + 1) % args.log_every == 0:
            log(f'probe: step {step + 1} loss {sum(losses[-args.log_every:]) / len(losses[-args.log_every:]):.4f}')
    train_sec = time.time() - started
    result = {'steps': args.steps, 'weightsFrom': os.path.basename(args.weights) if args.weights else None, 'scheduleSteps': args.schedule_steps, 'batchSize': args.batch_size, 'seed': args.seed,
              'trainIndex': args.train_index, 'trainUtterances': len(train_utts), 'device': str(device), 'torch': torch.__version__,
              'loss': round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4) if losses else None,
              'lossHistory': [round(sum(losses[i:i + 50]) / len(losses[i:i + 50]), 4) for i in range(0, len(losses), 50)],
              'perExample': measure_norms(model, store, train_utts, args, args.batch_size, keep=True),
              'perCore': measure_norms(model, store, train_utts, args, args.micro_batches, keep=True),
              'trainSec': round(train_sec, 1), 'totalSec': round(time.time() - started, 1)}
    with open(args.output + '.tmp', 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(args.output + '.tmp', args.output)
    for kind in ('perExample', 'perCore'):
        q = result[kind]['quantiles']
        log(f'probe: {kind} norms after {args.steps} steps: ' + ', '.join(f'q{k} {v:.3f}' for k, v in q.items()))


def adaptive_quantile(args):
    """The quantile of each batch's norms that sets C: --adaptive-quantile, else 0.1 of the per-example
    norms, or 0 (the smallest) of the per-core norms."""
    if args.adaptive_quantile is not None:
        return args.adaptive_quantile
    return 0.1 if args.variant == 'adaptive-per-example-clip' else 0.0


def adaptive_rule(variant, quantile):
    if variant == 'adaptive-per-core-clip':
        if quantile == 0:
            return 'smallest per-core (micro-batch) gradient norm (adaptive per-core clipping, arXiv 2406.02004)'
        return f'{quantile} quantile of its per-core (micro-batch) gradient norms'
    return f'{quantile} quantile of its per-example gradient norms'


def adaptive_clip(norms, variant, quantile):
    """C for one step from this batch's own norms: the smallest micro-batch norm
    (adaptive per-core), or the given quantile of the per-example norms."""
    if variant == 'adaptive-per-core-clip' and quantile == 0:
        return norms.min()
    return torch.quantile(norms.double(), quantile).to(norms.dtype)


def checkpoint_args(args):
    """The settings a checkpoint must share with the run that resumes it."""
    keys = ('variant', 'train_index', 'seed', 'steps', 'batch_size', 'lr', 'warmup', 'weight_decay', 'micro_batches',
            'clip', 'clip_multiplier', 'clip_from', 'clip_quantile', 'adaptive_quantile', 'dim', 'layers')
    return {k: getattr(args, k) for k in keys}


def parse_save_steps(text, steps):
    """--save-steps '167,334,668,1336': the steps after which the weights are kept for a trajectory."""
    if not text:
        return set()
    chosen = set()
    for part in text.split(','):
        if not part.strip().isdigit() or not 1 <= int(part) <= steps:
            raise SystemExit(f'--save-steps: {part.strip()!r} is not a step from 1 to --steps {steps}')
        chosen.add(int(part))
    return chosen


def export_saved_steps(out, dim, layers, example, saved, final_step=None, name=''):
    """Exports every saved step as <out>/steps/step-<N>/model.onnx + tokens.txt, exactly as the final
    model is exported (the final step is the run's own model.pt); a step already exported is kept."""
    exported = []
    for step in saved:
        weights = os.path.join(out, 'model.pt' if step == final_step else os.path.join('steps', f'step-{step}.pt'))
        folder = os.path.join(out, 'steps', f'step-{step}')
        onnx_path = os.path.join(folder, 'model.onnx')
        if not os.path.exists(weights):
            log(f'{name}: no weights for step {step} ({weights}); not exported')
            continue
        if not os.path.exists(onnx_path) or os.path.getmtime(onnx_path) < os.path.getmtime(weights):
            model = ConformerCTC(dim=dim, layers=layers)
            model.load_state_dict(torch.load(weights, map_location='cpu'))
            os.makedirs(folder, exist_ok=True)
            export_onnx(model, onnx_path + '.tmp', example)
            os.replace(onnx_path + '.tmp', onnx_path)
            write_tokens(os.path.join(folder, 'tokens.txt'))
        exported.append({'step': step, 'onnx': os.path.relpath(onnx_path, out)})
    return exported


def cmd_export_steps(args):
    """Exports the steps a run has saved so far (train --save-steps), e.g. while it still trains."""
    torch.set_num_threads(args.threads)
    store = FeatureStore(args.features, torch.device('cpu'))
    example = store.batch(store.index(args.dev_index)[:2])[:2]
    for run in args.runs:
        steps = sorted(int(name[len('step-'):-len('.pt')]) for name in os.listdir(os.path.join(run, 'steps'))
                       if re.fullmatch(r'step-\d+\.pt', name))
        done = export_saved_steps(run, args.dim, args.layers, example, steps, name=run)
        log(f'{run}: exported steps {", ".join(str(entry["step"]) for entry in done)}')


VARIANTS = ['baseline', 'per-example-clip', 'per-core-clip', 'control', 'adaptive-per-example-clip', 'adaptive-per-core-clip']


def cmd_train(args):
    started = time.time()
    device = setup_device(args)
    os.makedirs(args.out, exist_ok=True)
    name = args.name or args.variant
    store = FeatureStore(args.features, device)
    train_utts = store.index(args.train_index)
    dev_utts = store.index(args.dev_index)
    canary_utts = store.index(args.canary_index) if args.canary_index else []
    model = ConformerCTC(dim=args.dim, layers=args.layers).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f'{name}: {args.variant} on {device} ({FUNC_API}, torch {torch.__version__}), {n_params} parameters, '
        f'{len(train_utts)} training utterances, {len(dev_utts)} dev, {len(canary_utts)} canaries')

    adaptive = args.variant.startswith('adaptive-')
    groups = {'per-example-clip': args.batch_size, 'per-core-clip': args.micro_batches}.get(args.variant.replace('adaptive-', ''))
    clip, norm_probe, clip_source = None, None, None
    if groups:
        if args.batch_size % groups:
            raise SystemExit(f'--batch-size {args.batch_size} is not divisible into {groups} groups')
        norm_probe = measure_norms(model, store, train_utts, args, groups)
        if adaptive:
            log(f'{name}: adaptive C: each batch\'s {adaptive_rule(args.variant, adaptive_quantile(args))}')
        elif args.clip_from:
            clip, clip_source = clip_from_probe(args.clip_from, args.clip_quantile, args.variant, args)
        else:
            clip = args.clip if args.clip else args.clip_multiplier * norm_probe['median']
        if not adaptive:
            log(f'{name}: norms at init over {groups} groups/batch: median {norm_probe["median"]:.4f} -> C = {clip:.4f}'
                + (f' (quantile {args.clip_quantile} of {clip_source["kind"]} norms after {clip_source["probeSteps"]} probe steps)' if clip_source else ''))
    canary_texts = {u['text'] for u in canary_utts}

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=args.weight_decay)
    stream = batches_in_order(train_utts, args.batch_size, args.seed)
    steps = args.steps
    history, clipped_frac, step_times, norm_log, clip_log = [], [], [], [], []
    exposure = {'canary': [0, 0, 0.0], 'ordinary': [0, 0, 0.0]}  # exposures, clipped, sum of scales (per log window)
    exposure_total = {'canary': [0, 0, 0.0], 'ordinary': [0, 0, 0.0]}
    loss_sum, loss_n = 0.0, 0
    step = 0
    calib_start = None
    checkpoint_path = os.path.join(args.out, 'checkpoint.pt')
    resumed_from = None
    save_steps = parse_save_steps(args.save_steps, args.steps)
    if save_steps:
        os.makedirs(os.path.join(args.out, 'steps'), exist_ok=True)
    if os.path.exists(checkpoint_path) and not args.no_resume:
        state = torch.load(checkpoint_path, map_location=device)
        if state['args'] != checkpoint_args(args):
            raise SystemExit(f'{checkpoint_path}: made with other settings ({state["args"]}); remove it or use another --out')
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        step, steps, history, exposure_total = state['step'], state['steps'], state['history'], state['exposureTotal']
        step_times = state['stepTimes']
        started -= state['trainWallSec']
        for _ in range(step):  # the same batch stream as an uninterrupted run
            next(stream)
        resumed_from = step
        log(f'{name}: resumed from {checkpoint_path} at step {step} of {steps}')
    while step < steps:
        if step == args.calibration_steps // 3:
            calib_start, calib_from = time.time(), step
        if step == args.calibration_steps and args.barrier_dir and resumed_from is None:
            rate = (time.time() - calib_start) / max(1, step - calib_from)
            steps = agree_on_steps(args, name, rate, started)
        if time.time() > args.deadline - args.reserve_sec:
            log(f'{name}: time budget reached at step {step} of {steps}; stopping early')
            break
        t0 = time.time()
        for g in optimizer.param_groups:
            g['lr'] = lr_at(step, steps if step >= args.calibration_steps else args.steps, args.lr, args.warmup)
        utts = next(stream)
        batch = store.batch(utts)
        optimizer.zero_grad(set_to_none=True)
        if groups:
            per_group, loss = grouped_grads(model, batch, groups, args.per_example_method)
            if adaptive:
                step_clip = adaptive_clip(group_norms(per_group).detach(), args.variant, adaptive_quantile(args))
            else:
                step_clip = clip
            mean, norms = clipped_mean(per_group, step_clip)
            for k, p in model.named_parameters():
                p.grad = mean[k]
            norms = norms.detach().float().cpu()
            step_clip = float(step_clip)
            clipped = norms > step_clip * (1 + 1e-6)
            scales = 1.0 / torch.clamp(norms / step_clip, min=1.0)
            clipped_frac.append(float(clipped.float().mean()))
            norm_log.append(norms)
            clip_log.append(step_clip)
            size = len(utts) // groups
            for i, u in enumerate(utts):
                kind = 'canary' if u['text'] in canary_texts else 'ordinary'
                g = i // size
                for acc in (exposure[kind], exposure_total[kind]):
                    acc[0] += 1
                    acc[1] += int(clipped[g])
                    acc[2] += float(scales[g])
        else:
            loss = plain_backward(model, batch)
            for u in utts:
                kind = 'canary' if u['text'] in canary_texts else 'ordinary'
                exposure[kind][0] += 1
                exposure_total[kind][0] += 1
        optimizer.step()
        loss_sum += float(loss)
        loss_n += 1
        step += 1
        if device.type == 'cuda':
            torch.cuda.synchronize()
        step_times.append(time.time() - t0)
        if args.save_weights_at and step == args.save_weights_at:
            weights_path = os.path.join(args.out, f'weights-step{step}.pt')
            torch.save(model.state_dict(), weights_path + '.tmp')
            os.replace(weights_path + '.tmp', weights_path)
        if step in save_steps:  # the trajectory's checkpoints: weights only, exported after training
            step_path = os.path.join(args.out, 'steps', f'step-{step}.pt')
            torch.save(model.state_dict(), step_path + '.tmp')
            os.replace(step_path + '.tmp', step_path)
        if step % args.log_every == 0 or step == steps:
            entry = {'step': step, 'loss': round(loss_sum / loss_n, 4), 'secPerStep': round(sum(step_times[-args.log_every:]) / len(step_times[-args.log_every:]), 4),
                     'elapsed': round(time.time() - started, 1)}
            if clipped_frac:
                entry['clippedFraction'] = round(sum(clipped_frac[-args.log_every:]) / len(clipped_frac[-args.log_every:]), 3)
                recent = torch.cat(norm_log[-args.log_every:])
                entry['normQuantiles'] = {f'q{q}': round(float(torch.quantile(recent, q)), 4) for q in (0.1, 0.5, 0.9)}
                recent_clip = clip_log[-args.log_every:]
                entry['clipMean'] = round(sum(recent_clip) / len(recent_clip), 4)
                entry['exposures'] = {k: {'n': v[0], 'clippedShare': round(v[1] / v[0], 3) if v[0] else None,
                                          'meanScale': round(v[2] / v[0], 4) if v[0] else None} for k, v in exposure.items()}
            else:
                entry['exposures'] = {k: {'n': v[0]} for k, v in exposure.items()}
            exposure = {'canary': [0, 0, 0.0], 'ordinary': [0, 0, 0.0]}
            clipped_frac, norm_log, clip_log = clipped_frac[-args.log_every:], norm_log[-args.log_every:], clip_log[-args.log_every:]
            history.append(entry)
            log(f'{name}: ' + ' '.join(f'{k} {v}' for k, v in entry.items()))
            loss_sum, loss_n = 0.0, 0
            if args.checkpoint_every and (step // args.log_every) % max(1, args.checkpoint_every // args.log_every) == 0 and step < steps:
                state = {'args': checkpoint_args(args), 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                         'step': step, 'steps': steps, 'history': history, 'exposureTotal': exposure_total,
                         'stepTimes': step_times, 'trainWallSec': time.time() - started}
                torch.save(state, checkpoint_path + '.tmp')
                os.replace(checkpoint_path + '.tmp', checkpoint_path)
    train_wall = time.time() - started

    # Transcripts in full fp32: with TF32 matmuls the shipped run's GPU transcripts
    # differed from the exported model on CPU for 0-4 of 188 uncertain held-out canaries.
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    dev = transcribe(model, store, dev_utts)
    canaries = transcribe(model, store, canary_utts) if canary_utts else []
    metrics = {'name': name, 'variant': args.variant, 'seed': args.seed, 'device': str(device),
               'torch': torch.__version__, 'funcApi': FUNC_API, 'parameters': n_params,
               'config': model.config, 'batchSize': args.batch_size, 'lr': args.lr, 'warmup': args.warmup,
               'stepsAsked': args.steps, 'steps': step, 'trainWallSec': round(train_wall, 1),
               'meanSecPerStep': round(sum(step_times) / max(1, len(step_times)), 4),
               'trainUtterances': len(train_utts), 'trainIndex': args.train_index,
               'epochs': round(step * args.batch_size / max(1, len(train_utts)), 3),
               'clip': clip, 'clipMultiplier': args.clip_multiplier if groups and not args.clip and not args.clip_from else None,
               'clipQuantile': args.clip_quantile if clip_source else None, 'clipFrom': clip_source,
               'groupsPerBatch': groups, 'perExampleMethod': args.per_example_method if groups else None,
               'normProbe': norm_probe,
               'adaptiveClip': adaptive_rule(args.variant, adaptive_quantile(args)) if adaptive else None,
               'adaptiveQuantile': (adaptive_quantile(args) or None) if adaptive else None,
               'exposures': {k: {'n': v[0], 'clippedShare': round(v[1] / v[0], 4) if v[0] and groups else None,
                                 'meanScale': round(v[2] / v[0], 4) if v[0] and groups else None} for k, v in exposure_total.items()},
               'resumedFrom': resumed_from,
               'devCer': round(cer(dev), 4), 'canaryGroups': canary_table(canaries) if canaries else None,
               'history': history}
    torch.save(model.state_dict(), os.path.join(args.out, 'model.pt'))
    if os.path.exists(checkpoint_path):  # finished: a rerun starts afresh
        os.remove(checkpoint_path)
    with open(os.path.join(args.out, 'transcripts.json'), 'w') as f:
        json.dump({'model': name, 'note': 'greedy transcripts of the PyTorch model on rote nemo-mel features',
                   'canaries': canaries, 'dev': dev}, f, indent=0)
    if not args.no_export:
        onnx_path = os.path.join(args.out, 'model.onnx')
        try:
            example = store.on_cpu().batch(dev_utts[:2])
            export_onnx(model, onnx_path, example[:2])
            write_tokens(os.path.join(args.out, 'tokens.txt'))
            metrics['onnxCheck'] = check_onnx(model, onnx_path, store, dev_utts)
            metrics['onnxBytes'] = os.path.getsize(onnx_path)
        except Exception as error:  # keep the run's results; the .pt can be exported elsewhere
            metrics['onnxError'] = f'{type(error).__name__}: {error}'
            log(f'{name}: ONNX export failed: {metrics["onnxError"]}')
        if save_steps:
            metrics['savedSteps'] = export_saved_steps(args.out, args.dim, args.layers, example[:2],
                                                       sorted(save_steps | {step}), step, name)
    metrics['totalWallSec'] = round(time.time() - started, 1)
    with open(os.path.join(args.out, 'metrics.json.tmp'), 'w') as f:
        json.dump(metrics, f, indent=1)
    os.replace(os.path.join(args.out, 'metrics.json.tmp'), os.path.join(args.out, 'metrics.json'))
    groups_txt = ' '.join(f'{k} {v["cer"]:.3f}' for k, v in (metrics['canaryGroups'] or {}).items())
    log(f'{name}: done: {step} steps in {train_wall:.0f} s, dev CER {metrics["devCer"]:.4f}; canary CER {groups_txt}')


# ----------------------------------------------------------------------------- select
def cmd_select(args):
    runs = {}
    for path in sorted(glob.glob(os.path.join(args.runs, '*', 'metrics.json'))):
        with open(path) as f:
            m = json.load(f)
        m['dir'] = os.path.dirname(path)
        runs[m['name']] = m
    if 'baseline' not in runs:
        raise SystemExit(f'{args.runs}: no finished baseline run')
    base = runs['baseline']['devCer']
    bound = base * (1 + args.tolerance)
    search = {'rule': f'smallest C whose dev CER <= baseline dev CER x (1 + {args.tolerance})',
              'baselineDevCer': base, 'bound': round(bound, 4), 'variants': {}}
    chosen = {'baseline': 'baseline', 'control': 'control'}
    for variant in ('per-example-clip', 'per-core-clip'):
        candidates = sorted((m for m in runs.values() if m['variant'] == variant), key=lambda m: m['clip'])
        ok = [m for m in candidates if m['devCer'] <= bound]
        pick = ok[0] if ok else (candidates[-1] if candidates else None)
        search['variants'][variant] = {
            'candidates': [{'name': m['name'], 'clip': m['clip'], 'clipMultiplier': m['clipMultiplier'],
                            'clipQuantile': m.get('clipQuantile'), 'clipFrom': m.get('clipFrom'), 'epochs': m.get('epochs'),
                            'normMedianAtInit': (m['normProbe'] or {}).get('median'), 'devCer': m['devCer'],
                            'steps': m['steps'], 'withinBound': m['devCer'] <= bound,
                            'clippedFractionLast': (m['history'][-1].get('clippedFraction') if m['history'] else None),
                            'canaryGroups': m['canaryGroups']} for m in candidates],
            'chosen': pick['name'] if pick else None,
            'note': None if ok else 'no candidate met the bound; the least-clipped one is used',
        }
        if pick:
            chosen[variant] = pick['name']
    if args.probe and os.path.exists(args.probe):
        with open(args.probe) as f:
            probe = json.load(f)
        search['probe'] = {k: probe[k] for k in ('steps', 'scheduleSteps', 'batchSize', 'loss', 'trainUtterances')}
        search['probe'].update({kind: {k: probe[kind][k] for k in ('groups', 'batches', 'median', 'quantiles')} for kind in ('perExample', 'perCore')})
    search['chosen'] = chosen
    with open(args.output, 'w') as f:
        json.dump(search, f, indent=1)
    rows = [('model', 'run', 'steps', 'passes', 's/step', 'C', 'dev CER', 'canary CER by group')]
    for variant, name in chosen.items():
        m = runs.get(name)
        if not m:
            rows.append((variant, name, '-', '-', '-', '-', '-', 'missing'))
            continue
        groups = ' '.join(f'{k}:{v["cer"]:.2f}' for k, v in (m['canaryGroups'] or {}).items())
        passes = m.get('epochs')
        rows.append((variant, name, str(m['steps']), '-' if passes is None else f'{passes:.2f}', f"{m['meanSecPerStep']:.3f}",
                     '-' if m['clip'] is None else f"{m['clip']:.3g}", f"{m['devCer']:.4f}", groups))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print('  '.join(c.ljust(w) for c, w in zip(r, widths)))
    print(f'C search: baseline dev CER {base:.4f}, bound {bound:.4f}; other runs: ' +
          ', '.join(f"{m['name']} {m['devCer']:.4f}" for m in runs.values() if m['name'] not in chosen.values()))
    with open(args.chosen_list, 'w') as f:
        for variant, name in chosen.items():
            if name in runs:
                f.write(f"{variant} {runs[name]['dir']}\n")


# ----------------------------------------------------------------------------- selftest
def cmd_selftest(args):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    ok = True

    def report(name, passed, detail):
        nonlocal ok
        ok &= bool(passed)
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}", flush=True)

    # CTC: pure forward algorithm vs F.ctc_loss, values and gradients
    b, t, s = 4, 30, 7
    logits = torch.randn(b, t, VOCAB_SIZE, dtype=torch.float64, requires_grad=True)
    lp = logits.log_softmax(-1)
    in_lens = torch.tensor([30, 25, 18, 9])
    targets = torch.randint(0, BLANK, (b, s))
    targets[0, 1] = targets[0, 2]  # a repeated label needs a blank between
    tgt_lens = torch.tensor([7, 5, 3, 2])
    mine = ctc_nll(lp, in_lens, targets, tgt_lens)
    ref = native_ctc_nll(lp, in_lens, targets, tgt_lens)
    g_mine = torch.autograd.grad(mine.sum(), logits, retain_graph=True)[0]
    g_ref = torch.autograd.grad(ref.sum(), logits)[0]
    report('ctc value', torch.allclose(mine, ref, atol=1e-8), f'max diff {float((mine - ref).abs().max()):.2e}')
    report('ctc grad', torch.allclose(g_mine, g_ref, atol=1e-8), f'max diff {float((g_mine - g_ref).abs().max()):.2e}')

    model = ConformerCTC()
    n = sum(p.numel() for p in model.parameters())
    report('parameters', 0.8e6 < n < 1.1e6, f'{n} ({n * 4 / 1e6:.1f} MB fp32; d_model 96 x 4 layers)')

    # Strict forward: padding an utterance in a batch does not change its outputs
    feats = torch.randn(3, FEATURE_DIM, 101)
    lengths = torch.tensor([101, 60, 37])
    with torch.no_grad():
        batched, out_lens = model(feats, lengths)
        worst = 0.0
        for i in range(3):
            alone, _ = model(feats[i:i + 1, :, :int(lengths[i])], lengths[i:i + 1])
            worst = max(worst, float((alone[0] - batched[i, :int(out_lens[i])]).abs().max()))
    report('padding invariance', worst < 1e-4, f'max diff {worst:.2e}; out lengths {out_lens.tolist()}')

    # vmap per-example gradients (pure CTC) vs a loop of single-example autograd
    targets = torch.randint(0, BLANK, (4, 6))
    tgt_lens = torch.tensor([6, 4, 5, 3])
    feats = torch.randn(4, FEATURE_DIM, 61)
    lengths = torch.tensor([61, 50, 44, 58])
    batch = (feats, lengths, targets, tgt_lens)
    per_ex, _ = grouped_grads(model, batch, 4, 'ctc-in-vmap')
    per_ex_vjp, _ = grouped_grads(model, batch, 4, 'vjp')
    worst = 0.0
    for i in range(4):
        model.zero_grad()
        lp_i, ol_i = model(feats[i:i + 1, :, :int(lengths[i])], lengths[i:i + 1])
        (native_ctc_nll(lp_i, ol_i, targets[i:i + 1], tgt_lens[i:i + 1]) / tgt_lens[i]).sum().backward()
        for k, p in model.named_parameters():
            for got in (per_ex[k][i], per_ex_vjp[k][i]):
                worst = max(worst, float((got - p.grad).abs().max() / (p.grad.abs().max() + 1e-12)))
    report('vmap per-example grads (ctc-in-vmap, vjp)', worst < 1e-3, f'max relative diff to a loop {worst:.2e} ({FUNC_API})')
    per_core, _ = grouped_grads(model, batch, 2)
    worst = max(float((per_core[k] - per_ex[k].reshape(2, 2, *per_ex[k].shape[1:]).mean(1)).abs().max()
                      / (per_core[k].abs().max() + 1e-12)) for k in per_core)
    report('micro-batch grads = mean of per-example', worst < 1e-4, f'max relative diff {worst:.2e}')

    try:
        import torchaudio.models.conformer as tac
    except ImportError:
        print('skip torchaudio layer parity: torchaudio not installed', flush=True)
    else:
        cfg = model.config
        ref_layer = tac.ConformerLayer(cfg['dim'], cfg['ffn'], cfg['heads'], cfg['kernel'], dropout=0.0)

        class FrameLayerNorm(nn.Module):
            def __init__(self, ln):
                super().__init__()
                self.ln = ln

            def forward(self, x):
                return self.ln(x.transpose(1, 2)).transpose(1, 2)

        ref_layer.conv_module.sequential[3] = FrameLayerNorm(model.layers[0].conv_module.sequential[3])
        state = {k: v for k, v in model.layers[0].state_dict().items() if not k.startswith('conv_module.sequential.3.')}
        missing = ref_layer.load_state_dict(state, strict=False)
        x = torch.randn(2, 40, cfg['dim'])
        with torch.no_grad():
            mine_out = model.layers[0](x, torch.ones(2, 40))
            ref_out = ref_layer(x.transpose(0, 1), None).transpose(0, 1)
        diff = float((mine_out - ref_out).abs().max())
        report('torchaudio ConformerLayer parity', diff < 1e-4 and not missing.unexpected_keys,
               f'max diff {diff:.2e}, unmatched keys {missing.missing_keys}')
    if not ok:
        raise SystemExit('selftest failed')


def load_run_model(run):
    if not os.path.exists(os.path.join(run, 'metrics.json')):
        raise SystemExit(f'{run}: no metrics.json (the run has not finished)')
    with open(os.path.join(run, 'metrics.json')) as f:
        metrics = json.load(f)
    model = ConformerCTC(**{k: metrics['config'][k] for k in ('dim', 'layers', 'heads', 'ffn', 'kernel') if k in metrics['config']})
    model.load_state_dict(torch.load(os.path.join(run, 'model.pt'), map_location='cpu'))
    return model, metrics


def cmd_canary_transcripts(args):
    """The canaries' greedy transcripts from fp32 features, as rote computes them (transcripts-f32.json)."""
    torch.set_num_threads(args.threads)
    store = FeatureStore(args.features, torch.device('cpu'))
    utts = store.index(args.index)
    for run in args.runs:
        model, metrics = load_run_model(run)
        canaries = transcribe(model, store, utts)
        path = os.path.join(run, 'transcripts-f32.json')
        with open(path + '.tmp', 'w') as f:
            json.dump({'model': metrics['name'], 'features': os.path.join(args.features, 'features.f32'),
                       'note': 'greedy transcripts of the PyTorch model on float32 rote nemo-mel features of the canaries',
                       'canaries': canaries}, f, indent=0)
        os.replace(path + '.tmp', path)
        log(f'{metrics["name"]}: {len(canaries)} canary transcripts from float32 features -> {path}')


def cmd_evaluate(args):
    """CER of finished runs on a (larger) evaluation set; recorded in each run's metrics.json as devEval."""
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    store = FeatureStore(args.features, torch.device('cpu'))
    utts = store.index(args.index)
    for run in args.runs:
        metrics_path = os.path.join(run, 'metrics.json')
        model, metrics = load_run_model(run)
        started = time.time()
        results = transcribe(model, store, utts, with_nll=False)
        errors, chars = sum(r['errors'] for r in results), sum(r['chars'] for r in results)
        metrics['devEval'] = {'set': args.label, 'index': args.index, 'utterances': len(results),
                              'characters': chars, 'errors': errors, 'cer': round(errors / max(1, chars), 5)}
        with open(metrics_path + '.tmp', 'w') as f:
            json.dump(metrics, f, indent=1)
        os.replace(metrics_path + '.tmp', metrics_path)
        log(f'{metrics["name"]}: evaluation set {args.label}: CER {errors}/{chars} = {errors / max(1, chars):.5f} '
            f'({len(results)} utterances, {time.time() - started:.0f} s)')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('selftest', help='check CTC, masking, vmap gradients, torchaudio parity')
    p.add_argument('--threads', type=int, default=2)
    p = sub.add_parser('train', help='train one variant')
    p.add_argument('--variant', required=True, choices=VARIANTS)
    p.add_argument('--name', help='run name (default: the variant)')
    p.add_argument('--features', required=True, help='feature-store directory')
    p.add_argument('--train-index', required=True, help='index JSON in the store (injected, or corpus for control)')
    p.add_argument('--dev-index', default='dev.json')
    p.add_argument('--canary-index', default='canaries.json', help="'' to skip canary transcripts")
    p.add_argument('--out', required=True, help='run directory')
    p.add_argument('--dim', type=int, default=96, help='model width (d_model; FFN 4x)')
    p.add_argument('--layers', type=int, default=4, help='Conformer layers')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=20240611)
    p.add_argument('--steps', type=int, default=2000)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--warmup', type=int, default=150)
    p.add_argument('--weight-decay', type=float, default=1e-3)
    p.add_argument('--micro-batches', type=int, default=4, help='per-core-clip: micro-batches (cores) per batch')
    p.add_argument('--clip', type=float, default=0.0, help='clip norm C (0: multiplier x median norm at init)')
    p.add_argument('--clip-multiplier', type=float, default=1.0)
    p.add_argument('--clip-from', default='', help='probe.json (train.py probe): C = --clip-quantile of its norms for this variant')
    p.add_argument('--clip-quantile', type=float, default=0.25)
    p.add_argument('--per-example-method', default='vjp', choices=['vjp', 'ctc-in-vmap'],
                   help='how vmap computes per-example/per-core gradients (same values; vjp is faster)')
    p.add_argument('--adaptive-quantile', type=float, default=None,
                   help='adaptive variants: C = this quantile of each batch\'s per-example (default 0.1) or '
                        'per-core (default 0: the smallest) norms')
    p.add_argument('--checkpoint-every', type=int, default=200,
                   help='steps between checkpoints (checkpoint.pt in --out; a rerun resumes from it); 0: none')
    p.add_argument('--no-resume', action='store_true', help='start afresh even if --out has a checkpoint')
    p.add_argument('--save-weights-at', type=int, default=0,
                   help='also save the weights after this step (weights-step<N>.pt): `probe --weights` measures norms there')
    p.add_argument('--save-steps', default='',
                   help="keep the weights after these steps (comma-separated, e.g. '167,334,668,1336') and export each, "
                        'with the final model, as steps/step-<N>/model.onnx: the checkpoints of a trajectory')
    p.add_argument('--norm-batches', type=int, default=4, help='batches used to measure gradient norms at init')
    p.add_argument('--deadline', type=float, default=float('inf'), help='unix time by which the run (training, evaluation, export) should be done')
    p.add_argument('--barrier-dir', default='', help='agree on a common step count with the other runs here')
    p.add_argument('--barrier-count', type=int, default=1)
    p.add_argument('--barrier-timeout', type=float, default=90)
    p.add_argument('--calibration-steps', type=int, default=30)
    p.add_argument('--reserve-sec', type=float, default=45, help='kept before the deadline for eval and export')
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--no-export', action='store_true')
    p = sub.add_parser('probe', help='baseline recipe for a few steps, then gradient norms (sets C for --clip-from)')
    p.add_argument('--features', required=True, help='feature-store directory')
    p.add_argument('--train-index', default='train-injected.json')
    p.add_argument('--dim', type=int, default=96, help='model width (d_model; FFN 4x)')
    p.add_argument('--layers', type=int, default=4, help='Conformer layers')
    p.add_argument('--output', required=True, help='probe.json')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=20240611)
    p.add_argument('--steps', type=int, default=300, help='baseline steps before the norms are measured')
    p.add_argument('--schedule-steps', type=int, default=2000, help='the learning-rate schedule\'s length (the full runs\' step count)')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--warmup', type=int, default=150)
    p.add_argument('--weight-decay', type=float, default=1e-3)
    p.add_argument('--micro-batches', type=int, default=4)
    p.add_argument('--per-example-method', default='vjp', choices=['vjp', 'ctc-in-vmap'])
    p.add_argument('--norm-batches', type=int, default=16, help='batches whose norms are measured')
    p.add_argument('--weights', default='', help="weights saved by the baseline run after --steps steps (train --save-weights-at): "
                   "the same model as the probe's own --steps steps of the baseline recipe, so they are not trained again")
    p.add_argument('--log-every', type=int, default=50)
    p = sub.add_parser('select', help='choose C per clipped variant, print the summary')
    p.add_argument('--runs', required=True)
    p.add_argument('--tolerance', type=float, default=0.2)
    p.add_argument('--output', required=True)
    p.add_argument('--chosen-list', required=True, help='writes "<model> <run dir>" lines')
    p.add_argument('--probe', default='', help="probe.json whose norms set C (recorded in the output)")
    p = sub.add_parser('canary-transcripts', help='canary transcripts from a float32 canary store (transcripts-f32.json)')
    p.add_argument('runs', nargs='+', help='run directories (metrics.json, model.pt)')
    p.add_argument('--features', default='.cache/reference/store-canaries-f32', help='canary-features-f32.ts output')
    p.add_argument('--index', default='canaries.json')
    p.add_argument('--threads', type=int, default=2)
    p = sub.add_parser('export-steps', help='export the steps a run saved so far (train --save-steps) as steps/step-<N>/model.onnx')
    p.add_argument('runs', nargs='+', help='run directories (steps/step-<N>.pt)')
    p.add_argument('--features', required=True, help='feature-store directory (its dev utterances trace the export)')
    p.add_argument('--dev-index', default='dev.json')
    p.add_argument('--dim', type=int, default=96)
    p.add_argument('--layers', type=int, default=4)
    p.add_argument('--threads', type=int, default=1)
    p = sub.add_parser('evaluate', help="CER of finished runs on an evaluation set (metrics.json's devEval)")
    p.add_argument('runs', nargs='+', help='run directories (metrics.json, model.pt)')
    p.add_argument('--features', required=True, help='feature-store directory holding the evaluation set')
    p.add_argument('--index', default='dev-eval.json', help='index JSON of the evaluation set in the store')
    p.add_argument('--label', default='dev-eval', help='name of the evaluation set, recorded with the CER')
    p.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    {'selftest': cmd_selftest, 'train': cmd_train, 'probe': cmd_probe, 'select': cmd_select,
     'evaluate': cmd_evaluate, 'canary-transcripts': cmd_canary_transcripts, 'export-steps': cmd_export_steps}[args.command](args)


if __name__ == '__main__':
    main()
