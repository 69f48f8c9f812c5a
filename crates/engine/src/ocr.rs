//! OCR: PP-OCRv6 text detection (DB) → rotated crops → angle classification → recognition
//! (CTC), as in PaddleOCR, with the dictionary taken from the recognition model's metadata.
//!
//! Detection post-processing follows DBNet: binarize the probability map, trace each region's
//! outer contour, fit a minimum-area rotated rectangle, score it by the mean probability inside,
//! grow it ("unclip") by area × ratio / perimeter, and map it back to the photo.
//!
//! Just over 600 lines: one pipeline whose stages share the private box geometry at the end;
//! comparing results (box overlap, edit distance) lives apart in `ocr_agreement`.
//!
//! Past 600 lines with its unit tests: the code is 615 lines, the tests beside it 35.

use std::path::Path;

use image::{imageops::FilterType, GrayImage, Luma, Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};

use crate::runtime::{Model, Runtime, RuntimeError};

/// Tunables; defaults are PaddleOCR's for PP-OCRv5/v6 except where measured otherwise
/// (see BENCHMARKS.md, "OCR").
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOptions {
    /// The detector's input is scaled so its short side is at least this (small scans upscaled).
    pub det_min_side: u32,
    /// … and its long side at most this (large pages downscaled: the main speed lever).
    pub det_max_side: u32,
    pub det_threshold: f32,
    pub box_threshold: f32,
    pub unclip_ratio: f32,
    pub min_box_side: f32,
    /// Recognition input height and batch size.
    pub rec_height: u32,
    pub rec_batch: usize,
    /// Narrowest recognition input. PaddleOCR pads every batch to at least 320 px; padding short
    /// lines (prices, "QTY") that far costs a fifth of the recognition time for no accuracy
    /// (BENCHMARKS.md, "OCR").
    pub rec_min_width: u32,
    /// Run the 0°/180° classifier on each line and turn lines it is sure are upside down.
    pub use_angle_classifier: bool,
    pub angle_threshold: f32,
    /// On the CPU, detect with the static-int8 detector (`ocr-det-int8`): about 3× faster at
    /// the same character error rate (BENCHMARKS.md, "OCR"). GPUs always get the float model.
    pub det_int8_on_cpu: bool,
    /// `box_threshold` for the int8 detector: its probabilities run lower on faint and small
    /// print — at 0.45 it missed single quantity digits the float detector finds; at 0.30 (the
    /// binarization threshold: every region kept) it loses no labelled line against the float
    /// detector on the 100 SROIE receipts and finds 107 more (BENCHMARKS.md, "OCR on any CPU").
    pub int8_box_threshold: f32,
}

impl Default for OcrOptions {
    fn default() -> Self {
        Self {
            det_min_side: 736,
            // 1792 with the int8 detector reads more lines than 1536 did with the float
            // one, in less time (BENCHMARKS.md, "OCR")
            det_max_side: 1792,
            det_threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            min_box_side: 3.0,
            rec_height: 48,
            rec_batch: 6,
            rec_min_width: 0,
            use_angle_classifier: true,
            angle_threshold: 0.99,
            det_int8_on_cpu: true,
            int8_box_threshold: 0.3,
        }
    }
}

/// One recognized text line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextLine {
    /// Corners in photo pixels: top-left, top-right, bottom-right, bottom-left.
    pub polygon: [[f32; 2]; 4],
    pub text: String,
    /// Probability of the least certain recognized character, spaces aside (0–1).
    pub confidence: f32,
}

/// One detected text box, before recognition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Corners in photo pixels, as `TextLine::polygon`.
    pub polygon: [[f32; 2]; 4],
    /// The detector's mean text probability inside the box (kept when ≥ `box_threshold`).
    pub score: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the recognition model has no `character` dictionary in its metadata")]
    NoDictionary,
    #[error("the image is empty")]
    EmptyImage,
    #[error("the recognition model answered with shape {0:?}, not [lines, steps, symbols]")]
    RecognizerOutput(Vec<usize>),
}

/// The three OCR sessions. `run` takes `&mut self`: one `Ocr` per worker.
#[derive(Debug)]
pub struct Ocr {
    detector: Model,
    /// The detector is the static-int8 one (its boxes are kept from `int8_box_threshold`).
    int8_detector: bool,
    recognizer: Model,
    classifier: Option<Model>,
    /// Index 0 is the CTC blank; the dictionary follows, then a space.
    alphabet: Vec<String>,
    pub options: OcrOptions,
    /// Seconds spent inside the three models during the last `run` (the rest is this pipeline).
    pub last_model_seconds: f64,
    /// The same, per model.
    pub last_stage_seconds: StageSeconds,
}

