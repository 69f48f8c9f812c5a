//! Photo intake: format sniffing, size and pixel limits, EXIF orientation, and the fast
//! reduced-scale decode the quality gate works on.
//!
//! Limits are enforced from the header before any pixel is decoded, so a decompression bomb
//! (a small file that claims a huge canvas) costs nothing.
//!
//! Over 600 lines, one job: every decode path (libjpeg-turbo full and reduced, CMYK ink, the
//! generic decoders) shares the limits and error classification here; about 400 lines are its
//! unit tests, which build the hostile inputs they need byte by byte.
//!
//! Past 600 lines with its unit tests: the code is 573 lines (the JPEG and WebP headers are
//! checked against the limits by each decoder that allocates; CMYK decoded as ink), the tests
//! beside it 290.

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Image formats the station accepts as photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
}

impl ImageFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    fn to_image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Webp => image::ImageFormat::WebP,
        }
    }
}

/// Bounds on what intake will try to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Largest canvas accepted (width × height), checked from the header before decoding.
    pub max_pixels: u64,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        // 64 MiB covers RAW-sized JPEGs and 48 MP phone photos with room to spare; 120 MP covers
        // every phone and most DSLRs while bounding the decode buffer.
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_pixels: 120_000_000,
        }
    }
}

/// Why a file could not be taken in. Each variant is a distinct, user-facing diagnosis.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IntakeError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("the file is {bytes} bytes; the limit is {limit} bytes")]
    FileTooLarge { bytes: u64, limit: u64 },
    #[error("not a JPEG, PNG, WebP image or a PDF ({detected})")]
    UnsupportedFormat { detected: String },
    #[error("the image claims {width}×{height} pixels, above the limit of {limit} pixels; refused before decoding")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the {format} file is truncated: {detail}")]
    Truncated {
        format: &'static str,
        detail: String,
    },
    #[error("the {format} file is corrupt: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
}

impl IntakeError {
    /// Stable machine code, used across IPC and in the database.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Empty => ErrorCode::EmptyFile,
            Self::FileTooLarge { .. } => ErrorCode::FileTooLarge,
            Self::UnsupportedFormat { .. } => ErrorCode::UnsupportedFormat,
            Self::TooManyPixels { .. } => ErrorCode::TooManyPixels,
            Self::Truncated { .. } => ErrorCode::Truncated,
            Self::Corrupt { .. } => ErrorCode::Corrupt,
        }
    }
}

/// What the header says, before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    /// Pixel size as displayed, i.e. after EXIF orientation (90° rotations swap the sides).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation tag value (1 = upright; 5–8 are transposed).
    pub exif_orientation: u8,
}

/// The small grayscale image the gate measures, plus what is known about the original.
#[derive(Debug, Clone)]
pub struct GateImage {
    pub info: ImageInfo,
    /// BT.601 luma, row-major, `width × height`, long side at most the requested size.
    pub luma: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// The DCT-domain scale the JPEG was decoded at ("1/8", "1/4", "1/2", "1"); "1" for PNG/WebP.
    pub decode_scale: String,
}

/// Sniffs the format from magic bytes (never the file name) and returns a specific error for
/// files that are not photos at all.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => Ok(ImageFormat::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(ImageFormat::Png),
        Ok(image::ImageFormat::WebP) => Ok(ImageFormat::Webp),
        Ok(other) => Err(IntakeError::UnsupportedFormat {
            detected: format!("it is a {other:?} image"),
        }),
        Err(_) => Err(IntakeError::UnsupportedFormat {
            detected: describe_unknown(bytes),
        }),
    }
}

/// A short human description of what a non-image file looks like.
fn describe_unknown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"%PDF") {
        "it is a PDF document".into()
    } else if head.starts_with(b"PK\x03\x04") {
        "it is a ZIP archive or office document".into()
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        "it is a video or HEIC file".into()
    } else if head.starts_with(b"\xFF\xD8") {
        "it starts like a JPEG but the header is damaged".into()
    } else if std::str::from_utf8(head).is_ok() {
        "it looks like a text file".into()
    } else {
        "unrecognized binary data".into()
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Webp => "WebP",
    }
}

