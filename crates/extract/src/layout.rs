//! Rows and columns from line boxes: OCR splits a printed row into segments at wide gaps
//! (`TOTAL` … `9.00`), and a text layer may give a whole table row as one line with runs of
//! spaces between cells. Both become a `Row` of `Cell`s with x positions.

use crate::Line;

/// A piece of a row with its horizontal extent.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Index of the source line.
    pub line: usize,
    pub text: String,
    pub left: f32,
    pub right: f32,
}

/// Segments of one page that sit on the same baseline, left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub page: u32,
    pub top: f32,
    pub bottom: f32,
    pub cells: Vec<Cell>,
}

impl Row {
    /// The row's text, cells joined by a space.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.cells.iter().map(|c| c.text.as_str()).collect();
        parts.join(" ")
    }

    /// The source lines of the row.
    pub fn lines(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.cells.iter().map(|c| c.line).collect();
        v.dedup();
        v
    }

    pub fn height(&self) -> f32 {
        (self.bottom - self.top).max(1.0)
    }
}

/// Splits a line's text into cells at runs of two or more spaces, placing each cell by its
/// character offset (a text layer line is drawn in one font, so characters are about equally
/// wide).
fn cells_of(index: usize, line: &Line) -> Vec<Cell> {
    let text = line.text.as_str();
    let total = text.chars().count().max(1) as f32;
    let (left, right) = (line.left(), line.right());
    let width = (right - left).max(1.0);
    let mut cells = Vec::new();
    let mut start: Option<usize> = None;
    let mut spaces = 0;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            spaces += 1;
            if spaces >= 2 {
                if let Some(s) = start.take() {
                    let end = i + 1 - spaces;
                    cells.push((s, end));
                }
            }
        } else {
            if start.is_none() {
                start = Some(i);
            }
            spaces = 0;
        }
    }
    if let Some(s) = start {
        let end = chars.len() - spaces;
        cells.push((s, end));
    }
    cells
        .into_iter()
        .map(|(s, e)| Cell {
            line: index,
            text: chars[s..e].iter().collect(),
            left: left + width * s as f32 / total,
            right: left + width * e as f32 / total,
        })
        .collect()
}

/// The page's skew as a slope (dy/dx), the median of the long lines' top edges: a scan
/// rotated by 1° moves a row's right end 16 px on an A4 page at 150 dpi, enough to split it.
fn skew(lines: &[Line], page: u32) -> f32 {
    let mut slopes: Vec<f32> = lines
        .iter()
        .filter(|l| l.page == page)
        .filter_map(|l| {
            let [p0, p1, ..] = l.polygon;
            let dx = p1[0] - p0[0];
            (dx > 3.0 * l.height().min(dx)).then(|| (p1[1] - p0[1]) / dx)
        })
        .filter(|s| s.abs() < 0.1)
        .collect();
    if slopes.len() < 3 {
        return 0.0;
    }
    slopes.sort_by(f32::total_cmp);
    slopes[slopes.len() / 2]
}

