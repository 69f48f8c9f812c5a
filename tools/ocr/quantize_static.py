#!/usr/bin/env python3
"""Static int8 (QDQ) quantization of the PP-OCRv6 small recognizer/detector, and its measurement.

Needs onnx next to onnxruntime/rapidocr (the ocr-venv of tools/ocr/requirements.txt has no onnx):

    python3 -m venv /tmp/qvenv
    /tmp/qvenv/bin/pip install onnxruntime==1.31.1 rapidocr==3.10.0 onnx sympy
    P=/tmp/qvenv/bin/python; Q=~/.cache/review-station/ocr-bench/quant
    $P tools/ocr/quantize_static.py calib --out $Q/calib              # calibration tensors
    $P tools/ocr/quantize_static.py quantize --calib $Q/calib --out $Q \
        --variants rec_u8s8_minmax_all_nohead_prefuse                   # -> $Q/NAME.onnx
    $P tools/ocr/quantize_static.py bench MODEL.onnx...                 # rec batch latency
    $P tools/ocr/quantize_static.py compare /work/shared/datasets/sroie-dev/img --out $Q/e2e \
        --variants fp32= int8=$Q/rec_u8s8_minmax_all_nohead_prefuse.onnx  # end to end
    $P tools/ocr/quantize_static.py e2e --rec $Q/NAME.onnx [--det D.onnx] \
        --threads 2 --json-out OUT.jsonl IMAGES...        # = rapidocr_baseline.py, other models
    python3 tools/ocr/score_cer.py $Q/e2e/int8.jsonl --sroie /work/shared/datasets/sroie-dev \
        --ignore-case

Calibration data (never SROIE): `calib` renders 16 synthetic receipt/invoice-like pages with
Pillow (DejaVu Sans/Serif/Mono/Condensed, regular and bold, 15-30 px text; store names,
addresses, item lines with prices, dates, GST/phone numbers, mixed-case prose; off-white paper,
grey/black ink, mild blur, noise, JPEG re-encoding, slight rotation), and also takes the five
GroceryStoreDataset "Packages" photos from tests/fixtures/grocery (real photographed print).
Each image is run through RapidOCR 3.10.0's own pipeline (pre-resize, det, crop, cls) with
the fp32 models; the recognizer inputs are captured exactly as RapidOCR builds them (crops
sorted by aspect ratio, batches of 6, height 48, width = 48 * max(320/48, widest ratio in the
batch), (x/255-0.5)/0.5, BGR, NCHW, zero padding on the right), so the calibration covers many
widths. The detector inputs of the same run are captured too (for the det variants).
Calibration tensors are stored as .npy files (rec_*.npy, det_*.npy) under --out.

`quantize` runs onnxruntime.quantization.quant_pre_process (skip_symbolic_shape: symbolic shape
inference fails on these Paddle exports; ONNX shape inference + basic optimization only), converts to opset 13
(per-channel DequantizeLinear needs `axis`; the models are opset 11), optionally pre-fuses with
ORT (see VARIANTS, 'prefuse'), then quantize_static (QuantFormat.QDQ, per_channel=True, QInt8
weights, QUInt8 activations unless 's8', MatMulConstBOnly) for the named variants, and copies
metadata_props (the recognizer's `character` dictionary) from the fp32 model. 'nohead' leaves
the final 18710-way MatMul, its bias Add and the Softmax in float.
The 'prefuse' models contain com.microsoft contrib ops (Gelu, QuickGelu, SkipLayerNormalization)
and LayerNormalization as ORT writes them: they load in ONNX Runtime (CPU EP), not elsewhere.

`bench` times fixed random batches (6x3x48x320 and 6x3x48x640) with 2 intra-op threads and
ORT_ENABLE_ALL, models interleaved round by round, and prints medians. `compare` runs
RapidOCR (rapidocr_baseline.py's engine and timing, 2 threads) with several recognizers in one
process, rotating the order per image so that load from other processes hits all alike, and
writes one JSONL per variant for score_cer.py. `e2e` runs tools/ocr/rapidocr_baseline.py with
its model paths replaced (same JSONL output, same session checks).
"""
import argparse
import glob
import json
import os
import random
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
         "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansCondensed.ttf",
         "DejaVuSansCondensed-Bold.ttf"]


