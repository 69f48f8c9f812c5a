//! `rsblob://localhost/<sha256>`: serves stored photos to the webview. The hash is validated in
//! `Station::blob_path`, so a request can never read outside the blob directory.

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
    let sha = request.uri().path().trim_start_matches('/').to_string();
    let path = ctx.app_handle().state::<Shell>().station.blob_path(&sha);
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