/// Maps a decoder error to truncated/corrupt. Decoders report premature ends in prose only.
fn classify_decode_error(format: ImageFormat, detail: String) -> IntakeError {
    // Decoders prefix their messages with boilerplate the user does not need.
    let detail = [
        "TurboJPEG error: ",
        "Format error decoding Jpeg: ",
        "Format error decoding Png: ",
        "Format error decoding WebP: ",
    ]
    .iter()
    .fold(detail, |d, prefix| {
        d.strip_prefix(prefix).map(str::to_string).unwrap_or(d)
    });
    let lower = detail.to_lowercase();
    let truncated = [
        "premature end",
        "unexpected eof",
        "unexpected end",
        "failed to fill whole buffer",
        "no more data",
        "not enough data",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    let format = format_name(format);
    if truncated {
        IntakeError::Truncated { format, detail }
    } else {
        IntakeError::Corrupt { format, detail }
    }
}

/// Reads format, size and orientation from the header only and enforces the limits.
pub fn probe(bytes: &[u8], limits: &IntakeLimits) -> Result<ImageInfo, IntakeError> {
    let byte_len = bytes.len() as u64;
    if byte_len > limits.max_bytes {
        return Err(IntakeError::FileTooLarge {
            bytes: byte_len,
            limit: limits.max_bytes,
        });
    }
    let format = sniff(bytes)?;
    // the WebP decoder reports a canvas it finds too large as a bare error or a zero size: the
    // header's own numbers say plainly what was claimed
    if let Some((width, height)) = (format == ImageFormat::Webp)
        .then(|| webp_canvas(bytes))
        .flatten()
        .filter(|(w, h)| u64::from(*w) * u64::from(*h) > limits.max_pixels)
    {
        return Err(IntakeError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format.to_image_format())
        .into_decoder()
        .map_err(|e| classify_decode_error(format, e.to_string()))?;
    let (raw_w, raw_h) = decoder.dimensions();
    if raw_w == 0 || raw_h == 0 {
        return Err(IntakeError::Corrupt {
            format: format_name(format),
            detail: "the header gives a zero size".into(),
        });
    }
    if u64::from(raw_w) * u64::from(raw_h) > limits.max_pixels {
        return Err(IntakeError::TooManyPixels {
            width: raw_w,
            height: raw_h,
            limit: limits.max_pixels,
        });
    }
    // A missing or unreadable EXIF block is common and harmless: treat the photo as upright.
    let exif_orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    let (width, height) = if exif_orientation >= 5 {
        (raw_h, raw_w)
    } else {
        (raw_w, raw_h)
    };
    Ok(ImageInfo {
        format,
        width,
        height,
        exif_orientation,
    })
}

/// The canvas a WebP file's first chunk claims (`VP8X`: 24-bit sizes, `VP8L`: 14-bit, `VP8 `:
/// the key frame's 14-bit sizes), read from the bytes alone.
fn webp_canvas(bytes: &[u8]) -> Option<(u32, u32)> {
    let le = |at: usize, n: usize| -> Option<u32> {
        let slice = bytes.get(at..at + n)?;
        Some(
            slice
                .iter()
                .rev()
                .fold(0u32, |v, b| (v << 8) | u32::from(*b)),
        )
    };
    match bytes.get(12..16)? {
        b"VP8X" => Some((le(24, 3)? + 1, le(27, 3)? + 1)),
        b"VP8L" => {
            let bits = le(21, 4)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => (bytes.get(23..26)? == [0x9d, 0x01, 0x2a])
            .then(|| Some((le(26, 2)? & 0x3FFF, le(28, 2)? & 0x3FFF)))
            .flatten(),
        _ => None,
    }
}

/// Decodes the full image upright (EXIF orientation applied), as a viewer shows it: OCR boxes
/// then line up with what the user sees.
pub fn decode_upright(bytes: &[u8], limits: &IntakeLimits) -> Result<image::RgbImage, IntakeError> {
    let info = probe(bytes, limits)?;
    let corrupt = |detail: String| classify_decode_error(info.format, detail);
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), info.format.to_image_format())
        .into_decoder()
        .map_err(|e| corrupt(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = if info.format == ImageFormat::Jpeg {
        // libjpeg-turbo decodes about twice as fast as the pure-Rust decoder (OCR pays it per page).
        image::DynamicImage::ImageRgb8(decode_jpeg_rgb(bytes, &info, limits)?)
    } else {
        image::DynamicImage::from_decoder(decoder).map_err(|e| corrupt(e.to_string()))?
    };
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

fn decode_jpeg_rgb(
    bytes: &[u8],
    info: &ImageInfo,
    limits: &IntakeLimits,
) -> Result<image::RgbImage, IntakeError> {
    let framed = without_stray_header_bytes(bytes);
    let bytes: &[u8] = &framed;
    let corrupt = |e: turbojpeg::Error| classify_decode_error(ImageFormat::Jpeg, e.to_string());
    let mut decompressor = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    turbo_header_within(&header, info, limits)?;
    if is_ink(&header) {
        let cmyk = decode_ink(&mut decompressor, bytes, header.width, header.height)?;
        let rgb = cmyk.chunks_exact(4).flat_map(ink_to_rgb).collect();
        return image::RgbImage::from_raw(
            u32::try_from(header.width).unwrap_or(0),
            u32::try_from(header.height).unwrap_or(0),
            rgb,
        )
        .ok_or_else(|| IntakeError::Corrupt {
            format: "JPEG",
            detail: "decoded size does not match the header".into(),
        });
    }
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; header.width * header.height * 3],
        width: header.width,
        pitch: header.width * 3,
        height: header.height,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompress_keeping_whole(&mut decompressor, bytes, image.as_deref_mut())?;
    let (w, h) = (
        u32::try_from(header.width).unwrap_or(0),
        u32::try_from(header.height).unwrap_or(0),
    );
    image::RgbImage::from_raw(w, h, image.pixels).ok_or_else(|| IntakeError::Corrupt {
        format: "JPEG",
        detail: "decoded size does not match the header".into(),
    })
}

/// Decodes to a grayscale image whose long side is at most `max_long_side`.
///
/// JPEGs are decoded at the smallest DCT scale (1/8, 1/4, 1/2) that still leaves the long side at
/// least 15/16 of `max_long_side`, which skips most of the inverse DCT and all chroma upsampling; the rest
/// is an exact area average. Orientation is not applied to the pixels: every gate metric is
/// symmetric in the two axes, and `info` carries the displayed size.
pub fn decode_for_gate(
    bytes: &[u8],
    limits: &IntakeLimits,
    max_long_side: usize,
) -> Result<GateImage, IntakeError> {
    let info = probe(bytes, limits)?;
    let (luma, width, height, decode_scale) = match info.format {
        ImageFormat::Jpeg => decode_jpeg_reduced(bytes, &info, limits, max_long_side)?,
        ImageFormat::Png | ImageFormat::Webp => decode_generic(bytes, info.format, limits)?,
    };
    let (luma, width, height) = area_downscale(&luma, width, height, max_long_side);
    Ok(GateImage {
        info,
        luma,
        width,
        height,
        decode_scale,
    })
}

type Decoded = (Vec<u8>, usize, usize, String);

/// A print-workflow JPEG (CMYK, or YCCK as Adobe writes it): libjpeg-turbo converts it to
/// neither RGB nor gray ("Unsupported color conversion request"), so it is decoded as ink and
/// converted here.
fn is_ink(header: &turbojpeg::DecompressHeader) -> bool {
    matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    )
}

fn decode_ink(
    decompressor: &mut turbojpeg::Decompressor,
    bytes: &[u8],
    width: usize,
    height: usize,
) -> Result<Vec<u8>, IntakeError> {
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; width * height * 4],
        width,
        pitch: width * 4,
        height,
        format: turbojpeg::PixelFormat::CMYK,
    };
    decompress_keeping_whole(decompressor, bytes, image.as_deref_mut())?;
    Ok(image.pixels)
}

