//! Command line: `review-station [--data-dir DIR] [PHOTO|FOLDER ...]`.

use std::ffi::OsString;
use std::path::PathBuf;

pub const USAGE: &str = "usage: review-station [--data-dir DIR] [PHOTO|FOLDER ...]

Opens Review Station and imports any photos or folders given.
  --data-dir DIR   keep the database, photos and logs in DIR
                   (default: the OS app-data directory; env REVIEW_STATION_DATA_DIR)
  --verify-audit   check the review audit trail (hash chain and head) and exit:
                   status 0 when intact, 1 with the first broken row otherwise
  --backup DIR     copy the data directory (a consistent database copy taken
                   while the app may run, the photos it refers to, the
                   configuration) into the new folder DIR, and exit
  --restore DIR    check the backup in DIR (integrity, audit trail, every
                   photo's hash), then move the data directory aside and put
                   the backup in its place; the app must be closed
  --version        print the version
  --help           print this help";

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub data_dir: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
    /// Verify the audit trail instead of opening the window.
    pub verify_audit: bool,
    /// Back up into this (new) folder instead of opening the window.
    pub backup: Option<PathBuf>,
    /// Restore the backup in this folder instead of opening the window.
    pub restore: Option<PathBuf>,
}

#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Args),
    Exit(String),
}

impl Args {
    pub fn parse(raw: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
        let mut args = Args {
            data_dir: std::env::var_os("REVIEW_STATION_DATA_DIR").map(PathBuf::from),
            ..Args::default()
        };
        let mut raw = raw.into_iter();
        let mut only_paths = false;
        while let Some(arg) = raw.next() {
            match arg.to_str() {
                Some("--") if !only_paths => only_paths = true,
                Some("--help" | "-h") if !only_paths => return Ok(Parsed::Exit(USAGE.into())),
                Some("--version" | "-V") if !only_paths => {
                    return Ok(Parsed::Exit(format!(
                        "review-station {}",
                        env!("CARGO_PKG_VERSION")
                    )))
                }
                Some("--verify-audit") if !only_paths => args.verify_audit = true,
                Some(flag @ ("--backup" | "--restore")) if !only_paths => {
                    let dir = raw.next().ok_or(format!("{flag} needs a directory"))?;
                    let dir = Some(absolute(PathBuf::from(dir)));
                    if flag == "--backup" {
                        args.backup = dir;
                    } else {
                        args.restore = dir;
                    }
                }
                Some("--data-dir") if !only_paths => {
                    let dir = raw.next().ok_or("--data-dir needs a directory")?;
                    args.data_dir = Some(PathBuf::from(dir));
                }
                Some(flag) if flag.starts_with("--data-dir=") && !only_paths => {
                    args.data_dir = Some(PathBuf::from(&flag["--data-dir=".len()..]));
                }
                Some(flag) if flag.starts_with('-') && !only_paths => {
                    return Err(format!("unknown option {flag}"))
                }
                _ => args.paths.push(absolute(PathBuf::from(arg))),
            }
        }
        args.data_dir = args.data_dir.map(absolute);
        let commands = [
            args.verify_audit,
            args.backup.is_some(),
            args.restore.is_some(),
        ];
        if commands.iter().filter(|c| **c).count() > 1 {
            return Err("--verify-audit, --backup and --restore go one at a time".into());
        }
        Ok(Parsed::Run(args))
    }
}

/// File managers pass absolute paths, shells may not; the station records absolute ones.
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        Args::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn paths_and_data_dir() {
        let Parsed::Run(args) =
            parse(&["--data-dir", "/tmp/d", "/a.jpg", "--", "--odd-name.jpg"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(args.data_dir, Some(PathBuf::from("/tmp/d")));
        assert_eq!(args.paths.len(), 2);
        assert!(args.paths[1].ends_with("--odd-name.jpg"));
    }

    #[test]
    fn errors_and_exits() {
        assert!(parse(&["--frobnicate"])
            .unwrap_err()
            .contains("--frobnicate"));
        assert!(parse(&["--data-dir"]).is_err());
        assert!(matches!(parse(&["--help"]).unwrap(), Parsed::Exit(_)));
        let Parsed::Run(args) = parse(&["--verify-audit", "--data-dir", "/d"]).unwrap() else {
            panic!()
        };
        assert!(args.verify_audit && args.paths.is_empty());
        let Parsed::Run(args) = parse(&["--backup", "/b", "--data-dir", "/d"]).unwrap() else {
            panic!()
        };
        assert_eq!(args.backup, Some(PathBuf::from("/b")));
        assert!(parse(&["--restore"])
            .unwrap_err()
            .contains("--restore needs"));
        assert!(parse(&["--backup", "/b", "--restore", "/c"]).is_err());
    }
}
