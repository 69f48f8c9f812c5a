#!/usr/bin/env python3
"""Check a generated hostile corpus against its manifest, without the station.

    python3 tools/hostile_corpus/verify_corpus.py OUT [--quick] [--tjprobe BIN] [--table]

Standard library only. For every manifest entry it checks:
  - the path exists with the right type (file, symlink and its target, FIFO, directory);
  - whether a folder import takes it (walkdir without following links, regular files only,
    Rust's Path::extension in jpg/jpeg/png/webp/pdf), against `expect: "skipped"`;
  - the station's first decisions re-done in Python: is_pdf (%PDF- in the first 1 KiB),
    image::guess_format's magic table and describe_unknown's wording; where these decide the
    answer (empty, unsupported format), the exact message must match the entry's `error`;
  - the bytes are what the case claims: PNG chunks (CRCs, IHDR, every IDAT stream inflated and
    counted, Adler-32 checked; --quick stops bombs at 64 MiB), JPEG markers (SOF size and
    components, SOS components, Adobe transform, EXIF IFD), WebP headers (VP8/VP8L/VP8X sizes as
    image-webp 0.2.4 computes them), ZIP headers (every deflated entry inflated and CRC-checked),
    PDF page counts walked from the page tree;
  - a `too_many_pixels` error names the size the header really claims;
  - every `error` compiles as a regular expression, every file's bytes are unique (the station
    would report a second copy as a duplicate).
With pypdfium2 5.15.2 importable (the wheel the station's libpdfium.so comes from), every PDF is
also opened the way engine::pdf::PdfEngine::inspect opens it, page 1 rendered and its text read,
and the outcome compared with the manifest. With --tjprobe BIN (tjprobe.c in this folder, built
against the project's libturbojpeg.a), every JPEG the station would decode goes through
libjpeg-turbo exactly as decode_jpeg_reduced drives it, and refusals from that step are compared.
--table prints the README's case table (markdown) from the manifest and the checks.
Exit status 1 if anything disagrees.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

PHOTO_EXTENSIONS = {"jpg", "jpeg", "png", "webp", "pdf"}
MAGIC = [  # image 0.25.10, io/free_functions.rs MAGIC_BYTES: (signature, mask, format)
    (b"\x89PNG\r\n\x1a\n", b"", "Png"), (b"\xff\xd8\xff", b"", "Jpeg"), (b"GIF89a", b"", "Gif"),
    (b"GIF87a", b"", "Gif"), (b"RIFF\0\0\0\0WEBP", b"\xff\xff\xff\xff\0\0\0\0", "WebP"),
    (b"MM\x00*", b"", "Tiff"), (b"II*\x00", b"", "Tiff"), (b"DDS ", b"", "Dds"), (b"BM", b"", "Bmp"),
    (b"\0\0\x01\0", b"", "Ico"), (b"#?RADIANCE", b"", "Hdr"),
    (b"\0\0\0\0ftypavif", b"\xff\xff\0\0", "Avif"), (b"\x76\x2f\x31\x01", b"", "OpenExr"),
    (b"qoif", b"", "Qoi"), (b"P1", b"", "Pnm"), (b"P2", b"", "Pnm"), (b"P3", b"", "Pnm"),
    (b"P4", b"", "Pnm"), (b"P5", b"", "Pnm"), (b"P6", b"", "Pnm"), (b"P7", b"", "Pnm"),
    (b"farbfeld", b"", "Farbfeld"),
]


def guess_format(data: bytes) -> str | None:
    for sig, mask, fmt in MAGIC:
        if not mask:
            if data.startswith(sig):
                return fmt
        elif len(data) >= len(sig):
            full = mask + b"\xff" * (len(sig) - len(mask))
            if all(b & m == s for b, s, m in zip(data, sig, full)):
                return fmt
    return None


def describe_unknown(data: bytes) -> str:
    head = data[:512]
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive or office document"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "it is a video or HEIC file"
    if head.startswith(b"\xff\xd8"):
        return "it starts like a JPEG but the header is damaged"
    try:
        head.decode("utf-8")
        return "it looks like a text file"
    except UnicodeDecodeError:
        return "unrecognized binary data"


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def rust_extension(name: bytes) -> bytes | None:
    """std::path::Path::extension: None without a dot or with only a leading dot."""
    if name == b"..":
        return None
    before, dot, after = name.rpartition(b".")
    if not dot or before == b"":
        return None
    return after


def folder_takes(path: Path) -> bool:
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return False
    ext = rust_extension(os.fsencode(path.name))
    try:
        return ext is not None and ext.decode("utf-8").lower() in PHOTO_EXTENSIONS
    except UnicodeDecodeError:
        return False


# ---------------------------------------------------------------------------------------------
# Byte-level readers


def inflate_count(stream: bytes, *, raw: bool, cap: int | None) -> tuple[int, bool, str]:
    """Inflates in bounded pieces; returns (bytes out, stream complete, note)."""
    d = zlib.decompressobj(-15 if raw else 15)
    total, data = 0, stream
    try:
        while data:
            out = d.decompress(data, 1 << 24)
            total += len(out)
            data = d.unconsumed_tail
            if cap is not None and total >= cap:
                return total, False, f"stopped at {total} bytes (--quick)"
        total += len(d.flush())
    except zlib.error as e:
        return total, False, f"zlib: {e}"
    return total, d.eof, "checksum ok" if d.eof else "stream incomplete"


def png_facts(data: bytes, cap: int | None) -> dict:
    facts: dict = {"chunks": [], "bad_crc": [], "truncated": False}
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        facts["signature"] = False
        return facts
    pos, idat = 8, bytearray()
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8: pos + 8 + length]
        if len(body) < length or pos + 12 + length > len(data):
            facts["truncated"] = True
            facts["chunks"].append((kind.decode("latin-1"), length))
            break
        crc = struct.unpack(">I", data[pos + 8 + length: pos + 12 + length])[0]
        if crc != zlib.crc32(kind + body):
            facts["bad_crc"].append(kind.decode("latin-1"))
        facts["chunks"].append((kind.decode("latin-1"), length))
        if kind == b"IHDR" and length == 13:
            facts["ihdr"] = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    if pos < len(data) and not facts["truncated"]:
        facts["trailing"] = len(data) - pos
    if idat:
        facts["idat"] = inflate_count(bytes(idat), raw=False, cap=cap)
    return facts


def jpeg_facts(data: bytes) -> dict:
    facts: dict = {"markers": []}
    if not data.startswith(b"\xff\xd8"):
        return facts
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            facts["markers"].append("junk")
            break
        marker = data[pos + 1]
        if marker == 0xD9:
            facts["markers"].append("EOI")
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        body = data[pos + 4: pos + 2 + length]
        name = {0xC0: "SOF0", 0xC9: "SOF9", 0xC4: "DHT", 0xDB: "DQT", 0xDA: "SOS", 0xFE: "COM",
                0xE0: "APP0", 0xE1: "APP1", 0xEE: "APP14"}.get(marker, f"FF{marker:02X}")
        facts["markers"].append(name if len(body) == length - 2 else name + "(cut)")
        if marker in (0xC0, 0xC9) and len(body) >= 6:
            _, h, w, n = struct.unpack(">BHHB", body[:6])
            facts["sof"] = (w, h, n)
        if marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            facts["adobe_transform"] = body[11]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            facts["exif"] = exif_facts(body[6:])
        if marker == 0xFE and b"%PDF-" in body:
            facts["pdf_in_com_at"] = pos + 4 + body.index(b"%PDF-")
        if marker == 0xDA:
            facts["sos_components"] = body[0] if body else None
            end = data.find(b"\xff\xd9", pos + 2 + length)
            facts["scan_bytes"] = (end if end >= 0 else len(data)) - (pos + 2 + length)
            facts["eoi"] = end >= 0
            break
        pos += 2 + length
    return facts


def exif_facts(tiff: bytes) -> dict:
    if tiff[:4] == b"II*\x00":
        e = "<"
    elif tiff[:4] == b"MM\x00*":
        e = ">"
    else:
        return {"tiff": False}
    ifd0 = struct.unpack(e + "I", tiff[4:8])[0]
    out = {"ifd0": ifd0, "size": len(tiff)}
    if ifd0 + 2 > len(tiff):
        out["ifd0_past_end"] = True
        return out
    count = struct.unpack(e + "H", tiff[ifd0:ifd0 + 2])[0]
    present = (len(tiff) - ifd0 - 2) // 12
    out.update(claimed_entries=count, entries_present=min(count, present))
    tags = {}
    for i in range(min(count, present)):
        tag, kind, n, value = struct.unpack(e + "HHI4s", tiff[ifd0 + 2 + 12 * i: ifd0 + 14 + 12 * i])
        tags[tag] = (kind, n, value)
    if 0x0112 in tags:
        out["orientation"] = struct.unpack(e + "H", tags[0x0112][2][:2])[0]
    pointers = {t: struct.unpack(e + "I", v[2])[0] for t, v in tags.items() if t in (0x8769, 0x8825)}
    out["pointers"] = pointers
    next_at = ifd0 + 2 + 12 * count
    if next_at + 4 <= len(tiff):
        out["next_ifd"] = struct.unpack(e + "I", tiff[next_at:next_at + 4])[0]
    return out


def webp_facts(data: bytes) -> dict:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return {}
    out = {"riff_size": struct.unpack("<I", data[4:8])[0], "file_size": len(data)}
    kind = data[12:16]
    out["first_chunk"] = kind.decode("latin-1")
    body = data[20:]
    if kind == b"VP8L" and len(body) >= 5:
        header = struct.unpack("<I", body[1:5])[0]
        # the station reads the declared size from the chunk itself (engine::intake::webp_canvas)
        # before image-webp 0.2.4, which computes (1 + header) & 0x3FFF and wraps 16384 to 0
        out["declared"] = ((header & 0x3FFF) + 1, ((header >> 14) & 0x3FFF) + 1)
        out["size"] = out["declared"]
    if kind == b"VP8X" and len(body) >= 10:
        out["size"] = (int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1)
        chunks, pos = [], 30
        while pos + 8 <= len(data):
            k, n = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
            chunks.append((k.decode("latin-1"), n))
            pos += 8 + n + (n & 1)
        out["chunks"] = chunks
    if kind == b"VP8 ":
        out["vp8_header_bytes"] = len(body)
    return out


def zip_facts(data: bytes, cap: int | None, depth: int = 0) -> dict:
    out = {"entries": []}
    pos = 0
    while data[pos:pos + 4] == b"PK\x03\x04":
        (_, _, method, _, _, crc, csize, usize, nlen, xlen) = struct.unpack("<HHHHHIIIHH", data[pos + 4:pos + 30])
        name = data[pos + 30:pos + 30 + nlen].decode()
        payload = data[pos + 30 + nlen + xlen: pos + 30 + nlen + xlen + csize]
        entry = {"name": name, "method": method, "compressed": csize, "claimed": usize}
        if method == 8 and depth == 0:
            if name.endswith(".zip"):
                inner = zlib.decompress(payload, -15)
                entry["crc_ok"] = zlib.crc32(inner) == crc and len(inner) == usize
                if name == out["entries"][0]["name"] if out["entries"] else True:
                    entry["inner"] = zip_facts(inner, cap, depth + 1)
            else:
                d = zlib.decompressobj(-15)
                total, crc_run, rest = 0, 0, payload
                while rest:
                    chunk = d.decompress(rest, 1 << 24)
                    total += len(chunk)
                    crc_run = zlib.crc32(chunk, crc_run)
                    rest = d.unconsumed_tail
                    if cap is not None and total >= cap:
                        break
                entry["inflated"] = total
                entry["crc_ok"] = (crc_run == crc and total == usize) if cap is None or total < cap else None
        elif method == 8:
            entry["inflated"] = "not inflated (nested)"
        out["entries"].append(entry)
        pos += 30 + nlen + xlen + csize
    out["central_directory"] = data.rfind(b"PK\x05\x06") >= 0
    return out


def pdf_tree_pages(data: bytes) -> int | None:
    """Walks /Kids from the catalog's /Pages, counting leaves (cycle-safe); objects by regex."""
    objs = {int(m.group(1)): m.group(2) for m in
            re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj", data, re.S)}
    root = re.search(rb"/Root (\d+) 0 R", data)
    if not root or int(root.group(1)) not in objs:
        return None
    pages = re.search(rb"/Pages (\d+) 0 R", objs[int(root.group(1))])
    if not pages:
        return None
    count, seen, stack = 0, set(), [int(pages.group(1))]
    while stack:
        num = stack.pop()
        if num in seen or num not in objs:
            continue
        seen.add(num)
        body = objs[num]
        if re.search(rb"/Type /Page\b(?!s)", body):
            count += 1
        kids = re.search(rb"/Kids \[([^\]]*)\]", body)
        if kids:
            stack.extend(int(k) for k in re.findall(rb"(\d+) 0 R", kids.group(1)))
    return count


# ---------------------------------------------------------------------------------------------
# PDFium, as engine::pdf::PdfEngine::inspect drives it


class Pdfium:
    ERR = {1: "Unknown", 2: "FileError", 3: "FormatError", 4: "PasswordError", 5: "SecurityError",
           6: "PageError"}

    def __init__(self) -> None:
        import pypdfium2
        from pypdfium2 import raw
        self.r = raw
        self.version = str(getattr(pypdfium2, "PDFIUM_INFO", getattr(pypdfium2, "V_PDFIUM", "?")))
        raw.FPDF_InitLibrary()

    @staticmethod
    def declares_no_pages(data: bytes) -> bool:
        compact = bytes(b for b in data if b not in b" \t\n\r\x0c\x0b")
        return is_pdf(data) and b"/Count0" in compact and not re.search(rb"/Count[1-9]", compact)

    def inspect(self, data: bytes) -> tuple[str, str, int | None]:
        r = self.r
        buf = ctypes.create_string_buffer(data, len(data))
        doc = r.FPDF_LoadMemDocument64(buf, len(data), None)
        if not doc:
            err = self.ERR.get(r.FPDF_GetLastError(), "Unknown")
            if err == "PasswordError":
                return "pdf_encrypted", "the PDF is password-protected; remove the password and import it again", None
            if self.declares_no_pages(data):
                return "pdf_empty", "the PDF has no pages", None
            return "pdf_corrupt", f"the PDF is corrupt or not a PDF: PDFium: {err}", None
        try:
            n = r.FPDF_GetPageCount(doc)
            if n == 0:
                return "pdf_empty", "the PDF has no pages", None
            if n > 2000:
                return "pdf_too_many_pages", f"the PDF has {n} pages; the limit is 2000", None
            page = r.FPDF_LoadPage(doc, 0)
            if not page:
                return "pdf_corrupt", "the PDF is corrupt or not a PDF: PDFium: Unknown", None
            w, h = r.FPDF_GetPageWidthF(page), r.FPDF_GetPageHeightF(page)
            scale = 256 / max(w, h, 1.0)
            bw, bh = max(1, int(w * scale)), max(1, int(h * scale))
            bitmap = r.FPDFBitmap_Create(bw, bh, 0)
            r.FPDFBitmap_FillRect(bitmap, 0, 0, bw, bh, 0xFFFFFFFF)
            r.FPDF_RenderPageBitmap(bitmap, page, 0, 0, bw, bh, 0, 0)
            r.FPDFBitmap_Destroy(bitmap)
            text = r.FPDFText_LoadPage(page)
            chars = r.FPDFText_CountChars(text)
            r.FPDFText_ClosePage(text)
            r.FPDF_ClosePage(page)
            return "document", f"{n} page(s), page 1 {w:g}×{h:g} pt, rendered, {chars} chars of text", n
        finally:
            r.FPDF_CloseDocument(doc)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    args = sys.argv[1:]
    quick = "--quick" in args
    table = "--table" in args
    tjprobe = None
    if "--tjprobe" in args:
        tjprobe = args[args.index("--tjprobe") + 1]
    positional = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--tjprobe")]
    if len(positional) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = Path(positional[0])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = out / manifest["folder"]
    cap = (64 << 20) if quick else None
    try:
        pdfium = Pdfium()
    except Exception as e:  # noqa: BLE001
        pdfium = None
        print(f"note: pypdfium2 not importable ({e}); PDFs checked structurally only", file=sys.stderr)

    problems: list[str] = []
    rows: list[tuple[dict, list[str]]] = []
    digests: dict[str, str] = {}
    for entry in manifest["entries"]:
        rel = bytes.fromhex(entry["path_hex"])
        path = Path(os.fsdecode(os.path.join(os.fsencode(files), rel)))
        checks: list[str] = []

        def bad(msg: str, entry: dict = entry, checks: list[str] = checks) -> None:
            problems.append(f"{entry['path']!r}: {msg}")
            checks.append("MISMATCH: " + msg)

        if entry.get("error"):
            try:
                re.compile(entry["error"])
            except re.error as e:
                bad(f"error is not a regular expression: {e}")
        if entry["expect"] in ("refused",) and not entry.get("error"):
            bad("refused without an error pattern")
        if not os.path.lexists(path):
            bad("missing")
            rows.append((entry, checks))
            continue
        st = os.lstat(path)
        takes = folder_takes(path)
        if takes != (entry["expect"] != "skipped"):
            bad(f"a folder import {'takes' if takes else 'skips'} it, manifest says {entry['expect']}")
        else:
            checks.append("folder walk: " + ("taken" if takes else "skipped"))
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            try:
                os.stat(path)
                state = "resolves"
            except OSError as e:
                state = e.strerror
            checks.append(f"symlink -> {target} ({state})")
            rows.append((entry, checks))
            continue
        if stat.S_ISFIFO(st.st_mode):
            checks.append("FIFO (never opened)")
            rows.append((entry, checks))
            continue
        if stat.S_ISDIR(st.st_mode):
            checks.append(f"directory with {len(os.listdir(path))} entries")
            rows.append((entry, checks))
            continue

        size = st.st_size
        if size > 64 * 1024 * 1024:
            checks.append(f"{size} bytes, {st.st_blocks * 512} on disk (sparse)")
            if entry.get("code") != "file_too_large":
                bad("over the byte limit but not expected file_too_large")
            elif not re.search(entry["error"], f"the file is {size} bytes; the limit is {64 << 20} bytes"):
                bad("file_too_large message does not match")
            rows.append((entry, checks))
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in digests:
            bad(f"same bytes as {digests[digest]!r} (the station would call it a duplicate)")
        digests[digest] = entry["path"]

        # The station's first decisions.
        message = None
        if not data:
            message = ("empty_file", "the file is empty (0 bytes)")
        elif is_pdf(data):
            checks.append("is_pdf")
        else:
            fmt = guess_format(data)
            if fmt is None:
                message = ("unsupported_format", f"not a JPEG, PNG, WebP image or a PDF ({describe_unknown(data)})")
            elif fmt not in ("Jpeg", "Png", "WebP"):
                message = ("unsupported_format", f"not a JPEG, PNG, WebP image or a PDF (it is a {fmt} image)")
            else:
                checks.append(f"sniffed {fmt}")
        if message:
            checks.append(f"sniff: {message[1]}")
            if entry.get("code") != message[0] or not re.search(entry["error"], message[1]):
                bad(f"station's sniff answers {message}, manifest says {entry.get('code')} {entry.get('error')}")

        # What the bytes are.
        if data.startswith(b"\x89PNG"):
            f = png_facts(data, cap)
            desc = " ".join(f"{k}({n})" for k, n in f["chunks"])
            checks.append(f"PNG chunks: {desc}")
            if "ihdr" in f:
                w, h, depth, color = f["ihdr"][:4]
                checks.append(f"IHDR {w}×{h} depth {depth} color type {color}")
            if f["bad_crc"]:
                checks.append("bad CRC: " + ",".join(f["bad_crc"]))
            if f["truncated"]:
                checks.append("ends inside a chunk")
            if "idat" in f:
                total, _, note = f["idat"]
                checks.append(f"IDAT inflates to {total} bytes ({note})")
                if "ihdr" in f:
                    w, h, depth, color = f["ihdr"][:4]
                    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
                    need = h * (1 + (w * channels * depth + 7) // 8)
                    checks.append(f"rows need {need} bytes")
            if f.get("trailing"):
                checks.append(f"{f['trailing']} bytes after IEND")
        elif data.startswith(b"\xff\xd8"):
            f = jpeg_facts(data)
            checks.append("JPEG markers: " + " ".join(f["markers"]))
            if "sof" in f:
                checks.append("SOF {}×{} with {} components".format(*f["sof"]))
            if "sos_components" in f:
                checks.append(f"SOS {f['sos_components']} components, {f.get('scan_bytes')} scan bytes, "
                              f"EOI {'present' if f.get('eoi') else 'missing'}")
            if "adobe_transform" in f:
                checks.append(f"Adobe APP14 transform {f['adobe_transform']}")
            if "exif" in f:
                checks.append("EXIF " + json.dumps(f["exif"], sort_keys=True))
            if "pdf_in_com_at" in f:
                checks.append(f"%PDF- at byte {f['pdf_in_com_at']}")
        elif data.startswith(b"RIFF"):
            f = webp_facts(data)
            text = f"WebP: RIFF claims {f.get('riff_size')} bytes, file {f.get('file_size')}"
            if f.get("first_chunk"):
                text += f"; first chunk {f['first_chunk']}"
            if "size" in f:
                text += f"; size as image-webp 0.2.4 reads it {f['size'][0]}×{f['size'][1]}"
                if f["first_chunk"] == "VP8X" and f["size"][0] * f["size"][1] > 0xFFFFFFFF:
                    text += " (area over 32 bits: image-webp's ImageTooLarge)"
            if "declared" in f and f["declared"] != f.get("size"):
                text += f" (the bitstream says {f['declared'][0]}×{f['declared'][1]})"
            if f.get("chunks"):
                text += "; then " + ", ".join(f"{k}({n})" for k, n in f["chunks"])
            if "vp8_header_bytes" in f:
                text += f"; {f['vp8_header_bytes']} of the VP8 frame header's 10 bytes present"
            checks.append(text)
        elif data.startswith(b"PK\x03\x04"):
            f = zip_facts(data, cap)
            first = f["entries"][0]
            text = (f"ZIP: {len(f['entries'])} entr{'y' if len(f['entries']) == 1 else 'ies'}, "
                    f"'{first['name']}' {first['compressed']} bytes deflated, claims {first['claimed']}")
            if "inflated" in first:
                text += f", inflates to {first['inflated']}"
            if "inner" in first:
                inner = first["inner"]["entries"][0]
                text += (f"; each holds a zip whose '{inner['name']}' claims {inner['claimed']} "
                         f"({len(f['entries'])} × {inner['claimed']} in all)")
            if all(e.get("crc_ok") for e in f["entries"]):
                text += ", CRC-32 ok"
            elif any(e.get("crc_ok") is False for e in f["entries"]):
                text += ", CRC-32 WRONG"
            checks.append(text + ("" if f["central_directory"] else ", no central directory"))
        if b"%PDF-" in data:
            pages = pdf_tree_pages(data[data.index(b"%PDF-"):])
            checks.append(f"page tree walk: {pages} page objects")

        # Too many pixels: the numbers in the message are the header's.
        if entry.get("code") == "too_many_pixels":
            m = re.search(r"claims (\d+)×(\d+)", entry["error"])
            claimed = (int(m.group(1)), int(m.group(2)))
            header = None
            if data.startswith(b"\x89PNG"):
                header = png_facts(data[:200], 0).get("ihdr", (None, None))[:2]
            elif data.startswith(b"\xff\xd8"):
                header = jpeg_facts(data).get("sof", (None, None))[:2]
            elif data.startswith(b"RIFF"):
                header = webp_facts(data).get("size")
            if tuple(header or ()) != claimed:
                bad(f"header claims {header}, error names {claimed}")
            elif claimed[0] * claimed[1] <= 120_000_000:
                bad("not over the pixel limit")

        # PDFium.
        if is_pdf(data) and pdfium is not None:
            code, text, pages = pdfium.inspect(data)
            checks.append(f"PDFium {pdfium.version}: {text}")
            if code == "document":
                if entry.get("result") != "document" or entry.get("pages") != pages:
                    bad(f"PDFium opens it with {pages} pages, manifest says {entry.get('result')} {entry.get('pages')}")
            elif entry.get("code") != code or not re.search(entry["error"], text):
                bad(f"PDFium path answers {code}: {text!r}, manifest says {entry.get('code')} {entry.get('error')}")
        rows.append((entry, checks))

    # libjpeg-turbo, as decode_jpeg_reduced drives it.
    if tjprobe:
        jpegs = []
        for entry, checks in rows:
            path = Path(os.fsdecode(os.path.join(os.fsencode(files), bytes.fromhex(entry["path_hex"]))))
            if path.is_file() and not path.is_symlink() and path.stat().st_size < (64 << 20):
                head = path.read_bytes()[:1024]
                if head.startswith(b"\xff\xd8\xff") and b"%PDF-" not in head:
                    jpegs.append((entry, checks, path))
        outp = subprocess.run([tjprobe] + [str(p) for _, _, p in jpegs], capture_output=True, check=False)
        by_index = {}
        for line in outp.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split("\t", 3)
            if len(parts) == 4:
                by_index[int(parts[0])] = parts
        for index, (entry, checks, path) in enumerate(jpegs, 1):
            parts = by_index.get(index)
            if not parts:
                problems.append(f"{entry['path']!r}: no answer from tjprobe")
                continue
            status = parts[1]
            detail = parts[3] if status != "OK" else f"{parts[2]}, {parts[3]}"
            checks.append(f"libjpeg-turbo: {status} {detail}")
            if entry.get("stage") == "decode":
                words = ("premature end", "unexpected eof", "unexpected end",
                         "failed to fill whole buffer", "no more data", "not enough data")
                kind = "truncated" if any(w in detail.lower() for w in words) else "corrupt"
                message = f"the JPEG file is {kind}: {detail}"
                if status != "DECODE_ERR" or entry.get("code") != kind or not re.search(entry["error"], message):
                    note = f"libjpeg-turbo gives {message!r}, manifest says {entry.get('code')} {entry.get('error')}"
                    problems.append(f"{entry['path']!r}: {note}")
                    checks.append("MISMATCH: " + note)
            if entry.get("result") == "imported" and status != "OK":
                problems.append(f"{entry['path']!r}: libjpeg-turbo cannot decode an 'imported' photo: {detail}")

    if table:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", "\\n")

        print("| # | path | what it is, what it attacks | station answers | decided at | bytes verified |")
        print("|---|---|---|---|---|---|")
        for i, (entry, checks) in enumerate(rows, 1):
            if entry["expect"] == "refused":
                answer = f"refused `{entry['code']}`: {entry.get('message', entry['error'])}"
            elif entry["expect"] == "imported":
                answer = (f"document, {entry['pages']} page(s)" if entry.get("result") == "document"
                          else f"imported {entry['size'][0]}×{entry['size'][1]}, verdict {entry.get('verdict')}")
            else:
                answer = entry["expect"]
                d = entry.get("direct")
                if d:
                    shown = d.get("message") or d.get("result") or d.get("note") or d.get("expect")
                    answer += f"; named directly: {shown}"
            raw = bytes.fromhex(entry["path_hex"]).decode("utf-8", "backslashreplace")
            shown = "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 or ord(c) == 0x7F
                            else f"\\u{ord(c):04X}" if 0x202A <= ord(c) <= 0x202E else c for c in raw)
            verified = "; ".join(c for c in checks
                                 if not c.startswith(("folder walk", "sniffed ", "is_pdf")))
            print(f"| {i} | `{cell(shown)}` | {cell(entry['kind'])} | {cell(answer)} | "
                  f"{entry.get('stage', '')} | {cell(verified)} |")
    else:
        for entry, checks in rows:
            print(f"{entry['path']!r} [{entry['expect']}]")
            for c in checks:
                print(f"    {c}")
    counts: dict[str, int] = {}
    for e in manifest["entries"]:
        counts[e["expect"]] = counts.get(e["expect"], 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"\nverified {len(manifest['entries'])} entries ({summary}): no disagreement", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
