//! The disk under the data directory, as a person needs it named when it is full or
//! read-only: the folder, the filesystem it is on (mount point and device), free and total
//! space, and whether the station may write there. Asked again while a disk problem is shown,
//! so the app notices on its own when space returns.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct DiskStatus {
    pub data_dir: String,
    /// Where the filesystem holding the data is mounted (`/`, `/home`, `/media/card`…).
    pub mount_point: String,
    /// What is mounted there (`/dev/nvme0n1p2`, `tmpfs`…), when the OS says.
    pub device: Option<String>,
    /// Bytes an unprivileged user may still write, and the filesystem's size; `None` where the
    /// OS did not say.
    #[ts(type = "number | null")]
    pub free_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub total_bytes: Option<u64>,
    /// False on a read-only filesystem or a folder this user may not write.
    pub writable: bool,
}

/// Below this much free space the disk counts as full for the station (a phone photo and the
/// database's pages that record it need about this much).
pub const LOW_SPACE_BYTES: u64 = 1024 * 1024;

impl DiskStatus {
    /// Whether the station can save again: writable, with room.
    pub fn ok(&self) -> bool {
        self.writable && self.free_bytes.is_none_or(|free| free >= LOW_SPACE_BYTES)
    }
}

pub fn disk_status(data_dir: &Path) -> DiskStatus {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let (mount_point, device) = mount_of(&dir);
    let (free_bytes, total_bytes, read_only) = space(&dir);
    DiskStatus {
        data_dir: data_dir.display().to_string(),
        mount_point: mount_point.display().to_string(),
        device,
        free_bytes,
        total_bytes,
        writable: !read_only && may_write(&dir),
    }
}

#[cfg(unix)]
fn space(dir: &Path) -> (Option<u64>, Option<u64>, bool) {
    match rustix::fs::statvfs(dir) {
        Ok(stat) => (
            Some(stat.f_bavail.saturating_mul(stat.f_frsize)),
            Some(stat.f_blocks.saturating_mul(stat.f_frsize)),
            stat.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY),
        ),
        Err(_) => (None, None, false),
    }
}

#[cfg(not(unix))]
fn space(_dir: &Path) -> (Option<u64>, Option<u64>, bool) {
    (None, None, false)
}

#[cfg(unix)]
fn may_write(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(not(unix))]
fn may_write(dir: &Path) -> bool {
    !std::fs::metadata(dir).is_ok_and(|m| m.permissions().readonly())
}

/// The longest mount point above `dir` in `/proc/self/mountinfo`, with its source; `dir`
/// itself where there is no such table.
fn mount_of(dir: &Path) -> (PathBuf, Option<String>) {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return (dir.to_path_buf(), None);
    };
    best_mount(&table, dir).unwrap_or_else(|| (dir.to_path_buf(), None))
}

fn best_mount(table: &str, dir: &Path) -> Option<(PathBuf, Option<String>)> {
    table
        .lines()
        .filter_map(|line| {
            // id parent major:minor root MOUNT_POINT options [optional…] - fstype SOURCE super
            let fields: Vec<&str> = line.split(' ').collect();
            let mount = unescape(fields.get(4)?);
            let dash = fields.iter().position(|f| *f == "-")?;
            let source = fields.get(dash + 2).map(|s| unescape(s));
            Some((PathBuf::from(mount), source))
        })
        .filter(|(mount, _)| dir.starts_with(mount))
        .max_by_key(|(mount, _)| mount.as_os_str().len())
}

/// Mount table fields escape space, tab, newline and backslash as octal (`\040`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_mount_above_the_folder_is_its_disk() {
        let table = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                     40 22 0:35 / /home rw shared:2 - ext4 /dev/sda2 rw\n\
                     41 40 0:36 / /home/ana/My\\040Card rw - vfat /dev/sdb1 rw\n";
        let (mount, device) = best_mount(table, Path::new("/home/ana/data")).unwrap();
        assert_eq!(mount, Path::new("/home"));
        assert_eq!(device.as_deref(), Some("/dev/sda2"));
        let (mount, device) = best_mount(table, Path::new("/home/ana/My Card/x")).unwrap();
        assert_eq!(mount, Path::new("/home/ana/My Card"));
        assert_eq!(device.as_deref(), Some("/dev/sdb1"));
        // a sibling whose name only begins like a mount point is not under it
        let (mount, _) = best_mount(table, Path::new("/homework")).unwrap();
        assert_eq!(mount, Path::new("/"));
    }

    #[test]
    fn this_machines_data_folder_has_a_disk() {
        let dir = tempfile::tempdir().unwrap();
        let status = disk_status(dir.path());
        assert!(status.writable);
        assert!(status.free_bytes.is_some_and(|f| f > 0));
        assert!(status.total_bytes >= status.free_bytes);
        assert!(dir.path().starts_with(&status.mount_point) || status.mount_point == "/");
    }
}