/// A copy of a JPEG without the stray bytes some writers leave between header segments (libjpeg
/// skips them with its warning "Corrupt JPEG data: N extraneous bytes before marker 0xdb", and
/// TurboJPEG's header call then fails outright), or the file itself when it has none or its
/// segments do not add up (then libjpeg reports what is wrong). Everything from the start of
/// the scan on is kept as it is.
fn without_stray_header_bytes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const SOS: u8 = 0xDA;
    if !bytes.starts_with(b"\xFF\xD8") {
        return bytes.into();
    }
    let mut kept = Vec::with_capacity(bytes.len());
    kept.extend_from_slice(&bytes[..2]);
    let (mut at, mut skipped) = (2, 0usize);
    while at + 1 < bytes.len() {
        let (byte, marker) = (bytes[at], bytes[at + 1]);
        if byte != 0xFF || marker == 0x00 {
            skipped += 1;
            at += 1;
            continue;
        }
        if marker == 0xFF {
            // fill byte before a marker: legal, dropped
            at += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            kept.extend_from_slice(&bytes[at..at + 2]);
            at += 2;
            continue;
        }
        let Some(length) = bytes
            .get(at + 2..at + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return bytes.into();
        };
        if length < 2 || at + 2 + length > bytes.len() {
            return bytes.into();
        }
        if marker == SOS {
            if skipped == 0 {
                return bytes.into();
            }
            tracing::warn!(
                skipped,
                "JPEG read without {skipped} stray bytes between its header segments"
            );
            kept.extend_from_slice(&bytes[at..]);
            return kept.into();
        }
        kept.extend_from_slice(&bytes[at..at + 2 + length]);
        at += 2 + length;
    }
    bytes.into()
}

