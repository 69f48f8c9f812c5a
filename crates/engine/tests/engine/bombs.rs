//! Decompression bombs in every photo format: a small file whose header claims a huge canvas is
//! refused from the header, before a pixel buffer is allocated — JPEG (whose decoder,
//! libjpeg-turbo, reads the header again and allocates from it) and WebP (a lossless and an
//! extended header) as well as PNG (unit-tested in `intake`).

use std::io::Cursor;
use std::time::Instant;

use engine::intake::{decode_for_gate, decode_upright, IntakeError, IntakeLimits};
use image::{ImageEncoder, RgbImage};

fn tiny() -> RgbImage {
    RgbImage::from_fn(16, 16, |x, y| {
        image::Rgb([(x * 16) as u8, (y * 16) as u8, 90])
    })
}

/// A real 16×16 JPEG whose frame header (SOF0) then claims `width`×`height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .write_image(tiny().as_raw(), 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A real 16×16 lossless WebP whose VP8L header then claims 16384×16384 (its 14-bit maximum).
fn webp_lossless_claiming_the_maximum() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(Cursor::new(&mut bytes))
        .write_image(tiny().as_raw(), 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    let vp8l = bytes
        .windows(4)
        .position(|w| w == b"VP8L")
        .expect("a lossless chunk");
    // after the chunk's tag and size: the signature byte, then 14 bits of width - 1 and 14 bits
    // of height - 1, least significant first; the 4 bits after (alpha, version) are kept
    let at = vp8l + 9;
    let keep = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) & 0xF000_0000;
    bytes[at..at + 4].copy_from_slice(&(keep | 0x0FFF_FFFF).to_le_bytes());
    bytes
}

/// An extended WebP (VP8X) whose canvas is 1,000,000 × 1,000,000, around a real 16×16 image.
fn webp_extended_claiming(canvas: u32) -> Vec<u8> {
    let inner = {
        let mut bytes = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(Cursor::new(&mut bytes))
            .write_image(tiny().as_raw(), 16, 16, image::ExtendedColorType::Rgb8)
            .unwrap();
        bytes[12..].to_vec() // its chunks, without the RIFF header
    };
    let mut vp8x = b"VP8X".to_vec();
    vp8x.extend_from_slice(&10u32.to_le_bytes());
    vp8x.extend_from_slice(&[0, 0, 0, 0]);
    vp8x.extend_from_slice(&(canvas - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(canvas - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(&vp8x);
    body.extend_from_slice(&inner);
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

fn assert_refused_from_the_header(name: &str, bytes: &[u8], width: u32, height: u32) {
    let limits = IntakeLimits::default();
    let began = Instant::now();
    for result in [
        decode_for_gate(bytes, &limits, 512).map(|_| ()),
        decode_upright(bytes, &limits).map(|_| ()),
    ] {
        match result {
            Err(IntakeError::TooManyPixels {
                width: w,
                height: h,
                limit,
            }) => {
                assert_eq!((w, h), (width, height), "{name}");
                assert_eq!(limit, limits.max_pixels);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // refused from the header: no decode of a billion pixels happened
    let took = began.elapsed();
    eprintln!(
        "{name}: {} bytes claiming {width}×{height}, refused in {took:?}",
        bytes.len()
    );
}

#[test]
fn a_jpeg_claiming_a_huge_frame_is_refused_from_its_header() {
    // the honest file decodes
    let honest = jpeg_claiming(16, 16);
    decode_for_gate(&honest, &IntakeLimits::default(), 512).unwrap();
    assert_refused_from_the_header("jpeg", &jpeg_claiming(65_500, 65_500), 65_500, 65_500);
    // a frame within the pixel limit but with no data behind it is an error, not a hang
    let err = decode_for_gate(&jpeg_claiming(8_000, 8_000), &IntakeLimits::default(), 512)
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(
            err,
            IntakeError::Truncated { .. } | IntakeError::Corrupt { .. }
        ) || err.to_string().contains("JPEG"),
        "{err:?}"
    );
}

#[test]
fn a_webp_claiming_a_huge_canvas_is_refused_from_its_header() {
    let lossless = webp_lossless_claiming_the_maximum();
    assert_refused_from_the_header("webp lossless", &lossless, 16_384, 16_384);
    let extended = webp_extended_claiming(1_000_000);
    assert_refused_from_the_header("webp extended", &extended, 1_000_000, 1_000_000);
}
