#!/usr/bin/env python3
"""Generate the document test fixtures in tests/fixtures/documents/ (the outputs are committed).

    python3 tools/doc_fixtures/make_doc_fixtures.py [OUT_DIR]

Default OUT_DIR: <repo>/tests/fixtures/documents. Needs reportlab, pypdfium2, Pillow and numpy (see
README.md in this folder for the pinned versions) and the DejaVu TrueType fonts in
/usr/share/fonts/truetype/dejavu (Debian `fonts-dejavu-core` and `fonts-dejavu-extra`, 2.37). There
is no font fallback: a missing font is an error, because another font would give other bytes.

Deterministic: reportlab runs with invariant=1 (fixed dates and document ids), the scan effects
(rotation angle, noise) come from numpy generators seeded per file, PDFium renders the pages and
Pillow encodes the JPEGs with fixed settings, so a rerun with the same library and font versions
reproduces the same bytes.

Every invoice is one page with a real text layer (`NAME.pdf`), a scanned-looking raster of the
same page (`NAME.scan.jpg`: PDFium render at 150 dpi, grayscale, rotated 0.4-1.2 degrees with white
fill, Gaussian blur radius 0.6, Gaussian noise sigma 6, JPEG quality 65) and the ground truth
(`NAME.truth.json`, with the checks that must fail computed from the printed numbers).

Files written (each invoice NAME as NAME.pdf, NAME.scan.jpg and NAME.truth.json):
  gst-invoice       Indian intrastate tax invoice (CGST 9 % + SGST 9 %), DejaVu Sans, 4 items
                    (one description wraps onto a second line), A4
  igst-invoice      Indian interstate tax invoice (IGST 18 %), DejaVu Serif, ruled table, 3 items
  vat-invoice       German-style invoice with English labels, decimal commas, "2.469,00 €" total,
                    date 05.03.2024 (day/month order ambiguous), DejaVu Sans Condensed
  receipt           80 mm wide Malaysian shop receipt, DejaVu Sans Mono
  bad-arithmetic    intrastate invoice whose items do not sum to the printed subtotal (off by
                    100.00) and whose CGST (9 %) and SGST (8 %) differ
  missing-total     interstate invoice (the igst-invoice layout) without a total row
  foreign-language  Russian invoice ("СЧЁТ-ФАКТУРА № 42"), DejaVu Sans
  judgment.pdf, judgment.truth.json
                    4-page High Court judgment, DejaVu Serif 11 pt, justified, text layer
  judgment-scan.pdf, judgment-scan.truth.json
                    the same 4 pages as 150 dpi grayscale JPEG scans, no text layer (the truth
                    is a copy of judgment.truth.json)
  long-legal.pdf, long-legal.truth.json
                    300 A4 pages of generated legal prose (Helvetica: built in, not embedded),
                    a chapter heading every few pages; the truth gives the page count and headings
"""
import io
import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "documents"
SEED = 20240814
PAGE_W, PAGE_H = A4

# Binary streams (no ASCII85 wrapping): smaller files, and the scans' JPEGs are stored as-is.
rl_config.useA85 = 0

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "Sans": "DejaVuSans.ttf",
    "Sans-Bold": "DejaVuSans-Bold.ttf",
    "Cond": "DejaVuSansCondensed.ttf",
    "Cond-Bold": "DejaVuSansCondensed-Bold.ttf",
    "Serif": "DejaVuSerif.ttf",
    "Serif-Bold": "DejaVuSerif-Bold.ttf",
    "Serif-Italic": "DejaVuSerif-Italic.ttf",
    "Mono": "DejaVuSansMono.ttf",
    "Mono-Bold": "DejaVuSansMono-Bold.ttf",
}

CENT = Decimal("0.01")
# currencies the extractor recognises whose countries write numeric dates day first
DAY_FIRST_CURRENCIES = {"MYR", "INR", "EUR", "GBP", "SGD"}