/// libjpeg-turbo's decompression, keeping the one warning that leaves the image whole: bytes
/// between two segments skipped (libjpeg's `JWRN_EXTRANEOUS_DATA`, "Corrupt JPEG data: 3
/// extraneous bytes before marker 0xd9"), which some scanners and cameras write and libjpeg,
/// OpenCV and browsers read with a notice. The file is accepted and the warning logged. Every
/// other warning ("Premature end of JPEG file", "bad Huffman code") means pixels missing or
/// wrong: refused as before.
fn decompress_keeping_whole(
    decompressor: &mut turbojpeg::Decompressor,
    bytes: &[u8],
    image: turbojpeg::Image<&mut [u8]>,
) -> Result<(), IntakeError> {
    match decompressor.decompress(bytes, image) {
        Ok(()) => Ok(()),
        Err(turbojpeg::Error::TurboJpegError(message)) if skipped_bytes_only(&message) => {
            tracing::warn!(warning = %message, "JPEG decoded whole with a warning");
            Ok(())
        }
        Err(e) => Err(classify_decode_error(ImageFormat::Jpeg, e.to_string())),
    }
}

/// Whether a libjpeg message is the skipped-bytes warning (its wording is fixed in jerror.h).
fn skipped_bytes_only(message: &str) -> bool {
    message.contains("extraneous bytes before marker")
}

/// One pixel of ink as light. Adobe's CMYK JPEGs (nearly all of them) store the channels
/// inverted — 255 is no ink — which libjpeg-turbo passes through: the light left is then the
/// product of each channel and K.
fn ink_to_rgb(px: &[u8]) -> [u8; 3] {
    let k = u32::from(px[3]);
    let light = |c: u8| ((u32::from(c) * k + 127) / 255) as u8;
    [light(px[0]), light(px[1]), light(px[2])]
}

/// libjpeg-turbo reads the header again and allocates from what it reads: its size is held to
/// the limits too, and must be the one the probe checked (a file whose headers two decoders read
/// differently is refused, not decoded at the larger size).
fn turbo_header_within(
    header: &turbojpeg::DecompressHeader,
    info: &ImageInfo,
    limits: &IntakeLimits,
) -> Result<(), IntakeError> {
    let (w, h) = (header.width as u64, header.height as u64);
    if w.saturating_mul(h) > limits.max_pixels {
        return Err(IntakeError::TooManyPixels {
            width: u32::try_from(w).unwrap_or(u32::MAX),
            height: u32::try_from(h).unwrap_or(u32::MAX),
            limit: limits.max_pixels,
        });
    }
    let probed = if info.exif_orientation >= 5 {
        (u64::from(info.height), u64::from(info.width))
    } else {
        (u64::from(info.width), u64::from(info.height))
    };
    if (w, h) != probed {
        return Err(IntakeError::Corrupt {
            format: "JPEG",
            detail: format!(
                "its headers disagree on the size ({}×{} and {w}×{h})",
                probed.0, probed.1
            ),
        });
    }
    Ok(())
}

