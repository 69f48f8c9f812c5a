//! Whether a photo shows a page (a receipt, an invoice: paper with thin dark strokes on it), so
//! that the quality gate judges it as a document: white paper is not an over-exposed store
//! photo, and what matters on a page is that its text stands out and is sharp.
//!
//! The measures come from grey closings of the working image (a k×k max filter, then a min
//! filter, borders replicated), which fill in dark detail narrower than k pixels:
//! - `detail` = C15 − f: dark detail narrower than ~15 px (text, specks, textures);
//! - `thin`   = C3 − f: dark detail narrower than ~3 px (text strokes at 512 px);
//! - detail share: pixels with `detail` > 30; stroke share: among those, where `thin` > `detail`/2;
//! - paper cover: pixels whose C15 is within 30 of the 90th-percentile luma (the paper);
//! - text contrast: the 99.5th percentile of `detail` (how far the darkest strokes stand below
//!   the paper around them; a washed-out page loses it).
//!
//! Calibrated on 112 pages (100 SROIE receipts, rendered and scanned invoices) against 361
//! real store photos and 980 synthetic bright, over-exposed and blank ones: every page is
//! found and no photo is (stroke share: pages ≥ 0.48, photos ≤ 0.29 even over-exposed). A blank
//! wall crossed by thin cables can pass for a page: documented in BENCHMARKS.md.

/// Dark detail this far below its surroundings counts (luma steps).
const DETAIL_MIN: u8 = 30;

/// A page's figures, for the gate and for calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageMeasures {
    pub detail_share: f64,
    pub stroke_share: f64,
    pub paper_cover: f64,
    pub text_contrast: f64,
}

/// Measures a working image (luma, row-major).
pub fn measure(luma: &[u8], width: usize, height: usize) -> PageMeasures {
    if width == 0 || height == 0 || luma.len() != width * height {
        return PageMeasures {
            detail_share: 0.0,
            stroke_share: 0.0,
            paper_cover: 0.0,
            text_contrast: 0.0,
        };
    }
    let c15 = closing(luma, width, height, 15);
    let c3 = closing(luma, width, height, 3);
    let paper = percentile(&histogram(luma.iter().copied()), 0.90);
    let mut detail_histogram = [0u64; 256];
    let (mut detailed, mut strokes, mut covered) = (0u64, 0u64, 0u64);
    for ((&f, &wide), &narrow) in luma.iter().zip(&c15).zip(&c3) {
        let detail = wide.saturating_sub(f);
        let thin = narrow.saturating_sub(f);
        detail_histogram[usize::from(detail)] += 1;
        if detail > DETAIL_MIN {
            detailed += 1;
            if u16::from(thin) * 2 > u16::from(detail) {
                strokes += 1;
            }
        }
        if u16::from(wide) + 30 >= u16::from(paper) {
            covered += 1;
        }
    }
    let n = luma.len() as f64;
    PageMeasures {
        detail_share: detailed as f64 / n,
        stroke_share: if detailed == 0 {
            0.0
        } else {
            strokes as f64 / detailed as f64
        },
        paper_cover: covered as f64 / n,
        text_contrast: f64::from(percentile(&detail_histogram, 0.995)),
    }
}

fn histogram(values: impl Iterator<Item = u8>) -> [u64; 256] {
    let mut h = [0u64; 256];
    for v in values {
        h[usize::from(v)] += 1;
    }
    h
}

/// The smallest value whose cumulative share reaches `q`.
fn percentile(histogram: &[u64; 256], q: f64) -> u8 {
    let total: u64 = histogram.iter().sum();
    let mut seen = 0u64;
    for (value, &count) in histogram.iter().enumerate() {
        seen += count;
        if total > 0 && seen as f64 / total as f64 >= q {
            // the index of a 256-entry table
            return u8::try_from(value).unwrap_or(u8::MAX);
        }
    }
    u8::MAX
}

/// Grey closing with a k×k square: dilation (max) then erosion (min), each separable.
fn closing(luma: &[u8], width: usize, height: usize, k: usize) -> Vec<u8> {
    let dilated = filter(luma, width, height, k, u8::max);
    filter(&dilated, width, height, k, u8::min)
}

