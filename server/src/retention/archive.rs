//! Archive files: gzip-compressed JSON lines, one stored row per line. Blocking I/O, so callers
//! run it under `spawn_blocking`. A file is written under a temporary name, fsynced, renamed and
//! its directory fsynced before the caller may delete the rows it holds.

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::Value;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An archive file written and synced (renamed into place, directory synced), so the rows
/// it holds may be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveFile {
    /// `dir/name` as given to [`write_archive`]; recorded in the audit row of the run.
    pub path: PathBuf,
    /// Size on disk in bytes, after gzip.
    pub bytes: u64,
}

/// Writes `rows` to `dir/name` durably: on `Ok` the file is complete and on disk; on `Err`
/// nothing is left behind under `name`.
pub fn write_archive<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> io::Result<ArchiveFile> {
    create_private_dir(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = write_tmp(&tmp, rows).and_then(|bytes| {
        fs::rename(&tmp, &path)?;
        sync_dir(dir)?;
        Ok(bytes)
    });
    match result {
        Ok(bytes) => Ok(ArchiveFile { path, bytes }),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_tmp<T: Serialize>(tmp: &Path, rows: &[T]) -> io::Result<u64> {
    let file = create_private_file(tmp)?;
    let mut gz = GzEncoder::new(BufWriter::new(file), Compression::default());
    for row in rows {
        serde_json::to_writer(&mut gz, row).map_err(io::Error::other)?;
        gz.write_all(b"\n")?;
    }
    let file = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

/// Archives hold the stored logs: directories the collector creates are the owner's only
/// (0700; existing ones keep their mode, the operator's choice).
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file readable by its owner only (0600), failing if it exists.
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes the rename itself durable (a directory entry is data of the directory).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Reads an archive back, one JSON value per line (for restores, checks and tests).
pub fn read_archive(path: &Path) -> io::Result<Vec<Value>> {
    let reader = BufReader::new(GzDecoder::new(File::open(path)?));
    let mut rows = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if !line.is_empty() {
            rows.push(serde_json::from_str(&line).map_err(io::Error::other)?);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("dir");
        let rows = vec![json!({"id": 1, "message": "a\nb"}), json!({"id": 2})];
        let file = write_archive(dir.path(), "x.jsonl.gz", &rows).expect("write");
        assert!(file.bytes > 0);
        assert_eq!(read_archive(&file.path).expect("read"), rows);
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.jsonl.gz")]);
    }

    #[cfg(unix)]
    #[test]
    fn archives_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("a/b");
        let file = write_archive(&dir, "x.jsonl.gz", &[json!({})]).expect("write");
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&file.path), 0o600);
    }

    #[test]
    fn a_path_that_is_a_file_fails_cleanly() {
        let dir = tempfile::tempdir().expect("dir");
        let blocker = dir.path().join("blocker");
        fs::write(&blocker, b"not a directory").expect("write");
        assert!(write_archive(&blocker, "x.jsonl.gz", &[json!({})]).is_err());
    }
}
