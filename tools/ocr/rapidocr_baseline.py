#!/usr/bin/env python3
"""RapidOCR 3.10.0 reference run (PP-OCRv6 small det/rec + mobile v2.0 cls) for speed/accuracy
comparison with the Rust OCR pipeline.

    ~/.cache/review-station/ocr-venv/bin/python tools/ocr/rapidocr_baseline.py \
        [--threads N] [--json-out F] IMAGE_OR_DIR...

(The venv is made from tools/ocr/requirements.txt; when run with another interpreter
that lacks rapidocr, the script re-executes itself with that venv's python if it exists.)

Models: the three ONNX files shipped inside the rapidocr wheel, set explicitly by path
(Det/Rec/Cls.model_path) so that no default-resolution or download logic is involved:
    PP-OCRv6_det_small.onnx, PP-OCRv6_rec_small.onnx, ch_ppocr_mobile_v2.0_cls_mobile.onnx
Everything else is RapidOCR's default config.yaml (printed to stderr at start): notably
Global.max_side_len=2000 / min_side_len=30 (pre-resize), Det.limit_side_len=736 with
limit_type=min (det input: shorter side raised to >=736, never lowered; both sides rounded
to a multiple of 32), Det thresh=0.3 box_thresh=0.5 unclip_ratio=1.6 use_dilation=true,
Cls batch 6 thresh 0.9, Rec shape 3x48x320 batch 6, Global.text_score=0.5.

Every ONNX Runtime session gets intra_op_num_threads=N (inter_op too; sequential
execution is ORT's default); cv2.setNumThreads(N) caps OpenCV's pool as well.

--no-cls turns the classifier off (Global.use_cls=false), for diagnosis only.

One untimed warm-up call on the first image, then each image is timed end to end:
engine(path) (file read + decode + det + cls + rec) plus conversion to plain lists.
Output: one JSON line per image on stdout (or --json-out F):
    {"image": path, "seconds": s, "lines": [{"box": [[x,y]x4], "text": str, "score": float}]}
--repeat R times each image R times and reports the median (use it for a single A4 page).
Summary (count, median/mean/min/max of the per-image seconds) goes to stderr.
"""
import argparse
import importlib.metadata
import json
import os
import statistics
import sys
import time

from cpu import describe as describe_cpu

VENV = os.path.expanduser("~/.cache/review-station/ocr-venv")
VENV_PY = os.path.join(VENV, "bin", "python")
IMG_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}

try:
    import cv2
    import rapidocr
    from rapidocr import RapidOCR
except ImportError:
    if os.path.exists(VENV_PY) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("rapidocr not importable; python3 -m venv ~/.cache/review-station/ocr-venv && "
             "~/.cache/review-station/ocr-venv/bin/pip install -r tools/ocr/requirements.txt")

MODEL_DIR = os.path.join(os.path.dirname(rapidocr.__file__), "models")
DET = os.path.join(MODEL_DIR, "PP-OCRv6_det_small.onnx")
REC = os.path.join(MODEL_DIR, "PP-OCRv6_rec_small.onnx")
CLS = os.path.join(MODEL_DIR, "ch_ppocr_mobile_v2.0_cls_mobile.onnx")


def collect(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p)
                          if os.path.splitext(f)[1].lower() in IMG_EXT)
        else:
            out.append(p)
    return out


def build_engine(threads, use_cls=True):
    for p in (DET, REC, CLS):
        if not os.path.exists(p):
            sys.exit(f"missing model {p}")
    params = {
        "Global.log_level": "warning",
        "Global.use_cls": use_cls,
        "Det.model_path": DET,
        "Rec.model_path": REC,
        "Cls.model_path": CLS,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": threads,
    }
    if threads > (os.cpu_count() or 1):
        print(f"warning: RapidOCR ignores thread counts above os.cpu_count()="
              f"{os.cpu_count()}; ORT will use its default", file=sys.stderr)
    return RapidOCR(params=params)