def register_fonts():
    for name, file in FONT_FILES.items():
        path = FONT_DIR / file
        if not path.exists():
            sys.exit(f"missing font {path} "
                     "(install Debian fonts-dejavu-core and fonts-dejavu-extra)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def width(text, font, size):
    return pdfmetrics.stringWidth(text, font, size)


def new_canvas(buf, title, pagesize=A4):
    # invariant=1: fixed creation date and document id, so the bytes are reproducible.
    c = canvas.Canvas(buf, pagesize=pagesize, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("tools/doc_fixtures/make_doc_fixtures.py")
    return c


# ---------------------------------------------------------------------------------------------
# Numbers, tax ids


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def pct(base: Decimal, rate: str) -> Decimal:
    return money(base * Decimal(rate) / 100)


def fmt_inr(d: Decimal) -> str:
    """Indian digit grouping: 1,23,456.00."""
    sign = "-" if d < 0 else ""
    whole, frac = f"{abs(d):.2f}".split(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        whole = ",".join(groups + [tail])
    return f"{sign}{whole}.{frac}"


def fmt_eu(d: Decimal) -> str:
    """German style: 1.234,50."""
    return f"{d:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_ru(d: Decimal) -> str:
    """Russian style with a plain space as thousands separator: 15 300,00."""
    return f"{d:,.2f}".replace(",", " ").replace(".", ",")


def fmt_plain(d: Decimal) -> str:
    return f"{d:.2f}"


GST_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_check_char(first14: str) -> str:
    total = 0
    for i, ch in enumerate(first14):
        product = GST_ALPHABET.index(ch) * (1 if i % 2 == 0 else 2)
        total += product // 36 + product % 36
    return GST_ALPHABET[(36 - total % 36) % 36]


def gstin(state: int, pan: str, entity: str = "1") -> str:
    assert re.fullmatch(r"[A-Z]{5}[0-9]{4}[A-Z]", pan) and entity in "123456789"
    first14 = f"{state:02d}{pan}{entity}Z"
    return first14 + gstin_check_char(first14)


def gstin_valid(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]", value):
        return False
    return gstin_check_char(value[:14]) == value[14]


def inn10(first9: str) -> str:
    """Russian 10-digit INN with its check digit."""
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(int(d) * w for d, w in zip(first9, weights)) % 11 % 10
    return first9 + str(check)


ONES = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven",
        "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def words_below_100(n: int) -> str:
    if n < 20:
        return ONES[n]
    return TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")


def words_below_1000(n: int) -> str:
    parts = []
    if n >= 100:
        parts.append(ONES[n // 100] + " Hundred")
    if n % 100:
        parts.append(words_below_100(n % 100))
    return " ".join(parts)


def rupees_in_words(d: Decimal) -> str:
    """Indian numbering (lakh, crore): 'Rupees One Lakh Three Thousand ... and Sixty Paise Only'."""
    rupees, paise = int(d), int((d - int(d)) * 100)
    parts = []
    for unit, size in (("Crore", 10**7), ("Lakh", 10**5), ("Thousand", 10**3)):
        if rupees >= size:
            parts.append(words_below_1000(rupees // size) + " " + unit)
            rupees %= size
    if rupees:
        parts.append(words_below_1000(rupees))
    text = "Rupees " + " ".join(parts)
    if paise:
        text += " and " + words_below_100(paise) + " Paise"
    return text + " Only"


# ---------------------------------------------------------------------------------------------
# Invoice data and ground truth


def items(rows):
    """rows: (description, hsn or None, quantity, unit price) -> dicts with the computed amount."""
    out = []
    for description, hsn, qty, rate in rows:
        rate = money(rate)
        out.append({"description": description, "hsn_sac": hsn, "quantity": str(qty),
                    "unit_price": rate, "amount": money(rate * qty)})
    return out


def date_is_ambiguous(day: int, month: int) -> bool:
    """A numeric date whose day and month could be swapped and still be a valid, different date."""
    return day <= 12 and month <= 12 and day != month


def invoice_truth(inv) -> dict:
    """The truth object; expected_failed_checks is computed honestly from the printed numbers."""
    subtotal, total, taxes = inv["subtotal"], inv["total"], inv["taxes"]
    lines_sum = sum((it["amount"] for it in inv["items"]), Decimal("0"))
    failed = []
    if subtotal is not None:
        if lines_sum != subtotal:
            failed.append("line_items_sum")
    elif total is not None and not taxes and lines_sum != total:
        failed.append("line_items_sum")
    if subtotal is not None and total is not None:
        if abs(subtotal + sum((t["amount"] for t in taxes), Decimal("0")) - total) > CENT:
            failed.append("totals_add_up")
    by_kind = {t["kind"]: t for t in taxes}
    if "CGST" in by_kind and "SGST" in by_kind:
        cg, sg = by_kind["CGST"], by_kind["SGST"]
        if cg["amount"] != sg["amount"] or cg["rate_percent"] != sg["rate_percent"]:
            failed.append("cgst_equals_sgst")
    if total is None:
        failed.append("total_labelled")
    # an ambiguous day/month is settled by the currency when the extractor reads it and the
    # countries paying in it write the day first (the extractor's `order_where_paid_in`)
    if inv["date_ambiguous"] and inv["currency"] not in DAY_FIRST_CURRENCIES:
        failed.append("date_order_unambiguous")
    gstins = [x for x in (inv["seller_tax_id"], inv["buyer_tax_id"])
              if x and re.fullmatch(r"[0-9]{2}[A-Z0-9]{13}", x)]
    if any(not gstin_valid(x) for x in gstins):
        failed.append("gstin_checksum")

    def s(d):
        return None if d is None else fmt_plain(d)

    return {
        "kind": "invoice",
        "number": inv["number"],
        "date_iso": inv["date_iso"],
        "date_printed": inv["date_printed"],
        "date_ambiguous": inv["date_ambiguous"],
        "seller": inv["seller"],
        "seller_tax_id": inv["seller_tax_id"],
        "buyer": inv["buyer"],
        "buyer_tax_id": inv["buyer_tax_id"],
        "currency": inv["currency"],
        "line_items": [{"description": it["description"], "hsn_sac": it["hsn_sac"],
                        "quantity": it["quantity"], "unit_price": s(it["unit_price"]),
                        "amount": s(it["amount"])} for it in inv["items"]],
        "subtotal": s(subtotal),
        "taxes": [{"kind": t["kind"], "rate_percent": t["rate_percent"], "amount": s(t["amount"])}
                  for t in taxes],
        "total": s(total),
        "expected_failed_checks": failed,
    }


def gst_invoice_data():
    its = items([
        ("Stainless steel ball bearing 6204-2RS, sealed, heavy duty", "8482", 40, "185.50"),
        ("Hydraulic hose assembly 1/2 inch x 2 m", "4009", 12, "1250.00"),
        ("Pneumatic cylinder 63 mm bore", "8412", 6, "8750.00"),
        ("Machine installation and commissioning", "9987", 1, "12500.00"),
    ])
    subtotal = sum((it["amount"] for it in its), Decimal("0"))
    cgst = sgst = pct(subtotal, "9")
    return {
        "number": "SIS/24-25/0173", "date_iso": "2024-08-14", "date_printed": "14/08/2024",
        "date_ambiguous": date_is_ambiguous(14, 8),
        "seller": "Shakti Industrial Supplies Pvt Ltd",
        "seller_address": ["Plot No. 41, 2nd Main Road, Peenya Industrial Area",
                           "Bengaluru 560058, Karnataka"],
        "seller_tax_id": gstin(29, "AAKCS4821M"),
        "buyer": "Vasundhara Engineering Works",
        "buyer_address": ["No. 7, 3rd Cross, Bommasandra Industrial Area",
                          "Anekal Taluk, Bengaluru 560099"],
        "buyer_tax_id": gstin(29, "AGHFV5307K"),
        "currency": "INR", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "CGST", "rate_percent": "9", "amount": cgst},
                  {"kind": "SGST", "rate_percent": "9", "amount": sgst}],
        "total": subtotal + cgst + sgst,
    }


def igst_invoice_data():
    its = items([
        ("HDPE woven sack 50 kg, laminated", "6305", 2000, "14.75"),
        ("LDPE liner roll 1000 mm x 60 micron", "3920", 150, "212.40"),
        ("PP strapping roll 12 mm", "3920", 40, "865.00"),
    ])
    subtotal = sum((it["amount"] for it in its), Decimal("0"))
    igst = pct(subtotal, "18")
    return {
        "number": "SPL/2023-24/0918", "date_iso": "2024-01-19", "date_printed": "19-Jan-2024",
        "date_ambiguous": False,
        "seller": "Sahyadri Polymers LLP",
        "seller_address": ["Gat No. 214, Chakan MIDC Phase II", "Pune 410501, Maharashtra"],
        "seller_tax_id": gstin(27, "ADWFS6650Q"),
        "buyer": "Kutch Agro Packaging Pvt Ltd",
        "buyer_address": ["Survey No. 88, GIDC Estate", "Gandhidham 370201, Gujarat"],
        "buyer_tax_id": gstin(24, "AAFCK1189D"),
        "place_of_supply": "Gujarat (24)",
        "currency": "INR", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "IGST", "rate_percent": "18", "amount": igst}],
        "total": subtotal + igst,
    }


def missing_total_data():
    its = items([
        ("Black pepper, garbled, 25 kg bag", "0904", 4, "14250.00"),
        ("Cardamom, green, 8 mm, 1 kg pack", "0908", 10, "2880.00"),
        ("Turmeric fingers, 50 kg bag", "0910", 2, "6400.00"),
    ])
    subtotal = sum((it["amount"] for it in its), Decimal("0"))
    igst = pct(subtotal, "5")
    return {
        "number": "CSE/23-24/2217", "date_iso": "2024-02-16", "date_printed": "16-Feb-2024",
        "date_ambiguous": False,
        "seller": "Coromandel Spice Exporters",
        "seller_address": ["New No. 15, Second Line Beach Road", "Chennai 600001, Tamil Nadu"],
        "seller_tax_id": gstin(33, "AAJFC2741B"),
        "buyer": "Malabar Foods Pvt Ltd",
        "buyer_address": ["XL/1123, Broadway", "Kochi 682031, Kerala"],
        "buyer_tax_id": gstin(32, "AACCM8825E"),
        "place_of_supply": "Kerala (32)",
        "currency": "INR", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "IGST", "rate_percent": "5", "amount": igst}],
        "total": None,
    }


def vat_invoice_data():
    its = items([
        ("Oak desk lamp, brass finish", None, 2, "89.90"),
        ("Linen table runner 40 x 140 cm", None, 6, "24.50"),
        ("Hand-woven wool rug 160 x 230 cm", None, 1, "513.49"),
        ("Walnut sideboard, 3 drawers", None, 1, "1234.50"),
    ])
    subtotal = sum((it["amount"] for it in its), Decimal("0"))
    vat = pct(subtotal, "19")
    return {
        "number": "RE-2024-0315", "date_iso": "2024-03-05", "date_printed": "05.03.2024",
        "date_ambiguous": date_is_ambiguous(5, 3),
        "seller": "Nordlicht Handels GmbH",
        "seller_address": ["Hafenstraße 12", "20457 Hamburg", "Germany"],
        "seller_tax_id": "DE 123456789",
        "buyer": "Bergmann & Söhne KG",
        "buyer_address": ["Lindenallee 7", "50668 Köln"],
        "buyer_tax_id": None,
        "currency": "EUR", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "VAT", "rate_percent": "19", "amount": vat}],
        "total": subtotal + vat,
    }


def receipt_data():
    its = items([
        ("GARDENIA CLASSIC 400G", None, 2, "3.50"),
        ("MILO 3IN1 ACTIV-GO 18S", None, 1, "16.90"),
        ("FARM FRESH MILK 1L", None, 2, "7.45"),
        ("TELUR AYAM GRED A 10S", None, 1, "5.80"),
    ])
    total = sum((it["amount"] for it in its), Decimal("0"))
    return {
        "number": "CS-1803-04512", "date_iso": "2018-03-23", "date_printed": "23/03/2018",
        "date_ambiguous": date_is_ambiguous(23, 3),
        "seller": "KEDAI RUNCIT MAJU JAYA SDN BHD",
        "registration": "(1234567-A)",
        "seller_address": ["NO. 12, JALAN MERANTI 3,", "TAMAN SRI MUDA,",
                           "40400 SHAH ALAM, SELANGOR."],
        "seller_tax_id": None, "buyer": None, "buyer_tax_id": None,
        "currency": "MYR", "items": its, "subtotal": None, "taxes": [], "total": total,
        "cash": money("50.00"),
    }