def fp32_models():
    import rapidocr
    d = os.path.join(os.path.dirname(rapidocr.__file__), "models")
    return {k: os.path.join(d, f) for k, f in (("det", "PP-OCRv6_det_small.onnx"),
                                               ("rec", "PP-OCRv6_rec_small.onnx"),
                                               ("cls", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"))}


# ----------------------------------------------------------------------------- calibration
WORDS = ("fresh mart trading sdn bhd store kitchen cafe restaurant hardware supplies office "
         "stationery bakery pharmacy electrical enterprise market food court tea coffee milk "
         "sugar rice chicken noodle bread butter cheese paper pen tape cable battery soap "
         "cash change total subtotal rounding discount service charge tax invoice receipt "
         "thank you please come again goods sold are not returnable member points card visa").split()
STREETS = ["Jalan", "Lorong", "Persiaran", "Main Street", "Road", "Avenue", "Taman", "Lane"]
CITIES = ["Kuala Lumpur", "Petaling Jaya", "Johor Bahru", "Bengaluru", "Mumbai", "Singapore",
          "Shah Alam", "Pune", "Chennai", "Ipoh"]


def rand_line(rng):
    k = rng.randrange(14)
    w = lambda n: " ".join(rng.choice(WORDS) for _ in range(n))
    price = lambda: f"{rng.uniform(0.5, 999):.2f}"
    if k == 0:
        return w(rng.randint(2, 4)).upper()
    if k == 1:
        return f"NO. {rng.randint(1, 250)}, {rng.choice(STREETS)} {rng.randint(1, 40)}/{rng.randint(1, 9)},"
    if k == 2:
        return f"{rng.randint(10000, 99999)} {rng.choice(CITIES)}".upper()
    if k == 3:
        return f"{w(rng.randint(1, 3)).title()} {rng.randint(1, 12)} x {price()}   {price()}"
    if k == 4:
        return f"TOTAL {rng.choice(['RM', 'Rs.', '$', 'INR'])} {price()}"
    if k == 5:
        return (f"Date: {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{rng.randint(10, 26)}"
                f"  Time: {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
    if k == 6:
        return f"GST REG NO: {rng.randint(10**11, 10**12 - 1):012d}"
    if k == 7:
        return f"Tel: +{rng.randint(1, 99)} {rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}"
    if k == 8:
        return w(rng.randint(4, 9)).capitalize() + "."
    if k == 9:
        return f"{rng.randint(100000, 999999)}  {w(2).upper()}  {rng.randint(1, 9)}  {price()} SR"
    if k == 10:
        return f"Invoice No: INV-{rng.randint(1000, 99999)}   Cashier: {rng.choice(WORDS).title()}"
    if k == 11:
        return f"{price()}"
    if k == 12:
        return f"GSTIN 29{''.join(rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789') for _ in range(13))}"
    return f"{w(1).upper()}: {price()}   {w(1).upper()}: {price()}"


def render_page(rng, width=900):
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
    lines = [rand_line(rng) for _ in range(rng.randint(14, 22))]
    size = rng.randint(15, 30)
    font = ImageFont.truetype(os.path.join(FONT_DIR, rng.choice(FONTS)), size)
    gap = int(size * rng.uniform(1.3, 1.9))
    height = 60 + gap * len(lines)
    paper = tuple(rng.randint(225, 255) for _ in range(3))
    img = Image.new("RGB", (width, height), paper)
    dr = ImageDraw.Draw(img)
    ink = (rng.randint(0, 90),) * 3
    y = 30
    for t in lines:
        tw = dr.textlength(t, font=font)
        align = rng.random()
        x = 30 if align < 0.6 else max(10, int((width - tw) / 2)) if align < 0.85 else max(10, int(width - 30 - tw))
        dr.text((x, y), t, font=font, fill=ink)
        y += gap
    if rng.random() < 0.5:
        img = img.rotate(rng.uniform(-1.5, 1.5), expand=True, fillcolor=paper)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    a = np.asarray(img).astype(np.float32)
    a += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 8), a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    import io
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(60, 95))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))[:, :, ::-1].copy()  # BGR like cv2


class Recorder:
    """Stands in for an ort.InferenceSession and keeps every input it is run on."""

    def __init__(self, sess):
        self._s, self.inputs = sess, []

    def run(self, names, feed):
        self.inputs.append(next(iter(feed.values())).copy())
        return self._s.run(names, feed)

    def __getattr__(self, k):
        return getattr(self._s, k)


