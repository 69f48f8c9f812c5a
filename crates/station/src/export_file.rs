//! Where exports go (visit reports, the evaluation set) and how they are written: to an absolute
//! path the user chose, in an existing folder, with the format's extension; through a `.part`
//! file that is synced and renamed, so a failed or interrupted export never leaves half a file
//! under the chosen name (nor replaces a good one with it).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StationError;

/// Checks an export destination: `what` names the export in the error ("the report").
pub(crate) fn destination(
    dest: &Path,
    extension: &str,
    what: &str,
) -> Result<PathBuf, StationError> {
    let bad = |why: &str| {
        StationError::InvalidRequest(format!("cannot write {what} to {}: {why}", dest.display()))
    };
    if !dest.is_absolute() {
        return Err(bad("not an absolute path"));
    }
    let ext_ok = dest
        .extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| x.eq_ignore_ascii_case(extension));
    if !ext_ok {
        return Err(bad(&format!("the file name must end in .{extension}")));
    }
    if dest.is_dir() {
        return Err(bad("that is a folder"));
    }
    if !dest.parent().is_some_and(Path::is_dir) {
        return Err(bad("its folder does not exist"));
    }
    Ok(dest.to_path_buf())
}

/// Writes `bytes` to `dest` whole or not at all.
pub(crate) fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), StationError> {
    let mut tmp_name = dest.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".part");
    let tmp = dest.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, dest));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        StationError::Write {
            path: dest.display().to_string(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ErrorCode;

    #[test]
    fn a_destination_must_be_absolute_in_a_folder_with_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("visit.pdf");
        assert_eq!(destination(&ok, "pdf", "the report").unwrap(), ok);
        let refused = |p: &Path, ext: &str| {
            let err = destination(p, ext, "the report").unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidRequest);
            err.to_string()
        };
        assert!(refused(Path::new("visit.pdf"), "pdf").contains("absolute"));
        assert!(refused(&ok, "csv").contains(".csv"));
        assert!(refused(&dir.path().join("no/such/visit.csv"), "csv").contains("folder"));
        let folder = dir.path().join("x.csv");
        std::fs::create_dir(&folder).unwrap();
        assert!(refused(&folder, "csv").contains("a folder"));
    }

    #[test]
    fn a_failed_write_is_an_io_error_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("set.jsonl");
        write_atomically(&dest, b"first\n").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first\n");
        // the temporary name is taken by a folder (root ignores read-only folders; this fails
        // for everyone): the old file stays whole
        std::fs::create_dir(dir.path().join("set.jsonl.part")).unwrap();
        let err = write_atomically(&dest, b"second\n").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Io, "{err}");
        assert!(err.to_string().contains("set.jsonl"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"first\n");
    }
}
