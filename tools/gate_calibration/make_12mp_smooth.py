#!/usr/bin/env python3
"""A second 12 MP benchmark set: mosaics of grocery photos upscaled (bicubic) to 4000x3000 with
no added grain, JPEG quality raised until each file is about 2 MB — smoother content than
make_12mp.py's grain mosaics at the same size.

usage: make_12mp_smooth.py [OUT_DIR] (default ~/.cache/review-station/bench-12mp-smooth)
"""
import glob
import os
import sys

import cv2
import numpy as np

root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets", "grocery-dev", "train")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/review-station/bench-12mp-smooth")
os.makedirs(out, exist_ok=True)
files = sorted(glob.glob(os.path.join(root, "**", "*.jpg"), recursive=True))
rng = np.random.default_rng(3)
for k in range(5):
    pick = rng.choice(len(files), 12, replace=False)
    tiles = [cv2.resize(cv2.imread(files[i]), (1000, 1000), interpolation=cv2.INTER_CUBIC) for i in pick]
    image = np.vstack([np.hstack(tiles[r * 4:(r + 1) * 4]) for r in range(3)])
    for quality in range(90, 101):
        _, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if len(buf) >= 2_000_000:
            break
    path = os.path.join(out, f"smooth_12mp_{k + 1:02d}.jpg")
    with open(path, "wb") as f:
        f.write(buf.tobytes())
    print(f"{path}: quality {quality}, {len(buf) / 1e6:.2f} MB")
