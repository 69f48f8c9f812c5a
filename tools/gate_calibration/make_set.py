#!/usr/bin/env python3
"""Build a labelled calibration set for the photo quality gate.

Sources: the real photos in <dataset>/train/**.jpg (grocery-dev, ~348 px).
For every source photo the original is kept (label "ok") and seeded,
deterministic degraded copies are written:

  blur          every source: gaussian (sigma 3-5 px) or motion blur (15-25 px)
  dark          every 2nd source: x0.12-0.20 gain, optional gamma, sensor noise
  over_exposed  the other half: x2.5-4 gain, clipped
  blank         80 sources: heavily blurred tiny crop enlarged, or flat colour + noise
  too_small     40 sources: area-downscaled so the long side is 80-160 px
  large/        40 sources: centre 4:3 crop upscaled to 4000x3000 (label "ok")
                and the same image gaussian-blurred at that scale with the sigma
                scaled by the upscale factor (label "blur")

labels.csv (columns path,label,source) is written in the output dir; `path` is
relative to the output dir, `source` is relative to the dataset dir.
Degraded images are saved as JPEG quality 90; originals are copied byte for byte.

Usage: make_set.py [OUT_DIR] [--dataset DIR] [--seed N] [--clean]
"""
import argparse
import csv
import glob
import os
import shutil
import sys
from collections import Counter

import cv2
import numpy as np

DEFAULT_OUT = os.path.expanduser("~/.cache/review-station/gate-calibration")
DEFAULT_DATASET = "/work/shared/datasets/grocery-dev"
JPEG_Q = 90

N_BLANK = 80
N_SMALL = 40
N_LARGE = 40
LARGE_W, LARGE_H = 4000, 3000


def write_jpeg(path, img):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ok = cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_Q])
    if not ok:
        raise RuntimeError(f"failed to write {path}")


def gaussian_blur(img, sigma):
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma,
                            borderType=cv2.BORDER_REFLECT)


def motion_blur(img, length, angle_deg):
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2.0, (length - 1) / 2.0), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (length, length), flags=cv2.INTER_LINEAR)
    k /= k.sum()
    return cv2.filter2D(img, -1, k, borderType=cv2.BORDER_REFLECT)


def add_noise(img_f, rng, sigma):
    return img_f + rng.normal(0.0, sigma, img_f.shape).astype(np.float32)


def to_u8(img_f):
    return np.clip(np.rint(img_f), 0, 255).astype(np.uint8)


def make_dark(img, rng):
    f = img.astype(np.float32) / 255.0
    if rng.random() < 0.5:
        f = f ** rng.uniform(1.8, 2.6)          # strong gamma (crushes mid-tones)
    f = f * rng.uniform(0.12, 0.20) * 255.0     # low exposure
    f = add_noise(f, rng, rng.uniform(1.0, 3.0))  # sensor noise
    return to_u8(f)


def make_over_exposed(img, rng):
    f = img.astype(np.float32) * rng.uniform(2.5, 4.0)
    f = add_noise(f, rng, rng.uniform(0.5, 1.5))
    return to_u8(f)


def make_blank(img, rng, kind):
    h, w = img.shape[:2]
    if kind == 0:
        # heavily blurred tiny crop, enlarged to the original size
        c = int(rng.integers(6, 14))
        y = int(rng.integers(0, h - c))
        x = int(rng.integers(0, w - c))
        crop = img[y:y + c, x:x + c]
        crop = gaussian_blur(crop, 2.0)
        big = cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC)
        big = gaussian_blur(big, 12.0)
        f = add_noise(big.astype(np.float32), rng, rng.uniform(0.5, 1.5))
    else:
        # flat colour (a sampled photo colour or a neutral grey/white wall) + mild noise
        if rng.random() < 0.5:
            colour = img.reshape(-1, 3)[int(rng.integers(0, h * w))].astype(np.float32)
        else:
            g = rng.uniform(40, 230)
            colour = np.array([g, g, g], np.float32) + rng.normal(0, 6, 3).astype(np.float32)
        f = np.broadcast_to(colour, img.shape).astype(np.float32)
        f = add_noise(f, rng, rng.uniform(1.0, 3.0))
    return to_u8(f)