/// Groups lines into rows: a line joins a row when their vertical extents, corrected for the
/// page's skew, overlap by more than half the smaller height. Rows come top to bottom per
/// page, cells left to right.
pub fn rows(lines: &[Line]) -> Vec<Row> {
    let mut pages: Vec<u32> = lines.iter().map(|l| l.page).collect();
    pages.sort_unstable();
    pages.dedup();
    let slopes: Vec<(u32, f32)> = pages.iter().map(|&p| (p, skew(lines, p))).collect();
    let slope_of = |page: u32| {
        slopes
            .iter()
            .find(|(p, _)| *p == page)
            .map_or(0.0, |(_, s)| *s)
    };
    // vertical extent with the skew taken out: every corner is moved back along the page's
    // slope, so a slanted box is as tall as its text, not as its bounding rectangle
    let extent = |l: &Line| {
        let slope = slope_of(l.page);
        l.polygon
            .iter()
            .map(|p| p[1] - slope * p[0])
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), y| {
                (lo.min(y), hi.max(y))
            })
    };
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| {
        let (ta, ba) = extent(&lines[a]);
        let (tb, bb) = extent(&lines[b]);
        (lines[a].page, ta + ba)
            .partial_cmp(&(lines[b].page, tb + bb))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut rows: Vec<Row> = Vec::new();
    let mut anchors: Vec<(f32, f32)> = Vec::new();
    for i in order {
        let line = &lines[i];
        if line.text.trim().is_empty() {
            continue;
        }
        let (top, bottom) = extent(line);
        // a line two or more times taller than the row (a stamp, a logo, a box merging several
        // printed lines) would chain unrelated rows together: it stands alone
        // compared with the row's first line, not its grown extent, so that rows do not creep
        let joins = rows
            .last()
            .zip(anchors.last())
            .is_some_and(|(row, &(a_top, a_bottom))| {
                let overlap = bottom.min(a_bottom) - top.max(a_top);
                let anchor_height = (a_bottom - a_top).max(1.0);
                let (short, tall) = (
                    line.height().min(anchor_height),
                    line.height().max(anchor_height),
                );
                // lines stacked one above the other are two rows however tall their boxes
                // (the detector's boxes of tightly printed receipts overlap vertically)
                let stacked = row.cells.iter().any(|c| {
                    let shared = c.right.min(line.right()) - c.left.max(line.left());
                    shared > 0.3 * (c.right - c.left).min(line.right() - line.left())
                });
                row.page == line.page && overlap > 0.5 * short && tall < 2.0 * short && !stacked
            });
        let cells = cells_of(i, line);
        match rows.last_mut() {
            Some(row) if joins => {
                row.top = row.top.min(top);
                row.bottom = row.bottom.max(bottom);
                row.cells.extend(cells);
                row.cells.sort_by(|a, b| a.left.total_cmp(&b.left));
            }
            _ => {
                anchors.push((top, bottom));
                rows.push(Row {
                    page: line.page,
                    top,
                    bottom,
                    cells,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn line(page: u32, x: f32, y: f32, w: f32, text: &str) -> Line {
        Line {
            page,
            polygon: [[x, y], [x + w, y], [x + w, y + 20.0], [x, y + 20.0]],
            text: text.into(),
            confidence: 0.99,
        }
    }

    #[test]
    fn tall_boxes_stacked_one_above_the_other_stay_two_rows() {
        // OCR boxes of tightly printed receipts overlap vertically by more than half
        let mut a = line(1, 100.0, 100.0, 300.0, "NO: 28, JALAN ASTANA 1C,");
        let mut b = line(1, 90.0, 100.0, 320.0, "BANDAR BUKIT RAJA, 41050");
        a.polygon = [
            [100.0, 100.0],
            [400.0, 100.0],
            [400.0, 160.0],
            [100.0, 160.0],
        ];
        b.polygon = [[90.0, 128.0], [410.0, 128.0], [410.0, 188.0], [90.0, 188.0]];
        let rows = rows(&[a, b]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text(), "NO: 28, JALAN ASTANA 1C,");
    }

    #[test]
    fn segments_on_one_baseline_form_a_row() {
        let lines = vec![
            line(1, 300.0, 102.0, 60.0, "9.00"),
            line(1, 10.0, 100.0, 80.0, "TOTAL"),
            line(1, 10.0, 130.0, 80.0, "CASH"),
        ];
        let rows = rows(&lines);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text(), "TOTAL 9.00");
        assert_eq!(rows[0].lines(), vec![1, 0]);
        assert_eq!(rows[1].text(), "CASH");
    }

    #[test]
    fn a_text_layer_row_splits_at_runs_of_spaces() {
        let lines = vec![line(
            1,
            0.0,
            0.0,
            400.0,
            "Widget A   8471   2   100.00   200.00",
        )];
        let rows = rows(&lines);
        let texts: Vec<&str> = rows[0].cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["Widget A", "8471", "2", "100.00", "200.00"]);
        assert!(rows[0].cells[4].left > rows[0].cells[3].right);
        assert!(rows[0].cells[4].right <= 400.0 + 0.01);
    }

    #[test]
    fn a_tall_box_does_not_merge_rows() {
        let mut stamp = line(1, 300.0, 95.0, 80.0, "PAID");
        stamp.polygon[2][1] = 190.0;
        stamp.polygon[3][1] = 190.0;
        let lines = vec![
            line(1, 10.0, 100.0, 80.0, "TOTAL"),
            line(1, 200.0, 100.0, 60.0, "27.55"),
            stamp,
            line(1, 10.0, 130.0, 80.0, "CASH"),
            line(1, 200.0, 130.0, 60.0, "50.00"),
        ];
        let texts: Vec<String> = rows(&lines).iter().map(Row::text).collect();
        assert_eq!(texts, ["TOTAL 27.55", "CASH 50.00", "PAID"]);
    }

    #[test]
    fn a_skewed_scan_keeps_its_rows() {
        // rotated by about 1°: the right end of each row sits 14 px lower than its left end
        let slanted = |x: f32, y: f32, w: f32, text: &str| {
            let dy = |x: f32| x * 0.0175;
            Line {
                page: 1,
                polygon: [
                    [x, y + dy(x)],
                    [x + w, y + dy(x + w)],
                    [x + w, y + dy(x + w) + 20.0],
                    [x, y + dy(x) + 20.0],
                ],
                text: text.into(),
                confidence: 0.9,
            }
        };
        let lines = vec![
            slanted(10.0, 100.0, 300.0, "Oak desk lamp, brass finish"),
            slanted(700.0, 100.0, 40.0, "2"),
            slanted(900.0, 100.0, 80.0, "179,80"),
            slanted(10.0, 130.0, 300.0, "Linen table runner 40 x 140 cm"),
            slanted(700.0, 130.0, 40.0, "6"),
            slanted(900.0, 130.0, 80.0, "147,00"),
        ];
        let texts: Vec<String> = rows(&lines).iter().map(Row::text).collect();
        assert_eq!(
            texts,
            [
                "Oak desk lamp, brass finish 2 179,80",
                "Linen table runner 40 x 140 cm 6 147,00"
            ]
        );
    }

    #[test]
    fn pages_never_share_a_row() {
        let lines = vec![line(1, 0.0, 0.0, 50.0, "a"), line(2, 0.0, 0.0, 50.0, "b")];
        assert_eq!(rows(&lines).len(), 2);
    }
}
