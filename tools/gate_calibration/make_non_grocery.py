#!/usr/bin/env python3
"""Collect photos of things that are not groceries, to choose the category gate's thresholds on
(issue 19): the sample photos that image libraries ship in their PyPI wheels — scikit-image's
data module, matplotlib's sample data, scikit-learn's sample images — and, from each, four
corner crops (70 % of each side) and a mirrored copy, as a phone would frame the same scene
differently. Synthetic test patterns (chessboards, phantoms, logos, colour charts) and
microscope or telescope images are left out: nobody photographs them in a store.

Writes OUT/<source>__<name>[__crop].jpg and OUT/sources.csv (file, library, original, kind).
Usage: make_non_grocery.py [OUT_DIR]   (pip install -r tools/requirements.txt scikit-image
matplotlib scikit-learn)
"""
import csv
import os
import sys

import cv2
import numpy as np

DEFAULT_OUT = os.path.expanduser("~/.cache/review-station/non-grocery")

# (library, file, what it shows)
PHOTOS = [
    ("skimage", "astronaut.png", "person"),
    ("skimage", "camera.png", "person with a camera"),
    ("skimage", "chelsea.png", "cat"),
    ("skimage", "coffee.png", "cup of coffee"),
    ("skimage", "motorcycle_left.png", "motorcycle in a room"),
    ("skimage", "motorcycle_right.png", "motorcycle in a room"),
    ("skimage", "rocket.jpg", "rocket launch"),
    ("skimage", "brick.png", "brick wall"),
    ("skimage", "grass.png", "grass"),
    ("skimage", "gravel.png", "gravel floor"),
    ("skimage", "coins.png", "coins"),
    ("skimage", "page.png", "printed page"),
    ("skimage", "text.png", "painted text"),
    ("skimage", "clock_motion.png", "wall clock"),
    ("skimage", "horse.png", "horse silhouette"),
    ("skimage", "moon.png", "moon surface"),
    ("matplotlib", "grace_hopper.jpg", "person"),
    ("sklearn", "china.jpg", "temple"),
    ("sklearn", "flower.jpg", "flower"),
]


def library_dir(name):
    if name == "skimage":
        import skimage
        return os.path.join(os.path.dirname(skimage.__file__), "data")
    if name == "matplotlib":
        import matplotlib
        return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")
    import sklearn
    return os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    rows = []
    for library, name, kind in PHOTOS:
        path = os.path.join(library_dir(library), name)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            sys.exit(f"cannot read {path}")
        h, w = img.shape[:2]
        ch, cw = int(h * 0.7), int(w * 0.7)
        variants = {
            "": img,
            "mirror": img[:, ::-1],
            "top-left": img[:ch, :cw],
            "top-right": img[:ch, w - cw:],
            "bottom-left": img[h - ch:, :cw],
            "bottom-right": img[h - ch:, w - cw:],
        }
        stem = f"{library}__{os.path.splitext(name)[0]}"
        for suffix, v in variants.items():
            file = f"{stem}__{suffix}.jpg" if suffix else f"{stem}.jpg"
            cv2.imwrite(os.path.join(out, file), np.ascontiguousarray(v), [cv2.IMWRITE_JPEG_QUALITY, 92])
            rows.append((file, library, name, kind))
    with open(os.path.join(out, "sources.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "library", "original", "kind"])
        writer.writerows(rows)
    print(f"{len(rows)} photos of {len(PHOTOS)} scenes in {out}")


if __name__ == "__main__":
    main()
