//! Visit reports to hand to a store manager: CSV (one row per checklist line and per photo) and
//! PDF (store, auditor, times, the checklist, then every photo with its thumbnail, verdicts and
//! what to retake). The PDF is written with `pdf-writer`: thumbnails are embedded as JPEG
//! (DCTDecode) and text uses the standard Helvetica fonts, so nothing is fetched or installed.
//!
//! Past 600 lines with its unit tests: the code is 718 lines, the tests beside it 163. Most of
//! it is the PDF page layout, positioned by hand with pdf-writer: the header, checklist table
//! and photo rows share one cursor, page breaks and font metrics, so they stay together.

use std::path::Path;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use protocol::csv::cell as csv_cell;
use serde::{Deserialize, Serialize};
use store::Sha256Hex;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::{checklist, PhotoState, ShotState, ShotStatus, VisitInfo, VisitPhoto, Visits};
use crate::{export_file, StationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Csv,
    Pdf,
}

impl ReportFormat {
    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Pdf => "pdf",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReportWritten {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
    pub photos: u32,
}

/// Emitted while a report is written (thumbnails take a moment each).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReportProgress {
    #[ts(type = "number")]
    pub job_id: u64,
    pub done: u32,
    pub total: u32,
}

pub trait ReportSink: Send + Sync {
    fn progress(&self, event: &ReportProgress);
}

/// Thumbnail side in the PDF, in pixels (shown at 64 pt, so about 150 dpi).
const THUMB_SIDE: u32 = 136;

impl Visits {
    /// Writes the visit's report to `dest` (an absolute path ending in `.csv` or `.pdf`),
    /// replacing the file atomically. Cancellable between photos.
    pub async fn export_visit_report(
        &self,
        job_id: u64,
        visit_id: i64,
        dest: &Path,
        format: ReportFormat,
        sink: &dyn ReportSink,
    ) -> Result<ReportWritten, StationError> {
        let dest = export_file::destination(dest, format.extension(), "the report")?;
        let token = self.core.jobs.token(job_id);
        let result = self
            .write_report(job_id, visit_id, &dest, format, sink, &token)
            .await;
        self.core.jobs.done(job_id);
        result
    }

    async fn write_report(
        &self,
        job_id: u64,
        visit_id: i64,
        dest: &Path,
        format: ReportFormat,
        sink: &dyn ReportSink,
        token: &CancellationToken,
    ) -> Result<ReportWritten, StationError> {
        let visit: VisitInfo = self.core.store.get_visit(visit_id).await?.into();
        let photos = self.visit_photos_all(visit_id).await?;
        let shots = self
            .stores
            .spec(&visit.store_id)
            .map(|s| s.shot)
            .unwrap_or_default();
        let list = checklist(&shots, &photos);
        let pending = self.core.store.count_pending_cloud(visit_id).await?;
        let total = u32::try_from(photos.len()).unwrap_or(u32::MAX);
        let bytes = match format {
            ReportFormat::Csv => csv_report(&visit, &list, &photos)?,
            ReportFormat::Pdf => {
                let mut thumbs = Vec::with_capacity(photos.len());
                for (done, photo) in photos.iter().enumerate() {
                    if token.is_cancelled() {
                        return Err(StationError::Cancelled);
                    }
                    thumbs.push(self.thumbnail(photo.item_id).await);
                    sink.progress(&ReportProgress {
                        job_id,
                        done: u32::try_from(done + 1).unwrap_or(u32::MAX),
                        total,
                    });
                }
                pdf_report(&visit, &list, &photos, &thumbs, pending)
            }
        };
        export_file::write_atomically(dest, &bytes)?;
        tracing::info!(visit = visit_id, path = %dest.display(), bytes = bytes.len(), "visit report written");
        Ok(ReportWritten {
            path: dest.display().to_string(),
            bytes: bytes.len() as u64,
            photos: total,
        })
    }

