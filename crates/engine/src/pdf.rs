//! PDF documents through PDFium (`pdfium-render`, bound at run time to the library the fetch
//! step installs): page count, pages rendered to images, and the text layer read directly so
//! that pages with one need no OCR. Documents are opened per call from their bytes: PDFium parses
//! lazily, so a 500-page file costs only the pages that are touched.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use image::RgbImage;
use pdfium_render::prelude::*;

use protocol::ErrorCode;

use crate::ocr::TextLine;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    #[error("the PDF library is not available ({path}): {detail}")]
    Library { path: String, detail: String },
    #[error("the PDF is password-protected; remove the password and import it again")]
    Encrypted,
    #[error("the PDF has no pages")]
    Empty,
    #[error("the PDF is corrupt or not a PDF: {0}")]
    Corrupt(String),
    #[error("the PDF has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: u32, limit: u32 },
    #[error("page {page} does not exist; the document has {count} pages")]
    PageOutOfRange { page: u32, count: u32 },
    #[error("page {page} could not be rendered: {detail}")]
    Render { page: u32, detail: String },
}

impl PdfError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Library { .. } => ErrorCode::PdfUnavailable,
            Self::Encrypted => ErrorCode::PdfEncrypted,
            Self::Empty => ErrorCode::PdfEmpty,
            Self::Corrupt(_) => ErrorCode::PdfCorrupt,
            Self::TooManyPages { .. } => ErrorCode::PdfTooManyPages,
            Self::PageOutOfRange { .. } => ErrorCode::PageOutOfRange,
            Self::Render { .. } => ErrorCode::PdfRender,
        }
    }
}

/// Whether bytes are a PDF, by their signature (which may follow up to 1 KiB of junk).
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    pub max_pages: u32,
    /// Rendered pages are scaled to at most this many pixels on their long side.
    pub max_render_side: u32,
}

