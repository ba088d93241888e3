#!/usr/bin/env python3
"""Byte planes for the fp16 feature store, so xz compresses it better:
`unshuffle.py --split features.f16 features.f16.planes` writes all low bytes then
all high bytes; `unshuffle.py PLANES F16` (the default, used on the device)
restores the store and checks its size."""
import sys

import numpy as np

if sys.argv[1] == '--split':
    data = np.fromfile(sys.argv[2], dtype=np.uint8)
    data.reshape(-1, 2).T.copy().tofile(sys.argv[3])
else:
    planes = np.fromfile(sys.argv[1], dtype=np.uint8)
    planes.reshape(2, -1).T.copy().tofile(sys.argv[2])
    assert planes.size % 160 == 0, 'feature store is not a whole number of 80-bin fp16 frames'