def bad_arithmetic_data():
    its = items([
        ("PVC insulated copper wire 2.5 sq mm, 90 m coil", "8544", 6, "2150.00"),
        ("MCB 32A double pole", "8536", 20, "385.00"),
        ("LED panel light 18W, square", "9405", 30, "420.00"),
        ("Modular switch plate 6M", "8538", 25, "96.00"),
    ])
    lines_sum = sum((it["amount"] for it in its), Decimal("0"))
    subtotal = lines_sum + Decimal("100.00")  # printed subtotal is wrong on purpose
    cgst, sgst = pct(subtotal, "9"), pct(subtotal, "8")  # and the two halves differ
    return {
        "number": "KEH/2024/0441", "date_iso": "2024-06-27", "date_printed": "27/06/2024",
        "date_ambiguous": date_is_ambiguous(27, 6),
        "seller": "Kaveri Electricals & Hardware",
        "seller_address": ["1187, Chamaraja Double Road, Ramanuja Road Junction",
                           "Mysuru 570004, Karnataka"],
        "seller_tax_id": gstin(29, "AAQFK7316H"),
        "buyer": "Sri Lakshmi Constructions",
        "buyer_address": ["42, V. V. Nagar, Kallahalli", "Mandya 571401, Karnataka"],
        "buyer_tax_id": gstin(29, "BBWPL5519C"),
        "currency": "INR", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "CGST", "rate_percent": "9", "amount": cgst},
                  {"kind": "SGST", "rate_percent": "8", "amount": sgst}],
        "total": subtotal + cgst + sgst,
    }


def foreign_language_data():
    its = items([
        ("Бумага офисная А4, 500 листов", None, 30, "325.00"),
        ("Картридж лазерный чёрный", None, 2, "1500.00"),
    ])
    subtotal = sum((it["amount"] for it in its), Decimal("0"))
    vat = pct(subtotal, "20")
    return {
        "number": "42", "date_iso": "2024-05-12", "date_printed": "12.05.2024",
        "date_ambiguous": date_is_ambiguous(12, 5),
        "seller": "ООО «Северный Ветер»",
        "seller_address": ["г. Москва, ул. Лесная, д. 5, офис 14"],
        "seller_tax_id": inn10("770123456"),
        "buyer": "ИП Кузнецов Андрей Викторович",
        "buyer_tax_id": None,
        "currency": "RUB", "items": its, "subtotal": subtotal,
        "taxes": [{"kind": "VAT", "rate_percent": "20", "amount": vat}],
        "total": subtotal + vat,
    }


# ---------------------------------------------------------------------------------------------
# Invoice layouts


def wrap_words(text, font, size, max_width):
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if line and width(trial, font, size) > max_width:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    return lines