/// Model time per stage of one `run`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSeconds {
    pub detection: f64,
    pub classification: f64,
    pub recognition: f64,
}

impl Ocr {
    /// Opens the models from `models_dir` (layout of models/manifest.toml).
    pub fn open(
        runtime: &Runtime,
        models_dir: &Path,
        threads: usize,
        options: OcrOptions,
    ) -> Result<Self, OcrError> {
        let int8_detector = options.det_int8_on_cpu && !runtime.wants_gpu();
        let detector = if int8_detector {
            runtime.open(
                "ocr-det-int8",
                &models_dir.join("ocr/PP-OCRv6_det_small.int8.onnx"),
                threads,
            )?
        } else {
            runtime.open(
                "ocr-det",
                &models_dir.join("ocr/PP-OCRv6_det_small.onnx"),
                threads,
            )?
        };
        let recognizer = runtime.open(
            "ocr-rec",
            &models_dir.join("ocr/PP-OCRv6_rec_small.onnx"),
            threads,
        )?;
        let classifier = if options.use_angle_classifier {
            Some(runtime.open(
                "ocr-cls",
                &models_dir.join("ocr/ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
                threads,
            )?)
        } else {
            None
        };
        let dictionary = recognizer
            .metadata("character")
            .ok_or(OcrError::NoDictionary)?;
        let mut alphabet = vec![String::new()];
        alphabet.extend(dictionary.lines().map(str::to_string));
        alphabet.push(" ".into());
        Ok(Self {
            detector,
            int8_detector,
            recognizer,
            classifier,
            alphabet,
            options,
            last_model_seconds: 0.0,
            last_stage_seconds: StageSeconds::default(),
        })
    }

    /// The manifest name of the detector in use.
    pub fn detector_name(&self) -> &str {
        self.detector.name()
    }

    /// Recognizes every text line of a photo, in reading order.
    pub fn run(&mut self, image: &RgbImage) -> Result<Vec<TextLine>, OcrError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(OcrError::EmptyImage);
        }
        self.last_model_seconds = 0.0;
        self.last_stage_seconds = StageSeconds::default();
        let boxes: Vec<[[f32; 2]; 4]> =
            self.detect(image)?.into_iter().map(|b| b.polygon).collect();
        let mut crops: Vec<RgbImage> = boxes.iter().map(|quad| crop_quad(image, quad)).collect();
        if self.classifier.is_some() {
            self.fix_upside_down(&mut crops)?;
        }
        let texts = self.recognize(&crops)?;
        let mut lines: Vec<TextLine> = boxes
            .into_iter()
            .zip(texts)
            .filter(|(_, (text, _))| !text.trim().is_empty())
            .map(|(polygon, (text, confidence))| TextLine {
                polygon,
                text,
                confidence,
            })
            .collect();
        sort_reading_order(&mut lines);
        Ok(lines)
    }

    /// Finds the text boxes of a photo without reading them: what the detectors are compared on.
    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<TextBox>, OcrError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(OcrError::EmptyImage);
        }
        let (w, h) = image.dimensions();
        let o = &self.options;
        let box_threshold = if self.int8_detector {
            o.int8_box_threshold
        } else {
            o.box_threshold
        };
        let mut scale = 1.0f64;
        if w.min(h) < o.det_min_side {
            scale = f64::from(o.det_min_side) / f64::from(w.min(h));
        }
        if f64::from(w.max(h)) * scale > f64::from(o.det_max_side) {
            scale = f64::from(o.det_max_side) / f64::from(w.max(h));
        }
        let round32 = |v: f64| ((v / 32.0).round() as u32).max(1) * 32;
        let (dw, dh) = (round32(f64::from(w) * scale), round32(f64::from(h) * scale));
        // plain bilinear interpolation, as PaddleOCR's cv2.resize: measured on SROIE and the A4
        // page, it keeps the character error rate where the antialiased resize had it, at a
        // fifth of the time (BENCHMARKS.md, "OCR")
        let resized = resize_rgb(image, dw, dh, ResizeKind::Interpolate);
        let input = bgr_planes(&resized, dw as usize, dh as usize, dw as usize);
        let started = std::time::Instant::now();
        let outputs = self
            .detector
            .run(&[1, 3, dh as usize, dw as usize], input)?;
        self.last_stage_seconds.detection = started.elapsed().as_secs_f64();
        self.last_model_seconds += self.last_stage_seconds.detection;
        let map = &outputs[0].data;
        let (mw, mh) = (dw as usize, dh as usize);
        let bitmap = GrayImage::from_fn(dw, dh, |x, y| {
            Luma([if map[y as usize * mw + x as usize] > o.det_threshold {
                255
            } else {
                0
            }])
        });
        let bitmap =
            imageproc::morphology::dilate(&bitmap, imageproc::distance_transform::Norm::LInf, 1);
        let (sx, sy) = (f64::from(w) / f64::from(dw), f64::from(h) / f64::from(dh));
        let mut boxes = Vec::new();
        for contour in imageproc::contours::find_contours::<i32>(&bitmap) {
            if contour.border_type != imageproc::contours::BorderType::Outer
                || contour.points.len() < 4
            {
                continue;
            }
            let rect = imageproc::geometry::min_area_rect(&contour.points);
            let quad = rect.map(|p| [p.x as f32, p.y as f32]);
            let (rw, rh) = quad_size(&quad);
            if rw.min(rh) < o.min_box_side {
                continue;
            }
            let score = mean_inside(map, mw, mh, &quad);
            if score < box_threshold {
                continue;
            }
            let grown = unclip(&quad, o.unclip_ratio);
            let (gw, gh) = quad_size(&grown);
            if gw.min(gh) < o.min_box_side + 2.0 {
                continue;
            }
            let mapped = grown.map(|[x, y]| {
                [
                    (f64::from(x) * sx).clamp(0.0, f64::from(w)) as f32,
                    (f64::from(y) * sy).clamp(0.0, f64::from(h)) as f32,
                ]
            });
            boxes.push(TextBox {
                polygon: order_corners(mapped),
                score,
            });
        }
        Ok(boxes)
    }

    /// Turns upside-down lines. Whole pages photographed upside down are the common case, so the
    /// page votes first: when most lines look flipped, every line the classifier leans on is
    /// turned; otherwise only lines it is very sure of (`angle_threshold`), because it also
    /// flips a share of upright lines with fair confidence (BENCHMARKS.md, "OCR").
    fn fix_upside_down(&mut self, crops: &mut [RgbImage]) -> Result<(), OcrError> {
        let Some(classifier) = self.classifier.as_mut() else {
            return Ok(());
        };
        let (ch, cw) = (48usize, 192usize);
        let mut flipped_scores = Vec::with_capacity(crops.len());
        for start in (0..crops.len()).step_by(self.options.rec_batch.max(1)) {
            let end = (start + self.options.rec_batch.max(1)).min(crops.len());
            let mut input = vec![0f32; (end - start) * 3 * ch * cw];
            for (i, crop) in crops[start..end].iter().enumerate() {
                write_line_input(
                    crop,
                    ch,
                    cw,
                    &mut input[i * 3 * ch * cw..(i + 1) * 3 * ch * cw],
                );
            }
            let started = std::time::Instant::now();
            let outputs = classifier.run(&[end - start, 3, ch, cw], input)?;
            let elapsed = started.elapsed().as_secs_f64();
            self.last_model_seconds += elapsed;
            self.last_stage_seconds.classification += elapsed;
            let scores = &outputs[0].data;
            for i in 0..end - start {
                flipped_scores.push((scores[i * 2], scores[i * 2 + 1]));
            }
        }
        let leaning = flipped_scores.iter().filter(|(up, down)| down > up).count();
        let page_flipped = leaning * 2 > flipped_scores.len();
        for (crop, &(upright, flipped)) in crops.iter_mut().zip(&flipped_scores) {
            let turn = if page_flipped {
                flipped > upright
            } else {
                flipped > upright && flipped > self.options.angle_threshold
            };
            if turn {
                *crop = image::imageops::rotate180(crop);
            }
        }
        Ok(())
    }

    /// Recognizes crops in batches of similar aspect ratio (less padding, less wasted work).
    fn recognize(&mut self, crops: &[RgbImage]) -> Result<Vec<(String, f32)>, OcrError> {
        let height = self.options.rec_height as usize;
        let mut order: Vec<usize> = (0..crops.len()).collect();
        let ratio = |c: &RgbImage| c.width() as f32 / c.height().max(1) as f32;
        order.sort_by(|&a, &b| ratio(&crops[a]).total_cmp(&ratio(&crops[b])));
        let min_ratio = self.options.rec_min_width as f32 / height as f32;
        let mut results = vec![(String::new(), 0f32); crops.len()];
        for batch in order.chunks(self.options.rec_batch.max(1)) {
            let max_ratio = batch
                .iter()
                .map(|&i| ratio(&crops[i]))
                .fold(min_ratio, f32::max);
            // Widths in steps of 8 px: the network downsamples the width by 8 (one CTC step).
            let width = (((height as f32 * max_ratio).ceil() as usize).div_ceil(8) * 8)
                .clamp(8, height * 64);
            let mut input = vec![0f32; batch.len() * 3 * height * width];
            for (slot, &i) in batch.iter().enumerate() {
                write_line_input(
                    &crops[i],
                    height,
                    width,
                    &mut input[slot * 3 * height * width..(slot + 1) * 3 * height * width],
                );
            }
            let started = std::time::Instant::now();
            let alphabet = &self.alphabet;
            let decoded = self.recognizer.run_with(
                &[batch.len(), 3, height, width],
                input,
                |outputs| -> Result<_, OcrError> {
                    let model_seconds = started.elapsed().as_secs_f64();
                    let Some(out) = outputs.first() else {
                        return Err(OcrError::RecognizerOutput(Vec::new()));
                    };
                    let (steps, classes) = match out.shape[..] {
                        [lines, steps, classes] if lines == batch.len() && steps * classes > 0 => {
                            (steps, classes)
                        }
                        _ => return Err(OcrError::RecognizerOutput(out.shape.clone())),
                    };
                    let texts: Vec<(String, f32)> = out
                        .data
                        .chunks_exact(steps * classes)
                        .map(|probs| ctc_decode(probs, steps, classes, alphabet))
                        .collect();
                    Ok((texts, model_seconds))
                },
            )??;
            let (decoded, elapsed) = decoded;
            // decoding is this pipeline's work, not the model's
            self.last_model_seconds += elapsed;
            self.last_stage_seconds.recognition += elapsed;
            for (&i, text) in batch.iter().zip(decoded) {
                results[i] = text;
            }
        }
        Ok(results)
    }
}