def cmd_calib(a):
    import cv2
    from rapidocr import RapidOCR
    cv2.setNumThreads(a.threads)
    m = fp32_models()
    eng = RapidOCR(params={"Global.log_level": "warning", "Det.model_path": m["det"],
                           "Rec.model_path": m["rec"], "Cls.model_path": m["cls"],
                           "EngineConfig.onnxruntime.intra_op_num_threads": a.threads,
                           "EngineConfig.onnxruntime.inter_op_num_threads": a.threads})
    rng = random.Random(a.seed)
    images = [render_page(rng) for _ in range(a.pages)]
    photos = sorted(glob.glob(os.path.join(REPO, "tests/fixtures/grocery/*/Packages/*.jpg")))
    images += [cv2.imread(p) for p in photos]
    eng(images[0])  # load sessions
    rec, det = Recorder(eng.text_rec.session.session), Recorder(eng.text_det.session.session)
    eng.text_rec.session.session, eng.text_det.session.session = rec, det
    texts = []
    for img in images:
        res = eng(img)
        texts += list(res.txts or [])
    os.makedirs(a.out, exist_ok=True)
    for f in glob.glob(os.path.join(a.out, "*.npy")):
        os.remove(f)
    for i, x in enumerate(rec.inputs):
        np.save(os.path.join(a.out, f"rec_{i:03d}.npy"), x)
    for i, x in enumerate(det.inputs):
        np.save(os.path.join(a.out, f"det_{i:03d}.npy"), x)
    n = sum(x.shape[0] for x in rec.inputs)
    widths = sorted({x.shape[3] for x in rec.inputs})
    print(json.dumps({"images": len(images), "synthetic_pages": a.pages, "photos": len(photos),
                      "rec_batches": len(rec.inputs), "rec_lines": n, "rec_widths": widths,
                      "det_inputs": [list(x.shape) for x in det.inputs][:5],
                      "sample_texts": texts[:12]}, ensure_ascii=False))


# ----------------------------------------------------------------------------- quantization
# name -> (model, settings). 'head' = the final 18710-way MatMul + bias Add + Softmax.
VARIANTS = {
    # QDQ on the model after quant_pre_process only
    "rec_u8s8_minmax_conv": ("rec", dict(act="u8", method="minmax", ops=["Conv"])),
    "rec_u8s8_minmax_convmm": ("rec", dict(act="u8", method="minmax", ops=["Conv", "MatMul"])),
    "rec_u8s8_minmax_convmm_nohead": ("rec", dict(act="u8", method="minmax", ops=["Conv", "MatMul"], nohead=True)),
    "rec_u8s8_minmax_all_nohead": ("rec", dict(act="u8", method="minmax", ops=None, nohead=True)),
    # 'prefuse': quantize a copy that ORT has already fused at ORT_ENABLE_EXTENDED (Gelu,
    # QuickGelu, LayerNormalization as single float ops) with the fusions that would hide
    # Conv/MatMul from the quantizer switched off (NO_FUSE). Without it the runtime gives every
    # float consumer of a quantized tensor its own DequantizeLinear, the Gelu/LayerNorm patterns
    # no longer fuse, and Div/Erf/Mul/Add run unfused on float copies.
    "rec_u8s8_minmax_convmm_nohead_prefuse": ("rec", dict(act="u8", method="minmax", ops=["Conv", "MatMul"], nohead=True, prefuse=True)),
    "rec_u8s8_minmax_all_nohead_prefuse": ("rec", dict(act="u8", method="minmax", ops=None, nohead=True, prefuse=True)),
    "rec_s8s8_minmax_all_nohead_prefuse": ("rec", dict(act="s8", method="minmax", ops=None, nohead=True, prefuse=True)),
    # histogram calibrators keep every captured activation in memory: all 65 batches need
    # > 23 GB, so these use --max-batches (default 10 for them, evenly spaced over the widths)
    "rec_u8s8_pct_all_nohead_prefuse": ("rec", dict(act="u8", method="percentile", ops=None, nohead=True, prefuse=True)),
    "rec_u8s8_entropy_all_nohead_prefuse": ("rec", dict(act="u8", method="entropy", ops=None, nohead=True, prefuse=True)),
    "det_u8s8_minmax_all_prefuse": ("det", dict(act="u8", method="minmax", ops=None, prefuse=True)),
}


# The calibration reader and the fusions kept off are the project converter's own
# (models/quantize_ocr_det.py), so the study and the shipped detector quantize alike.
sys.path.insert(0, os.path.join(REPO, "models"))
from quantize_ocr_det import NO_FUSE, NpyReader  # noqa: E402


