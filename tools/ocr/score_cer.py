#!/usr/bin/env python3
"""Character error rate of OCR predictions against SROIE or the synthetic A4 invoice.

    python3 tools/ocr/score_cer.py PRED.jsonl --sroie DIR   [--worst K] [--per-image]
    python3 tools/ocr/score_cer.py PRED.jsonl --a4 GT.json  [--worst K]

The one scorer for both RapidOCR's and the Rust pipeline's output. Standard library only.

PRED.jsonl: one JSON object per image, {"image": path, "lines": [{"box": B, "text": str, ...}]}
(other keys ignored). B may be any polygon [[x,y], ...] or a flat [x0,y0,x1,y1]; only its
axis-aligned bounds are used.

Ground truth
  --sroie DIR: DIR/box/<stem>.csv for each predicted image DIR/img/<stem>.jpg (matched by
      file stem); rows `x1,y1,x2,y2,x3,y3,x4,y4,text` (text may contain commas; UTF-8 with or
      without BOM, else latin-1; CRLF ok). Only images present in PRED are scored (so a
      subset run scores that subset); predicted images with no GT file are reported and
      skipped. GT rows whose text is empty after stripping are dropped.
  --a4 GT.json: {"image": name, "lines": [{"text", "box": [x0,y0,x1,y1]}]} from
      make_a4_invoice.py; PRED must hold one record, or one whose image basename equals
      GT's "image".

Matching, per image: every (GT line, predicted line) pair with axis-aligned IoU > 0 is a
candidate; candidates are taken greedily by descending IoU (ties: lower GT index, then lower
prediction index), each GT line and each predicted line used at most once.

Metrics (texts compared case-sensitively after stripping surrounding whitespace):
  cer          = sum edit_distance(gt, matched_pred or "") / sum len(gt), over all GT lines
  cer_matched  = the same sum over matched GT lines only
  match_share  = matched GT lines / GT lines
  also: exact-line share, counts, unmatched predictions (false positives are not in CER).
Levenshtein distance, unit costs, on Unicode code points. Prints one JSON object.
Options that loosen the comparison (both off by default; the default is the reference setting):
--collapse-spaces folds runs of internal whitespace to one space on both sides;
--ignore-case upper-cases both sides. SROIE's box/ transcriptions are entirely upper case
while receipts print mixed case, so the case-sensitive SROIE CER is dominated by case;
report --ignore-case alongside it. (Upper-casing is per code point, str.upper.)
"""
import argparse
import json
import os
import sys


def levenshtein(a, b):
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def aabb(box):
    """Axis-aligned bounds (x0, y0, x1, y1) of a polygon or flat [x0,y0,x1,y1]."""
    if box and not isinstance(box[0], (list, tuple)):
        flat = [float(v) for v in box]
        if len(flat) == 4:
            x0, y0, x1, y1 = flat
            return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
        pts = list(zip(flat[0::2], flat[1::2]))
    else:
        pts = [(float(p[0]), float(p[1])) for p in box]
    if not pts:
        return 0.0, 0.0, 0.0, 0.0
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(gt_boxes, pred_boxes):
    """Greedy one-to-one matching by IoU; returns {gt_index: pred_index}."""
    cands = []
    for gi, g in enumerate(gt_boxes):
        for pi, p in enumerate(pred_boxes):
            v = iou(g, p)
            if v > 0:
                cands.append((-v, gi, pi))
    cands.sort()
    used_g, used_p, out = set(), set(), {}
    for _, gi, pi in cands:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out[gi] = pi
    return out


def decode_text_file(path):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_sroie_gt(csv_path):
    lines = []
    for row in decode_text_file(csv_path).splitlines():
        row = row.lstrip("\ufeff")
        if not row.strip():
            continue
        parts = row.split(",", 8)
        if len(parts) < 9:
            print(f"warning: {csv_path}: short row {row!r}", file=sys.stderr)
            continue
        try:
            coords = [float(v) for v in parts[:8]]
        except ValueError:
            print(f"warning: {csv_path}: bad coords {row!r}", file=sys.stderr)
            continue
        text = parts[8].strip()
        if text:
            lines.append({"text": text, "box": coords})
    return lines