impl Default for PdfLimits {
    fn default() -> Self {
        Self {
            max_pages: 2000,
            max_render_side: 4000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdfInfo {
    pub page_count: u32,
    /// First page size in points (1/72 inch).
    pub width_pt: f32,
    pub height_pt: f32,
}

/// The text layer of one page, in the pixel space of a rendering `scale` pixels per point.
#[derive(Debug, Clone, PartialEq)]
pub struct PageText {
    pub width_pt: f32,
    pub height_pt: f32,
    pub lines: Vec<TextLine>,
}

/// PDFium, bound once per process (it cannot be bound twice).
#[derive(Debug)]
pub struct PdfEngine {
    pdfium: Pdfium,
    pub limits: PdfLimits,
}

static SHARED: Mutex<Option<Arc<PdfEngine>>> = Mutex::new(None);

impl PdfEngine {
    /// The process's PDFium, bound to `library` on first use; a failed bind is retried later.
    pub fn shared(library: &Path) -> Result<Arc<Self>, PdfError> {
        // Holds an Option<Arc>; a panic elsewhere cannot leave it half-written.
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(engine) = shared.as_ref() {
            return Ok(Arc::clone(engine));
        }
        let fail = |detail: String| PdfError::Library {
            path: library.display().to_string(),
            detail,
        };
        if !library.is_file() {
            return Err(fail("not installed: run `python3 models/fetch.py`".into()));
        }
        let bindings = Pdfium::bind_to_library(library).map_err(|e| fail(e.to_string()))?;
        let engine = Arc::new(Self {
            pdfium: Pdfium::new(bindings),
            limits: PdfLimits::default(),
        });
        *shared = Some(Arc::clone(&engine));
        Ok(engine)
    }

    fn open<'a>(&'a self, bytes: &'a [u8]) -> Result<PdfDocument<'a>, PdfError> {
        self.pdfium
            .load_pdf_from_byte_slice(bytes, None)
            .map_err(|e| match e {
                PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
                    PdfError::Encrypted
                }
                // PDFium reports a document without pages as a format error; a well-formed
                // trailer whose page tree counts zero is the empty case.
                _ if declares_no_pages(bytes) => PdfError::Empty,
                other => PdfError::Corrupt(describe(&other)),
            })
    }

    /// Page count and first page size; refuses empty and over-long documents.
    pub fn inspect(&self, bytes: &[u8]) -> Result<PdfInfo, PdfError> {
        let document = self.open(bytes)?;
        let pages = document.pages();
        let page_count = u32::try_from(pages.len()).unwrap_or(0);
        if page_count == 0 {
            return Err(PdfError::Empty);
        }
        if page_count > self.limits.max_pages {
            return Err(PdfError::TooManyPages {
                pages: page_count,
                limit: self.limits.max_pages,
            });
        }
        let first = pages.get(0).map_err(|e| PdfError::Corrupt(describe(&e)))?;
        Ok(PdfInfo {
            page_count,
            width_pt: first.width().value,
            height_pt: first.height().value,
        })
    }

    /// Renders 1-based `page` so its long side is `long_side` pixels (capped by the limits).
    pub fn render_page(
        &self,
        bytes: &[u8],
        page: u32,
        long_side: u32,
    ) -> Result<RgbImage, PdfError> {
        let document = self.open(bytes)?;
        let pdf_page = get_page(&document, page)?;
        let side = i32::try_from(long_side.clamp(16, self.limits.max_render_side)).unwrap_or(4000);
        let config = PdfRenderConfig::new()
            .set_maximum_width(side)
            .set_maximum_height(side)
            .set_target_width(side)
            .render_form_data(true);
        let render = |detail: String| PdfError::Render { page, detail };
        let bitmap = pdf_page
            .render_with_config(&config)
            .map_err(|e| render(describe(&e)))?;
        let image = bitmap.as_image().map_err(|e| render(describe(&e)))?;
        Ok(image.into_rgb8())
    }

    /// The page's text layer as lines, with polygons in the pixels of a rendering whose long
    /// side is `long_side`. Empty when the page has no text layer (a scan).
    pub fn page_text(&self, bytes: &[u8], page: u32, long_side: u32) -> Result<PageText, PdfError> {
        let document = self.open(bytes)?;
        let pdf_page = get_page(&document, page)?;
        let (width_pt, height_pt) = (pdf_page.width().value, pdf_page.height().value);
        let scale = long_side as f32 / width_pt.max(height_pt).max(1.0);
        let text = pdf_page
            .text()
            .map_err(|e| PdfError::Corrupt(describe(&e)))?;
        let mut fragments: Vec<Fragment> = text
            .segments()
            .iter()
            .filter_map(|segment| {
                let content = segment.text();
                let trimmed = content.trim();
                if trimmed.is_empty() {
                    return None;
                }
                let rect = segment.bounds();
                Some(Fragment {
                    left: rect.left().value,
                    right: rect.right().value,
                    top: rect.top().value,
                    bottom: rect.bottom().value,
                    text: trimmed.to_string(),
                    space_after: content.ends_with(char::is_whitespace),
                })
            })
            .collect();
        let lines = merge_into_lines(&mut fragments)
            .into_iter()
            .map(|f| {
                // PDF space has its origin bottom-left with y up; pixels have it top-left.
                let (x0, x1) = (f.left * scale, f.right * scale);
                let (y0, y1) = ((height_pt - f.top) * scale, (height_pt - f.bottom) * scale);
                TextLine {
                    polygon: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                    text: f.text,
                    confidence: 1.0,
                }
            })
            .collect();
        Ok(PageText {
            width_pt,
            height_pt,
            lines,
        })
    }
}

fn get_page<'a>(document: &PdfDocument<'a>, page: u32) -> Result<PdfPage<'a>, PdfError> {
    let count = u32::try_from(document.pages().len()).unwrap_or(0);
    if page == 0 || page > count {
        return Err(PdfError::PageOutOfRange { page, count });
    }
    let index =
        PdfPageIndex::try_from(page - 1).map_err(|_| PdfError::PageOutOfRange { page, count })?;
    document
        .pages()
        .get(index)
        .map_err(|e| PdfError::Corrupt(describe(&e)))
}

