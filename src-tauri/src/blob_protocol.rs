//! `rsblob://localhost/<sha256>`: serves stored photos to the webview;
//! `rsblob://localhost/page/<sha256>/<n>[/thumb]`: page n of a stored PDF, rendered to PNG (and
//! cached), full size or as a thumbnail.
//! Hashes are validated in the station, so a request can never read outside the data directory.

use protocol::ErrorCode;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::Shell;

// The signature is fixed by tauri's protocol-handler type.
#[allow(clippy::needless_pass_by_value)]
pub fn serve_blob<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    // Slashes may arrive percent-encoded; hashes and page numbers have no other escapes.
    let path = request
        .uri()
        .path()
        .trim_start_matches('/')
        .replace("%2F", "/")
        .replace("%2f", "/");
    if let Some(rest) = path.strip_prefix("page/") {
        let analysis = std::sync::Arc::clone(ctx.app_handle().state::<Shell>().station.analysis());
        let (sha, page) = rest.split_once('/').unwrap_or((rest, ""));
        // `<n>/thumb` is the same page small, for the thumbnail strip
        let (page, side) = match page.strip_suffix("/thumb") {
            Some(page) => (page, station::PAGE_THUMB_SIDE),
            None => (page, station::PAGE_VIEW_SIDE),
        };
        let (sha, page) = (sha.to_string(), page.parse::<u32>().ok());
        tauri::async_runtime::spawn(async move {
            let response = match page {
                None => plain(StatusCode::BAD_REQUEST, "not a page number"),
                Some(page) => match analysis.page_png(&sha, page, side).await {
                    Ok(png) => Response::builder()
                        .header(header::CONTENT_TYPE, "image/png")
                        .header("X-Content-Type-Options", "nosniff")
                        .header(
                            header::CACHE_CONTROL,
                            "private, max-age=31536000, immutable",
                        )
                        .body(png),
                    Err(error) => {
                        let status = match error.code() {
                            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                            ErrorCode::NotFound | ErrorCode::PageOutOfRange => {
                                StatusCode::NOT_FOUND
                            }
                            _ => StatusCode::UNPROCESSABLE_ENTITY,
                        };
                        plain(status, "page not available")
                    }
                },
            };
            match response {
                Ok(response) => responder.respond(response),
                Err(error) => tracing::error!(%error, "building a page response failed"),
            }
        });
        return;
    }
    let sha = path;
    let path = ctx
        .app_handle()
        .state::<Shell>()
        .station
        .imports()
        .blob_path(&sha);
    // Reading a multi-megabyte photo must not hold up the webview's thread.
    std::thread::spawn(move || {
        let response = match path.map(std::fs::read) {
            Ok(Ok(bytes)) => Response::builder()
                .header(header::CONTENT_TYPE, sniff_media_type(&bytes))
                .header("X-Content-Type-Options", "nosniff")
                .header(
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable",
                )
                .body(bytes),
            Ok(Err(_)) => plain(StatusCode::NOT_FOUND, "no such blob"),
            Err(_) => plain(StatusCode::BAD_REQUEST, "not a blob id"),
        };
        match response {
            Ok(response) => responder.respond(response),
            Err(error) => tracing::error!(%error, "building a blob response failed"),
        }
    });
}

fn plain(status: StatusCode, text: &str) -> tauri::http::Result<Response<Vec<u8>>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(text.as_bytes().to_vec())
}

fn sniff_media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}
