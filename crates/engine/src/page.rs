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

/// A k×k square max or min filter, as a pass along the rows then one along the columns.
fn filter(src: &[u8], width: usize, height: usize, k: usize, pick: fn(u8, u8) -> u8) -> Vec<u8> {
    let half = k / 2;
    let mut rows = vec![0u8; src.len()];
    for y in 0..height {
        let line = &src[y * width..(y + 1) * width];
        for x in 0..width {
            let (lo, hi) = (x.saturating_sub(half), (x + half).min(width - 1));
            rows[y * width + x] = line[lo..=hi].iter().copied().fold(line[x], pick);
        }
    }
    let mut out = vec![0u8; src.len()];
    for x in 0..width {
        for y in 0..height {
            let (lo, hi) = (y.saturating_sub(half), (y + half).min(height - 1));
            out[y * width + x] = (lo..=hi)
                .map(|yy| rows[yy * width + x])
                .fold(rows[y * width + x], pick);
        }
    }
    out
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
