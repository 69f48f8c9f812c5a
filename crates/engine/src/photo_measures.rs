//! The figures the quality gate judges a working image by: mean luma, contrast over block
//! means, detail, clipped highlights and shadows, and the Crété-Roffet blur effect in four
//! directions. Pure arithmetic on a grayscale buffer; the thresholds live in `quality`.

/// Raw figures of a working image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    pub mean_luma: f64,
    pub contrast: f64,
    /// Mean absolute difference between neighbouring pixels (luma steps).
    pub detail: f64,
    pub highlight_share: f64,
    pub shadow_share: f64,
    pub blur_effect: f64,
}

pub fn measure(luma: &[u8], width: usize, height: usize) -> Measures {
    let n = luma.len().max(1) as f64;
    let mut histogram = [0u64; 256];
    for &v in luma {
        histogram[v as usize] += 1;
    }
    let mut sum = 0f64;
    for (value, &count) in histogram.iter().enumerate() {
        let (v, c) = (value as f64, count as f64);
        sum += v * c;
    }
    let mean = sum / n;
    let highlight_share = histogram[250..].iter().sum::<u64>() as f64 / n;
    let shadow_share = histogram[..=15].iter().sum::<u64>() as f64 / n;
    Measures {
        mean_luma: mean,
        contrast: structure_contrast(luma, width, height),
        detail: detail(luma, width, height),
        highlight_share,
        shadow_share,
        blur_effect: blur_effect(luma, width, height),
    }
}

/// Side of the blocks whose mean luma the blank check compares, in working pixels.
const CONTRAST_BLOCK: usize = 8;

/// Standard deviation of the luma's block means (8×8 working pixels): what the frame shows.
/// Sensor noise on a blank frame (a lens cap, a wall in the dark) has a large per-pixel
/// deviation but averages out over a block, while real content is mostly coarser than a block.
/// An image smaller than a block is measured per pixel.
fn structure_contrast(luma: &[u8], width: usize, height: usize) -> f64 {
    if luma.len() < width * height {
        return 0.0;
    }
    let (bw, bh) = (width / CONTRAST_BLOCK, height / CONTRAST_BLOCK);
    let (block, bw, bh) = if bw == 0 || bh == 0 {
        (1, width, height)
    } else {
        (CONTRAST_BLOCK, bw, bh)
    };
    let mut means = Vec::with_capacity(bw * bh);
    for by in 0..bh {
        for bx in 0..bw {
            let mut total = 0u32;
            for y in by * block..(by + 1) * block {
                let row = &luma[y * width + bx * block..y * width + (bx + 1) * block];
                total += row.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
            means.push(f64::from(total) / (block * block) as f64);
        }
    }
    let n = means.len().max(1) as f64;
    let mean = means.iter().sum::<f64>() / n;
    (means.iter().map(|m| (m - mean) * (m - mean)).sum::<f64>() / n).sqrt()
}

/// Mean absolute difference between horizontal and between vertical neighbours, averaged.
fn detail(luma: &[u8], width: usize, height: usize) -> f64 {
    if width < 2 || height < 2 || luma.len() < width * height {
        return 0.0;
    }
    let (mut across, mut down) = (0u64, 0u64);
    for y in 0..height {
        let row = &luma[y * width..(y + 1) * width];
        across += row
            .windows(2)
            .map(|p| u64::from(p[0].abs_diff(p[1])))
            .sum::<u64>();
        if y + 1 < height {
            let next = &luma[(y + 1) * width..(y + 2) * width];
            down += row
                .iter()
                .zip(next)
                .map(|(a, b)| u64::from(a.abs_diff(*b)))
                .sum::<u64>();
        }
    }
    let across = across as f64 / ((width - 1) * height) as f64;
    let down = down as f64 / (width * (height - 1)) as f64;
    (across + down) / 2.0
}

/// Width of the re-blur filter in the Crété-Roffet measure (as in scikit-image's `blur_effect`).
const REBLUR_SIZE: usize = 11;

/// The no-reference blur measure of Crété-Roffet et al., "The Blur Effect: Perception and
/// Estimation with a New No-Reference Perceptual Blur Metric" (SPIE 2007): re-blur the image and
/// see how much of its pixel-to-pixel variation survives. A sharp image loses a lot (value near
/// 0); an already blurred one loses little (value near 1). It is contrast-invariant (a ratio of
/// variations). Returns the worst of four directions — across, down and both diagonals: a
/// photo smeared by a diagonal movement keeps half its sharpness on each axis.
pub fn blur_effect(luma: &[u8], width: usize, height: usize) -> f64 {
    if width < REBLUR_SIZE + 2 || height < REBLUR_SIZE + 2 || luma.len() < width * height {
        return 1.0;
    }
    [(1, 0), (0, 1), (1, 1), (-1, 1)]
        .into_iter()
        .map(|(dx, dy)| direction_blur(luma, width, height, dx, dy))
        .fold(0.0, f64::max)
}

/// The blur effect along one direction `(dx, dy)`. Re-blurring a line by a box of
/// `REBLUR_SIZE` changes the difference between neighbours `p - d` and `p` to
/// `(I(p + half·d) − I(p − (half + 1)·d)) / REBLUR_SIZE`, so no blurred copy is needed: every
/// pixel whose whole window lies inside the image is counted (the ends of a line, which the
/// re-blur cannot see fully, are not).
fn direction_blur(luma: &[u8], width: usize, height: usize, dx: isize, dy: usize) -> f64 {
    let half = REBLUR_SIZE / 2;
    // the pixels p with p − (half + 1)·d and p + half·d inside the image
    let xs = match dx {
        1 => half + 1..width - half,
        -1 => half..width - half - 1,
        _ => 0..width,
    };
    let ys = if dy == 1 {
        half + 1..height - half
    } else {
        0..height
    };
    let step = dy as isize * width as isize + dx;
    let (back, ahead) = ((half as isize + 1) * step, half as isize * step);
    let (mut sum_original, mut sum_lost) = (0f64, 0f64);
    for y in ys {
        let (mut row_original, mut row_lost) = (0u32, 0f32);
        for x in xs.clone() {
            let p = (y * width + x) as isize;
            // in bounds: the ranges above keep p − step, p − back and p + ahead in the image
            let at = |i: isize| i32::from(luma[i as usize]);
            let d_original = (at(p) - at(p - step)).unsigned_abs();
            let d_blurred =
                (at(p + ahead) - at(p - back)).unsigned_abs() as f32 / REBLUR_SIZE as f32;
            row_original += d_original;
            row_lost += (d_original as f32 - d_blurred).max(0.0);
        }
        sum_original += f64::from(row_original);
        sum_lost += f64::from(row_lost);
    }
    if sum_original <= f64::EPSILON {
        return 1.0;
    }
    (sum_original - sum_lost) / sum_original
}