/// A k×k square max or min filter (ends replicated): a pass along each row, then one down the
/// columns done a whole row at a time (so it runs over contiguous memory). Both are the van
/// Herk / Gil–Werman running filter: three picks per value, whatever k (a plain window scan
/// costs k picks; at 15 it was most of the gate's time).
fn filter<P: Fn(u8, u8) -> u8 + Copy>(
    src: &[u8],
    width: usize,
    height: usize,
    k: usize,
    pick: P,
) -> Vec<u8> {
    if width == 0 || height == 0 || k <= 1 {
        return src.to_vec();
    }
    let half = k / 2;
    // along each row
    let mut rows = vec![0u8; src.len()];
    let (mut padded, mut forward, mut backward) = (Vec::new(), Vec::new(), Vec::new());
    for (line, out) in src.chunks_exact(width).zip(rows.chunks_exact_mut(width)) {
        padded.clear();
        padded.extend(std::iter::repeat_n(line[0], half));
        padded.extend_from_slice(line);
        padded.extend(std::iter::repeat_n(line[width - 1], half));
        running(&padded, 1, k, pick, &mut forward, &mut backward);
        for (i, o) in out.iter_mut().enumerate() {
            *o = pick(backward[i], forward[i + k - 1]);
        }
    }
    // down the columns, a row of `width` values at a time
    let padded_rows = height + 2 * half;
    let mut padded = Vec::with_capacity(padded_rows * width);
    for j in 0..padded_rows {
        let y = j.saturating_sub(half).min(height - 1);
        padded.extend_from_slice(&rows[y * width..(y + 1) * width]);
    }
    running(&padded, width, k, pick, &mut forward, &mut backward);
    let mut out = vec![0u8; src.len()];
    for (i, o) in out.chunks_exact_mut(width).enumerate() {
        let b = &backward[i * width..(i + 1) * width];
        let f = &forward[(i + k - 1) * width..(i + k) * width];
        for ((o, &b), &f) in o.iter_mut().zip(b).zip(f) {
            *o = pick(b, f);
        }
    }
    out
}

/// The running picks within blocks of `k` steps over `values` taken `stride` at a time (one
/// value per step along a row, one row per step down the columns): `forward` from each
/// block's start, `backward` from its end. A window of k steps crosses at most one block
/// boundary, so its pick is `pick(backward[start], forward[end])`.
fn running<P: Fn(u8, u8) -> u8 + Copy>(
    values: &[u8],
    stride: usize,
    k: usize,
    pick: P,
    forward: &mut Vec<u8>,
    backward: &mut Vec<u8>,
) {
    let steps = values.len() / stride;
    forward.clear();
    forward.extend_from_slice(values);
    backward.clear();
    backward.extend_from_slice(values);
    for j in 1..steps {
        if j % k != 0 {
            let (done, rest) = forward.split_at_mut(j * stride);
            let previous = &done[(j - 1) * stride..];
            for (v, &p) in rest[..stride].iter_mut().zip(previous) {
                *v = pick(*v, p);
            }
        }
    }
    for j in (0..steps.saturating_sub(1)).rev() {
        if (j + 1) % k != 0 {
            let (head, after) = backward.split_at_mut((j + 1) * stride);
            let current = &mut head[j * stride..];
            for (v, &n) in current.iter_mut().zip(&after[..stride]) {
                *v = pick(*v, n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// White paper with rows of 1-px dark strokes, as text at the working size.
    fn page(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let in_line = y % 12 < 7 && x % 40 < 30 && x > 20 && x < w - 20;
                if in_line && (x % 3 == 0 || y % 12 == 3) {
                    40
                } else {
                    235
                }
            })
            .collect()
    }

    #[test]
    fn text_on_paper_is_a_page_and_a_wall_is_not() {
        let (w, h) = (300, 400);
        let p = measure(&page(w, h), w, h);
        assert!(p.stroke_share > 0.9, "{p:?}");
        assert!(p.detail_share > 0.05 && p.paper_cover > 0.9, "{p:?}");
        assert!(p.text_contrast > 150.0, "{p:?}");
        let wall = vec![220u8; w * h];
        let m = measure(&wall, w, h);
        assert_eq!((m.detail_share, m.stroke_share), (0.0, 0.0), "{m:?}");
    }

    #[test]
    fn the_running_filter_equals_a_plain_window_scan() {
        let (w, h) = (37, 23);
        let src: Vec<u8> = (0..w * h)
            .map(|i| ((i * 7919 + i / 3) % 251) as u8)
            .collect();
        for k in [1, 3, 5, 15, 41] {
            for pick in [u8::max as fn(u8, u8) -> u8, u8::min as fn(u8, u8) -> u8] {
                let plain: Vec<u8> = (0..w * h)
                    .map(|i| {
                        let (x, y) = ((i % w) as isize, (i / w) as isize);
                        let r = (k / 2) as isize;
                        let mut v = src[i];
                        for yy in y - r..=y + r {
                            for xx in x - r..=x + r {
                                let (cx, cy) =
                                    (xx.clamp(0, w as isize - 1), yy.clamp(0, h as isize - 1));
                                v = pick(v, src[cy as usize * w + cx as usize]);
                            }
                        }
                        v
                    })
                    .collect();
                assert_eq!(filter(&src, w, h, k, pick), plain, "k = {k}");
            }
        }
    }

    #[test]
    fn wide_dark_shapes_are_not_strokes() {
        // 8-px dark blocks (labels, products on a shelf) are detail, but not thin
        let (w, h) = (300, 300);
        let blocks: Vec<u8> = (0..w * h)
            .map(|i| {
                if i % w % 24 < 8 && i / w % 24 < 8 {
                    60
                } else {
                    230
                }
            })
            .collect();
        let m = measure(&blocks, w, h);
        assert!(m.detail_share > 0.05, "{m:?}");
        assert!(m.stroke_share < 0.2, "{m:?}");
    }
}