def load_preds(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "image" not in rec or "lines" not in rec:
                sys.exit(f"{path}:{n}: record lacks 'image' or 'lines'")
            recs.append(rec)
    return recs


def stem(p):
    return os.path.splitext(os.path.basename(p))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pred", help="predictions, JSON lines")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--sroie", metavar="DIR", help="SROIE split dir holding box/NNN.csv")
    g.add_argument("--a4", metavar="GT.json", help="ground truth from make_a4_invoice.py")
    ap.add_argument("--collapse-spaces", action="store_true",
                    help="fold internal whitespace runs to one space before comparing")
    ap.add_argument("--ignore-case", action="store_true",
                    help="compare upper-cased texts (SROIE's box/ labels are all upper case)")
    ap.add_argument("--worst", type=int, default=0, metavar="K",
                    help="also list the K GT lines with the most edits")
    ap.add_argument("--per-image", action="store_true", help="include per-image CER")
    a = ap.parse_args()

    def norm(s):
        s = (s or "").strip()
        if a.collapse_spaces:
            s = " ".join(s.split())
        return s.upper() if a.ignore_case else s

    preds = load_preds(a.pred)
    pairs = []  # (image id, gt lines, pred lines)
    missing_gt = []
    if a.sroie:
        seen = set()
        for rec in preds:
            s = stem(rec["image"])
            if s in seen:
                sys.exit(f"image {s} appears twice in {a.pred}")
            seen.add(s)
            csv_path = os.path.join(a.sroie, "box", s + ".csv")
            if not os.path.exists(csv_path):
                missing_gt.append(rec["image"])
                continue
            pairs.append((s, load_sroie_gt(csv_path), rec["lines"]))
    else:
        gt = json.load(open(a.a4, encoding="utf-8"))
        if len(preds) == 1:
            rec = preds[0]
        else:
            hits = [r for r in preds if os.path.basename(r["image"]) == gt.get("image")]
            if len(hits) != 1:
                sys.exit(f"{a.pred}: need exactly one record for image {gt.get('image')!r}")
            rec = hits[0]
        pairs.append((stem(rec["image"]), gt["lines"], rec["lines"]))

    tot = {"gt_lines": 0, "gt_chars": 0, "edits": 0, "matched_lines": 0,
           "matched_chars": 0, "matched_edits": 0, "exact": 0, "pred_lines": 0}
    per_image, worst = [], []
    for img, gts, prs in pairs:
        gts = [x for x in gts if norm(x["text"])]
        gb = [aabb(x["box"]) for x in gts]
        pb = [aabb(x["box"]) for x in prs]
        m = match(gb, pb)
        e_img = c_img = 0
        for gi, x in enumerate(gts):
            t = norm(x["text"])
            pi = m.get(gi)
            p = norm(prs[pi].get("text", "")) if pi is not None else ""
            e = levenshtein(t, p)
            tot["gt_lines"] += 1
            tot["gt_chars"] += len(t)
            tot["edits"] += e
            tot["exact"] += (e == 0)
            if pi is not None:
                tot["matched_lines"] += 1
                tot["matched_chars"] += len(t)
                tot["matched_edits"] += e
            e_img += e
            c_img += len(t)
            if a.worst and e:
                worst.append((e, img, t, p if pi is not None else None))
        tot["pred_lines"] += len(prs)
        per_image.append({"image": img, "gt_lines": len(gts), "pred_lines": len(prs),
                          "matched": len(m), "cer": round(e_img / c_img, 5) if c_img else None})

    def ratio(n, d):
        return round(n / d, 5) if d else None

    out = {
        "mode": "sroie" if a.sroie else "a4",
        # the CPU each prediction file was made on, as ocr_eval and rapidocr_baseline.py record it
        "cpu": sorted({r.get("cpu", "not recorded") for r in preds}),
        "pred": a.pred,
        "images": len(pairs),
        "cer": ratio(tot["edits"], tot["gt_chars"]),
        "cer_matched": ratio(tot["matched_edits"], tot["matched_chars"]),
        "match_share": ratio(tot["matched_lines"], tot["gt_lines"]),
        "exact_line_share": ratio(tot["exact"], tot["gt_lines"]),
        "gt_lines": tot["gt_lines"],
        "gt_chars": tot["gt_chars"],
        "edits": tot["edits"],
        "matched_lines": tot["matched_lines"],
        "pred_lines": tot["pred_lines"],
        "unmatched_pred_lines": tot["pred_lines"] - tot["matched_lines"],
        "collapse_spaces": a.collapse_spaces,
        "ignore_case": a.ignore_case,
    }
    if missing_gt:
        out["images_without_gt"] = missing_gt
    if a.per_image:
        out["per_image"] = per_image
    if a.worst:
        worst.sort(key=lambda w: (-w[0], w[1], w[2]))
        out["worst"] = [{"edits": e, "image": i, "gt": t, "pred": p}
                        for e, i, t, p in worst[:a.worst]]
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
