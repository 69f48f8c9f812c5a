#!/usr/bin/env python3
"""Generate the PDF test fixtures in tests/fixtures/pdf/ (the outputs are committed).

    python3 tools/pdf_fixtures/make_pdf_fixtures.py [OUT_DIR]

Default OUT_DIR: <repo>/tests/fixtures/pdf. Needs reportlab, pypdf and Pillow (see README.md in
this folder for the pinned versions) and, for the scanned page, a DejaVu Sans TrueType font
(Debian `fonts-dejavu-core`; falls back to Pillow's bundled default font).

Deterministic: reportlab runs with invariant=1 (fixed dates and document ids), random bytes come
from seeded generators, and pypdf's file identifier is drawn from a seeded generator too, so a
rerun with the same library versions reproduces the same bytes.

Files written:
  text-invoice.pdf  1 A4 page, real text layer (Helvetica): invoice header, 3 line items, total
  scanned.pdf       1 A4 page that is only a grayscale JPEG image (150 dpi, q60), no text layer
  two-pages.pdf     2 A4 pages: "Page one text" / "Page two text"
  encrypted.pdf     text-invoice.pdf encrypted by pypdf, user password "secret" (RC4-128)
  corrupt.pdf       first 40 % of text-invoice.pdf followed by random garbage (no xref/trailer)
  empty-pages.pdf   a structurally valid PDF whose /Pages tree has /Count 0 (written by pypdf)
  many-pages.pdf    500 A4 pages, each with the single line "Page N"
  jpeg-named.pdf    a byte copy of tests/fixtures/sharp.jpg (a JPEG with a .pdf name)
"""
import io
import random
import secrets
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "pdf"
SEED = 20260314

# Binary streams (no ASCII85 wrapping): smaller files, and the scanned page's JPEG is stored as-is.
rl_config.useA85 = 0

INVOICE_LINES = [
    # (description, qty, unit price, amount)
    ("Basmati rice 5 kg", 2, "310.00", "620.00"),
    ("Sunflower oil 1 L", 3, "145.50", "436.50"),
    ("Green tea 100 bags", 1, "178.00", "178.00"),
]
INVOICE_TOTAL = "1,234.50"


def new_canvas(buf, **kwargs):
    # invariant=1: fixed creation date and document id, so the bytes are reproducible.
    return canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1, **kwargs)


def text_invoice() -> bytes:
    buf = io.BytesIO()
    c = new_canvas(buf)
    c.setTitle("INVOICE No. INV-2041")
    c.setAuthor("Acme Traders Pvt Ltd")
    _, height = A4
    y = height - 72
    c.setFont("Helvetica-Bold", 18)
    c.drawString(72, y, "INVOICE No. INV-2041")
    c.setFont("Helvetica", 11)
    y -= 28
    c.drawString(72, y, "Date: 2026-03-14")
    y -= 16
    c.drawString(72, y, "Seller: Acme Traders Pvt Ltd")
    y -= 16
    c.drawString(72, y, "Buyer: Northwind Retail LLP")

    y -= 36
    c.setFont("Helvetica-Bold", 11)
    c.drawString(72, y, "Description")
    c.drawRightString(340, y, "Qty")
    c.drawRightString(430, y, "Rate")
    c.drawRightString(520, y, "Amount")
    c.line(72, y - 4, 520, y - 4)
    c.setFont("Helvetica", 11)
    for description, qty, rate, amount in INVOICE_LINES:
        y -= 20
        c.drawString(72, y, description)
        c.drawRightString(340, y, str(qty))
        c.drawRightString(430, y, rate)
        c.drawRightString(520, y, amount)
    c.line(72, y - 8, 520, y - 8)
    y -= 26
    c.setFont("Helvetica-Bold", 12)
    c.drawString(340, y, "Total")
    c.drawRightString(520, y, INVOICE_TOTAL)
    c.showPage()
    c.save()
    return buf.getvalue()


def find_font(size):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def scanned() -> bytes:
    rng = random.Random(SEED)
    width, height = 1240, 1754  # A4 at 150 dpi
    img = Image.new("L", (width, height), 244)
    draw = ImageDraw.Draw(img)
    big, normal = find_font(44), find_font(30)
    y = 150
    draw.text((150, y), "INVOICE No. INV-3107", fill=25, font=big)
    y += 90
    for line in ["Date: 2026-02-02", "Seller: Globex Supplies Ltd", "Buyer: Initech Stores"]:
        draw.text((150, y), line, fill=35, font=normal)
        y += 50
    y += 40
    for line in ["Printer paper A4 x 10      2,450.00", "Toner cartridge x 2         3,180.00",
                 "Stapler x 1                   240.00", "Total                       5,870.00"]:
        draw.text((150, y), line, fill=35, font=normal)
        y += 50
    # A little scanner speckle, seeded.
    for _ in range(1500):
        x, yy = rng.randrange(width), rng.randrange(height)
        draw.point((x, yy), fill=rng.randrange(150, 230))
    img = img.rotate(0.4, resample=Image.BICUBIC, fillcolor=244)
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=60, optimize=False, progressive=False)
    jpeg.seek(0)

    buf = io.BytesIO()
    c = new_canvas(buf)
    page_w, page_h = A4
    # A JPEG given through ImageReader is embedded as-is (DCTDecode), not re-encoded.
    c.drawImage(ImageReader(jpeg), 0, 0, width=page_w, height=page_h)
    c.showPage()
    c.save()
    return buf.getvalue()


def pages(texts) -> bytes:
    buf = io.BytesIO()
    c = new_canvas(buf)
    _, height = A4
    for text in texts:
        c.setFont("Helvetica", 14)
        c.drawString(72, height - 72, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def seeded_token_bytes(rng):
    return lambda n=32: bytes(rng.randrange(256) for _ in range(n))


def encrypted(source: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    # pypdf draws the /ID (which keys RC4) from secrets.token_bytes; seed it for reproducibility.
    original = secrets.token_bytes
    secrets.token_bytes = seeded_token_bytes(random.Random(SEED + 1))
    try:
        writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
    finally:
        secrets.token_bytes = original
    return out.getvalue()


def corrupt(source: bytes) -> bytes:
    rng = random.Random(SEED + 2)
    head = source[: len(source) * 40 // 100]
    return head + bytes(rng.randrange(256) for _ in range(512))


def empty_pages() -> bytes:
    writer = PdfWriter()
    original = secrets.token_bytes
    secrets.token_bytes = seeded_token_bytes(random.Random(SEED + 3))
    try:
        writer.add_metadata({"/Producer": "make_pdf_fixtures.py"})
        out = io.BytesIO()
        writer.write(out)
    finally:
        secrets.token_bytes = original
    return out.getvalue()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    invoice = text_invoice()
    files = {
        "text-invoice.pdf": invoice,
        "scanned.pdf": scanned(),
        "two-pages.pdf": pages(["Page one text", "Page two text"]),
        "encrypted.pdf": encrypted(invoice),
        "corrupt.pdf": corrupt(invoice),
        "empty-pages.pdf": empty_pages(),
        "many-pages.pdf": pages([f"Page {n}" for n in range(1, 501)]),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    shutil.copyfile(REPO / "tests" / "fixtures" / "sharp.jpg", out / "jpeg-named.pdf")
    for name in sorted(list(files) + ["jpeg-named.pdf"]):
        print(f"{name}: {(out / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