fn describe(error: &PdfiumError) -> String {
    match error {
        PdfiumError::PdfiumLibraryInternalError(internal) => format!("PDFium: {internal:?}"),
        other => other.to_string(),
    }
}

/// A trailer that parses far enough to show `/Count 0` in its page tree.
fn declares_no_pages(bytes: &[u8]) -> bool {
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    is_pdf(bytes)
        && compact.windows(7).any(|w| w == b"/Count0")
        && !compact
            .windows(7)
            .any(|w| w.starts_with(b"/Count") && w[6].is_ascii_digit() && w[6] != b'0')
}

#[derive(Debug, Clone)]
struct Fragment {
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
    text: String,
    /// The run ended in a space (PDFium puts a word's space inside its run, so the gap to the
    /// next run can be narrower than any threshold in justified text).
    space_after: bool,
}

/// PDFium's segments are runs of one style; runs on the same baseline that nearly touch are one
/// line for a reader (and for the extractor after OCR), so they are joined.
fn merge_into_lines(fragments: &mut [Fragment]) -> Vec<Fragment> {
    fragments.sort_by(|a, b| b.top.total_cmp(&a.top).then(a.left.total_cmp(&b.left)));
    let mut lines: Vec<Fragment> = Vec::new();
    for fragment in fragments.iter() {
        let height = (fragment.top - fragment.bottom).max(1.0);
        let joined = lines.iter_mut().rev().take(8).find(|line| {
            let overlap = line.top.min(fragment.top) - line.bottom.max(fragment.bottom);
            let gap = fragment.left - line.right;
            overlap > 0.5 * height && (-0.5 * height..=1.5 * height).contains(&gap)
        });
        match joined {
            Some(line) => {
                let space = if line.space_after || fragment.left - line.right > 0.15 * height {
                    " "
                } else {
                    ""
                };
                line.text.push_str(space);
                line.text.push_str(&fragment.text);
                line.space_after = fragment.space_after;
                line.right = line.right.max(fragment.right);
                line.top = line.top.max(fragment.top);
                line.bottom = line.bottom.min(fragment.bottom);
            }
            None => lines.push(fragment.clone()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_signature_is_found_after_junk_but_not_in_a_jpeg() {
        assert!(is_pdf(b"%PDF-1.7\n..."));
        assert!(is_pdf(b"\xef\xbb\xbf  %PDF-1.4"));
        assert!(!is_pdf(b"\xff\xd8\xff\xe0 JFIF"));
        assert!(!is_pdf(b""));
    }

    #[test]
    fn fragments_on_one_baseline_join_and_lines_keep_reading_order() {
        let frag = |left: f32, right: f32, top: f32, text: &str| Fragment {
            left,
            right,
            top,
            bottom: top - 10.0,
            text: text.trim().into(),
            space_after: text.ends_with(' '),
        };
        let mut fragments = vec![
            frag(200.0, 260.0, 700.0, "1,234.50"),
            frag(50.0, 100.0, 700.0, "Total"),
            frag(102.0, 140.0, 700.0, "due"),
            frag(50.0, 120.0, 720.0, "INVOICE"),
            // justified text: the space is inside the run, the gap to the next is narrow
            frag(50.0, 70.0, 680.0, "writ "),
            frag(71.0, 110.0, 680.0, "petition"),
        ];
        let lines = merge_into_lines(&mut fragments);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["INVOICE", "Total due", "1,234.50", "writ petition"]);
    }

    /// No test in this (unit-test) binary binds PDFium, so the missing library is what is seen.
    #[test]
    fn a_missing_library_is_a_clear_error() {
        let error = PdfEngine::shared(Path::new("/nonexistent/libpdfium.so")).unwrap_err();
        assert_eq!(error.code(), ErrorCode::PdfUnavailable);
        assert!(error.to_string().contains("models/fetch.py"), "{error}");
    }

    #[test]
    fn an_empty_page_tree_is_recognized() {
        assert!(declares_no_pages(
            b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj"
        ));
        assert!(!declares_no_pages(
            b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj"
        ));
    }
}
