#!/usr/bin/env python3
"""Write N realistic ~12-megapixel (4000x3000) JPEGs for benchmarking.

Each image is a mosaic of several different grocery-dev photos (each tile
upscaled with bicubic interpolation, tile sizes varied), with fine, slightly
correlated film grain added so the JPEG carries real high-frequency detail.
The grain strength is tuned per image (a few encode passes) so that each file
lands near --target-mb (default 2.2 MB, i.e. within the ~1.5-3 MB range of a
phone photo). JPEG quality 90. Deterministic for a given --seed.

Usage: make_12mp.py [OUT_DIR] [-n N] [--dataset DIR] [--seed S] [--target-mb MB]
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np

DEFAULT_OUT = os.path.expanduser("~/.cache/review-station/bench-12mp")
DEFAULT_DATASET = "/work/shared/datasets/grocery-dev"
W, H = 4000, 3000
JPEG_Q = 90


def mosaic(sources, rng):
    """4000x3000 canvas: 3 rows of tiles with random widths, every tile a different photo."""
    canvas = np.zeros((H, W, 3), np.uint8)
    row_heights = [1000, 1000, 1000]
    picks = list(rng.permutation(len(sources)))
    y = 0
    for rh in row_heights:
        x = 0
        while x < W:
            tw = int(rng.integers(700, 1400))
            if W - (x + tw) < 500:          # avoid a sliver at the row's end
                tw = W - x
            img = cv2.imread(sources[picks.pop()], cv2.IMREAD_COLOR)
            h, w = img.shape[:2]
            # crop the photo to the tile aspect, then upscale
            ta = tw / rh
            if w / h > ta:
                cw, ch = int(h * ta), h
            else:
                cw, ch = w, int(w / ta)
            x0, y0 = (w - cw) // 2, (h - ch) // 2
            tile = cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (tw, rh), interpolation=cv2.INTER_CUBIC)
            canvas[y:y + rh, x:x + tw] = tile
            x += tw
        y += rh
    return canvas


def encode(img):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_Q])
    if not ok:
        raise RuntimeError("encode failed")
    return buf


def with_grain(base, grain_unit, strength):
    f = base.astype(np.float32) + grain_unit * strength
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--dataset", default=DEFAULT_DATASET)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--target-mb", type=float, default=2.2)
    args = ap.parse_args()

    out = os.path.abspath(os.path.expanduser(args.out))
    os.makedirs(out, exist_ok=True)
    sources = sorted(glob.glob(os.path.join(args.dataset, "train", "**", "*.jpg"), recursive=True))
    if len(sources) < 20:
        sys.exit("need at least 20 source photos")
    target = args.target_mb * 1e6

    for k in range(args.n):
        rng = np.random.default_rng([args.seed, k])
        base = mosaic(sources, rng)
        # luma-dominant grain with a little chroma, softened to ~1 px correlation
        lum = rng.standard_normal((H, W, 1), dtype=np.float32)
        chroma = rng.standard_normal((H, W, 3), dtype=np.float32) * 0.35
        grain = cv2.GaussianBlur(lum + chroma, (0, 0), 0.6)
        grain /= grain.std()
        # bisection on grain strength (8-bit units) to hit the target file size
        lo, hi = 0.0, 12.0
        best = None
        for _ in range(9):
            s = (lo + hi) / 2
            buf = encode(with_grain(base, grain, s))
            if best is None or abs(buf.size - target) < abs(best[1].size - target):
                best = (s, buf)
            if abs(buf.size - target) < 0.04 * target:
                break
            if buf.size < target:
                lo = s
            else:
                hi = s
        s, buf = best
        path = os.path.join(out, f"grocery_12mp_{k + 1:02d}.jpg")
        with open(path, "wb") as fh:
            fh.write(buf.tobytes())
        print(f"{path}  {W}x{H}  {buf.size / 1e6:.2f} MB  ({buf.size} bytes, grain {s:.2f})")


if __name__ == "__main__":
    main()
