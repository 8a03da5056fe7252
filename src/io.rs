//! Writing files so that nothing the user had is lost: a temporary file in the target directory,
//! flushed to disk, then renamed into place. A failure at any step leaves the original untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, bytes, false)
}

/// As [`write_atomic`], with the file readable by its owner only (mode 0600 on Unix).
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, bytes, true)
}

fn write_with(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::io(path, std::io::Error::other("not a file path")))?;
    let (tmp, mut file) = create_temp(&dir, name, private).map_err(|e| Error::io(&dir, e))?;
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

fn create_temp(
    dir: &Path,
    name: &std::ffi::OsStr,
    private: bool,
) -> std::io::Result<(PathBuf, File)> {
    let mut last = None;
    for attempt in 0..16u32 {
        let mut rnd = [0u8; 6];
        let _ = getrandom::fill(&mut rnd);
        let tag = crate::util::hex(&rnd);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{tag}{attempt}.tmp"));
        let tmp = dir.join(tmp_name);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("cannot create a temporary file")))
}

/// Reads a whole regular file, refusing anything over `max_bytes`.
///
/// Only regular files are read (a symbolic link is followed to one): a device such as
/// `/dev/zero` would never end and a FIFO would block, so both are refused before opening. The
/// limit is also enforced while reading, so a file that grows after the size check cannot take
/// more memory than the limit allows.
pub fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta)?;
    check_size(path, meta.len(), max_bytes)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(max_bytes)).unwrap_or(0) + 1);
    read_into(file, max_bytes, &path.display().to_string(), &mut bytes).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })?;
    Ok(bytes)
}

/// Reads `reader` to its end, refusing more than `max_bytes` (`what` names it in the error).
pub fn read_bounded(reader: impl Read, max_bytes: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_into(reader, max_bytes, what, &mut bytes)?;
    Ok(bytes)
}

/// [`read_bounded`] into `bytes` (whose capacity may be set for the expected size).
fn read_into(reader: impl Read, max_bytes: u64, what: &str, bytes: &mut Vec<u8>) -> Result<()> {
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(bytes)
        .map_err(|e| Error::io(what, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::Limit(format!(
            "{what} is over the {max_bytes}-byte limit"
        )));
    }
    Ok(())
}

fn check_regular(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "is a directory"
    } else {
        "is not a regular file (a device, FIFO or socket); only regular files are read"
    };
    Err(Error::io(path, std::io::Error::other(what)))
}

fn check_size(path: &Path, len: u64, max_bytes: u64) -> Result<()> {
    if len > max_bytes {
        return Err(Error::Limit(format!(
            "{} is {len} bytes, over the {max_bytes}-byte limit",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        fs::write(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.png");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_limited(&link, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let fifo = dir.path().join("fifo.wav");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = read_limited(&fifo, 1 << 20).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        let big = dir.path().join("big.txt");
        fs::write(&big, vec![b'a'; 100]).unwrap();
        assert!(matches!(read_limited(&big, 99), Err(Error::Limit(_))));
        assert_eq!(read_limited(&big, 100).unwrap().len(), 100);
        assert!(matches!(
            read_bounded(&[0u8; 10][..], 9, "stdin"),
            Err(Error::Limit(_))
        ));
    }

    #[test]
    fn failure_leaves_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-dir").join("a.txt");
        assert!(write_atomic(&p, b"x").is_err());
    }
}