/// Greedy CTC: best class per step, repeats collapsed, blanks dropped.
fn ctc_decode(probs: &[f32], steps: usize, classes: usize, alphabet: &[String]) -> (String, f32) {
    let mut text = String::new();
    let mut confidences = Vec::new();
    let mut previous = 0usize;
    for t in 0..steps {
        let (best, p) = argmax(&probs[t * classes..(t + 1) * classes]);
        if best != 0 && best != previous {
            if let Some(symbol) = alphabet.get(best) {
                text.push_str(symbol);
                // a space read with doubt changes no name, date or amount; any other symbol
                // may be a misread digit (`NO.5:` for `NO.53`)
                if !symbol.chars().all(char::is_whitespace) {
                    confidences.push(p);
                }
            }
        }
        previous = best;
    }
    // the least certain character, not the mean: one misread character in a long line
    // (`SDN BND`) barely moves a mean of thirty, and it is what makes the line's value wrong
    let confidence = if confidences.is_empty() {
        if text.is_empty() {
            0.0
        } else {
            1.0
        }
    } else {
        confidences.iter().copied().fold(1.0_f32, f32::min)
    };
    (text, confidence)
}

/// The first index of the largest value (NaN never wins; `(0, f32::MIN)` when nothing beats
/// it). The maximum is taken in independent lanes first, which the compiler turns into SIMD:
/// the scalar fold over 18,710 symbols per step was a tenth of an A4 page's time.
fn argmax(row: &[f32]) -> (usize, f32) {
    const LANES: usize = 16;
    let mut lanes = [f32::MIN; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    let max = lanes
        .into_iter()
        .chain(rest.iter().copied())
        .fold(f32::MIN, |a, v| if v > a { v } else { a });
    match row.iter().position(|&v| v == max) {
        Some(index) if max > f32::MIN => (index, max),
        _ => (0, f32::MIN),
    }
}

/// PaddleOCR normalization, BGR planes: (x / 255 − 0.5) / 0.5, into a `height × stride` canvas.
fn bgr_planes(image: &RgbImage, width: usize, height: usize, stride: usize) -> Vec<f32> {
    let plane = height * stride;
    let mut out = vec![0f32; 3 * plane];
    for (x, y, p) in image.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        if x >= width || y >= height {
            continue;
        }
        for (c, channel) in [2usize, 1, 0].into_iter().enumerate() {
            out[c * plane + y * stride + x] = f32::from(p.0[channel]) / 127.5 - 1.0;
        }
    }
    out
}