fn decode_jpeg_reduced(
    bytes: &[u8],
    info: &ImageInfo,
    limits: &IntakeLimits,
    max_long_side: usize,
) -> Result<Decoded, IntakeError> {
    let framed = without_stray_header_bytes(bytes);
    let bytes: &[u8] = &framed;
    let corrupt = |e: turbojpeg::Error| classify_decode_error(ImageFormat::Jpeg, e.to_string());
    let mut decompressor = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    turbo_header_within(&header, info, limits)?;
    let long_side = header.width.max(header.height);
    let scale = [
        turbojpeg::ScalingFactor::ONE_EIGHTH,
        turbojpeg::ScalingFactor::ONE_QUARTER,
        turbojpeg::ScalingFactor::ONE_HALF,
    ]
    .into_iter()
    // Entropy decoding dominates; the next smaller DCT scale saves a fifth of the time. Accept
    // a working image down to 15/16 of the requested size for it (a 4000 px photo decodes at
    // 1/8 to 500 px instead of at 1/4 to 1000 px): the measures do not move at that ratio.
    .find(|s| s.scale(long_side) * 16 >= max_long_side * 15)
    .unwrap_or(turbojpeg::ScalingFactor::ONE);
    let scale = if header.is_lossless {
        turbojpeg::ScalingFactor::ONE
    } else {
        scale
    };
    decompressor.set_scaling_factor(scale).map_err(corrupt)?;
    let scaled = header.scaled(scale);
    if is_ink(&header) {
        let cmyk = decode_ink(&mut decompressor, bytes, scaled.width, scaled.height)?;
        let luma = cmyk
            .chunks_exact(4)
            .map(|px| {
                let [r, g, b] = ink_to_rgb(px);
                // BT.601 luma, as libjpeg-turbo's own RGB → gray
                ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114 + 500) / 1000) as u8
            })
            .collect();
        return Ok((luma, scaled.width, scaled.height, scale.to_string()));
    }
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; scaled.width * scaled.height],
        width: scaled.width,
        pitch: scaled.width,
        height: scaled.height,
        format: turbojpeg::PixelFormat::GRAY,
    };
    decompress_keeping_whole(&mut decompressor, bytes, image.as_deref_mut())?;
    Ok((image.pixels, scaled.width, scaled.height, scale.to_string()))
}

fn decode_generic(
    bytes: &[u8],
    format: ImageFormat,
    limits: &IntakeLimits,
) -> Result<Decoded, IntakeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
    let mut decoder_limits = image::Limits::default();
    // 4 bytes per pixel (RGBA8) plus headroom for 16-bit PNGs.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let image = reader
        .decode()
        .map_err(|e| classify_decode_error(format, e.to_string()))?;
    let luma = image.into_luma8();
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    Ok((luma.into_raw(), w, h, "1".into()))
}

