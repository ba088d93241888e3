#!/usr/bin/python3
"""Reference p-values for rote's Wilcoxon signed-rank test (src/audit/stats/statistics.ts),
the primary test of `rote compare`.

Three independent references, by case:
- no ties, no zeros: scipy.stats.wilcoxon(method='exact') (scipy's own exact
  null distribution);
- ties and zeros, n <= 16 non-zero: brute-force enumeration of all 2^n sign
  assignments of the mid-ranks (zeros dropped, Wilcoxon's convention), exact
  fractions;
- large samples: scipy.stats.wilcoxon(method='approx', correction=True), the
  normal approximation with tie and continuity corrections, which rote uses
  above its exact limit (compared with rote's exactLimit 0).

Run: /usr/bin/python3 scripts/parity/make_wilcoxon_fixture.py > test/audit/fixtures/wilcoxon-scipy.json
(Debian python3-scipy 1.10; the output is deterministic.)
"""
import itertools
import json
from fractions import Fraction

import numpy as np
import scipy
from scipy.stats import rankdata, wilcoxon

rng = np.random.RandomState(20261203)
ALTERNATIVES = ['greater', 'less', 'two-sided']


def scipy_case(d, method):
    out = {}
    for alternative in ALTERNATIVES:
        kwargs = dict(zero_method='wilcox', alternative=alternative, method=method)
        if method == 'approx':
            kwargs['correction'] = True
        out[alternative] = float(wilcoxon(d, **kwargs).pvalue)
    return out


def brute_force(d):
    nonzero = [v for v in d if v != 0]
    ranks = rankdata(np.abs(nonzero))  # mid-ranks
    doubled = [int(round(2 * r)) for r in ranks]
    observed = sum(r for r, v in zip(doubled, nonzero) if v > 0)
    n = len(doubled)
    at_least = at_most = 0
    for signs in itertools.product([0, 1], repeat=n):
        s = sum(r for r, sign in zip(doubled, signs) if sign)
        at_least += s >= observed
        at_most += s <= observed
    total = 2 ** n
    greater = Fraction(at_least, total)
    less = Fraction(at_most, total)
    return {'greater': float(greater), 'less': float(less), 'two-sided': float(min(1, 2 * min(greater, less)))}


cases = []
# 1. No ties, no zeros: scipy's exact distribution.
for n, shift in [(5, 0.8), (8, 0.0), (10, 0.5), (14, -0.3), (20, 0.4), (25, 0.0), (30, 0.2), (40, -0.1), (50, 0.15)]:
    d = rng.normal(shift, 1, size=n)
    d = np.round(d, 6)
    assert len(set(np.abs(d))) == n and np.all(d != 0)
    cases.append({'kind': 'exact-no-ties', 'reference': 'scipy exact', 'differences': d.tolist(), 'p': scipy_case(d, 'exact'), 'exactLimit': None})
# A clear pooled effect: 20 positive differences (scipy exact: 2^-20).
d = np.round(np.linspace(0.05, 1.0, 20), 6)
cases.append({'kind': 'exact-no-ties', 'reference': 'scipy exact', 'differences': d.tolist(), 'p': scipy_case(d, 'exact'), 'exactLimit': None})

# 2. Ties and zeros: enumeration.
for n, levels, shift in [(8, 3, 0), (12, 2, 1), (14, 4, 1), (16, 3, 0), (18, 2, 2), (10, 1, 0)]:
    d = rng.randint(-levels, levels + 1, size=n) + rng.choice([0, shift], size=n)
    if np.count_nonzero(d) > 16:
        d[np.nonzero(d)[0][16:]] = 0
    cases.append({'kind': 'exact-ties', 'reference': 'enumeration of 2^n sign assignments', 'differences': [float(v) for v in d], 'p': brute_force(d.tolist()), 'exactLimit': None})

# 3. Large samples with ties: scipy's normal approximation (rote with exactLimit 0).
for n, step, shift in [(60, 0.1, 0.1), (120, 0.05, 0.02), (500, 0.2, 0.05), (1000, 0.01, 0.0)]:
    d = np.round(rng.normal(shift, 1, size=n) / step) * step
    d = np.round(d, 6)
    cases.append({'kind': 'normal', 'reference': 'scipy approx (correction=True)', 'differences': d.tolist(), 'p': scipy_case(d, 'approx'), 'exactLimit': 0})

print(json.dumps({'generator': 'scripts/parity/make_wilcoxon_fixture.py (scipy %s, numpy %s)' % (scipy.__version__, np.__version__), 'cases': cases}, indent=1))