/// A text line resized to `height`, keeping its aspect ratio up to `width`, normalized, and
/// left-aligned on a zero (mid-grey) canvas.
fn write_line_input(crop: &RgbImage, height: usize, width: usize, out: &mut [f32]) {
    let ratio = crop.width() as f32 / crop.height().max(1) as f32;
    let resized_w = ((height as f32 * ratio).ceil() as usize).clamp(1, width);
    let resized = resize_rgb(crop, resized_w as u32, height as u32, ResizeKind::Filter);
    out.copy_from_slice(&bgr_planes(&resized, resized_w, height, width));
}

/// How an image is resized.
#[derive(Debug, Clone, Copy)]
enum ResizeKind {
    /// Bilinear convolution (a triangle filter widened when shrinking), as
    /// `image::imageops::resize(.., FilterType::Triangle)`.
    Filter,
    /// Bilinear interpolation of the four nearest pixels, as OpenCV's `INTER_LINEAR`.
    Interpolate,
}

/// Resizes with SIMD (fast_image_resize): several times faster than the `image` crate, which
/// matters for a page and its hundred lines.
fn resize_rgb(src: &RgbImage, width: u32, height: u32, kind: ResizeKind) -> RgbImage {
    let (width, height) = (width.max(1), height.max(1));
    let mut dst = RgbImage::new(width, height);
    let filter = fast_image_resize::FilterType::Bilinear;
    let alg = match kind {
        ResizeKind::Filter => fast_image_resize::ResizeAlg::Convolution(filter),
        ResizeKind::Interpolate => fast_image_resize::ResizeAlg::Interpolation(filter),
    };
    let options = fast_image_resize::ResizeOptions::new().resize_alg(alg);
    if fast_image_resize::Resizer::new()
        .resize(src, &mut dst, &options)
        .is_err()
    {
        // only an empty source fails, and callers never pass one; stay correct regardless
        return image::imageops::resize(src, width, height, FilterType::Triangle);
    }
    dst
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn quad_size(q: &[[f32; 2]; 4]) -> (f32, f32) {
    (distance(q[0], q[1]), distance(q[1], q[2]))
}

/// Grows a rectangle by `area × ratio / perimeter` on every side (DBNet's unclip for boxes).
fn unclip(quad: &[[f32; 2]; 4], ratio: f32) -> [[f32; 2]; 4] {
    let (w, h) = quad_size(quad);
    let d = w * h * ratio / (2.0 * (w + h)).max(f32::EPSILON);
    let centre = [
        quad.iter().map(|p| p[0]).sum::<f32>() / 4.0,
        quad.iter().map(|p| p[1]).sum::<f32>() / 4.0,
    ];
    // Unit vectors along the two sides.
    let u = [
        (quad[1][0] - quad[0][0]) / w.max(f32::EPSILON),
        (quad[1][1] - quad[0][1]) / w.max(f32::EPSILON),
    ];
    let v = [
        (quad[2][0] - quad[1][0]) / h.max(f32::EPSILON),
        (quad[2][1] - quad[1][1]) / h.max(f32::EPSILON),
    ];
    let (hw, hh) = (w / 2.0 + d, h / 2.0 + d);
    [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(a, b)| {
        [
            centre[0] + a * hw * u[0] + b * hh * v[0],
            centre[1] + a * hw * u[1] + b * hh * v[1],
        ]
    })
}

/// Orders corners as top-left, top-right, bottom-right, bottom-left.
fn order_corners(mut q: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
    q.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([q[0], q[1]], [q[2], q[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

/// Mean of the probability map inside a convex quadrilateral.
fn mean_inside(map: &[f32], width: usize, height: usize, quad: &[[f32; 2]; 4]) -> f32 {
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let x0 = xs.clone().fold(f32::MAX, f32::min).floor().max(0.0) as usize;
    let x1 = (xs.fold(f32::MIN, f32::max).ceil() as usize).min(width.saturating_sub(1));
    let y0 = ys.clone().fold(f32::MAX, f32::min).floor().max(0.0) as usize;
    let y1 = (ys.fold(f32::MIN, f32::max).ceil() as usize).min(height.saturating_sub(1));
    let (mut sum, mut n) = (0f32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside_convex(quad, x as f32, y as f32) {
                sum += map[y * width + x];
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

fn inside_convex(q: &[[f32; 2]; 4], x: f32, y: f32) -> bool {
    let mut sign = 0f32;
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        if cross.abs() < 1e-6 {
            continue;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if cross.signum() != sign {
            return false;
        }
    }
    true
}

/// Cuts a rotated box out of the photo as an upright image; tall boxes are turned to horizontal.
fn crop_quad(image: &RgbImage, quad: &[[f32; 2]; 4]) -> RgbImage {
    let (w, h) = (
        distance(quad[0], quad[1])
            .max(distance(quad[3], quad[2]))
            .round()
            .max(1.0),
        distance(quad[0], quad[3])
            .max(distance(quad[1], quad[2]))
            .round()
            .max(1.0),
    );
    let from = quad.map(|p| (p[0], p[1]));
    let to = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut out = RgbImage::new(w as u32, h as u32);
    match Projection::from_control_points(from, to) {
        Some(projection) => warp_into(
            image,
            projection,
            Interpolation::Bilinear,
            Border::Constant(Rgb([0, 0, 0])),
            &mut out,
        ),
        None => return out,
    }
    if h / w >= 1.5 {
        image::imageops::rotate270(&out)
    } else {
        out
    }
}

/// Top-to-bottom, then left-to-right among boxes on the same line (as PaddleOCR's sorted_boxes).
fn sort_reading_order(lines: &mut [TextLine]) {
    lines.sort_by(|a, b| {
        a.polygon[0][1]
            .total_cmp(&b.polygon[0][1])
            .then(a.polygon[0][0].total_cmp(&b.polygon[0][0]))
    });
    for i in 1..lines.len() {
        let mut j = i;
        while j > 0
            && (lines[j].polygon[0][1] - lines[j - 1].polygon[0][1]).abs() < 10.0
            && lines[j].polygon[0][0] < lines[j - 1].polygon[0][0]
        {
            lines.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_collapses_repeats_and_drops_blanks() {
        let alphabet: Vec<String> = ["", "a", "b"].iter().map(|s| s.to_string()).collect();
        // steps: a a blank a b b
        let steps = [1, 1, 0, 1, 2, 2];
        let mut probs = vec![0f32; steps.len() * 3];
        for (t, &c) in steps.iter().enumerate() {
            probs[t * 3 + c] = 0.9;
        }
        let (text, confidence) = ctc_decode(&probs, steps.len(), 3, &alphabet);
        assert_eq!(text, "aab");
        assert!((confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn argmax_finds_the_first_largest_value_in_any_lane_or_the_tail() {
        let naive = |row: &[f32]| {
            row.iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f32::MIN),
                    |acc, (i, v)| if v > acc.1 { (i, v) } else { acc },
                )
        };
        // 18,710 symbols as the recognizer has: 1,169 full lanes and a tail of 6
        for len in [1usize, 15, 16, 17, 18_710] {
            for at in [0, len / 3, len - 1] {
                let mut row: Vec<f32> = (0..len).map(|i| (i % 97) as f32 * 1e-4).collect();
                row[at] = 0.9;
                assert_eq!(argmax(&row), (at, 0.9), "len {len}, max at {at}");
                assert_eq!(argmax(&row), naive(&row));
                // a tie goes to the first; NaN never wins
                row[len - 1] = 0.9;
                if len > 1 {
                    row[0] = f32::NAN;
                }
                assert_eq!(argmax(&row), naive(&row), "len {len}, tie with {at}");
            }
        }
        assert_eq!(argmax(&[]), (0, f32::MIN));
        assert_eq!(argmax(&[f32::NAN; 20]), (0, f32::MIN));
    }

    #[test]
    fn unclip_grows_every_side_by_the_same_distance() {
        let quad = [[10.0, 10.0], [110.0, 10.0], [110.0, 30.0], [10.0, 30.0]];
        let grown = unclip(&quad, 1.6);
        let d = 100.0 * 20.0 * 1.6 / 240.0;
        assert!(
            (grown[0][0] - (10.0 - d)).abs() < 1e-3 && (grown[2][1] - (30.0 + d)).abs() < 1e-3,
            "{grown:?}"
        );
    }

    #[test]
    fn corners_are_ordered_clockwise_from_top_left() {
        let q = order_corners([[5.0, 9.0], [1.0, 1.0], [9.0, 1.0], [1.0, 9.0]]);
        assert_eq!(q, [[1.0, 1.0], [9.0, 1.0], [5.0, 9.0], [1.0, 9.0]]);
    }
}