    /// A small upright JPEG of a visit photo, with its pixel size; none when it cannot be read.
    async fn thumbnail(&self, item_id: Option<i64>) -> Option<(Vec<u8>, u32, u32)> {
        let item = self.core.store.get_item(item_id?).await.ok()?;
        let sha = Sha256Hex::parse(item.blob_sha256.as_deref()?).ok()?;
        let bytes = self.core.store.blobs().read(&sha).ok()?;
        let limits = self.core.limits;
        tokio::task::spawn_blocking(move || {
            let image = engine::intake::decode_upright(&bytes, &limits).ok()?;
            let (w, h) = (image.width().max(1), image.height().max(1));
            let scale = f64::from(THUMB_SIDE) / f64::from(w.max(h));
            let (tw, th) = (
                ((f64::from(w) * scale).round() as u32).max(1),
                ((f64::from(h) * scale).round() as u32).max(1),
            );
            let small = image::imageops::thumbnail(&image, tw, th);
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
                .encode_image(&small)
                .ok()?;
            Some((out, tw, th))
        })
        .await
        .ok()
        .flatten()
    }
}

/// `2026-11-22T08:42:23.776884775Z` as a person reads it: `2026-11-22 08:42:23 UTC`.
fn readable_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(day), Some(time)) if rfc3339.ends_with('Z') => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

fn state_word(state: PhotoState) -> &'static str {
    match state {
        PhotoState::Accepted => "accepted",
        PhotoState::Extra => "extra",
        PhotoState::Retake => "retake",
        PhotoState::Unreadable => "unreadable",
    }
}

fn shot_word(state: ShotState) -> &'static str {
    match state {
        ShotState::Done => "done",
        ShotState::Retake => "retake",
        ShotState::Missing => "missing",
    }
}

