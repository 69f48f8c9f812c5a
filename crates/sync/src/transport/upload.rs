//! Content-addressed, resumable blob uploads: ask the router where it stands (`HEAD`), send the
//! rest from there in pieces (`PATCH` at its offset), read from disk a piece at a time.

use std::io::SeekFrom;
use std::path::Path;
use std::time::Duration;

use protocol::station_api::Upload;
use protocol::ErrorCode;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use super::{Call, RouterClient, BODY_LIMIT, REQUEST_TIMEOUT};
use crate::error::SyncError;

/// Bytes per `PATCH`: small enough that a cut costs little and progress moves, large enough that
/// a 50 MB scan is 50 requests, not thousands.
pub const PIECE_BYTES: u64 = 1 << 20;
/// One piece on a slow uplink (1 MiB at 10 kB/s is 100 s).
const PIECE_TIMEOUT: Duration = Duration::from_secs(120);
/// The router moved its offset under us this many times in a row: something else is uploading
/// the same blob, or the router is confused; stop rather than loop.
const MAX_MISMATCHES: u32 = 5;

/// What to upload: a file (read a piece at a time) or bytes in memory.
#[derive(Debug, Clone, Copy)]
pub enum BlobSource<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

/// A finished upload: the blob's length, where the router had it when this call began, and the
/// bytes this call sent (the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    pub length: u64,
    pub resumed_from: u64,
    pub sent: u64,
}

impl RouterClient {
    /// Where the router stands with blob `sha256` (`None`: never started).
    pub async fn blob_state(&self, sha256: &str) -> Result<Option<Upload>, SyncError> {
        let call = Call {
            what: "the upload's state",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::HEAD, &blob_path(sha256)?, call)?;
        let response = self.send(request, call).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::trim)
                };
                let number = |name: &str| header(name).and_then(|v| v.parse::<u64>().ok());
                match (
                    number("upload-offset"),
                    number("upload-length"),
                    header("blob-complete"),
                ) {
                    (Some(received), Some(length), Some(complete @ ("true" | "false"))) => {
                        Ok(Some(Upload {
                            length,
                            received,
                            complete: complete == "true",
                        }))
                    }
                    _ => Err(SyncError::Garbage {
                        what: call.what,
                        detail: "Upload-Offset, Upload-Length or Blob-Complete is missing or not a number".into(),
                        excerpt: format!("{:?}", response.headers().keys().collect::<Vec<_>>()),
                    }),
                }
            }
            _ => Err(self.refusal(response, call).await),
        }
    }

    /// Uploads blob `sha256` from `source`, continuing where the router has it (an interrupted
    /// upload goes on from the router's offset; a complete one is not sent again). `on_progress`
    /// hears (bytes the router has, of all) after each piece; `cancel` stops between pieces and
    /// during one.
    pub async fn upload_blob(
        &self,
        sha256: &str,
        source: BlobSource<'_>,
        mut on_progress: impl FnMut(u64, u64),
        cancel: &CancellationToken,
    ) -> Result<Uploaded, SyncError> {
        let mut reader = Reader::open(source).await?;
        let total = reader.length;
        let mut offset = match self.blob_state(sha256).await? {
            Some(state) if state.length != total => {
                return Err(SyncError::Upload {
                    sha256: sha256.to_owned(),
                    reason: format!(
                        "the router has it as {} bytes, the station as {total}: the station's copy is not the blob of that name",
                        state.length
                    ),
                })
            }
            Some(state) if state.complete => {
                on_progress(total, total);
                return Ok(Uploaded {
                    length: total,
                    resumed_from: total,
                    sent: 0,
                });
            }
            Some(state) => state.received,
            None => 0,
        };
        let resumed_from = offset;
        on_progress(offset, total);
        let mut sent = 0u64;
        let mut mismatches = 0u32;
        let call = Call {
            what: "an upload piece",
            keyed: true,
            timeout: PIECE_TIMEOUT,
        };
        loop {
            if cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            let piece = reader.piece(offset).await?;
            let size = piece.len() as u64;
            let request = self
                .request(Method::PATCH, &blob_path(sha256)?, call)?
                .header("upload-offset", offset.to_string())
                .header("upload-length", total.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(piece);
            let response = tokio::select! {
                response = self.send(request, call) => response?,
                () = cancel.cancelled() => return Err(SyncError::Cancelled),
            };
            if response.status() == StatusCode::CONFLICT {
                match self.refusal(response, call).await {
                    SyncError::Http {
                        code: Some(ErrorCode::OffsetMismatch),
                        ..
                    } if mismatches < MAX_MISMATCHES => {
                        mismatches += 1;
                        offset = self
                            .blob_state(sha256)
                            .await?
                            .map_or(0, |state| state.received);
                        continue;
                    }
                    other => return Err(other),
                }
            }
            let upload: Upload = self.answer(response, call, BODY_LIMIT).await?;
            mismatches = 0;
            sent += size;
            offset = upload.received;
            on_progress(offset.min(total), total);
            if upload.complete {
                return Ok(Uploaded {
                    length: total,
                    resumed_from,
                    sent,
                });
            }
            if offset >= total {
                return Err(SyncError::Upload {
                    sha256: sha256.to_owned(),
                    reason: "the router has every byte but does not call it complete".into(),
                });
            }
        }
    }
}

fn blob_path(sha256: &str) -> Result<String, SyncError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(format!("blobs/{sha256}"))
    } else {
        Err(SyncError::Upload {
            sha256: sha256.to_owned(),
            reason: "a blob is named by its sha256: 64 lowercase hex digits".into(),
        })
    }
}

/// The upload's bytes, a piece at a time.
struct Reader<'a> {
    source: Source<'a>,
    length: u64,
}

enum Source<'a> {
    File {
        file: tokio::fs::File,
        path: &'a Path,
    },
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    async fn open(source: BlobSource<'a>) -> Result<Self, SyncError> {
        match source {
            BlobSource::Bytes(bytes) => Ok(Self {
                length: bytes.len() as u64,
                source: Source::Bytes(bytes),
            }),
            BlobSource::File(path) => {
                let read = |source| SyncError::Read {
                    path: path.display().to_string(),
                    source,
                };
                let file = tokio::fs::File::open(path).await.map_err(read)?;
                let length = file.metadata().await.map_err(read)?.len();
                Ok(Self {
                    length,
                    source: Source::File { file, path },
                })
            }
        }
    }

    /// The piece at `offset` (at most [`PIECE_BYTES`]).
    async fn piece(&mut self, offset: u64) -> Result<Vec<u8>, SyncError> {
        let size = PIECE_BYTES.min(self.length.saturating_sub(offset));
        match &mut self.source {
            Source::Bytes(bytes) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = start
                    .saturating_add(usize::try_from(size).unwrap_or(0))
                    .min(bytes.len());
                Ok(bytes[start..end].to_vec())
            }
            Source::File { file, path } => {
                let read = |source| SyncError::Read {
                    path: path.display().to_string(),
                    source,
                };
                file.seek(SeekFrom::Start(offset)).await.map_err(read)?;
                let mut piece = vec![0; usize::try_from(size).unwrap_or(0)];
                // a file cut shorter since it was opened fails here, not as a short upload
                file.read_exact(&mut piece).await.map_err(read)?;
                Ok(piece)
            }
        }
    }
}