def head_nodes(model):
    """Final MatMul whose weight has the dictionary-sized output dim, the Add after it, Softmax."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    out = []
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and inits[n.input[1]].dims[-1] > 5000:
            out.append(n.name)
            cons = [c for c in g.node if n.output[0] in c.input]
            out += [c.name for c in cons if c.op_type == "Add"]
    out += [n.name for n in g.node if n.op_type == "Softmax" and n.output[0] in {o.name for o in g.output}]
    return out



def prefuse(src, dst):
    """Save src as optimized by ORT at ORT_ENABLE_EXTENDED minus the NO_FUSE fusions."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = dst
    ort.InferenceSession(src, so, providers=["CPUExecutionProvider"], disabled_optimizers=NO_FUSE)


def cmd_quantize(a):
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    m = fp32_models()
    os.makedirs(a.out, exist_ok=True)
    pre = {}
    for kind in ("rec", "det"):
        p = os.path.join(a.out, f"{kind}_fp32_pre.onnx")
        if not os.path.exists(p):
            # Symbolic shape inference fails on both Paddle exports ("Incomplete symbolic shape
            # inference") and then leaves sym_shape_infer_temp.onnx + <uuid>.data in the
            # current directory, so it is skipped: ONNX shape inference + ORT basic
            # optimization only.
            quant_pre_process(m[kind], p, skip_symbolic_shape=True)
            # per-channel QDQ needs DequantizeLinear's axis attribute (opset >= 13); the
            # models are opset 11
            mp = onnx.load(p)
            if mp.opset_import[0].version < 13:
                onnx.save(onnx.version_converter.convert_version(mp, 13), p)
        pre[kind] = p
    for kind in ("rec", "det"):
        p = os.path.join(a.out, f"{kind}_fp32_fused.onnx")
        if not os.path.exists(p):
            prefuse(pre[kind], p)
    names = a.variants or list(VARIANTS)
    for name in names:
        kind, s = VARIANTS[name]
        src = onnx.load(m[kind])
        src_path = os.path.join(a.out, f"{kind}_fp32_fused.onnx") if s.get("prefuse") else pre[kind]
        model = onnx.load(src_path)
        files = sorted(glob.glob(os.path.join(a.calib, f"{kind}_*.npy")))
        cap = a.max_batches or (10 if s["method"] != "minmax" else len(files))
        if cap < len(files):  # evenly spaced: the files are in width order within each image
            files = [files[round(i * (len(files) - 1) / (cap - 1))] for i in range(cap)] if cap > 1 else files[:1]
        reader = NpyReader(files, model.graph.input[0].name)
        method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                  "entropy": CalibrationMethod.Entropy}[s["method"]]
        extra = {"MatMulConstBOnly": True}
        if s["method"] == "minmax":
            extra["CalibMaxIntermediateOutputs"] = 8  # bound memory; ranges are merged
        if s["method"] == "percentile":
            extra["CalibPercentile"] = 99.999
        if s["act"] == "s8":
            extra["ActivationSymmetric"] = True
        exclude = head_nodes(model) if s.get("nohead") else []
        dst = os.path.join(a.out, name + ".onnx")
        t0 = time.time()
        quantize_static(src_path, dst, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8 if s["act"] == "u8" else QuantType.QInt8,
                        weight_type=QuantType.QInt8, calibrate_method=method,
                        op_types_to_quantize=s["ops"], nodes_to_exclude=exclude,
                        extra_options=extra)
        q = onnx.load(dst)
        del q.metadata_props[:]
        for p in src.metadata_props:
            q.metadata_props.add(key=p.key, value=p.value)
        onnx.save(q, dst)
        print(json.dumps({"variant": name, "settings": s, "excluded": exclude,
                          "calib_batches": len(files), "seconds": round(time.time() - t0, 1),
                          "out": dst}), flush=True)


# ----------------------------------------------------------------------------- timing
def session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def cmd_bench(a):
    rng = np.random.default_rng(0)
    shapes = [(6, 3, 48, 320), (6, 3, 48, 640)]
    feeds = {s: rng.uniform(-1, 1, s).astype(np.float32) for s in shapes}
    paths = a.models or [fp32_models()["rec"]]
    sess = {p: session(p, a.threads) for p in paths}
    res = {p: {s: [] for s in shapes} for p in paths}
    for _ in range(2):  # warm-up
        for p in paths:
            for s in shapes:
                sess[p].run(None, {"x": feeds[s]})
    for r in range(a.rounds):  # interleaved, so machine-load drift hits all models alike
        for p in paths:
            for s in shapes:
                t0 = time.perf_counter()
                sess[p].run(None, {"x": feeds[s]})
                res[p][s].append(time.perf_counter() - t0)
    from cpu import describe as describe_cpu
    for p in paths:
        print(json.dumps({"model": os.path.basename(p), "cpu": describe_cpu(), **{
            f"{s[0]}x{s[3]}_median_ms": round(1000 * statistics.median(v), 1)
            for s, v in res[p].items()}}), flush=True)


