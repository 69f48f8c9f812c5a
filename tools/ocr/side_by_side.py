#!/usr/bin/env python3
"""Station OCR against RapidOCR 3.10.0, side by side in one run, on the same images.

    python3 tools/ocr/side_by_side.py [--threads 2] [--sroie DIR] [--a4 PNG] [--out DIR]

Builds nothing: it runs the release `ocr_eval` example (build it first:
`cargo build --release -p engine --example ocr_eval`) and tools/ocr/rapidocr_baseline.py (its
venv: tools/ocr/README.md) one after the other on each input, scores both with
tools/ocr/score_cer.py, and prints seconds per page (median), the station's model time and
overhead, CER (ignoring case for SROIE, whose labels are upper case) and the speed ratio.
Default inputs: ../shared/datasets/sroie-dev and the A4 invoice of make_a4_invoice.py.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

from cpu import describe as describe_cpu

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def station_binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/review-station/target")
    for t in (target, os.path.join(REPO, "target")):
        path = os.path.join(t, "release", "examples", "ocr_eval")
        if os.path.exists(path):
            return path
    sys.exit("build the station's ocr_eval first: cargo build --release -p engine --example ocr_eval")


def run_station(inputs, threads, out, repeat):
    # one process, the image given `repeat` times, as rapidocr_baseline.py --repeat does (both
    # warm their sessions up first); the scored output keeps one record per image
    with open(out + ".all", "w") as f:
        proc = subprocess.run([station_binary(), "--threads", str(threads), *(inputs * repeat)],
                              stdout=f, stderr=subprocess.PIPE, text=True, check=True)
    rows = [json.loads(line) for line in open(out + ".all")]
    seen, kept = set(), []
    for r in rows:
        if r["image"] not in seen:
            seen.add(r["image"])
            kept.append(r)
    with open(out, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    stages = re.search(r"detection ([\d.]+), angle ([\d.]+), recognition ([\d.]+)", proc.stderr)
    return (statistics.median(r["seconds"] for r in rows), statistics.median(r["model_seconds"] for r in rows),
            stages.groups() if stages else None)


def run_rapidocr(inputs, threads, out, repeat):
    subprocess.run([sys.executable, os.path.join(HERE, "rapidocr_baseline.py"), "--threads", str(threads),
                    "--repeat", str(repeat), "--json-out", out, *inputs],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return statistics.median(json.loads(line)["seconds"] for line in open(out))


def cer(pred, args):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "score_cer.py"), pred, *args],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)["cer"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sroie", default=os.path.join(REPO, "..", "shared", "datasets", "sroie-dev"))
    p.add_argument("--a4", default=os.path.expanduser("~/.cache/review-station/ocr-bench/a4_invoice.png"))
    p.add_argument("--out", default=os.path.expanduser("~/.cache/review-station/ocr-bench/side-by-side"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cases = []
    if os.path.isdir(a.sroie):
        cases.append(("SROIE receipts", [os.path.join(a.sroie, "img")], ["--sroie", a.sroie, "--ignore-case"], 1))
    if os.path.exists(a.a4):
        cases.append(("A4 invoice", [a.a4], ["--a4", os.path.splitext(a.a4)[0] + ".json"], 5))
    print(f"CPU: {describe_cpu()}, {a.threads} threads\n")
    print(f"| input | RapidOCR 3.10.0 s/page | station s/page | speed-up | station models (det/angle/rec) | "
          f"overhead | CER RapidOCR | CER station |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for name, inputs, score, repeat in cases:
        tag = name.split()[0].lower()
        st_out = os.path.join(a.out, f"station_{tag}.jsonl")
        ro_out = os.path.join(a.out, f"rapidocr_{tag}.jsonl")
        st, model, stages = run_station(inputs, a.threads, st_out, repeat)
        ro = run_rapidocr(inputs, a.threads, ro_out, repeat)
        stages_text = "/".join(stages) if stages else "-"
        print(f"| {name} | {ro:.3f} | {st:.3f} | {ro / st:.2f}x | {model:.3f} ({stages_text}) | {st - model:.3f} | "
              f"{cer(ro_out, score):.2%} | {cer(st_out, score):.2%} |", flush=True)


if __name__ == "__main__":
    main()