def make_too_small(img, rng):
    h, w = img.shape[:2]
    long_side = int(rng.integers(80, 161))
    s = long_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def make_large(img):
    """Centre 4:3 crop (landscape), upscaled to 4000x3000. Returns (image, scale)."""
    h, w = img.shape[:2]
    if w * 3 >= h * 4:
        cw, ch = h * 4 // 3, h
    else:
        cw, ch = w, w * 3 // 4
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    crop = img[y0:y0 + ch, x0:x0 + cw]
    big = cv2.resize(crop, (LARGE_W, LARGE_H), interpolation=cv2.INTER_CUBIC)
    return big, LARGE_H / ch


def spread(n_total, k):
    """k indices spread evenly over range(n_total)."""
    if k >= n_total:
        return list(range(n_total))
    return sorted({int(i * n_total / k) for i in range(k)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--dataset", default=DEFAULT_DATASET)
    ap.add_argument("--seed", type=int, default=20240521)
    ap.add_argument("--clean", action="store_true", help="delete OUT first")
    args = ap.parse_args()

    out = os.path.abspath(os.path.expanduser(args.out))
    if args.clean and os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)

    train = os.path.join(args.dataset, "train")
    sources = sorted(glob.glob(os.path.join(train, "**", "*.jpg"), recursive=True))
    if not sources:
        sys.exit(f"no photos under {train}")
    n = len(sources)

    blank_idx = set(spread(n, N_BLANK))
    small_idx = set(i + 1 for i in spread(n - 1, N_SMALL))      # offset: different photos
    large_idx = set(i + 2 for i in spread(n - 2, N_LARGE))

    rows = []
    for i, src in enumerate(sources):
        rel_src = os.path.relpath(src, args.dataset)
        stem = os.path.splitext(os.path.relpath(src, train))[0].replace(os.sep, "__")
        rng = np.random.default_rng([args.seed, i])   # per-source stream: order independent
        img = cv2.imread(src, cv2.IMREAD_COLOR)
        if img is None:
            print(f"skip unreadable {src}", file=sys.stderr)
            continue

        def emit(label, name, image=None):
            rel = os.path.join(label, f"{stem}{name}.jpg")
            dst = os.path.join(out, rel)
            if image is None:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)
            else:
                write_jpeg(dst, image)
            rows.append((rel, label, rel_src))

        emit("ok", "")

        if i % 2 == 0:
            sigma = rng.uniform(3.0, 5.0)
            emit("blur", f"__gauss{sigma:.1f}", gaussian_blur(img, sigma))
        else:
            length = int(rng.integers(15, 26))
            angle = rng.uniform(0, 180)
            emit("blur", f"__motion{length}a{angle:.0f}", motion_blur(img, length, angle))

        if i % 2 == 0:
            emit("dark", "__dark", make_dark(img, rng))
        else:
            emit("over_exposed", "__over", make_over_exposed(img, rng))

        if i in blank_idx:
            kind = len([j for j in blank_idx if j < i]) % 2
            emit("blank", f"__blank{kind}", make_blank(img, rng, kind))

        if i in small_idx:
            emit("too_small", "__small", make_too_small(img, rng))

        if i in large_idx:
            big, scale = make_large(img)
            rel = os.path.join("large", "ok", f"{stem}__4000x3000.jpg")
            write_jpeg(os.path.join(out, rel), big)
            rows.append((rel, "ok", rel_src))
            sigma = rng.uniform(3.0, 5.0) * scale
            rel = os.path.join("large", "blur", f"{stem}__4000x3000_gauss{sigma:.0f}.jpg")
            write_jpeg(os.path.join(out, rel), gaussian_blur(big, sigma))
            rows.append((rel, "blur", rel_src))

        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{n} sources", file=sys.stderr)

    with open(os.path.join(out, "labels.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "source"])
        w.writerows(rows)

    counts = Counter(r[1] for r in rows)
    large = Counter(r[1] for r in rows if r[0].startswith("large" + os.sep))
    print(f"wrote {len(rows)} images from {n} sources to {out}")
    for label in ("ok", "blur", "dark", "over_exposed", "blank", "too_small"):
        extra = f" (of which 4000x3000: {large[label]})" if large[label] else ""
        print(f"  {label:13s} {counts[label]:4d}{extra}")


if __name__ == "__main__":
    main()