def draw_gst_invoice(inv) -> bytes:
    """Layout 1: seller top-left, invoice number/date top-right, 'Bill To:', shaded header row."""
    buf = io.BytesIO()
    c = new_canvas(buf, "Tax invoice (generated test fixture)")
    left, right = 42, 553
    c.setFont("Sans-Bold", 17)
    c.drawString(left, 796, inv["seller"])
    c.setFont("Sans", 9.5)
    y = 778
    for line in inv["seller_address"] + [f"GSTIN: {inv['seller_tax_id']}"]:
        c.drawString(left, y, line)
        y -= 13
    y = 778
    for line in [f"Invoice No: {inv['number']}", f"Date: {inv['date_printed']}",
                 "Place of Supply: Karnataka (29)"]:
        c.drawRightString(right, y, line)
        y -= 13
    c.setLineWidth(0.8)
    c.line(left, 728, right, 728)
    c.setFont("Sans-Bold", 13)
    c.drawCentredString(PAGE_W / 2, 710, "TAX INVOICE")
    c.line(left, 702, right, 702)

    c.setFont("Sans-Bold", 9.5)
    c.drawString(left, 680, "Bill To:")
    c.setFont("Sans", 9.5)
    y = 666
    for line in [inv["buyer"]] + inv["buyer_address"] + [f"GSTIN: {inv['buyer_tax_id']}"]:
        c.drawString(left, y, line)
        y -= 13

    # Items table: separate text per header cell, numbers right-aligned.
    x_desc, x_hsn, x_qty, x_rate, x_amt = 48, 292, 392, 465, 547
    desc_width = x_hsn - x_desc - 14
    top = 590
    c.setFillGray(0.88)
    c.rect(left, top - 6, right - left, 20, stroke=0, fill=1)
    c.setFillGray(0)
    c.setFont("Sans-Bold", 9.5)
    c.drawString(x_desc, top, "Description")
    c.drawString(x_hsn, top, "HSN/SAC")
    c.drawRightString(x_qty, top, "Qty")
    c.drawRightString(x_rate, top, "Rate")
    c.drawRightString(x_amt, top, "Amount")
    c.setFont("Sans", 9.5)
    y = top - 24
    wrapped = 0
    for it in inv["items"]:
        desc_lines = wrap_words(it["description"], "Sans", 9.5, desc_width)
        wrapped += len(desc_lines) > 1
        c.drawString(x_desc, y, desc_lines[0])
        c.drawString(x_hsn, y, it["hsn_sac"])
        c.drawRightString(x_qty, y, it["quantity"])
        c.drawRightString(x_rate, y, fmt_inr(it["unit_price"]))
        c.drawRightString(x_amt, y, fmt_inr(it["amount"]))
        for extra in desc_lines[1:]:
            y -= 12
            c.drawString(x_desc, y, extra)
        y -= 20
    assert wrapped == 1, "exactly one description must wrap in gst-invoice"
    c.line(left, y + 8, right, y + 8)
    y -= 8
    x_label = 380
    rows = [("Subtotal", fmt_inr(inv["subtotal"]))]
    rows += [(f"{t['kind']} {t['rate_percent']}%", fmt_inr(t["amount"])) for t in inv["taxes"]]
    for label, value in rows:
        c.drawString(x_label, y, label)
        c.drawRightString(x_amt, y, value)
        y -= 16
    c.line(x_label - 6, y + 10, right, y + 10)
    y -= 6
    c.setFont("Sans-Bold", 10.5)
    c.drawString(x_label, y, "Grand Total")
    c.drawRightString(x_amt, y, "₹ " + fmt_inr(inv["total"]))
    c.line(x_label - 6, y - 6, right, y - 6)

    c.setFont("Sans", 8.5)
    y -= 34
    c.drawString(left, y, "Amount in words: " + rupees_in_words(inv["total"]))
    y -= 26
    c.setFont("Sans-Bold", 8.5)
    c.drawString(left, y, "Bank details")
    c.setFont("Sans", 8.5)
    for line in ["Canara Bank, Peenya II Stage Branch", "A/c No. 0419201004832  IFSC: CNRB0000419"]:
        y -= 12
        c.drawString(left, y, line)
    y -= 24
    c.drawString(left, y, "Terms: Payment within 30 days. Interest at 18% p.a. on overdue bills.")
    c.drawString(left, y - 12, "Subject to Bengaluru jurisdiction.")
    c.setFont("Sans", 9)
    c.drawRightString(right, 150, "For " + inv["seller"])
    c.drawRightString(right, 110, "Authorised Signatory")
    c.setFont("Sans", 7.5)
    c.drawCentredString(PAGE_W / 2, 40, "This is a computer generated invoice.")
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_igst_invoice(inv) -> bytes:
    """Layout 2 (also missing-total): centred serif title, label/value pairs, fully ruled table."""
    buf = io.BytesIO()
    c = new_canvas(buf, "Tax Invoice (generated test fixture)")
    left, right = 50, 545
    c.setFont("Serif-Bold", 18)
    c.drawCentredString(PAGE_W / 2, 792, "Tax Invoice")
    c.setFont("Serif-Italic", 8)
    c.drawCentredString(PAGE_W / 2, 779, "(Original for Recipient)")

    c.setFont("Serif-Bold", 12.5)
    c.drawString(left, 748, inv["seller"])
    c.setFont("Serif", 9)
    y = 734
    for line in inv["seller_address"] + [f"GSTIN: {inv['seller_tax_id']}"]:
        c.drawString(left, y, line)
        y -= 12

    x_lab, x_val = 340, 432
    y = 748
    for label, value in [("Inv No.", inv["number"]), ("Dated", inv["date_printed"]),
                         ("Place of Supply", inv["place_of_supply"]), ("Payment Terms", "45 days")]:
        c.setFont("Serif-Bold", 9)
        c.drawString(x_lab, y, label)
        c.setFont("Serif", 9)
        c.drawString(x_val, y, value)
        y -= 14

    c.setLineWidth(0.6)
    c.rect(left - 6, 618, right - left + 12, 62, stroke=1, fill=0)
    c.setFont("Serif-Bold", 9)
    c.drawString(left, 668, "Buyer:")
    c.setFont("Serif", 9)
    y = 655
    c.drawString(left, y, inv["buyer"])
    c.setFont("Serif", 9)
    for line in inv["buyer_address"]:
        y -= 12
        c.drawString(left, y, line)
    c.drawString(x_lab, 655, f"GSTIN: {inv['buyer_tax_id']}")
    c.drawString(x_lab, 643, f"State Code: {inv['buyer_tax_id'][:2]}")

    cols = [left - 6, 282, 340, 410, 478, right + 6]  # vertical rules
    top = 596
    c.setFont("Serif-Bold", 9)
    c.drawString(left, top - 13, "Item Description")
    c.drawString(cols[1] + 6, top - 13, "HSN")
    c.drawRightString(cols[3] - 6, top - 13, "Quantity")
    c.drawRightString(cols[4] - 6, top - 13, "Unit Price")
    c.drawRightString(cols[5] - 6, top - 13, "Amount")
    header_bottom = top - 20
    c.setFont("Serif", 9)
    y = header_bottom - 15
    for it in inv["items"]:
        c.drawString(left, y, it["description"])
        c.drawString(cols[1] + 6, y, it["hsn_sac"])
        c.drawRightString(cols[3] - 6, y, it["quantity"])
        c.drawRightString(cols[4] - 6, y, fmt_inr(it["unit_price"]))
        c.drawRightString(cols[5] - 6, y, fmt_inr(it["amount"]))
        y -= 17
    table_bottom = y - 40  # a blank stretch, as on printed forms
    for x in cols:
        c.line(x, top, x, table_bottom)
    c.line(cols[0], top, cols[-1], top)
    c.line(cols[0], header_bottom, cols[-1], header_bottom)
    c.line(cols[0], table_bottom, cols[-1], table_bottom)

    y = table_bottom - 18
    rows = [("Taxable Value", fmt_inr(inv["subtotal"]), False)]
    rows += [(f"{t['kind']} {t['rate_percent']}%", fmt_inr(t["amount"]), False)
             for t in inv["taxes"]]
    if inv["total"] is not None:
        rows.append(("Total Amount", fmt_inr(inv["total"]), True))
    for label, value, bold in rows:
        c.setFont("Serif-Bold" if bold else "Serif", 10 if bold else 9)
        c.drawString(cols[3] - 60, y, label)
        c.drawRightString(cols[5] - 6, y, value)
        if bold:
            c.line(cols[3] - 66, y + 13, cols[-1], y + 13)
            c.line(cols[3] - 66, y - 6, cols[-1], y - 6)
        y -= 18
    y -= 14
    if inv["total"] is not None:
        c.setFont("Serif", 8.5)
        c.drawString(left, y, "Amount Chargeable (in words):")
        c.setFont("Serif-Italic", 8.5)
        c.drawString(left, y - 12, rupees_in_words(inv["total"]))
        y -= 24
    c.setFont("Serif", 8.5)
    c.drawString(left, y - 16,
                 "Declaration: We declare that this invoice shows the actual price of the")
    c.drawString(left, y - 27, "goods described and that all particulars are true and correct.")
    c.setFont("Serif-Bold", 9)
    c.drawRightString(right, 160, "for " + inv["seller"])
    c.setFont("Serif", 9)
    c.drawRightString(right, 118, "Authorised Signatory")
    c.setFont("Serif-Italic", 7.5)
    c.drawCentredString(PAGE_W / 2, 46, "E. & O.E.  Subject to local jurisdiction.")
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_vat_invoice(inv) -> bytes:
    """German business letter layout (DIN 5008-like) with English labels, condensed sans."""
    buf = io.BytesIO()
    c = new_canvas(buf, "Invoice (generated test fixture)")
    left, right = 57, 538
    c.setFont("Cond-Bold", 16)
    c.drawRightString(right, 790, inv["seller"])
    c.setFont("Cond", 9)
    y = 775
    vat_id = f"VAT ID: {inv['seller_tax_id']}"
    for line in inv["seller_address"] + ["Phone +49 40 3861 2290", vat_id]:
        c.drawRightString(right, y, line)
        y -= 11.5

    # Return-address line above the address window, then the recipient.
    c.setFont("Cond", 7)
    c.drawString(left, 700, "Nordlicht Handels GmbH · Hafenstraße 12 · 20457 Hamburg")
    c.setLineWidth(0.4)
    c.line(left, 697, left + 230, 697)
    c.setFont("Cond-Bold", 9.5)
    c.drawString(left, 680, "Customer:")
    c.setFont("Cond", 10)
    y = 666
    for line in [inv["buyer"]] + inv["buyer_address"]:
        c.drawString(left, y, line)
        y -= 13

    x_lab, x_val = 380, 470
    y = 680
    for label, value in [("Invoice number:", inv["number"]), ("Date:", inv["date_printed"]),
                         ("Customer no.:", "10482"), ("Delivery date:", "February 2024")]:
        c.setFont("Cond", 9.5)
        c.drawString(x_lab, y, label)
        c.drawString(x_val, y, value)
        y -= 13

    c.setFont("Cond-Bold", 15)
    c.drawString(left, 575, "Invoice")
    c.setFont("Cond", 9.5)
    c.drawString(left, 553, "Dear Sir or Madam,")
    c.drawString(left, 540, "we thank you for your order and invoice the following goods:")

    x_desc, x_qty, x_unit, x_amt = left, 360, 450, right
    top = 510
    c.setFont("Cond-Bold", 9.5)
    c.drawString(x_desc, top, "Description")
    c.drawRightString(x_qty, top, "Qty")
    c.drawRightString(x_unit, top, "Unit price")
    c.drawRightString(x_amt, top, "Amount")
    c.setLineWidth(0.8)
    c.line(left, top - 6, right, top - 6)
    c.setFont("Cond", 9.5)
    y = top - 22
    for it in inv["items"]:
        c.drawString(x_desc, y, it["description"])
        c.drawRightString(x_qty, y, it["quantity"])
        c.drawRightString(x_unit, y, fmt_eu(it["unit_price"]))
        c.drawRightString(x_amt, y, fmt_eu(it["amount"]))
        y -= 16
    c.line(left, y + 8, right, y + 8)
    y -= 10
    x_label = 360
    c.drawString(x_label, y, "Subtotal")
    c.drawRightString(x_amt, y, fmt_eu(inv["subtotal"]))
    for t in inv["taxes"]:
        y -= 15
        c.drawString(x_label, y, f"{t['kind']} {t['rate_percent']}%")
        c.drawRightString(x_amt, y, fmt_eu(t["amount"]))
    y -= 20
    c.setFont("Cond-Bold", 10.5)
    c.drawString(x_label, y, "Total")
    c.drawRightString(x_amt, y, fmt_eu(inv["total"]) + " €")
    c.setLineWidth(0.5)
    c.line(x_label, y - 4, right, y - 4)
    c.line(x_label, y - 6, right, y - 6)

    c.setFont("Cond", 9.5)
    y -= 44
    c.drawString(left, y,
                 "Please transfer the amount within 14 days of the invoice date without deduction.")
    c.drawString(left, y - 13, "Kind regards")
    c.drawString(left, y - 26, "Nordlicht Handels GmbH")

    c.setLineWidth(0.4)
    c.line(left, 78, right, 78)
    c.setFont("Cond", 7)
    footer = [
        ("Nordlicht Handels GmbH", "Hafenstraße 12, 20457 Hamburg",
         "Managing director: Jens Albers"),
        ("Hamburger Sparkasse", "IBAN: DE89 3704 0044 0532 0130 00", "BIC: HASPDEHHXXX"),
        ("Register court: Hamburg", "HRB 123456", "Tax no.: 27/512/04417"),
    ]
    for i, column in enumerate(footer):
        for j, line in enumerate(column):
            c.drawString(left + i * 165, 66 - j * 9, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_receipt(inv) -> bytes:
    """80 mm wide thermal receipt, monospace, 40 columns."""
    font, bold, size, lead = "Mono", "Mono-Bold", 8, 10.5
    cols = 40
    char_w = width("0", font, size)
    page_w = 80 * mm
    text_w = cols * char_w
    left = (page_w - text_w) / 2
    right = left + text_w
    centre = page_w / 2
    change = inv["cash"] - inv["total"]
    # (kind, ...) rows, laid out top-down; the page height follows from their count.
    rows = [("c", bold, inv["seller"]), ("c", font, inv["registration"])]
    rows += [("c", font, line) for line in inv["seller_address"]]
    rows += [("c", font, "TEL: 03-5512 3456"), ("gap",), ("rule",),
             ("l", font, f"RECEIPT NO: {inv['number']}"),
             ("l", font, f"DATE: {inv['date_printed']} 14:05"),
             ("l", font, "CASHIER: NURUL       COUNTER: 02"), ("rule",),
             ("cols", bold, "ITEM", "QTY", "PRICE", "AMOUNT"), ("rule",)]
    for it in inv["items"]:
        rows.append(("cols", font, it["description"], it["quantity"], fmt_plain(it["unit_price"]),
                     fmt_plain(it["amount"])))
    rows += [("rule",), ("lr", bold, "TOTAL (RM)", fmt_plain(inv["total"])),
             ("lr", font, "CASH", fmt_plain(inv["cash"])),
             ("lr", font, "CHANGE", fmt_plain(change)), ("rule",), ("gap",),
             ("c", font, "THANK YOU. PLEASE COME AGAIN."),
             ("c", font, "GOODS SOLD ARE NOT RETURNABLE.")]
    height = 14 * mm + sum(lead / 2 if r[0] in ("gap", "rule") else lead for r in rows)
    buf = io.BytesIO()
    c = new_canvas(buf, "Receipt (generated test fixture)", pagesize=(page_w, height))
    y = height - 7 * mm - size
    x_qty, x_price = left + 25 * char_w, left + 32 * char_w
    c.setLineWidth(0.5)
    c.setDash(2, 2)
    for row in rows:
        kind = row[0]
        if kind == "gap":
            y -= lead / 2
            continue
        if kind == "rule":
            c.line(left, y + lead / 2 - 1, right, y + lead / 2 - 1)
            y -= lead / 2
            continue
        c.setFont(row[1], size)
        if kind == "c":
            c.drawCentredString(centre, y, row[2])
        elif kind == "l":
            c.drawString(left, y, row[2])
        elif kind == "lr":
            c.drawString(left, y, row[2])
            c.drawRightString(right, y, row[3])
        elif kind == "cols":
            assert len(row[2]) <= 22, row[2]
            c.drawString(left, y, row[2])
            c.drawRightString(x_qty, y, row[3])
            c.drawRightString(x_price, y, row[4])
            c.drawRightString(right, y, row[5])
        y -= lead
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_bad_arithmetic(inv) -> bytes:
    """Intrastate invoice, centred letterhead, boxed party/invoice panels, totals box."""
    buf = io.BytesIO()
    c = new_canvas(buf, "Tax invoice (generated test fixture)")
    left, right = 36, 559
    c.setFont("Sans-Bold", 15)
    c.drawCentredString(PAGE_W / 2, 800, inv["seller"])
    c.setFont("Sans", 8.5)
    y = 786
    for line in inv["seller_address"] + [f"GSTIN: {inv['seller_tax_id']}   Ph: 0821-2443187"]:
        c.drawCentredString(PAGE_W / 2, y, line)
        y -= 11
    c.setLineWidth(1)
    c.line(left, 745, right, 745)
    c.setFont("Sans-Bold", 11)
    c.drawCentredString(PAGE_W / 2, 731, "TAX INVOICE")

    mid = 330
    c.setLineWidth(0.6)
    c.rect(left, 640, mid - left, 80)
    c.rect(mid, 640, right - mid, 80)
    c.setFont("Sans-Bold", 8.5)
    c.drawString(left + 6, 708, "Billed To:")
    c.setFont("Sans", 8.5)
    y = 696
    for line in [inv["buyer"]] + inv["buyer_address"] + [f"GSTIN: {inv['buyer_tax_id']}"]:
        c.drawString(left + 6, y, line)
        y -= 11
    y = 708
    for label, value in [("Invoice #", inv["number"]), ("Invoice Date", inv["date_printed"]),
                         ("Vehicle No.", "KA-09-C-4471"), ("Place of Supply", "Karnataka (29)")]:
        c.drawString(mid + 8, y, label)
        c.drawString(mid + 90, y, ": " + value)
        y -= 14

    x_no, x_desc, x_hsn, x_qty, x_rate, x_amt = left + 6, left + 30, 312, 398, 472, right - 6
    top = 614
    c.setFont("Sans-Bold", 8.5)
    c.drawString(x_no, top, "#")
    c.drawString(x_desc, top, "Particulars")
    c.drawString(x_hsn, top, "HSN/SAC")
    c.drawRightString(x_qty, top, "Qty")
    c.drawRightString(x_rate, top, "Rate")
    c.drawRightString(x_amt, top, "Amount")
    c.line(left, top + 12, right, top + 12)
    c.line(left, top - 5, right, top - 5)
    c.setFont("Sans", 8.5)
    y = top - 20
    for n, it in enumerate(inv["items"], 1):
        c.drawString(x_no, y, str(n))
        c.drawString(x_desc, y, it["description"])
        c.drawString(x_hsn, y, it["hsn_sac"])
        c.drawRightString(x_qty, y, it["quantity"])
        c.drawRightString(x_rate, y, fmt_inr(it["unit_price"]))
        c.drawRightString(x_amt, y, fmt_inr(it["amount"]))
        y -= 16
    c.line(left, y + 6, right, y + 6)

    box_top = y - 4
    y = box_top - 14
    rows = [("Sub Total", fmt_inr(inv["subtotal"]))]
    rows += [(f"{t['kind']} @ {t['rate_percent']}%", fmt_inr(t["amount"])) for t in inv["taxes"]]
    for label, value in rows:
        c.drawString(360, y, label)
        c.drawRightString(x_amt, y, value)
        y -= 15
    c.setFont("Sans-Bold", 10)
    c.drawString(360, y - 4, "Total Invoice Value")
    c.drawRightString(x_amt, y - 4, "₹ " + fmt_inr(inv["total"]))
    c.rect(352, y - 14, right - 352, box_top - y + 14)

    c.setFont("Sans", 8)
    c.drawString(left, box_top - 14, "Goods once sold will not be taken back.")
    c.drawString(left, box_top - 26, "E-way bill not applicable (value below limit).")
    c.setFont("Sans-Bold", 8.5)
    c.drawRightString(right, 130, "For " + inv["seller"])
    c.setFont("Sans", 8.5)
    c.drawRightString(right, 96, "Proprietor / Authorised Signatory")
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_foreign_language(inv) -> bytes:
    """A Russian invoice (счёт-фактура), entirely in Cyrillic."""
    buf = io.BytesIO()
    c = new_canvas(buf, "Счёт-фактура (generated test fixture)")
    left, right = 50, 545
    c.setFont("Sans-Bold", 12)
    c.drawString(left, 795, inv["seller"])
    c.setFont("Sans", 9)
    c.drawString(left, 781, f"ИНН {inv['seller_tax_id']} / КПП 770101001")
    c.drawString(left, 769, inv["seller_address"][0])
    c.setFont("Sans-Bold", 15)
    c.drawCentredString(PAGE_W / 2, 730, f"СЧЁТ-ФАКТУРА № {inv['number']}")
    c.setFont("Sans", 10)
    c.drawCentredString(PAGE_W / 2, 713, f"Дата: {inv['date_printed']}")
    c.setFont("Sans", 9.5)
    c.drawString(left, 680, f"Продавец: {inv['seller']}")
    c.drawString(left, 666, f"Покупатель: {inv['buyer']}")
    c.drawString(left, 652, "Валюта: российский рубль")

    cols = [left, 318, 378, 458, right]
    top = 620
    c.setLineWidth(0.6)
    c.setFont("Sans-Bold", 9)
    c.drawString(left + 5, top - 13, "Наименование")
    c.drawRightString(cols[2] - 5, top - 13, "Кол-во")
    c.drawRightString(cols[3] - 5, top - 13, "Цена")
    c.drawRightString(cols[4] - 5, top - 13, "Сумма")
    c.setFont("Sans", 9)
    y = top - 36
    for it in inv["items"]:
        c.drawString(left + 5, y, it["description"])
        c.drawRightString(cols[2] - 5, y, it["quantity"])
        c.drawRightString(cols[3] - 5, y, fmt_ru(it["unit_price"]))
        c.drawRightString(cols[4] - 5, y, fmt_ru(it["amount"]))
        y -= 18
    bottom = y + 6
    for x in cols:
        c.line(x, top, x, bottom)
    for yy in (top, top - 20, bottom):
        c.line(left, yy, right, yy)
    y -= 14
    t = inv["taxes"][0]
    c.drawRightString(right, y, f"Сумма без НДС: {fmt_ru(inv['subtotal'])}")
    c.drawRightString(right, y - 15, f"НДС {t['rate_percent']}%: {fmt_ru(t['amount'])}")
    c.setFont("Sans-Bold", 10.5)
    c.drawRightString(right, y - 33, f"Итого: {fmt_ru(inv['total'])} руб.")
    c.setFont("Sans", 9)
    c.drawString(left, y - 70, "Всего наименований 2, на сумму 15 300,00 руб.")
    c.drawString(left, y - 84, "Пятнадцать тысяч триста рублей 00 копеек")
    c.drawString(left, y - 130, "Руководитель ______________ / Иванов И. И. /")
    c.drawString(left, y - 150, "Главный бухгалтер ______________ / Петрова О. С. /")
    c.showPage()
    c.save()
    assert fmt_ru(inv["total"]) == "15 300,00"
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Scan simulation


def scan_image(pdf_bytes: bytes, page_index: int, seed: int) -> tuple[bytes, float]:
    """Render one page at 150 dpi and make it look scanned; returns (JPEG bytes, angle)."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        page = doc[page_index]
        bitmap = page.render(scale=150 / 72, grayscale=True)
        img = bitmap.to_pil().convert("L")
        page.close()
    finally:
        doc.close()
    rng = np.random.default_rng(seed)
    angle = round(float(rng.uniform(0.4, 1.2)) * (1 if rng.integers(0, 2) else -1), 3)
    img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(img, dtype=np.float32) + rng.normal(0.0, 6.0, size=(img.height, img.width))
    img = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="L")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=65, optimize=True, progressive=False, dpi=(150, 150))
    return out.getvalue(), angle


# ---------------------------------------------------------------------------------------------
# Legal documents: a small line-layout engine (justified paragraphs, unbreakable phrases)

NBSP = "\u00a0"


class Layout:
    """Lays text out on pages. Each entry of self.lines is (page, kind, y, content, font, size,
    x0): kind "left"/"center"/"right" with a string, "just"/"left" with a paragraph line
    (a list of tokens) starting at x0, or "rule"."""

    def __init__(self, font, bold, size, leading, top, bottom, left, right, justify=True):
        self.font, self.bold, self.size, self.leading = font, bold, size, leading
        self.top, self.bottom, self.left, self.right = top, bottom, left, right
        self.justify = justify
        self.page, self.y = 1, top
        self.lines = []
        self.headings = []

    def need(self, height):
        if self.y - height < self.bottom:
            self.page += 1
            self.y = self.top

    def gap(self, height):
        self.y -= height

    def line(self, text, align="left", font=None, size=None):
        size = size or self.size
        self.need(size)
        self.lines.append((self.page, align, self.y, text, font or self.font, size, None))
        self.y -= self.leading

    def rule(self):
        self.lines.append((self.page, "rule", self.y + self.leading * 0.4, "", None, None, None))
        self.y -= self.leading * 0.6

    def heading(self, text, align="left"):
        self.need(self.leading * 3.2)  # keep the heading with at least two lines of what follows
        self.headings.append({"text": text, "page": self.page})
        self.line(text, align, self.bold)
        self.gap(self.leading * 0.35)

    def paragraph(self, text, protect=(), indent=0.0, after=None):
        for phrase in protect:
            text = text.replace(phrase, phrase.replace(" ", NBSP))
        words = text.split(" ")
        x0 = self.left + indent
        avail = self.right - x0
        space = width(" ", self.font, self.size)
        rows = self.greedy(words, avail, space)
        for i, row in enumerate(rows):
            self.need(self.size)
            last = i == len(rows) - 1
            tokens = [t.replace(NBSP, " ") for t in row]
            self.lines.append((self.page, "just" if self.justify and not last else "left", self.y,
                               tokens, self.font, self.size, x0))
            self.y -= self.leading
        self.gap(self.leading * 0.6 if after is None else after)

    def greedy(self, words, avail, space):
        rows, row = [], []
        for word in words:
            trial = row + [word]
            w = sum(width(t, self.font, self.size) for t in trial) + space * (len(trial) - 1)
            if row and w > avail:
                rows.append(row)
                row = [word]
            else:
                row = trial
        rows.append(row)
        return rows


def render_layout(c, layout: Layout, footer):
    pages = layout.page
    current = 1
    for page, kind, y, content, font, size, x0 in layout.lines:
        while page > current:
            footer(c, current, pages)
            c.showPage()
            current += 1
        if kind == "rule":
            c.setLineWidth(0.6)
            c.line(layout.left, y, layout.right, y)
            continue
        c.setFont(font, size)
        if isinstance(content, str):
            if kind == "center":
                c.drawCentredString((layout.left + layout.right) / 2, y, content)
            elif kind == "right":
                c.drawRightString(layout.right, y, content)
            else:
                c.drawString(layout.left, y, content)
            continue
        if kind == "left":
            c.drawString(x0, y, " ".join(content))
            continue
        # Justified: each word drawn with its trailing space, the slack spread over all the gaps
        # (also those inside a phrase that was kept on one line).
        content = " ".join(content).split(" ")
        space = width(" ", font, size)
        natural = sum(width(t, font, size) for t in content) + space * (len(content) - 1)
        extra = (layout.right - x0 - natural) / max(1, len(content) - 1)
        if extra > 1.5 * space:  # too loose (a long phrase kept whole follows): leave it ragged
            extra = 0.0
        x = x0
        for j, token in enumerate(content):
            last = j == len(content) - 1
            c.drawString(x, y, token if last else token + " ")
            x += width(token, font, size) + space + extra
    footer(c, current, pages)
    c.showPage()


# In order of first appearance in the text.
JUDGMENT_STATUTES = [
    "Constitution of India",
    "Karnataka Sales Tax Act, 1957",
    "Karnataka Value Added Tax Act, 2003",
    "Limitation Act, 1963",
    "Code of Civil Procedure, 1908",
]
JUDGMENT_CASES = [  # in order of first appearance
    "Whirlpool Corporation v. Registrar of Trade Marks, (1998) 8 SCC 1",
    "Radha Krishan Industries v. State of Himachal Pradesh, (2021) 6 SCC 771",
    "Commissioner of Income Tax v. Chhabil Dass Agrawal, (2014) 1 SCC 603",
    "State of Punjab v. Bandeep Singh, (2016) 1 SCC 724",
]
# Phrases kept on one line by the layout (statute references and case citations).
JUDGMENT_PROTECT = JUDGMENT_CASES + [
    "Section 11 of the Karnataka Sales Tax Act, 1957",
    "Article 226 of the Constitution of India",
    "Section 141 of the Code of Civil Procedure, 1908",
    "Karnataka Value Added Tax Act, 2003",
    "Karnataka Sales Tax Act, 1957",
    "Limitation Act, 1963",
]

# The judgment text: "## HEADING" lines start a section, blank lines separate paragraphs,
# a paragraph starting with "(" is an indented list item. Line breaks here are not kept.
JUDGMENT_TEXT = """
This writ petition having been heard and reserved for orders, coming on for pronouncement of
judgment this day, the Court delivered the following:

## JUDGMENT

1. The petitioner, a private limited company engaged in the manufacture and sale of cotton and
blended fabrics, has approached this Court under Article 226 of the Constitution of India
seeking a writ of certiorari to quash the order of reassessment dated 17.09.2021 passed by the
third respondent, the Deputy Commissioner of Commercial Taxes (Audit), for the assessment year
2004-05, and the consequential demand notice of the same date calling upon the petitioner to pay
a sum of Rs. 38,46,120/- towards tax, interest and penalty.

2. The principal grievance of the petitioner is that the impugned order was passed nearly
sixteen years after the close of the assessment year, without a notice of hearing having been
served on it, and on the basis of materials that were never disclosed to it. The respondents, on
the other hand, contend that the petitioner has an efficacious alternative remedy of appeal and
that the writ petition ought not to be entertained.

## FACTS

3. The petitioner is a company which, at the relevant time, was a registered dealer under the
Karnataka Sales Tax Act, 1957 (for short, 'the KST Act'), until that enactment was repealed with
effect from 01.04.2005 and replaced by the Karnataka Value Added Tax Act, 2003. For the
assessment year 2004-05, the petitioner filed its annual return within the time prescribed, and
an order of assessment came to be passed on 22.03.2007 accepting the turnover declared by it.
The tax so assessed was paid, and no further proceedings were taken for several years
thereafter.

4. On 09.06.2021 the third respondent issued a communication stating that an audit of the
records of his office had revealed that certain sales effected by the petitioner to dealers
outside the State had been wrongly treated as exempt. The communication did not enclose the
audit objection, nor did it indicate the transactions to which the objection related. The
petitioner, by its reply dated 30.06.2021, requested copies of the materials relied upon and
sought four weeks' time to respond after receiving them.

5. No copies were furnished. Instead, the impugned order was passed on 17.09.2021 under Section
11 of the Karnataka Sales Tax Act, 1957, reassessing the turnover of the petitioner and levying
tax, interest and penalty. The order records that the petitioner 'did not appear despite
sufficient opportunity'. It is the specific case of the petitioner, supported by an affidavit of
its Director and by the postal records produced along with the petition, that no notice fixing a
date of hearing was ever received by it.

## SUBMISSIONS

6. Sri. K. Ramesh, learned counsel for the petitioner, submitted that the power of reassessment
must be exercised within a reasonable time even where the statute does not prescribe a period of
limitation, and that a delay of sixteen years, unexplained in the order itself, renders the
exercise arbitrary. He further submitted that the denial of the materials relied upon and the
absence of any hearing vitiate the order, and that in such circumstances the existence of an
appellate remedy is no bar to the exercise of writ jurisdiction. In support of these submissions
he placed reliance on the decisions of the Supreme Court in Whirlpool Corporation v. Registrar
of Trade Marks, (1998) 8 SCC 1 and in Radha Krishan Industries v. State of Himachal Pradesh,
(2021) 6 SCC 771.

7. Smt. L. Sharada, learned Additional Government Advocate appearing for the respondents,
opposed the petition. She submitted that the questions raised are questions of fact which can be
examined by the appellate authority, and that the petitioner, having chosen not to respond to
the notice, cannot now be heard to complain of a want of hearing. She contended that a writ
court should be slow to interfere with orders of assessment, and relied upon Commissioner of
Income Tax v. Chhabil Dass Agrawal, (2014) 1 SCC 603 and State of Punjab v. Bandeep Singh,
(2016) 1 SCC 724.

8. It was also contended on behalf of the respondents that the petition itself is belated,
having been filed more than four months after the impugned order. Learned counsel for the
petitioner answered that the order was served only on 21.10.2021 and that the petition was
presented within a reasonable time thereafter.

## ISSUES

9. Having heard learned counsel on both sides and perused the records, the following points
arise for consideration:

(i) Whether the writ petition is maintainable notwithstanding the availability of an appeal
under the KST Act?

(ii) Whether the impugned order of reassessment was passed in violation of the principles of
natural justice?

(iii) Whether the reassessment, initiated sixteen years after the close of the assessment year,
was made within a reasonable time?

## ANALYSIS

10. The rule that a party must ordinarily exhaust the statutory remedies available to it before
invoking the jurisdiction of this Court is a rule of self-imposed restraint and not one of law.
In the oft-quoted decision in Whirlpool Corporation v. Registrar of Trade Marks, (1998) 8 SCC 1,
the Supreme Court identified the situations in which an alternative remedy would not operate as
a bar, namely where the writ petition seeks the enforcement of a fundamental right, where there
has been a violation of the principles of natural justice, where the order or proceedings are
wholly without jurisdiction, or where the vires of an Act is challenged. The same principles
were restated in Radha Krishan Industries v. State of Himachal Pradesh, (2021) 6 SCC 771.

11. Learned Additional Government Advocate is not right in contending that Commissioner of
Income Tax v. Chhabil Dass Agrawal, (2014) 1 SCC 603 holds otherwise. That decision reiterates
that where a statute provides a complete machinery for challenging an assessment the High Court
would not ordinarily entertain a writ petition, while recognising the very exceptions noticed
above. The decision in State of Punjab v. Bandeep Singh, (2016) 1 SCC 724, rendered in an
altogether different factual setting, does not advance the case of the respondents on this
point.

12. Nor is there any merit in the contention that the petition is belated. It is well recognised
that the Limitation Act, 1963 does not in terms apply to proceedings under Article 226 of the
Constitution of India, and the Explanation to Section 141 of the Code of Civil Procedure, 1908
excludes such proceedings from the procedure prescribed by the Code. The question is only
whether the petitioner approached the Court within a reasonable time. A petition presented some
three and a half months after service of the order cannot be described as belated. The first
point is answered accordingly.

13. On the second point, the record placed before this Court by the respondents themselves does
not contain any acknowledgement of service of a notice of hearing. The order sheet maintained by
the third respondent records, against the entry dated 26.08.2021, that a notice was 'sent',
without any indication of the mode of dispatch or of the address to which it was sent. The
petitioner's request for copies of the audit objection, which was received in the office of the
third respondent on 02.07.2021, finds no mention in the impugned order at all.

14. An order of reassessment which reopens a concluded assessment after a long lapse of time
visits the assessee with civil consequences of a serious nature. Before such an order is made,
the assessee is entitled to know the material on which the authority proposes to act, and to a
reasonable opportunity to meet it. A bare recital that the assessee did not appear 'despite
sufficient opportunity' is no substitute for a record showing that such an opportunity was in
fact afforded. The impugned order, having been passed without furnishing the audit objection and
without proof of service of a notice of hearing, is in breach of the principles of natural
justice.

15. On the third point, it is well settled that where a statute confers a power without
prescribing a period within which it is to be exercised, the power must nonetheless be exercised
within a reasonable period, and what is reasonable depends upon the nature of the power and the
facts of the case. The third respondent has not offered any explanation, either in the impugned
order or in the statement of objections filed before this Court, for initiating proceedings in
the year 2021 in respect of an assessment that had attained finality in the year 2007. The
records of the petitioner for that period were, as stated on affidavit, no longer required to be
preserved under the KST Act, and the petitioner has been placed at a real disadvantage in
meeting the allegations.

16. The contention of the respondents that the petitioner chose not to respond to the notice is
contradicted by the record. The petitioner did respond, by its letter dated 30.06.2021, and
asked for the materials on which the authority proposed to rely. That request was neither
granted nor refused. In these circumstances, the failure of the petitioner to appear on a date
of which it had no notice cannot be held against it.

## CONCLUSION

17. For the reasons stated above, the points for consideration are answered in favour of the
petitioner. The writ petition is maintainable; the impugned order was passed in violation of the
principles of natural justice; and the reassessment was not initiated within a reasonable time.

18. In the result, the writ petition is accordingly allowed. The order of reassessment dated
17.09.2021 passed by the third respondent under Section 11 of the Karnataka Sales Tax Act, 1957
for the assessment year 2004-05, and the demand notice of the same date, are quashed. Any amount
recovered from the petitioner pursuant to the said order shall be refunded within eight weeks
from the date of receipt of a certified copy of this order. There shall be no order as to costs.
"""


def judgment_sections():
    """(preamble paragraphs, [(heading, [paragraph, ...]), ...]) from JUDGMENT_TEXT."""
    preamble, sections = [], []
    for block in JUDGMENT_TEXT.strip().split("\n\n"):
        text = " ".join(block.split())
        if text.startswith("## "):
            sections.append((text[3:], []))
        elif sections:
            sections[-1][1].append(text)
        else:
            preamble.append(text)
    return preamble, sections


def judgment_layout() -> Layout:
    lay = Layout("Serif", "Serif-Bold", 11, 15, top=PAGE_H - 72, bottom=84, left=72,
                 right=PAGE_W - 72)
    lay.line("IN THE HIGH COURT OF KARNATAKA AT BENGALURU", "center", "Serif-Bold", 12)
    lay.gap(4)
    lay.line("WRIT PETITION No. 4521 of 2022", "center", "Serif-Bold")
    lay.gap(12)
    lay.line("BETWEEN:")
    lay.gap(4)
    lay.line("M/S. SUNRISE TEXTILES PVT. LTD. ..... Petitioner")
    lay.line("Registered office: No. 14, Industrial Suburb, Yeshwanthpur, Bengaluru 560022",
             size=9.5)
    lay.line("(By Sri. K. Ramesh, Advocate)", size=9.5)
    lay.gap(4)
    lay.line("versus", "center", "Serif-Italic")
    lay.gap(4)
    lay.line("STATE OF KARNATAKA AND OTHERS ..... Respondents")
    lay.line("Represented by the Principal Secretary, Finance Department, Vidhana Soudha, "
             "Bengaluru", size=9.5)
    lay.line("(By Smt. L. Sharada, Additional Government Advocate)", size=9.5)
    lay.gap(10)
    lay.line("CORAM: HON'BLE MR. JUSTICE R. VENKATESH", font="Serif-Bold")
    lay.gap(4)
    lay.line("Date of filing: 03.02.2022")
    lay.line("Reserved on: 11.07.2023")
    lay.line("Pronounced on: 28.08.2023")
    lay.rule()
    preamble, sections = judgment_sections()
    for text in preamble:
        lay.paragraph(text, JUDGMENT_PROTECT)
    for title, paragraphs in sections:
        lay.heading(title, "center" if title == "JUDGMENT" else "left")
        for text in paragraphs:
            if text.startswith("("):
                lay.paragraph(text, JUDGMENT_PROTECT, indent=28, after=4)
            else:
                lay.paragraph(text, JUDGMENT_PROTECT)
    lay.gap(20)
    lay.line("Sd/-", "right")
    lay.line("JUDGE", "right", "Serif-Bold")
    return lay


def judgment_pdf(lay: Layout) -> bytes:
    buf = io.BytesIO()
    c = new_canvas(buf, "W.P. No. 4521 of 2022 (generated test fixture)")

    def footer(c, page, pages):
        c.setFont("Serif", 9)
        c.drawCentredString(PAGE_W / 2, 48, f"Page {page} of {pages}")

    render_layout(c, lay, footer)
    c.save()
    return buf.getvalue()


def judgment_truth(lay: Layout) -> dict:
    return {
        "kind": "legal",
        "page_count": lay.page,
        "case_number": "WRIT PETITION No. 4521 of 2022",
        "court": "HIGH COURT OF KARNATAKA AT BENGALURU",
        "parties": [{"role": "petitioner", "name": "M/S. SUNRISE TEXTILES PVT. LTD."},
                    {"role": "respondent", "name": "STATE OF KARNATAKA AND OTHERS"}],
        "judges": ["R. VENKATESH"],
        "filed": "2022-02-03",
        "heard": "2023-07-11",
        "decided": "2023-08-28",
        "statutes": JUDGMENT_STATUTES,
        "cited_cases": JUDGMENT_CASES,
        "headings": lay.headings,
        "outcome_sentence_contains": "accordingly allowed",
    }


def judgment_scan_pdf(judgment: bytes, pages: int) -> tuple[bytes, list]:
    buf = io.BytesIO()
    c = new_canvas(buf, "W.P. No. 4521 of 2022, scanned (generated test fixture)")
    angles = []
    for i in range(pages):
        jpeg, angle = scan_image(judgment, i, SEED + 100 + i)
        angles.append(angle)
        c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=PAGE_W, height=PAGE_H)
        c.showPage()
    c.save()
    return buf.getvalue(), angles


LONG_SENTENCES = [
    "The Tribunal shall, before passing any order under this Part, give the parties a reasonable "
    "opportunity of being heard.",
    "Where any question arises as to the interpretation of a provision of this Code, the matter "
    "shall be referred to the Board, whose decision shall be final.",
    "Nothing contained in this section shall be deemed to affect any proceeding pending on the "
    "date of commencement of the amending Act.",
    "Every application made under sub-section (2) shall be accompanied by such fee as may be "
    "prescribed and by a copy of the order complained of.",
    "The authority may, for reasons to be recorded in writing, extend the period specified in "
    "clause (b) by a further period not exceeding thirty days.",
    "A notice under this section shall specify the grounds on which action is proposed and shall "
    "allow not less than fifteen days for a reply.",
    "Any person aggrieved by an order made under this Chapter may prefer an appeal within sixty "
    "days from the date on which the order is communicated to him.",
    "The provisions of this section shall apply, so far as may be, to every proceeding instituted"
    " after the appointed day.",
    "In computing the period of limitation, the time taken in obtaining a certified copy of the "
    "order shall be excluded.",
    "No suit, prosecution or other legal proceeding shall lie against any officer for anything "
    "done in good faith under this Code.",
    "The Registrar shall maintain a register in the prescribed form and shall enter therein the "
    "particulars of every order passed under this Part.",
    "Where the person concerned fails to appear on the date fixed, the authority may proceed to "
    "decide the matter on the material available on record.",
]
LONG_TITLES = ["PRELIMINARY", "DEFINITIONS", "CONSTITUTION OF AUTHORITIES", "POWERS AND DUTIES",
               "PROCEDURE", "APPEALS AND REVISION", "OFFENCES AND PENALTIES", "MISCELLANEOUS"]
ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
         (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def roman(n: int) -> str:
    out = ""
    for value, numeral in ROMAN:
        while n >= value:
            out += numeral
            n -= value
    return out


def long_legal_blocks(rng):
    """An endless stream of blocks: a chapter heading, then 8-12 numbered paragraphs, and so on."""
    chapter, para = 0, 0
    while True:
        chapter += 1
        title = f"CHAPTER {roman(chapter)} - {LONG_TITLES[(chapter - 1) % len(LONG_TITLES)]}"
        yield ("heading", title)
        for _ in range(int(rng.integers(8, 13))):
            para += 1
            count = int(rng.integers(3, 7))
            picks = rng.choice(len(LONG_SENTENCES), size=count, replace=False)
            yield ("para", f"{para}. " + " ".join(LONG_SENTENCES[i] for i in picks))


def long_legal_layout(pages: int) -> Layout:
    def make():
        return Layout("Helvetica", "Helvetica-Bold", 12, 24, top=PAGE_H - 72, bottom=80, left=72,
                      right=PAGE_W - 72, justify=False)

    blocks = []
    gen = long_legal_blocks(np.random.default_rng(SEED + 200))
    lay = make()
    # Add blocks until one spills onto page pages+1, then lay out again without that block.
    while True:
        block = next(gen)
        if block[0] == "heading":
            lay.gap(6)
            lay.heading(block[1])
        else:
            lay.paragraph(block[1])
        if lay.page > pages:
            break
        blocks.append(block)
    while blocks[-1][0] == "heading":  # no heading left alone at the very end
        blocks.pop()
    lay = make()
    for kind, text in blocks:
        if kind == "heading":
            lay.gap(6)
            lay.heading(text)
        else:
            lay.paragraph(text)
    assert lay.page == pages, lay.page
    return lay


def long_legal_pdf(lay: Layout) -> bytes:
    buf = io.BytesIO()
    c = new_canvas(buf, "Generated legal text, 300 pages (generated test fixture)")

    def footer(c, page, pages):
        c.setFont("Helvetica", 8.5)
        c.drawCentredString(PAGE_W / 2, 44, f"Page {page} of {pages}")

    render_layout(c, lay, footer)
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------


def dump_json(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    register_fonts()
    files = {}

    invoices = [
        ("gst-invoice", gst_invoice_data(), draw_gst_invoice),
        ("igst-invoice", igst_invoice_data(), draw_igst_invoice),
        ("vat-invoice", vat_invoice_data(), draw_vat_invoice),
        ("receipt", receipt_data(), draw_receipt),
        ("bad-arithmetic", bad_arithmetic_data(), draw_bad_arithmetic),
        ("missing-total", missing_total_data(), draw_igst_invoice),
        ("foreign-language", foreign_language_data(), draw_foreign_language),
    ]
    for n, (name, data, draw) in enumerate(invoices):
        pdf = draw(data)
        jpeg, angle = scan_image(pdf, 0, SEED + n)
        files[f"{name}.pdf"] = pdf
        files[f"{name}.scan.jpg"] = jpeg
        files[f"{name}.truth.json"] = dump_json(invoice_truth(data))
        print(f"{name}: scan rotated {angle:+.3f} degrees")

    lay = judgment_layout()
    assert lay.page == 4, f"judgment has {lay.page} pages, expected 4"
    assert sorted({h["page"] for h in lay.headings}) == [1, 2, 3, 4], lay.headings
    judgment = judgment_pdf(lay)
    truth = dump_json(judgment_truth(lay))
    files["judgment.pdf"] = judgment
    files["judgment.truth.json"] = truth
    scan, angles = judgment_scan_pdf(judgment, lay.page)
    files["judgment-scan.pdf"] = scan
    files["judgment-scan.truth.json"] = truth
    print("judgment-scan: pages rotated " + ", ".join(f"{a:+.3f}" for a in angles) + " degrees")

    long_lay = long_legal_layout(300)
    files["long-legal.pdf"] = long_legal_pdf(long_lay)
    files["long-legal.truth.json"] = dump_json({
        "kind": "legal", "page_count": long_lay.page, "headings": long_lay.headings})

    for name, data in files.items():
        (out / name).write_bytes(data)
    for name in sorted(files):
        print(f"{name}: {(out / name).stat().st_size} bytes")
    print(f"total: {sum(len(d) for d in files.values())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
