#!/usr/bin/python3
"""Reference values for rote's one-run epsilon lower bound (src/audit/stats/epsilon.ts):
Steinke, Nasr, Jagielski, "Privacy auditing with one (1) training run" (NeurIPS 2023).

An independent implementation with scipy: binomial tails from scipy.stats.binom,
the supremum by scipy.optimize.brentq on p(eps) - significance (rote bisects).
  p(eps) = min(1, beta + 2 m delta alpha'), q = e^eps / (1 + e^eps),
  beta = P[Bin(r, q) >= v], alpha' = max_{i=1..v} P[v - i <= Bin(r, q) < v] / i.
The audit cases rank synthetic scores, guess "in" for every canary scoring at
least the k+-th highest score (k+ from the grid of shares of m), and take the
largest bound with a Bonferroni correction over the grid.

Run: /usr/bin/python3 scripts/parity/make_epsilon_fixture.py > test/audit/fixtures/epsilon-scipy.json
(Debian python3-scipy 1.10; the output is deterministic.)
"""
import json
import math

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.stats import binom

GUESS_SHARES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5]


def p_value(m, r, v, eps, delta):
    if v == 0:
        return 1.0
    q = scipy.special.expit(eps)
    beta = binom.sf(v - 1, r, q)
    if delta == 0:
        return min(1.0, beta)
    # P[v - i <= Bin < v] = cdf(v - 1) - cdf(v - i - 1), i = 1..v
    i = np.arange(1, v + 1)
    window = binom.cdf(v - 1, r, q) - binom.cdf(v - i - 1, r, q)
    alpha = float(np.max(window / i))
    return min(1.0, beta + 2 * m * delta * alpha)


def epsilon(m, r, v, delta, significance):
    f = lambda eps: p_value(m, r, v, eps, delta) - significance
    if f(0.0) >= 0:
        return 0.0
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return brentq(f, hi / 2 if hi > 1 else 0.0, hi, xtol=1e-13, rtol=1e-14)


def grid(m):
    return sorted({max(1, int(math.floor(share * m + 0.5))) for share in GUESS_SHARES})


def audit(scores, included, delta, confidence):
    m = len(scores)
    ks = grid(m)
    significance = (1 - confidence) / len(ks)
    ranked = np.sort(scores)[::-1]
    rows = []
    for k in ks:
        threshold = ranked[k - 1]
        guessed = scores >= threshold
        r = int(guessed.sum())
        v = int((guessed & included).sum())
        rows.append({'guesses': k, 'guessed': r, 'correct': v, 'epsilon': epsilon(m, r, v, delta, significance)})
    return {'grid': rows, 'epsilon': max([0.0] + [row['epsilon'] for row in rows])}


rng = np.random.RandomState(20261203)
out = {'scipy': scipy.__version__, 'anchors': [], 'pValues': [], 'epsilons': [], 'audits': []}

# Anchors of the issue: 95%, delta 1e-5, every guess correct (m = r and m = 1000).
for r in [10, 50, 100]:
    for m in [r, 1000]:
        out['anchors'].append({'m': m, 'r': r, 'v': r, 'delta': 1e-5, 'significance': 0.05, 'epsilon': epsilon(m, r, r, 1e-5, 0.05)})

for _ in range(40):
    m = int(rng.choice([20, 100, 500, 1000, 5000]))
    r = int(rng.randint(1, m + 1)) if rng.rand() < 0.5 else int(rng.randint(1, min(m, 200) + 1))
    v = int(rng.randint(0, r + 1)) if rng.rand() < 0.4 else int(r - rng.randint(0, max(1, r // 5) + 1))
    v = max(0, min(r, v))
    delta = float(rng.choice([0.0, 1e-5, 1e-3]))
    eps = float(rng.choice([0.0, 0.3, 1.0, 2.5, 6.0]))
    out['pValues'].append({'m': m, 'r': r, 'v': v, 'delta': delta, 'epsilon': eps, 'p': p_value(m, r, v, eps, delta)})
    significance = float(rng.choice([0.05, 0.01, 0.05 / 7]))
    out['epsilons'].append({'m': m, 'r': r, 'v': v, 'delta': delta, 'significance': significance, 'epsilon': epsilon(m, r, v, delta, significance)})

# Audits: candidates with membership 1/2; members' scores shifted by `shift`; some with ties (rounded scores).
for m, shift, decimals in [(100, 0.0, None), (100, 3.0, None), (200, 1.0, 1), (50, 10.0, None), (1000, 0.5, None), (64, 2.0, 0)]:
    included = rng.rand(m) < 0.5
    scores = rng.normal(0, 1, size=m) + shift * included
    if decimals is not None:
        scores = np.round(scores, decimals)
    result = audit(scores, included, 1e-5, 0.95)
    out['audits'].append({'scores': [float(s) for s in scores], 'included': [bool(x) for x in included], 'delta': 1e-5, 'confidence': 0.95, **result})

print(json.dumps(out, indent=1))