def describe(engine, threads):
    c = engine.cfg
    g, d, r, k = c.Global, c.Det, c.Rec, c.Cls
    return {
        "rapidocr": importlib.metadata.version("rapidocr"),
        "onnxruntime": importlib.metadata.version("onnxruntime"),
        "threads": threads,
        "det_model": os.path.basename(str(d.model_path)),
        "rec_model": os.path.basename(str(r.model_path)),
        "cls_model": os.path.basename(str(k.model_path)),
        "global": {"max_side_len": g.max_side_len, "min_side_len": g.min_side_len,
                   "text_score": g.text_score, "use_cls": g.use_cls,
                   "use_vertical_padding": g.use_vertical_padding},
        "det": {"limit_side_len": d.limit_side_len, "limit_type": str(d.limit_type),
                "thresh": d.thresh, "box_thresh": d.box_thresh,
                "unclip_ratio": d.unclip_ratio, "use_dilation": d.use_dilation,
                "score_mode": str(d.score_mode)},
        "cls": {"batch": k.cls_batch_num, "thresh": k.cls_thresh,
                "shape": list(engine.text_cls.cls_image_shape) if engine.text_cls else None,
                "used": bool(g.use_cls)},
        "rec": {"batch": r.rec_batch_num, "shape": list(r.rec_img_shape)},
    }


def run_one(engine, path):
    t0 = time.perf_counter()
    res = engine(path)
    lines = []
    boxes = getattr(res, "boxes", None)
    txts = getattr(res, "txts", None)
    if boxes is not None and txts is not None:
        for box, txt, score in zip(boxes, txts, res.scores):
            lines.append({"box": [[round(float(x), 1), round(float(y), 1)] for x, y in box],
                          "text": txt, "score": round(float(score), 4)})
    return time.perf_counter() - t0, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", help="image files and/or directories of images")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads per ORT session")
    ap.add_argument("--no-cls", action="store_true",
                    help="skip the 0/180 degree line classifier (diagnostic; default runs it)")
    ap.add_argument("--repeat", type=int, default=1, metavar="R",
                    help="time each image R times; 'seconds' is the median of the R runs")
    ap.add_argument("--json-out", help="write the JSON lines here instead of stdout")
    a = ap.parse_args()

    images = collect(a.inputs)
    if not images:
        sys.exit("no images")
    cv2.setNumThreads(a.threads)
    engine = build_engine(a.threads, use_cls=not a.no_cls)

    run_one(engine, images[0])  # warm-up: loads the three sessions, first-run allocations
    info = describe(engine, a.threads)
    # check the live ORT sessions: intended model files and thread counts
    sessions = {}
    for name, want in (("text_det", DET), ("text_rec", REC), ("text_cls", CLS)):
        if name == "text_cls" and a.no_cls:
            continue
        m = getattr(engine, name, None)
        if m is None:
            sys.exit(f"{name} was not loaded by the warm-up run")
        sess = m.session.session
        got = getattr(sess, "_model_path", None)
        if got is None or os.path.realpath(got) != os.path.realpath(want):
            sys.exit(f"{name} uses {got}, expected {want}")
        so = sess.get_session_options()
        sessions[name] = {"model": os.path.basename(got),
                          "intra_op_num_threads": so.intra_op_num_threads,
                          "inter_op_num_threads": so.inter_op_num_threads}
    info["sessions"] = sessions
    info["cpu"] = cpu = describe_cpu()
    print(json.dumps({"config": info}), file=sys.stderr)

    out = open(a.json_out, "w", encoding="utf-8") if a.json_out else sys.stdout
    secs = []
    try:
        for i, p in enumerate(images):
            runs = [run_one(engine, p) for _ in range(max(1, a.repeat))]
            s, lines = statistics.median(r[0] for r in runs), runs[-1][1]
            secs.append(s)
            out.write(json.dumps({"image": p, "seconds": round(s, 4), "cpu": cpu, "lines": lines},
                                 ensure_ascii=False) + "\n")
            out.flush()
            print(f"[{i + 1}/{len(images)}] {os.path.basename(p)}: {s:.3f} s, "
                  f"{len(lines)} lines", file=sys.stderr)
    finally:
        if out is not sys.stdout:
            out.close()
    summary = {"images": len(secs), "threads": a.threads, "repeat": a.repeat,
               "median_s": round(statistics.median(secs), 4),
               "mean_s": round(statistics.fmean(secs), 4),
               "min_s": round(min(secs), 4), "max_s": round(max(secs), 4),
               "total_s": round(sum(secs), 3), "cpu": cpu}
    print(json.dumps({"summary": summary}), file=sys.stderr)


if __name__ == "__main__":
    main()
