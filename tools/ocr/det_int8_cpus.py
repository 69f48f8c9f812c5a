#!/usr/bin/env python3
"""The int8 text detector on CPUs with and without VNNI: speed here, agreement everywhere.

    python3 tools/ocr/det_int8_cpus.py [--images DIR] [--rounds 5] [--emulate EPYC-Rome]

Needs onnxruntime==1.31.1, onnx==1.23.2, numpy, pillow and scipy (e.g. the converter's pins of
models/requirements.txt plus pillow and scipy in a venv of its own) and, for --emulate, Debian's
qemu-user. Builds each quantization of the PP-OCRv6 small detector with models/quantize_ocr_det.py
(the shipped one: u8 activations × int8 weights in 7 bits; full-range int8 weights, as shipped
before issue 13; uint8 weights; int8 activations and weights) into
~/.cache/review-station/ocr-bench/det-int8/, then:

1. on this CPU, the detector's median seconds per image (2 intra-op threads, models interleaved
   round by round so machine drift hits all alike) and its agreement with the float detector;
2. with --emulate CPU, runs itself under `qemu-x86_64 -cpu CPU` (EPYC-Rome: AVX2, no AVX-512,
   no VNNI — ONNX Runtime's 16-bit u8×s8 kernels) to write each model's probability maps, and
   compares them with this CPU's: the largest difference, the text-mask IoU, and the text regions
   of this CPU's map that the other loses. Emulated seconds are not a speed figure.

Agreement: text mask = probability > 0.3 (the pipeline's threshold); a region is a connected
component of the float (or native) mask, dilated by one pixel as the pipeline does, of at least
30 pixels; it is lost when the other mask has no pixel in it. Inputs are preprocessed as
crates/engine/src/ocr.rs does (short side ≥ 736, long side ≤ 1792, multiples of 32, BGR,
(x/255 − 0.5)/0.5; Pillow's bilinear resize stands in for fast_image_resize).
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from cpu import describe as describe_cpu  # noqa: E402

MODELS = os.environ.get("REVIEW_STATION_MODELS_DIR", os.path.expanduser("~/.cache/review-station/models"))
OUT = os.path.expanduser("~/.cache/review-station/ocr-bench/det-int8")
# name -> quantize_ocr_det.py flags (None: the float model itself)
VARIANTS = {
    "float": None,
    "u8 x s8 7-bit (shipped)": [],
    "u8 x s8 8-bit (before)": ["--weights", "s8"],
    "u8 x u8": ["--weights", "u8"],
    "s8 x s8": ["--weights", "s8", "--activations", "s8"],
}


def model_path(name):
    if VARIANTS[name] is None:
        return os.path.join(MODELS, "ocr", "PP-OCRv6_det_small.onnx")
    slug = name.split(" (")[0].replace(" ", "").replace("-", "")
    return os.path.join(OUT, f"det_{slug}.onnx")


def build_models():
    os.makedirs(OUT, exist_ok=True)
    for name, flags in VARIANTS.items():
        path = model_path(name)
        if flags is None or os.path.exists(path):
            continue
        subprocess.run([sys.executable, os.path.join(REPO, "models", "quantize_ocr_det.py"),
                        model_path("float"), path, *flags], check=True, stderr=subprocess.DEVNULL)


def prep(path):
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 1.0
    if min(w, h) < 736:
        s = 736 / min(w, h)
    if max(w, h) * s > 1792:
        s = 1792 / max(w, h)

    def r32(v):
        return max(1, round(v / 32)) * 32
    a = np.asarray(im.resize((r32(w * s), r32(h * s)), Image.BILINEAR), np.float32)[:, :, ::-1]
    return ((a / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()


def sessions():
    import onnxruntime as ort
    out = {}
    for name in VARIANTS:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        out[name] = ort.InferenceSession(model_path(name), so, providers=["CPUExecutionProvider"])
    return out


def run_maps(images, maps_dir, rounds):
    """Runs every model on every image; saves the maps; returns median seconds per model."""
    os.makedirs(maps_dir, exist_ok=True)
    inputs = [prep(p) for p in images]
    sess = sessions()
    seconds = {name: [] for name in VARIANTS}
    for r in range(rounds):
        for name, s in sess.items():
            for i, x in enumerate(inputs):
                started = time.perf_counter()
                y = s.run(None, {s.get_inputs()[0].name: x})[0]
                seconds[name].append(time.perf_counter() - started)
                if r == 0:
                    np.save(os.path.join(maps_dir, f"{list(VARIANTS).index(name)}_{i}.npy"), y[0, 0])
    return {name: statistics.median(v) for name, v in seconds.items()}


def agreement(reference, other):
    """(largest difference, mask IoU, regions of `reference` lost in `other`)."""
    from scipy import ndimage
    a, b = reference > 0.3, other > 0.3
    iou = (a & b).sum() / max(1, (a | b).sum())
    labels, count = ndimage.label(ndimage.binary_dilation(a))
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, range(1, count + 1))
    hit = ndimage.maximum(b, labels, range(1, count + 1))
    lost = int(sum(1 for size, h in zip(sizes, hit) if size >= 30 and not h))
    return float(np.abs(reference - other).max()), float(iou), lost


def load(maps_dir, name, i):
    return np.load(os.path.join(maps_dir, f"{list(VARIANTS).index(name)}_{i}.npy"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=os.path.join(REPO, "tests", "fixtures", "sroie", "img"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--emulate", metavar="QEMU_CPU", help="also compare with an emulated CPU (qemu-user)")
    p.add_argument("--maps-only", metavar="DIR", help=argparse.SUPPRESS)  # the emulated half
    a = p.parse_args()
    images = sorted(glob.glob(os.path.join(a.images, "*.jpg")) + glob.glob(os.path.join(a.images, "*.png")))
    if not images:
        sys.exit(f"no images in {a.images}")
    if a.maps_only:
        run_maps(images, a.maps_only, 1)
        return

    build_models()
    native_dir = os.path.join(OUT, "maps-native")
    seconds = run_maps(images, native_dir, a.rounds)
    print(f"CPU: {describe_cpu()}; {len(images)} images from {a.images}, 2 threads, "
          f"median of {a.rounds} rounds\n")
    print("| detector | s/image here | max diff vs float | mask IoU vs float | regions lost vs float |")
    print("|---|---:|---:|---:|---:|")
    for name in VARIANTS:
        rows = [agreement(load(native_dir, "float", i), load(native_dir, name, i)) for i in range(len(images))]
        print(f"| {name} | {seconds[name]:.3f} | {max(r[0] for r in rows):.3f} | "
              f"{min(r[1] for r in rows):.3f} (min) | {sum(r[2] for r in rows)} |", flush=True)

    if not a.emulate:
        return
    emulated_dir = os.path.join(OUT, f"maps-{a.emulate}")
    started = time.perf_counter()
    proc = subprocess.run(["qemu-x86_64", "-cpu", a.emulate, sys.executable, os.path.abspath(__file__),
                           "--images", a.images, "--maps-only", emulated_dir],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr[-2000:])
    # /proc/cpuinfo under qemu-user is still this host's: the model's CPUID is what ONNX Runtime
    # sees there (crates/engine's test reads it back through CPUID and checks it)
    print(f"\nEmulated: qemu-x86_64 -cpu {a.emulate} (its CPUID as qemu models that CPU; "
          f"{time.perf_counter() - started:.0f} s)\n")
    print(f"| detector | max diff, {a.emulate} vs here | mask IoU (min) | regions lost there | "
          f"regions lost there vs float here |")
    print("|---|---:|---:|---:|---:|")
    for name in VARIANTS:
        rows = [agreement(load(native_dir, name, i), load(emulated_dir, name, i)) for i in range(len(images))]
        vs_float = [agreement(load(native_dir, "float", i), load(emulated_dir, name, i))[2]
                    for i in range(len(images))]
        print(f"| {name} | {max(r[0] for r in rows):.3f} | {min(r[1] for r in rows):.3f} | "
              f"{sum(r[2] for r in rows)} | {sum(vs_float)} |", flush=True)


if __name__ == "__main__":
    main()
