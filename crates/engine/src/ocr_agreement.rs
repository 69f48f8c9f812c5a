//! How close two OCR results are, in the terms that matter to a reader rather than to one
//! kernel's rounding: a box found again (overlap), a text read within a few character edits.
//! Used to hold the int8 detector to the float one on every CPU, and by the OCR tests.

/// A box's corners (as `ocr::TextLine::polygon`).
pub type Quad = [[f32; 2]; 4];

/// A box's axis-aligned extent: (left, top, right, bottom).
fn extent(q: &Quad) -> (f32, f32, f32, f32) {
    let xs = q.iter().map(|p| p[0]);
    let ys = q.iter().map(|p| p[1]);
    (
        xs.clone().fold(f32::INFINITY, f32::min),
        ys.clone().fold(f32::INFINITY, f32::min),
        xs.fold(f32::NEG_INFINITY, f32::max),
        ys.fold(f32::NEG_INFINITY, f32::max),
    )
}

fn area(q: &Quad) -> f32 {
    let (x0, y0, x1, y1) = extent(q);
    (x1 - x0) * (y1 - y0)
}

fn intersection(a: &Quad, b: &Quad) -> f32 {
    let (ax0, ay0, ax1, ay1) = extent(a);
    let (bx0, by0, bx1, by1) = extent(b);
    (ax1.min(bx1) - ax0.max(bx0)).max(0.0) * (ay1.min(by1) - ay0.max(by0)).max(0.0)
}

/// Intersection over union of the two boxes' axis-aligned extents (0–1).
pub fn box_iou(a: &Quad, b: &Quad) -> f32 {
    let inter = intersection(a, b);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// The share of `target`'s extent that `boxes` cover (0–1; overlaps among `boxes` are rare for
/// text lines and counted once each, hence the cap).
pub fn coverage(target: &Quad, boxes: &[Quad]) -> f32 {
    let total = area(target);
    if total <= 0.0 {
        return 0.0;
    }
    (boxes.iter().map(|b| intersection(target, b)).sum::<f32>() / total).min(1.0)
}

/// How well `candidate` boxes reproduce `reference` ones. A detector may split a line in two or
/// join two words into one box: the text is still found, so a line counts as lost only when
/// the candidate's boxes leave most of it uncovered.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxAgreement {
    /// For each reference box, the best IoU of any candidate box (0 when none overlaps).
    pub best_iou: Vec<f32>,
    /// Indices of reference boxes that the candidate boxes cover less than `found_share` of:
    /// lines the candidate lost.
    pub lost: Vec<usize>,
    /// Indices of candidate boxes that the reference boxes cover less than `found_share` of:
    /// lines only the candidate found.
    pub extra: Vec<usize>,
}

impl BoxAgreement {
    /// Compares two detectors' boxes on one image; a line counts as found again when the other
    /// side's boxes cover `found_share` of it.
    pub fn of(reference: &[Quad], candidate: &[Quad], found_share: f32) -> Self {
        let best =
            |q: &Quad, among: &[Quad]| among.iter().map(|c| box_iou(q, c)).fold(0.0, f32::max);
        let best_iou: Vec<f32> = reference.iter().map(|q| best(q, candidate)).collect();
        let lost = (0..reference.len())
            .filter(|&i| coverage(&reference[i], candidate) < found_share)
            .collect();
        let extra = (0..candidate.len())
            .filter(|&i| coverage(&candidate[i], reference) < found_share)
            .collect();
        Self {
            best_iou,
            lost,
            extra,
        }
    }

    /// The median of `best_iou` (1 when there is no reference box).
    pub fn median_iou(&self) -> f32 {
        let mut sorted = self.best_iou.clone();
        sorted.sort_by(f32::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(1.0)
    }
}

/// Levenshtein distance in characters (not bytes).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The index and distance of the text closest to `wanted` (ties: the first); `None` when
/// `texts` is empty.
pub fn closest<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    wanted: &str,
) -> Option<(usize, usize)> {
    texts
        .into_iter()
        .map(|t| edit_distance(t, wanted))
        .enumerate()
        .min_by_key(|&(i, d)| (d, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    #[test]
    fn iou_of_boxes() {
        let a = rect(0.0, 0.0, 10.0, 10.0);
        assert!((box_iou(&a, &a) - 1.0).abs() < 1e-6);
        assert!((box_iou(&a, &rect(5.0, 0.0, 15.0, 10.0)) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(box_iou(&a, &rect(20.0, 20.0, 30.0, 30.0)), 0.0);
        assert_eq!(
            box_iou(&rect(0.0, 0.0, 0.0, 0.0), &rect(0.0, 0.0, 0.0, 0.0)),
            0.0
        );
    }

    #[test]
    fn lost_and_extra_boxes_are_named() {
        let reference = [
            rect(0.0, 0.0, 100.0, 10.0),
            rect(0.0, 20.0, 100.0, 30.0),
            rect(0.0, 40.0, 100.0, 50.0),
        ];
        let candidate = [
            rect(1.0, 0.0, 100.0, 10.0),
            // the second line split in two halves: still found (90 % covered)
            rect(0.0, 20.0, 45.0, 30.0),
            rect(55.0, 20.0, 100.0, 30.0),
            // the third: only its left quarter
            rect(0.0, 40.0, 25.0, 50.0),
            // a line the reference does not have
            rect(0.0, 60.0, 100.0, 70.0),
        ];
        let agreement = BoxAgreement::of(&reference, &candidate, 0.8);
        assert_eq!(agreement.lost, vec![2]);
        assert_eq!(agreement.extra, vec![4]);
        assert!(agreement.best_iou[0] > 0.98 && agreement.best_iou[1] < 0.5);
        assert_eq!(BoxAgreement::of(&[], &candidate, 0.8).median_iou(), 1.0);
        assert!((coverage(&reference[1], &candidate) - 0.9).abs() < 1e-6);
        assert_eq!(coverage(&rect(0.0, 0.0, 0.0, 0.0), &candidate), 0.0);
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("81100 JOHOR BAHRU,", "81100 JOHOR BAHRU"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("×2", "x2"), 1);
        assert_eq!(
            closest(["abc", "789417-W", "78941-W"], "789417-W"),
            Some((1, 0))
        );
        assert_eq!(closest([], "x"), None);
    }
}
