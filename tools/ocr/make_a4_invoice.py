#!/usr/bin/env python3
"""Render a realistic, deterministic A4 GST invoice page plus its ground truth.

    python3 tools/ocr/make_a4_invoice.py OUT.png [--dpi 200]

Writes OUT.png (RGB, white paper, anti-aliased DejaVu text, table rules) and OUT.json:

    {"image": "OUT.png", "width": W, "height": H, "dpi": D,
     "lines": [{"text": "...", "box": [x0, y0, x1, y1]}, ...]}

One ground-truth "line" per separately drawn text run (a table cell is its own line, as
are "Invoice No:" and its value when they sit in different columns). Boxes are the tight
ink bounds from Pillow's textbbox, in pixels, x1/y1 exclusive. Only ASCII text is drawn so
the OCR models' dictionaries are not the limiting factor.

Needs Pillow and a TrueType font: Debian `fonts-dejavu-core`
(/usr/share/fonts/truetype/dejavu/). Deterministic: fixed seed, no clock.
"""
import argparse
import json
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu"]
A4_MM = (210.0, 297.0)


def find_font(name):
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    sys.exit(f"font {name} not found in {FONT_DIRS}; apt-get install fonts-dejavu-core")


def inr(x):
    """Indian digit grouping: 123456.5 -> '1,23,456.50'."""
    s = f"{x:.2f}"
    whole, frac = s.split(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        whole = ",".join(groups + [tail])
    return f"{whole}.{frac}"


ONES = ("Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen "
        "Fourteen Fifteen Sixteen Seventeen Eighteen Nineteen").split()
TENS = "_ _ Twenty Thirty Forty Fifty Sixty Seventy Eighty Ninety".split()


def words(n):
    """Integer to Indian-system English words (lakh/crore)."""
    def below_1000(n):
        out = []
        if n >= 100:
            out += [ONES[n // 100], "Hundred"]
            n %= 100
        if n >= 20:
            out.append(TENS[n // 10])
            n %= 10
        if n:
            out.append(ONES[n])
        return out

    if n == 0:
        return "Zero"
    out = []
    for unit, name in ((10_000_000, "Crore"), (100_000, "Lakh"), (1000, "Thousand")):
        if n >= unit:
            out += below_1000(n // unit) + [name]
            n %= unit
    out += below_1000(n)
    return " ".join(out)


ITEMS = [
    ("A4 Copier Paper 75 GSM (500 sheets)", "48025690", "Ream"),
    ("Ball Pen Blue 0.7 mm (box of 50)", "96081019", "Box"),
    ("Stapler Heavy Duty No. 23/13", "84729010", "Pcs"),
    ("Box File Lever Arch, Foolscap", "48203000", "Pcs"),
    ("Whiteboard Marker Assorted (set of 4)", "96082000", "Set"),
    ("Toner Cartridge HP 88A Compatible", "84439959", "Pcs"),
    ("Desk Organiser Mesh, 5 Compartment", "39261019", "Pcs"),
    ("Sticky Notes 3x3 inch, Neon (12 pads)", "48209090", "Pack"),
    ("Calculator 12 Digit, Dual Power", "84701000", "Pcs"),
    ("Extension Board 6 Socket, 3 m", "85366990", "Pcs"),
    ("Printer Paper Roll 57 mm x 40 m", "48169090", "Roll"),
    ("Envelope Brown 10x12 inch (pack of 100)", "48171000", "Pack"),
]


class Page:
    def __init__(self, dpi):
        self.dpi = dpi
        self.w = round(A4_MM[0] / 25.4 * dpi)
        self.h = round(A4_MM[1] / 25.4 * dpi)
        self.img = Image.new("RGB", (self.w, self.h), "white")
        self.draw = ImageDraw.Draw(self.img)
        self.lines = []
        self._fonts = {}

    def px(self, mm):
        return round(mm / 25.4 * self.dpi)

    def font(self, pt, bold=False, mono=False):
        key = (pt, bold, mono)
        if key not in self._fonts:
            name = "DejaVuSansMono" if mono else "DejaVuSans"
            name += "-Bold.ttf" if bold else ".ttf"
            self._fonts[key] = ImageFont.truetype(find_font(name), round(pt / 72 * self.dpi))
        return self._fonts[key]

    def text(self, x_mm, y_mm, s, pt=9, bold=False, align="left", fill=(20, 20, 20)):
        """Draw s with its top (ascender line) at y_mm; x_mm is the left/right/centre edge."""
        f = self.font(pt, bold)
        x, y = self.px(x_mm), self.px(y_mm)
        anchor = {"left": "la", "right": "ra", "center": "ma"}[align]
        self.draw.text((x, y), s, font=f, fill=fill, anchor=anchor)
        x0, y0, x1, y1 = self.draw.textbbox((x, y), s, font=f, anchor=anchor)
        self.lines.append({"text": s, "box": [x0, y0, x1, y1]})

    def hline(self, x0, x1, y, width_mm=0.25, fill=(60, 60, 60)):
        self.draw.line([(self.px(x0), self.px(y)), (self.px(x1), self.px(y))],
                       fill=fill, width=max(1, self.px(width_mm)))

    def vline(self, x, y0, y1, width_mm=0.25, fill=(60, 60, 60)):
        self.draw.line([(self.px(x), self.px(y0)), (self.px(x), self.px(y1))],
                       fill=fill, width=max(1, self.px(width_mm)))

    def rect(self, x0, y0, x1, y1, fill):
        self.draw.rectangle([self.px(x0), self.px(y0), self.px(x1), self.px(y1)], fill=fill)


def render(dpi, seed=20240814):
    rng = random.Random(seed)
    p = Page(dpi)
    L, R = 15.0, 195.0  # margins (mm)

    # --- seller block (left) and title (right)
    y = 14.0
    p.text(L, y, "Shree Ganesh Office Supplies Pvt. Ltd.", pt=14, bold=True)
    y += 2.0
    for s in ("Plot No. 17, MIDC Industrial Area, Andheri (East)",
              "Mumbai, Maharashtra 400093, India",
              "Phone: +91 22 2836 4471   Email: accounts@shreeganesh.co.in"):
        y += 5.6
        p.text(L, y, s, pt=8.5)
    y += 5.6
    p.text(L, y, "GSTIN: 27AABCS1429B1Z5   PAN: AABCS1429B   CIN: U52100MH2009PTC194412", pt=8.5,
           bold=True)
    p.text(R, 14.0, "TAX INVOICE", pt=20, bold=True, align="right", fill=(25, 55, 110))
    p.text(R, 23.5, "Original for Recipient", pt=8, align="right", fill=(90, 90, 90))
    p.hline(L, R, 46.0, width_mm=0.5)

    # --- invoice meta (right) and buyer (left)
    y0 = 51.0
    p.text(L, y0, "Bill To:", pt=9, bold=True)
    buyer = ["Kaveri Software Solutions LLP",
             "3rd Floor, Prestige Tech Park, Marathahalli",
             "Bengaluru, Karnataka 560103",
             "GSTIN: 29AAKFK7733Q1ZD",
             "State Code: 29   Contact: Ms. R. Iyer"]
    for i, s in enumerate(buyer):
        p.text(L, y0 + 5.6 * (i + 1), s, pt=8.5, bold=(i == 0))
    meta = [("Invoice No:", "SGOS/2024-25/00417"),
            ("Invoice Date:", "14-08-2024"),
            ("Due Date:", "13-09-2024"),
            ("PO Number:", "KSS-PO-88213"),
            ("Place of Supply:", "Maharashtra (27)")]
    for i, (k, v) in enumerate(meta):
        yy = y0 + 5.6 * i
        p.text(118.0, yy, k, pt=8.5, bold=True)
        p.text(R, yy, v, pt=8.5, align="right")

    # --- line-item table
    cols = [  # (header, left mm, right mm, align)
        ("#", L, 23.0, "center"),
        ("Description", 23.0, 101.0, "left"),
        ("HSN", 101.0, 121.0, "center"),
        ("Qty", 121.0, 141.0, "right"),
        ("Unit Price", 141.0, 166.0, "right"),
        ("Amount", 166.0, R, "right"),
    ]
    ty = 89.0
    row_h = 7.6
    pad = 2.0

    def cell(ci, row_top, s, bold=False, pt=8.5):
        _, a, b, align = cols[ci]
        x = {"left": a + pad, "right": b - pad, "center": (a + b) / 2}[align]
        p.text(x, row_top + 2.0, s, pt=pt, bold=bold, align=align)

    p.rect(L, ty, R, ty + row_h, fill=(225, 232, 244))
    for ci, (h, *_rest) in enumerate(cols):
        cell(ci, ty, h, bold=True)
    subtotal = 0.0
    for r, (desc, hsn, unit) in enumerate(ITEMS):
        top = ty + row_h * (r + 1)
        if r % 2 == 1:
            p.rect(L, top, R, top + row_h, fill=(246, 246, 246))
        qty = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25])
        price = rng.choice([45, 68, 120, 149, 185, 240, 310, 365, 499, 720, 1150, 2480])
        price += rng.choice([0, 0.5, 0.75, 0.9])
        amount = qty * price
        subtotal += amount
        cell(0, top, str(r + 1))
        cell(1, top, desc)
        cell(2, top, hsn)
        cell(3, top, f"{qty} {unit}")
        cell(4, top, inr(price))
        cell(5, top, inr(amount))
    bottom = ty + row_h * (len(ITEMS) + 1)
    for k in range(len(ITEMS) + 2):
        p.hline(L, R, ty + row_h * k, width_mm=0.3 if k in (0, 1, len(ITEMS) + 1) else 0.15)
    for _, a, _b, _ in cols:
        p.vline(a, ty, bottom)
    p.vline(R, ty, bottom)

    # --- totals
    cgst = round(subtotal * 0.09, 2)
    sgst = round(subtotal * 0.09, 2)
    total = subtotal + cgst + sgst
    rounded = round(total)
    roundoff = rounded - total
    y = bottom + 5.0
    rows = [("Subtotal", inr(subtotal)),
            ("CGST @ 9%", inr(cgst)),
            ("SGST @ 9%", inr(sgst)),
            ("Round Off", ("-" if roundoff < 0 else "") + inr(abs(roundoff))),
            ("Total (INR)", inr(rounded))]
    for i, (k, v) in enumerate(rows):
        last = i == len(rows) - 1
        if last:
            p.hline(128.0, R, y - 1.8, width_mm=0.4)
        p.text(130.0, y, k, pt=10 if last else 9, bold=last)
        p.text(R - pad, y, v, pt=10 if last else 9, bold=last, align="right")
        y += 6.4 if not last else 7.0

    p.text(L, bottom + 5.0, f"Total Items: {len(ITEMS)}", pt=8.5)
    p.text(L, bottom + 11.0, "Amount in words:", pt=8.5, bold=True)
    p.text(L, bottom + 16.6, f"Rupees {words(rounded)} Only", pt=8.5)

    # --- bank details, terms, signature
    y = y + 3.0
    p.hline(L, R, y, width_mm=0.3)
    y += 4.0
    p.text(L, y, "Bank Details", pt=9, bold=True)
    for i, s in enumerate(["Bank: HDFC Bank Ltd., Andheri East Branch",
                           "A/c No: 50200031457789   IFSC: HDFC0000543",
                           "UPI: shreeganesh@hdfcbank"]):
        p.text(L, y + 5.6 * (i + 1), s, pt=8.5)
    p.text(R, y, "For Shree Ganesh Office Supplies Pvt. Ltd.", pt=8.5, bold=True, align="right")
    p.text(R, y + 18.0, "Authorised Signatory", pt=8.5, align="right")
    y += 25.0
    p.text(L, y, "Terms & Conditions", pt=9, bold=True)
    for i, s in enumerate(["1. Payment due within 30 days of the invoice date.",
                           "2. Interest @ 18% p.a. will be charged on overdue amounts.",
                           "3. Goods once sold will not be taken back or exchanged.",
                           "4. Subject to Mumbai jurisdiction only."]):
        p.text(L, y + 5.0 * (i + 1), s, pt=8)

    p.hline(L, R, 282.0, width_mm=0.2, fill=(150, 150, 150))
    p.text(105.0, 284.0, "This is a computer generated invoice.   Page 1 of 1", pt=7.5,
           align="center", fill=(100, 100, 100))
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output PNG path; ground truth goes to the same name .json")
    ap.add_argument("--dpi", type=int, default=200)
    a = ap.parse_args()
    p = render(a.dpi)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    p.img.save(a.out, optimize=False)
    gt_path = os.path.splitext(a.out)[0] + ".json"
    with open(gt_path, "w", encoding="utf-8") as f:
        json.dump({"image": os.path.basename(a.out), "width": p.w, "height": p.h, "dpi": a.dpi,
                   "lines": p.lines}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {a.out} ({p.w}x{p.h}) and {gt_path} ({len(p.lines)} lines)", file=sys.stderr)


if __name__ == "__main__":
    main()
