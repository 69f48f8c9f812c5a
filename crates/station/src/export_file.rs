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
    let tmp = part_path(dest);
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

/// A file written in pieces that appears under its name only when [`AtomicFile::commit`]
/// runs: until then it is a `.part` beside it, removed if the writing is dropped (failed).
#[derive(Debug)]
pub(crate) struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
}

impl AtomicFile {
    pub(crate) fn create(dest: &Path) -> Result<Self, StationError> {
        let tmp = part_path(dest);
        let file = std::fs::File::create(&tmp).map_err(|source| StationError::Write {
            path: dest.display().to_string(),
            source,
        })?;
        Ok(Self {
            dest: dest.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    /// Syncs the file and gives it its name.
    pub(crate) fn commit(mut self) -> Result<(), StationError> {
        let file = self.file.take();
        let done = file
            .map_or(Ok(()), |f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.dest));
        done.map_err(|source| StationError::Write {
            path: self.dest.display().to_string(),
            source,
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("the export was already committed")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // still open: the export failed or was dropped half-way; leave nothing behind
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
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
    fn a_file_written_in_pieces_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("set.csv");
        let mut file = AtomicFile::create(&dest).unwrap();
        file.write_all(b"a,b\n").unwrap();
        assert!(!dest.exists());
        drop(file);
        // dropped before the commit: nothing, not even the .part
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut file = AtomicFile::create(&dest).unwrap();
        file.write_all(b"a,b\n1,2\n").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"a,b\n1,2\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