fn csv_report(
    visit: &VisitInfo,
    list: &[ShotStatus],
    photos: &[VisitPhoto],
) -> Result<Vec<u8>, StationError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| StationError::InvalidRequest(format!("cannot write CSV: {e}"));
    // every cell, not only the ones known to be typed by people today: the fixed words and the
    // numbers never start like a formula, so they pass unchanged
    let mut row =
        |cells: [&str; 19]| w.write_record(cells.map(csv_cell).iter().map(|c| c.as_bytes()));
    row([
        "record",
        "store_id",
        "store",
        "auditor",
        "visit_started",
        "visit_ended",
        "shot",
        "category",
        "required",
        "accepted",
        "state",
        "file",
        "taken_at",
        "quality",
        "reasons",
        "category_verdict",
        "guidance",
        "pending_cloud_checks",
        "cloud_checks",
    ])
    .map_err(fail)?;
    let ended = visit
        .ended_at
        .as_deref()
        .map(readable_time)
        .unwrap_or_default();
    let started = readable_time(&visit.started_at);
    for shot in list {
        row([
            "shot",
            &visit.store_id,
            &visit.store_name,
            &visit.auditor,
            &started,
            &ended,
            &shot.name,
            &shot.category,
            &shot.required.to_string(),
            &shot.accepted.to_string(),
            shot_word(shot.state),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ])
        .map_err(fail)?;
    }
    for photo in photos {
        row([
            "photo",
            &visit.store_id,
            &visit.store_name,
            &visit.auditor,
            &started,
            &ended,
            photo.shot.as_deref().unwrap_or(""),
            photo.category.as_deref().unwrap_or(""),
            "",
            "",
            state_word(photo.state),
            &photo.file_name,
            &readable_time(&photo.added_at),
            photo.quality.as_deref().unwrap_or(""),
            &photo.reasons.join("; "),
            photo.category_verdict.as_deref().unwrap_or(""),
            &photo.guidance.join(" "),
            &photo.pending_rules.to_string(),
            &cloud_words(&photo.cloud_rules),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| StationError::InvalidRequest(format!("cannot write CSV: {e}")))
}

/// A character as drawn with a standard PDF font (WinAnsi): Latin-1 letters kept, dashes as
/// `-`, anything else `?`.
fn pdf_byte(c: char) -> u8 {
    match u8::try_from(u32::from(c)) {
        Ok(b) if (0x20..0x7f).contains(&b) || b >= 0xa0 => b,
        _ if c == '—' || c == '–' => b'-',
        _ => b'?',
    }
}

/// Text for a standard PDF font: one byte per character (see [`pdf_byte`]).
fn pdf_text(text: &str) -> Vec<u8> {
    text.chars().map(pdf_byte).collect()
}

/// Advance widths (1/1000 em) of space to `~` in Helvetica, from Adobe's font metrics.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];
/// The same for Helvetica-Bold.
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0..?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P.._
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `..o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p..~
];
/// Latin-1 letters are counted as wide as the widest of them (`Æ`), so that text holding them
/// can end early but never runs over.
const LATIN1_WIDTH: u16 = 1000;
const ELLIPSIS: &str = "...";

/// How wide `text` is drawn at `size` points, in points.
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    text.chars().map(|c| char_width(c, size, bold)).sum()
}

fn char_width(c: char, size: f32, bold: bool) -> f32 {
    let table = if bold {
        &HELVETICA_BOLD_WIDTHS
    } else {
        &HELVETICA_WIDTHS
    };
    let units = pdf_byte(c)
        .checked_sub(0x20)
        .and_then(|i| table.get(usize::from(i)))
        .copied()
        .unwrap_or(LATIN1_WIDTH);
    f32::from(units) * size / 1000.0
}

/// `text` cut at the end to fit `max` points, ending in `...` when cut.
fn truncate(text: &str, size: f32, bold: bool, max: f32) -> String {
    if text_width(text, size, bold) <= max {
        return text.to_string();
    }
    cut_with_ellipsis(text, size, bold, max)
}

/// The longest start of `text` that fits `max` points with `...` after it, with `...` after it.
fn cut_with_ellipsis(text: &str, size: f32, bold: bool, max: f32) -> String {
    let room = max - text_width(ELLIPSIS, size, bold);
    let mut width = 0.0;
    let mut out: String = text
        .chars()
        .take_while(|&c| {
            width += char_width(c, size, bold);
            width <= room
        })
        .collect();
    out.truncate(out.trim_end().len());
    out.push_str(ELLIPSIS);
    out
}

/// `text` cut in the middle to fit `max` points: for file names, whose ends (a counter, the
/// extension) tell them apart.
fn truncate_middle(text: &str, size: f32, bold: bool, max: f32) -> String {
    if text_width(text, size, bold) <= max {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut room = max - text_width(ELLIPSIS, size, bold);
    let (mut front, mut back) = (0, chars.len());
    // from both ends in turn, the end first so that the extension survives
    let mut from_back = true;
    while front < back {
        let next = if from_back {
            chars[back - 1]
        } else {
            chars[front]
        };
        let w = char_width(next, size, bold);
        if w > room {
            break;
        }
        room -= w;
        if from_back {
            back -= 1;
        } else {
            front += 1;
        }
        from_back = !from_back;
    }
    let head: String = chars[..front].iter().collect();
    let tail: String = chars[back..].iter().collect();
    format!("{head}{ELLIPSIS}{tail}")
}

/// Splits text into lines at most `max` points wide, at spaces (a word wider than a line is cut
/// between characters), keeping at most `max_lines`: the last ends in `...` when text is left.
fn wrap(text: &str, size: f32, bold: bool, max: f32, max_lines: usize) -> Vec<String> {
    let space = char_width(' ', size, bold);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for word in text.split_whitespace() {
        let word_width = text_width(word, size, bold);
        if !line.is_empty() && width + space + word_width <= max {
            line.push(' ');
            line.push_str(word);
            width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            width = 0.0;
        }
        // a word too long for any line fills lines of its own
        for c in word.chars() {
            let w = char_width(c, size, bold);
            if !line.is_empty() && width + w > max {
                lines.push(std::mem::take(&mut line));
                width = 0.0;
            }
            line.push(c);
            width += w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = cut_with_ellipsis(last, size, bold, max);
        }
    }
    lines
}

struct PdfBuilder {
    pdf: Pdf,
    next: i32,
    pages: Vec<Ref>,
    page_tree: Ref,
    font: Ref,
    bold: Ref,
    /// The page being drawn: its content, its images, the pen's height.
    content: Content,
    images: Vec<(Name<'static>, Ref)>,
    y: f32,
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 48.0;
/// Names for the images of one page (`I0`…`I15`); a page holds at most 11 photo rows.
const IMAGE_NAMES: [&[u8]; 16] = [
    b"I0", b"I1", b"I2", b"I3", b"I4", b"I5", b"I6", b"I7", b"I8", b"I9", b"I10", b"I11", b"I12",
    b"I13", b"I14", b"I15",
];

impl PdfBuilder {
    fn new() -> Self {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let page_tree = Ref::new(2);
        let font = Ref::new(3);
        let bold = Ref::new(4);
        pdf.catalog(catalog).pages(page_tree);
        pdf.type1_font(font)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        Self {
            pdf,
            next: 5,
            pages: Vec::new(),
            page_tree,
            font,
            bold,
            content: Content::new(),
            images: Vec::new(),
            y: PAGE_H - MARGIN,
        }
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next);
        self.next += 1;
        r
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, rgb: (f32, f32, f32), text: &str) {
        let bytes = pdf_text(text);
        self.content
            .set_fill_rgb(rgb.0, rgb.1, rgb.2)
            .begin_text()
            .set_font(Name(if bold { b"F2" } else { b"F1" }), size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Moves the pen down, starting a new page when `needed` points do not fit.
    fn down(&mut self, by: f32, needed: f32) {
        if self.y - by - needed < MARGIN {
            self.flush_page();
        }
        self.y -= by;
    }

    fn flush_page(&mut self) {
        let page = self.alloc();
        let contents = self.alloc();
        let content = std::mem::replace(&mut self.content, Content::new());
        self.pdf.stream(contents, &content.finish());
        let mut p = self.pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(self.page_tree)
            .contents(contents);
        let mut resources = p.resources();
        resources
            .fonts()
            .pair(Name(b"F1"), self.font)
            .pair(Name(b"F2"), self.bold);
        let mut x_objects = resources.x_objects();
        for (name, id) in self.images.drain(..) {
            x_objects.pair(name, id);
        }
        x_objects.finish();
        resources.finish();
        p.finish();
        self.pages.push(page);
        self.y = PAGE_H - MARGIN;
    }

    fn image(&mut self, jpeg: &[u8], w: u32, h: u32, x: f32, box_side: f32) {
        let Some(name) = IMAGE_NAMES.get(self.images.len()).copied() else {
            return;
        };
        let id = self.alloc();
        let mut image = self.pdf.image_xobject(id, jpeg);
        image.filter(Filter::DctDecode);
        image.width(i32::try_from(w).unwrap_or(1));
        image.height(i32::try_from(h).unwrap_or(1));
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
        let scale = box_side / w.max(h) as f32;
        let (dw, dh) = (w as f32 * scale, h as f32 * scale);
        self.content
            .save_state()
            .transform([dw, 0.0, 0.0, dh, x, self.y - dh])
            .x_object(Name(name))
            .restore_state();
        self.images.push((Name(name), id));
    }

    fn finish(mut self) -> Vec<u8> {
        self.flush_page();
        let count = i32::try_from(self.pages.len()).unwrap_or(i32::MAX);
        self.pdf
            .pages(self.page_tree)
            .kids(self.pages.iter().copied())
            .count(count);
        self.pdf.finish()
    }
}

const BLACK: (f32, f32, f32) = (0.1, 0.1, 0.1);
const GREY: (f32, f32, f32) = (0.4, 0.4, 0.4);
const GREEN: (f32, f32, f32) = (0.1, 0.5, 0.2);
const AMBER: (f32, f32, f32) = (0.75, 0.45, 0.0);
const RED: (f32, f32, f32) = (0.75, 0.1, 0.1);

/// The right edge of the text.
const RIGHT: f32 = PAGE_W - MARGIN;

fn pdf_report(
    visit: &VisitInfo,
    list: &[ShotStatus],
    photos: &[VisitPhoto],
    thumbs: &[Option<(Vec<u8>, u32, u32)>],
    pending: u64,
) -> Vec<u8> {
    let mut b = PdfBuilder::new();
    b.down(0.0, 0.0);
    b.text(MARGIN, 18.0, true, BLACK, "Store visit report");
    let width = RIGHT - MARGIN;
    let ended = visit
        .ended_at
        .as_deref()
        .map_or_else(|| "in progress".to_string(), readable_time);
    let count = |s: PhotoState| photos.iter().filter(|p| p.state == s).count();
    let header = [
        format!("Store: {} ({})", visit.store_name, visit.store_id),
        format!("Auditor: {}", visit.auditor),
        format!(
            "Started: {}   Ended: {ended}",
            readable_time(&visit.started_at)
        ),
        format!(
            "Photos: {} - accepted {}, retake {}, extra {}, unreadable {}; checks waiting for the cloud: {pending}",
            photos.len(),
            count(PhotoState::Accepted),
            count(PhotoState::Retake),
            count(PhotoState::Extra),
            count(PhotoState::Unreadable)
        ),
    ];
    let mut gap = 24.0;
    for line in header.iter().flat_map(|l| wrap(l, 11.0, false, width, 2)) {
        b.down(gap, 0.0);
        b.text(MARGIN, 11.0, false, BLACK, &line);
        gap = 15.0;
    }
    b.down(28.0, 0.0);
    b.text(MARGIN, 13.0, true, BLACK, "Checklist");
    for shot in list {
        b.down(16.0, 0.0);
        let (word, colour) = match shot.state {
            ShotState::Done => ("DONE", GREEN),
            ShotState::Retake => ("RETAKE", AMBER),
            ShotState::Missing => ("MISSING", RED),
        };
        b.text(MARGIN, 10.5, true, colour, word);
        let line = format!(
            "{} ({}): {} of {} accepted",
            shot.name, shot.category, shot.accepted, shot.required
        );
        let x = MARGIN + 70.0;
        b.text(
            x,
            10.5,
            false,
            BLACK,
            &truncate(&line, 10.5, false, RIGHT - x),
        );
    }
    if list.is_empty() {
        b.down(16.0, 0.0);
        b.text(
            MARGIN,
            10.5,
            false,
            GREY,
            "This store's config lists no required shots.",
        );
    }
    b.down(30.0, 0.0);
    b.text(MARGIN, 13.0, true, BLACK, "Photos");
    b.down(10.0, 0.0);
    const ROW: f32 = 70.0;
    const THUMB: f32 = 60.0;
    for (photo, thumb) in photos.iter().zip(thumbs) {
        b.down(0.0, ROW);
        if let Some((jpeg, w, h)) = thumb {
            b.image(jpeg, *w, *h, MARGIN, THUMB);
        }
        let x = MARGIN + THUMB + 12.0;
        let top = b.y;
        b.y -= 11.0;
        let colour = match photo.state {
            PhotoState::Accepted | PhotoState::Extra => GREEN,
            PhotoState::Retake => AMBER,
            PhotoState::Unreadable => RED,
        };
        b.text(
            x,
            10.5,
            true,
            colour,
            &state_word(photo.state).to_uppercase(),
        );
        let name_x = x + 80.0;
        let name = truncate_middle(&photo.file_name, 10.5, true, RIGHT - name_x);
        b.text(name_x, 10.5, true, BLACK, &name);
        b.y -= 13.0;
        let mut facts = vec![readable_time(&photo.added_at)];
        if let Some(q) = &photo.quality {
            facts.push(format!("quality {q}"));
        }
        if let Some(c) = &photo.category {
            facts.push(format!("category {c}"));
        }
        if let Some(s) = &photo.shot {
            facts.push(format!("shot {s}"));
        }
        if !photo.reasons.is_empty() {
            facts.push(photo.reasons.join(", "));
        }
        // under the title, room for four lines in the row: the facts take up to two of them,
        // the advice the rest (up to three)
        let facts = wrap(&facts.join(" | "), 9.0, false, RIGHT - x, 2);
        for (i, line) in facts.iter().enumerate() {
            if i > 0 {
                b.y -= 11.0;
            }
            b.text(x, 9.0, false, GREY, line);
        }
        let advice = if photo.state == PhotoState::Retake || photo.state == PhotoState::Unreadable {
            photo.guidance.join(" ")
        } else if photo.cloud_rules.is_empty() {
            String::new()
        } else {
            format!("Cloud checks: {}", cloud_words(&photo.cloud_rules))
        };
        let advice_lines = 4usize.saturating_sub(facts.len().max(1)).min(3);
        for line in wrap(&advice, 9.0, false, RIGHT - x, advice_lines) {
            b.y -= 11.0;
            b.text(x, 9.0, false, BLACK, &line);
        }
        b.y = top - ROW;
        if b.images.len() >= IMAGE_NAMES.len() {
            b.flush_page();
        }
    }
    b.finish()
}

/// A photo's cloud checks in one cell: `rule: failed (reason); rule: pending`.
fn cloud_words(rules: &[super::types::CloudRule]) -> String {
    rules
        .iter()
        .map(|r| match &r.reason {
            Some(reason) if r.state != "pending" => format!("{}: {} ({reason})", r.rule, r.state),
            _ => format!("{}: {}", r.rule, r.state),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit() -> VisitInfo {
        VisitInfo {
            id: 1,
            store_id: "s1".into(),
            store_name: "+Main Street".into(),
            auditor: "=HYPERLINK(\"http://evil.example\",\"Ana\")".into(),
            started_at: "2026-12-01T14:05:09.5Z".into(),
            ended_at: None,
            import_folder: None,
        }
    }

    fn photo(file_name: &str, guidance: &str) -> VisitPhoto {
        VisitPhoto {
            item_id: Some(1),
            file_name: file_name.into(),
            source_path: format!("/card/{file_name}"),
            added_at: "2026-12-01T14:06:00Z".into(),
            state: PhotoState::Retake,
            quality: Some("fail".into()),
            reasons: vec!["blur".into()],
            guidance: vec![guidance.into()],
            category: Some("Fruit".into()),
            category_verdict: Some("match".into()),
            shot: Some("Fruit display".into()),
            pending_rules: 0,
            cloud_rules: Vec::new(),
            latency_ms: 1.0,
            duplicate: false,
            error: None,
        }
    }

    #[test]
    fn the_csv_report_cannot_smuggle_formulas_into_a_spreadsheet() {
        let shots = [ShotStatus {
            name: "@shot".into(),
            category: "-Fruit".into(),
            required: 1,
            accepted: 0,
            retakes: 1,
            state: ShotState::Retake,
            rules: Vec::new(),
        }];
        let photos = [
            photo("=cmd|' /C calc'!A0.jpg", "-2+3 hold steady"),
            photo("\tIMG_0002.jpg", "\rstep back"),
            photo("IMG_0003.jpg", "Hold the camera steady."),
        ];
        let bytes = csv_report(&visit(), &shots, &photos).unwrap();
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4);
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} in {row:?}"
                );
            }
        }
        let file = |i: usize| rows[i].get(11).unwrap().to_string();
        assert_eq!(file(1), "'=cmd|' /C calc'!A0.jpg");
        assert_eq!(file(2), "'\tIMG_0002.jpg");
        assert_eq!(file(3), "IMG_0003.jpg");
        assert_eq!(
            rows[0].get(3),
            Some("'=HYPERLINK(\"http://evil.example\",\"Ana\")")
        );
        assert_eq!(rows[0].get(2), Some("'+Main Street"));
        assert_eq!(rows[0].get(6), Some("'@shot"));
        assert_eq!(rows[1].get(16), Some("'-2+3 hold steady"));
        assert_eq!(rows[3].get(16), Some("Hold the camera steady."));
        assert_eq!(rows[0].get(4), Some("2026-12-01 14:05:09 UTC"));
    }

    #[test]
    fn long_text_is_wrapped_or_cut_to_the_width_it_is_given() {
        let long = "Hold the camera steady and tap the display to focus before taking the photo. \
                    Step back so the whole shelf is in the frame, then take it again.";
        let lines = wrap(long, 9.0, false, 200.0, 10);
        assert!(lines.len() > 2, "{lines:?}");
        assert_eq!(
            lines.join(" "),
            long.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        for line in &lines {
            assert!(text_width(line, 9.0, false) <= 200.0, "{line:?}");
        }
        let two = wrap(long, 9.0, false, 200.0, 2);
        assert_eq!(two.len(), 2);
        assert!(two[1].ends_with("..."), "{two:?}");
        assert!(text_width(&two[1], 9.0, false) <= 200.0);
        // one word wider than a line: cut between characters
        let word = "W".repeat(80);
        for line in wrap(&word, 9.0, true, 100.0, 99) {
            assert!(text_width(&line, 9.0, true) <= 100.0, "{line:?}");
        }
        assert!(wrap("", 9.0, false, 100.0, 3).is_empty());
        assert!(wrap(long, 9.0, false, 100.0, 0).is_empty());

        let name = format!("IMG_{}_0001 (1).jpg", "WIDE".repeat(40));
        let short = truncate_middle(&name, 10.5, true, 300.0);
        assert!(text_width(&short, 10.5, true) <= 300.0, "{short:?}");
        assert!(
            short.starts_with("IMG_") && short.ends_with("0001 (1).jpg"),
            "{short:?}"
        );
        assert!(short.contains("..."));
        assert_eq!(
            truncate_middle("IMG_0001.jpg", 10.5, true, 300.0),
            "IMG_0001.jpg"
        );
        let cut = truncate(&name, 10.5, false, 150.0);
        assert!(
            cut.ends_with("...") && text_width(&cut, 10.5, false) <= 150.0,
            "{cut:?}"
        );
        assert_eq!(truncate("Ana", 11.0, false, 150.0), "Ana");
    }

    #[test]
    fn a_report_of_long_names_is_still_written() {
        let name = format!("{}.jpg", "very long file name ".repeat(20));
        let photos = [photo(&name, &"Frame one section only. ".repeat(30))];
        let pdf = pdf_report(&visit(), &[], &photos, &[None], 0);
        assert!(pdf.starts_with(b"%PDF"));
    }

    #[test]
    fn text_is_wrapped_and_kept_to_the_pdf_fonts() {
        // "one two" is 35 points wide at 10 points: "three" does not fit after it in 36
        assert_eq!(
            wrap("one two three", 10.0, false, 36.0, 9),
            vec!["one two", "three"]
        );
        assert_eq!(
            readable_time("2026-11-22T08:42:23.776884775Z"),
            "2026-11-22 08:42:23 UTC"
        );
        assert_eq!(pdf_text("Café — ✓"), b"Caf\xe9 - ?".to_vec());
    }
}