def cmd_e2e(a, rest):
    sys.path.insert(0, HERE)
    import rapidocr_baseline as rb
    if a.rec:
        rb.REC = os.path.abspath(a.rec)
    if a.det:
        rb.DET = os.path.abspath(a.det)
    sys.argv = ["rapidocr_baseline.py"] + rest
    rb.main()


def cmd_compare(a):
    """Several rec models in one process, images interleaved (order rotated per image), so
    that load from other processes hits every variant alike. One JSONL per variant, in the
    format of rapidocr_baseline.py; a summary line per variant on stdout."""
    sys.path.insert(0, HERE)
    import cv2
    import rapidocr_baseline as rb
    cv2.setNumThreads(a.threads)
    images = rb.collect(a.inputs)[: a.limit or None]
    names, engines = [], []
    for spec in a.variants:
        name, _, path = spec.partition("=")
        rb.REC = os.path.abspath(path) if path else fp32_models()["rec"]
        eng = rb.build_engine(a.threads)
        rb.run_one(eng, images[0])  # warm-up, loads the sessions
        got = eng.text_rec.session.session._model_path
        assert os.path.realpath(got) == os.path.realpath(rb.REC), (got, rb.REC)
        names.append(name)
        engines.append(eng)
    os.makedirs(a.out, exist_ok=True)
    outs = [open(os.path.join(a.out, n + ".jsonl"), "w", encoding="utf-8") for n in names]
    secs = [[] for _ in names]
    for i, p in enumerate(images):
        order = [(i + k) % len(names) for k in range(len(names))]
        for j in order:
            s, lines = rb.run_one(engines[j], p)
            secs[j].append(s)
            outs[j].write(json.dumps({"image": p, "seconds": round(s, 4), "lines": lines},
                                     ensure_ascii=False) + "\n")
        print(f"[{i + 1}/{len(images)}] " + " ".join(
            f"{n}={secs[j][-1]:.2f}" for j, n in enumerate(names)), file=sys.stderr, flush=True)
    for f in outs:
        f.close()
    for j, n in enumerate(names):
        ratio = [x / y for x, y in zip(secs[0], secs[j])]
        from cpu import describe as describe_cpu
        print(json.dumps({"variant": n, "images": len(secs[j]), "cpu": describe_cpu(),
                          "median_s": round(statistics.median(secs[j]), 4),
                          "mean_s": round(statistics.fmean(secs[j]), 4),
                          "median_speedup_vs_first": round(statistics.median(ratio), 3)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calib")
    c.add_argument("--out", required=True)
    c.add_argument("--pages", type=int, default=16)
    c.add_argument("--seed", type=int, default=1234)
    c.add_argument("--threads", type=int, default=2)
    q = sub.add_parser("quantize")
    q.add_argument("--calib", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--max-batches", type=int, default=0,
                   help="calibration batches (default: all for MinMax, 10 for histograms)")
    q.add_argument("--variants", nargs="*", choices=list(VARIANTS))
    b = sub.add_parser("bench")
    b.add_argument("models", nargs="*", help="rec models (default: the fp32 one)")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--rounds", type=int, default=20)
    e = sub.add_parser("e2e", help="rapidocr_baseline.py with other model files; other "
                       "arguments go to it")
    e.add_argument("--rec")
    e.add_argument("--det")
    c2 = sub.add_parser("compare", help="interleaved end-to-end timing of several rec models")
    c2.add_argument("inputs", nargs="+")
    c2.add_argument("--variants", nargs="+", required=True, metavar="NAME=REC.onnx",
                    help="NAME= (empty path) is the fp32 recognizer; put it first")
    c2.add_argument("--out", required=True, help="directory for NAME.jsonl")
    c2.add_argument("--threads", type=int, default=2)
    c2.add_argument("--limit", type=int, default=0)
    a, rest = ap.parse_known_args()
    if a.cmd != "e2e" and rest:
        ap.error(f"unrecognized arguments: {rest}")
    {"calib": cmd_calib, "quantize": cmd_quantize, "bench": cmd_bench, "compare": cmd_compare}.get(
        a.cmd, lambda x: cmd_e2e(x, rest))(a)


if __name__ == "__main__":
    main()