/// Exact area-average downscale so the long side is at most `max_long_side` (never upscales).
/// Each output pixel averages the input rectangle it covers, with fractional edge weights.
pub fn area_downscale(
    src: &[u8],
    width: usize,
    height: usize,
    max_long_side: usize,
) -> (Vec<u8>, usize, usize) {
    let long_side = width.max(height);
    if long_side <= max_long_side || max_long_side == 0 {
        return (src.to_vec(), width, height);
    }
    let ratio = long_side as f64 / max_long_side as f64;
    let out_w = ((width as f64 / ratio).round() as usize).max(1);
    let out_h = ((height as f64 / ratio).round() as usize).max(1);
    let x_weights = axis_weights(width, out_w);
    let y_weights = axis_weights(height, out_h);
    // Horizontal pass into f32 rows, then vertical pass.
    let mut rows = vec![0f32; out_w * height];
    for y in 0..height {
        let src_row = &src[y * width..(y + 1) * width];
        let dst_row = &mut rows[y * out_w..(y + 1) * out_w];
        for (dst, taps) in dst_row.iter_mut().zip(&x_weights) {
            *dst = taps.iter().map(|&(i, w)| f32::from(src_row[i]) * w).sum();
        }
    }
    let mut out = vec![0u8; out_w * out_h];
    for (oy, taps) in y_weights.iter().enumerate() {
        let dst_row = &mut out[oy * out_w..(oy + 1) * out_w];
        for (ox, dst) in dst_row.iter_mut().enumerate() {
            let v: f32 = taps.iter().map(|&(i, w)| rows[i * out_w + ox] * w).sum();
            *dst = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    (out, out_w, out_h)
}

/// For each output index, the input indices it covers and their normalized weights.
fn axis_weights(in_len: usize, out_len: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = in_len as f64 / out_len as f64;
    (0..out_len)
        .map(|o| {
            let start = o as f64 * scale;
            let end = (start + scale).min(in_len as f64);
            let mut taps = Vec::with_capacity(scale.ceil() as usize + 1);
            let mut i = start.floor() as usize;
            while (i as f64) < end && i < in_len {
                let covered = (end.min(i as f64 + 1.0) - start.max(i as f64)) / scale;
                if covered > 0.0 {
                    taps.push((i, covered as f32));
                }
                i += 1;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn encode(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, y| {
            Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn empty_file_is_its_own_error() {
        assert_eq!(
            probe(&[], &IntakeLimits::default()),
            Err(IntakeError::Empty)
        );
    }

    #[test]
    fn text_and_pdf_are_unsupported_with_a_description() {
        let err = probe(b"hello, this is not a photo", &IntakeLimits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
        assert!(err.to_string().contains("text file"), "{err}");
        let err = probe(b"%PDF-1.7\n...", &IntakeLimits::default()).unwrap_err();
        assert!(err.to_string().contains("PDF"), "{err}");
    }

    #[test]
    fn file_over_byte_limit_is_refused() {
        let bytes = encode(image::ImageFormat::Png, 64, 64);
        let limits = IntakeLimits {
            max_bytes: 10,
            ..IntakeLimits::default()
        };
        assert_eq!(
            probe(&bytes, &limits).unwrap_err().code(),
            ErrorCode::FileTooLarge
        );
    }

    #[test]
    fn libjpeg_turbos_own_reading_of_the_header_is_held_to_the_limits_and_the_probe() {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode(
                &[128u8; 32 * 16 * 3],
                32,
                16,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        let header = turbojpeg::Decompressor::new()
            .unwrap()
            .read_header(&jpeg)
            .unwrap();
        let info = |width, height, exif_orientation| ImageInfo {
            format: ImageFormat::Jpeg,
            width,
            height,
            exif_orientation,
        };
        let limits = IntakeLimits::default();
        turbo_header_within(&header, &info(32, 16, 1), &limits).unwrap();
        // shown turned a quarter: the probe's displayed size is the header's, swapped
        turbo_header_within(&header, &info(16, 32, 6), &limits).unwrap();
        let err = turbo_header_within(&header, &info(16, 16, 1), &limits).unwrap_err();
        assert!(err.to_string().contains("headers disagree"), "{err}");
        let small = IntakeLimits {
            max_pixels: 100,
            ..limits
        };
        assert!(matches!(
            turbo_header_within(&header, &info(32, 16, 1), &small),
            Err(IntakeError::TooManyPixels {
                width: 32,
                height: 16,
                limit: 100
            })
        ));
    }

    #[test]
    fn a_cmyk_jpeg_decodes_for_the_gate_and_upright() {
        // left half no ink (Adobe's inverted 255), right half full black ink (K = 0)
        let (w, h) = (64usize, 48usize);
        let mut pixels = Vec::with_capacity(w * h * 4);
        for _ in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(if x < w / 2 {
                    &[255, 255, 255, 255]
                } else {
                    &[255, 255, 255, 0]
                });
            }
        }
        let image = turbojpeg::Image {
            pixels: pixels.as_slice(),
            width: w,
            pitch: w * 4,
            height: h,
            format: turbojpeg::PixelFormat::CMYK,
        };
        let mut compressor = turbojpeg::Compressor::new().unwrap();
        compressor.set_quality(95).unwrap();
        compressor.set_subsamp(turbojpeg::Subsamp::None).unwrap();
        let jpeg = compressor.compress_to_vec(image).unwrap();
        let header = turbojpeg::Decompressor::new()
            .unwrap()
            .read_header(&jpeg)
            .unwrap();
        assert!(is_ink(&header), "{:?}", header.colorspace);
        let gate = decode_for_gate(&jpeg, &IntakeLimits::default(), 512).unwrap();
        let row = &gate.luma[gate.width * (gate.height / 2)..gate.width * (gate.height / 2 + 1)];
        assert!(row[1] > 240 && row[gate.width - 2] < 15, "{row:?}");
        let rgb = decode_upright(&jpeg, &IntakeLimits::default()).unwrap();
        assert_eq!(rgb.dimensions(), (64, 48));
        assert!(rgb.get_pixel(2, 24).0.iter().all(|c| *c > 240));
        assert!(rgb.get_pixel(61, 24).0.iter().all(|c| *c < 15));
    }

    #[test]
    fn a_webp_canvas_is_read_from_each_kind_of_first_chunk() {
        let riff = |chunk: &[u8]| {
            let mut b = b"RIFF\0\0\0\0WEBP".to_vec();
            b.extend_from_slice(chunk);
            b
        };
        // lossy: frame tag, start code, 14-bit sizes (the top 2 bits are scaling)
        let mut vp8 = b"VP8 \0\0\0\0\x10\x02\x00\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&(0xC000u16 | 640).to_le_bytes());
        vp8.extend_from_slice(&480u16.to_le_bytes());
        assert_eq!(webp_canvas(&riff(&vp8)), Some((640, 480)));
        let mut vp8x = b"VP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3f, 0x42, 0x0f, 0xff, 0xff, 0xff]);
        assert_eq!(webp_canvas(&riff(&vp8x)), Some((1_000_000, 1 << 24)));
        assert_eq!(webp_canvas(b"RIFF"), None);
        assert_eq!(webp_canvas(&riff(b"VP8 \0\0\0\0\0\0\0\0\0\0")), None);
    }

    #[test]
    fn decompression_bomb_is_refused_from_the_header() {
        // A valid PNG header announcing 100000×100000 pixels with no real data behind it.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&(ihdr.len() as u32).to_be_bytes());
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&ihdr);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        // The decoder reads up to the first IDAT before it reports the size; give it one.
        let idat = b"IDAT\x78\x9c\x63\x00\x00\x00\x01\x00\x01";
        png.extend_from_slice(&((idat.len() - 4) as u32).to_be_bytes());
        png.extend_from_slice(idat);
        png.extend_from_slice(&crc32(idat).to_be_bytes());
        let err = decode_for_gate(&png, &IntakeLimits::default(), 512).unwrap_err();
        assert!(
            matches!(
                err,
                IntakeError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn truncated_jpeg_and_png_are_reported_as_truncated() {
        for format in [image::ImageFormat::Jpeg, image::ImageFormat::Png] {
            let bytes = encode(format, 640, 480);
            let cut = &bytes[..bytes.len() / 2];
            let err = decode_for_gate(cut, &IntakeLimits::default(), 512).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Truncated, "{format:?}: {err}");
        }
    }

    #[test]
    fn a_jpeg_with_bytes_skipped_before_a_marker_is_read_whole() {
        let mut bytes = encode(image::ImageFormat::Jpeg, 640, 480);
        // three stray bytes between two header segments, before the quantization tables
        let dqt = bytes.windows(2).position(|w| w == b"\xFF\xDB").unwrap();
        bytes.splice(dqt..dqt, [0x12, 0x34, 0x56]);
        // libjpeg-turbo reads it with its warning (which the plain call reports as an error)…
        let warned = turbojpeg::decompress(&bytes, turbojpeg::PixelFormat::RGB)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            warned.contains("extraneous bytes before marker 0xdb"),
            "{warned}"
        );
        // …and intake accepts it, whole, on both paths
        let gate = decode_for_gate(&bytes, &IntakeLimits::default(), 512).unwrap();
        assert_eq!((gate.info.width, gate.info.height), (640, 480));
        let rgb = decode_upright(&bytes, &IntakeLimits::default()).unwrap();
        assert_eq!(rgb.dimensions(), (640, 480));
        // a warning that means lost pixels still refuses the file
        let cut = &bytes[..bytes.len() / 2];
        let err = decode_upright(cut, &IntakeLimits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Truncated, "{err}");
    }

    #[test]
    fn garbage_after_a_jpeg_signature_is_corrupt() {
        let mut bytes = b"\xFF\xD8\xFF\xE0".to_vec();
        bytes.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761u32) >> 24) as u8));
        let err = decode_for_gate(&bytes, &IntakeLimits::default(), 512).unwrap_err();
        assert!(
            matches!(err.code(), ErrorCode::Corrupt | ErrorCode::Truncated),
            "{err}"
        );
    }

    #[test]
    fn jpeg_is_decoded_at_reduced_scale_and_png_fully() {
        let jpeg = encode(image::ImageFormat::Jpeg, 4096, 2048);
        let gate = decode_for_gate(&jpeg, &IntakeLimits::default(), 512).unwrap();
        assert_eq!(gate.decode_scale, "1/8");
        assert_eq!((gate.width, gate.height), (512, 256));
        assert_eq!((gate.info.width, gate.info.height), (4096, 2048));
        // A 4000 px photo takes the 1/8 scale too (500 px ≥ 15/16 of 512), a 3000 px one 1/4.
        let jpeg = encode(image::ImageFormat::Jpeg, 4000, 3000);
        let gate = decode_for_gate(&jpeg, &IntakeLimits::default(), 512).unwrap();
        assert_eq!(
            (gate.decode_scale.as_str(), gate.width, gate.height),
            ("1/8", 500, 375)
        );
        let jpeg = encode(image::ImageFormat::Jpeg, 3000, 2000);
        let gate = decode_for_gate(&jpeg, &IntakeLimits::default(), 512).unwrap();
        assert_eq!(
            (gate.decode_scale.as_str(), gate.width, gate.height),
            ("1/4", 512, 341)
        );

        let png = encode(image::ImageFormat::Png, 1000, 500);
        let gate = decode_for_gate(&png, &IntakeLimits::default(), 512).unwrap();
        assert_eq!(gate.decode_scale, "1");
        assert_eq!((gate.width, gate.height), (512, 256));
    }

    /// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI.
    fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\x00\x00".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_rotation_swaps_the_displayed_size() {
        let jpeg = with_exif_orientation(&encode(image::ImageFormat::Jpeg, 640, 480), 6);
        let info = probe(&jpeg, &IntakeLimits::default()).unwrap();
        assert_eq!(info.exif_orientation, 6);
        let upright = decode_upright(&jpeg, &IntakeLimits::default()).unwrap();
        assert_eq!((upright.width(), upright.height()), (480, 640));
        assert_eq!((info.width, info.height), (480, 640));
        let upright = with_exif_orientation(&encode(image::ImageFormat::Jpeg, 640, 480), 1);
        let info = probe(&upright, &IntakeLimits::default()).unwrap();
        assert_eq!((info.width, info.height), (640, 480));
    }

    #[test]
    fn webp_is_accepted() {
        let webp = encode(image::ImageFormat::WebP, 300, 200);
        let gate = decode_for_gate(&webp, &IntakeLimits::default(), 512).unwrap();
        assert_eq!(gate.info.format, ImageFormat::Webp);
        assert_eq!((gate.width, gate.height), (300, 200));
    }

    #[test]
    fn area_downscale_preserves_the_mean() {
        let src: Vec<u8> = (0..1000 * 700).map(|i| (i % 251) as u8).collect();
        let (out, w, h) = area_downscale(&src, 1000, 700, 512);
        assert_eq!((w, h), (512, 358));
        let mean = |v: &[u8]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!((mean(&src) - mean(&out)).abs() < 1.0);
    }
}
