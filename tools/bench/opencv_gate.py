#!/usr/bin/env python3
"""OpenCV + numpy baseline for the photo quality gate (single thread).

For each argument (a directory, searched recursively for *.jpg/*.jpeg, or a
single file) this times one "verdict" = decode + working image + metrics, in
two modes:

  full     cv2.imread(IMREAD_GRAYSCALE) at full resolution, then INTER_AREA
           resize so the long side is 512 (never upscaled), then metrics
  reduced  read the JPEG header (SOF) for the full size, pick the largest
           libjpeg DCT-domain reduction k in {8,4,2} with ceil(long/k) >= 512,
           cv2.imread(IMREAD_REDUCED_GRAYSCALE_k), then INTER_AREA to 512, metrics

and prints one JSON line per set to stdout:
  {"set": NAME, "path": PATH, "files": N, "samples": {...},
   "median_ms": {"full": x, "reduced": y}, "p95_ms": {...}, "per_sec": {...}}
(per_sec = verdicts per second on one thread = samples / total time).
A human-readable summary goes to stderr.

Metrics (8-bit luma; libjpeg's grayscale decode is BT.601 Y):
  width, height     full-resolution size
  mean_luma         mean of the working image (0..255)
  contrast          population std (ddof=0) of the working image
  highlight_share   fraction of working pixels >= 250
  shadow_share      fraction of working pixels <= 15
  blur_effect       Crete-Roffet 2007, h_size=11, as skimage.measure.blur_effect
                    but with first differences (not Sobel):
                      F = working image as float; for axis a in (rows, cols):
                      B = 1-D box mean of size 11 along a (centred, border
                          mirrored 'reflect' = abc|cba, as scipy.ndimage)
                      D_F[i] = |F[i] - F[i-1]|, D_B[i] = |B[i] - B[i-1]| along a
                      V = max(0, D_F - D_B)
                      sums over the interior i in [2, n-1) on BOTH axes
                      (skimage's slice(2, s-1)), b_a = (sum D_F - sum V)/sum D_F
                      (b_a = 1.0 when sum D_F == 0, i.e. a perfectly flat image)
                    blur_effect = max(b_rows, b_cols); 0 sharp .. 1 very blurred

Options:
  --min-samples N   repeat the file list until each mode has >= N timed samples (default 30)
  --dump CSV        write per-file metrics (reduced mode) to CSV; if a set dir
                    holds labels.csv, its label column is added
  --selftest        check the vectorised blur metric against a naive reference
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

WORK_LONG = 512
H_SIZE = 11
REDUCED_FLAG = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
                4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
                8: cv2.IMREAD_REDUCED_GRAYSCALE_8}
LEVELS = np.arange(256, dtype=np.float64)
LEVELS_SQ = LEVELS * LEVELS

# ---------------------------------------------------------------- JPEG header

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(path):
    """(width, height) from the JPEG SOF marker, or None if not a JPEG."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\xff\xd8":
            return None
        while True:
            b = fh.read(1)
            if not b:
                return None
            if b != b"\xff":
                continue
            m = fh.read(1)
            while m == b"\xff":
                m = fh.read(1)
            if not m:
                return None
            marker = m[0]
            if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
                continue
            if marker == 0xD9 or marker == 0xDA:
                return None
            seg = fh.read(2)
            if len(seg) < 2:
                return None
            (length,) = struct.unpack(">H", seg)
            if marker in _SOF:
                data = fh.read(5)
                if len(data) < 5:
                    return None
                _, h, w = struct.unpack(">BHH", data)
                return w, h
            fh.seek(length - 2, 1)


def pick_reduction(w, h):
    long_side = max(w, h)
    for k in (8, 4, 2):
        if -(-long_side // k) >= WORK_LONG:
            return k
    return 1

# ---------------------------------------------------------------- metrics


def to_working(gray):
    h, w = gray.shape
    long_side = max(h, w)
    if long_side <= WORK_LONG:
        return gray
    s = WORK_LONG / long_side
    size = (WORK_LONG, max(1, round(h * s))) if w >= h else (max(1, round(w * s)), WORK_LONG)
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def blur_effect(work):
    f = work.astype(np.float32)
    h, w = f.shape
    if h < 4 or w < 4:
        return 1.0
    res = []
    # axis 0: box along rows (vertical), kernel 1 wide x 11 tall; axis 1: 11 wide x 1 tall
    for axis, ksize in ((0, (1, H_SIZE)), (1, (H_SIZE, 1))):
        b = cv2.blur(f, ksize, borderType=cv2.BORDER_REFLECT)
        if axis == 0:
            df = cv2.absdiff(f[2:h - 1, 2:w - 1], f[1:h - 2, 2:w - 1])
            db = cv2.absdiff(b[2:h - 1, 2:w - 1], b[1:h - 2, 2:w - 1])
        else:
            df = cv2.absdiff(f[2:h - 1, 2:w - 1], f[2:h - 1, 1:w - 2])
            db = cv2.absdiff(b[2:h - 1, 2:w - 1], b[2:h - 1, 1:w - 2])
        s_f = cv2.sumElems(df)[0]
        s_v = cv2.sumElems(cv2.max(cv2.subtract(df, db), 0.0))[0]
        res.append((s_f - s_v) / s_f if s_f > 0 else 1.0)
    return max(res)


def metrics(work, width, height):
    hist = cv2.calcHist([work], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    n = float(work.size)
    mean = float(hist @ LEVELS) / n
    var = max(0.0, float(hist @ LEVELS_SQ) / n - mean * mean)
    return {
        "width": width,
        "height": height,
        "mean_luma": mean,
        "contrast": math.sqrt(var),
        "highlight_share": float(hist[250:].sum()) / n,
        "shadow_share": float(hist[:16].sum()) / n,
        "blur_effect": blur_effect(work),
    }


def verdict_full(path):
    g = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if g is None:
        raise RuntimeError(f"cannot decode {path}")
    h, w = g.shape
    return metrics(to_working(g), w, h)


def verdict_reduced(path):
    size = jpeg_size(path)
    if size is None:
        return verdict_full(path)
    w, h = size
    k = pick_reduction(w, h)
    g = cv2.imread(path, REDUCED_FLAG[k] if k > 1 else cv2.IMREAD_GRAYSCALE)
    if g is None:
        raise RuntimeError(f"cannot decode {path}")
    return metrics(to_working(g), w, h)


MODES = {"full": verdict_full, "reduced": verdict_reduced}

# ---------------------------------------------------------------- selftest


def _blur_effect_reference(work):
    """Naive, loop-free-of-cv2 reference: explicit reflect padding + cumulative sums."""
    f = work.astype(np.float64)
    h, w = f.shape
    r = H_SIZE // 2
    res = []
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        p = np.pad(f, pad, mode="symmetric")          # abc|cba == scipy 'reflect'
        c = np.cumsum(p, axis=axis)
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
        n = f.shape[axis]
        b = (np.take(c, np.arange(H_SIZE, H_SIZE + n), axis=axis)
             - np.take(c, np.arange(0, n), axis=axis)) / H_SIZE
        df = np.abs(np.diff(f, axis=axis))            # df[i-1] = |f[i]-f[i-1]|
        dbl = np.abs(np.diff(b, axis=axis))
        if axis == 0:
            df, dbl = df[1:h - 2, 2:w - 1], dbl[1:h - 2, 2:w - 1]
        else:
            df, dbl = df[2:h - 1, 1:w - 2], dbl[2:h - 1, 1:w - 2]
        s_f = df.sum()
        s_v = np.maximum(0, df - dbl).sum()
        res.append((s_f - s_v) / s_f if s_f > 0 else 1.0)
    return max(res)


def selftest():
    rng = np.random.default_rng(1)
    worst = 0.0
    cases = [rng.integers(0, 256, (97, 131), dtype=np.uint8),
             cv2.GaussianBlur(rng.integers(0, 256, (200, 300), dtype=np.uint8), (0, 0), 3),
             np.full((64, 64), 77, np.uint8)]
    for img in cases:
        a, b = blur_effect(img), _blur_effect_reference(img)
        worst = max(worst, abs(a - b))
        print(f"selftest {img.shape}: vectorised {a:.6f} reference {b:.6f}", file=sys.stderr)
    ok = worst < 1e-4
    print(f"selftest {'passed' if ok else 'FAILED'} (max |diff| {worst:.2e})", file=sys.stderr)
    return ok

# ---------------------------------------------------------------- bench


def collect(arg):
    arg = os.path.expanduser(arg)
    if os.path.isfile(arg):
        return [arg]
    out = []
    for root, _, files in os.walk(arg):
        for name in files:
            if name.lower().endswith((".jpg", ".jpeg")):
                out.append(os.path.join(root, name))
    return sorted(out)


def load_labels(arg):
    p = os.path.join(os.path.expanduser(arg), "labels.csv")
    if not os.path.isfile(p):
        return {}
    base = os.path.dirname(os.path.abspath(p))
    with open(p, newline="") as fh:
        return {os.path.abspath(os.path.join(base, r["path"])): r["label"] for r in csv.DictReader(fh)}


def percentile(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    idx = (len(sorted_vals) - 1) * q
    lo, hi = math.floor(idx), math.ceil(idx)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (idx - lo)


def bench_set(files, fn, min_samples, warmup):
    for p in files[:warmup] if len(files) >= warmup else files * (-(-warmup // len(files))):
        fn(p)
    rounds = max(1, -(-min_samples // len(files)))
    times = []
    for _ in range(rounds):
        for p in files:
            t0 = time.perf_counter()
            fn(p)
            times.append(time.perf_counter() - t0)
    total = sum(times)
    times.sort()
    return {
        "samples": len(times),
        "median_ms": percentile(times, 0.5) * 1e3,
        "p95_ms": percentile(times, 0.95) * 1e3,
        "per_sec": len(times) / total if total > 0 else float("inf"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--min-samples", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--dump", help="per-file metrics CSV (reduced mode)")
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()

    if args.selftest:
        ok = selftest()
        if not args.paths:
            sys.exit(0 if ok else 1)
    if not args.paths:
        ap.error("give at least one dir or file")

    dump_rows = []
    for arg in args.paths:
        files = collect(arg)
        if not files:
            print(f"no JPEGs in {arg}", file=sys.stderr)
            continue
        name = os.path.basename(os.path.normpath(arg)) or arg
        res = {m: bench_set(files, fn, args.min_samples, args.warmup) for m, fn in MODES.items()}
        line = {
            "set": name,
            "path": os.path.abspath(os.path.expanduser(arg)),
            "files": len(files),
            "samples": {m: r["samples"] for m, r in res.items()},
            "median_ms": {m: round(r["median_ms"], 3) for m, r in res.items()},
            "p95_ms": {m: round(r["p95_ms"], 3) for m, r in res.items()},
            "per_sec": {m: round(r["per_sec"], 2) for m, r in res.items()},
            "impl": f"opencv-python {cv2.__version__}, numpy {np.__version__}, 1 thread",
        }
        print(json.dumps(line), flush=True)
        for m, r in res.items():
            print(f"{name:24s} {m:8s} files={len(files):5d} n={r['samples']:5d} "
                  f"median={r['median_ms']:8.2f} ms p95={r['p95_ms']:8.2f} ms "
                  f"{r['per_sec']:8.1f} verdicts/s", file=sys.stderr)
        if args.dump:
            labels = load_labels(arg)
            for p in files:
                m = verdict_reduced(p)
                row = {"set": name, "path": p, "label": labels.get(os.path.abspath(p), "")}
                row.update(m)
                dump_rows.append(row)

    if args.dump and dump_rows:
        with open(args.dump, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(dump_rows[0].keys()))
            w.writeheader()
            w.writerows(dump_rows)
        print(f"wrote {len(dump_rows)} rows to {args.dump}", file=sys.stderr)


if __name__ == "__main__":
    main()
