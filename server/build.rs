//! Embeds the admin UI in the `tracewire` binary: builds `admin-ui/` with
//! `scripts/build-ui.sh --no-install` when its output is missing or older than any of its
//! inputs (in its own cargo target dir, `<target>/admin-ui`), then generates `ui_assets.rs` in
//! `OUT_DIR`: one `include_bytes!` per file (and its gzip copy) with its content type and ETag.
//!
//! `TRACEWIRE_SKIP_UI_BUILD=1` embeds nothing (tests, clippy, quick development builds; the
//! collector then serves `--ui-dir` or a status page) and makes UI edits not rebuild the server.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn main() {
    println!("cargo:rerun-if-env-changed=TRACEWIRE_SKIP_UI_BUILD");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    // `sqlx::migrate!` embeds the migration files; a new file must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let generated = out.join("ui_assets.rs");
    if std::env::var_os("TRACEWIRE_SKIP_UI_BUILD").is_some_and(|v| v != "0" && !v.is_empty()) {
        write(&generated, &render(&[]));
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let root = manifest
        .parent()
        .expect("server/ sits in the workspace")
        .to_path_buf();
    let inputs = [
        root.join("admin-ui"),
        root.join("shared/src"),
        root.join("shared/Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("scripts/build-ui.sh"),
    ];
    for input in &inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let dist = target.join("admin-ui").join("dist");
    let stamp = dist.join(".stamp");
    println!("cargo:rerun-if-changed={}", stamp.display());
    let built = modified(&stamp);
    let newest_input = inputs.iter().filter_map(|p| newest(p)).max();
    if built.is_none() || newest_input > built {
        let status = Command::new("bash")
            .arg(root.join("scripts/build-ui.sh"))
            .arg("--no-install")
            .arg(&dist)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target)
            // Variables cargo sets for build scripts would otherwise steer the inner build.
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("TARGET")
            .env_remove("HOST")
            .env_remove("OPT_LEVEL")
            .env_remove("PROFILE")
            .env_remove("DEBUG")
            .status()
            .expect("run bash scripts/build-ui.sh");
        assert!(
            status.success(),
            "building the admin UI failed (see above); set TRACEWIRE_SKIP_UI_BUILD=1 to build \
             the collector without it"
        );
    }
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    write(&generated, &render(&files));
}

/// Files under `dir` (relative URL path, absolute path), gzip copies and dotfiles excluded.
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".gz") {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
            out.push((url, path));
        }
    }
}

fn render(files: &[(String, PathBuf)]) -> String {
    let mut s = String::from("&[\n");
    for (url, path) in files {
        let bytes = std::fs::read(path).expect("read a UI asset");
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        let gz = PathBuf::from(format!("{}.gz", path.display()));
        let gzip = if gz.is_file() {
            format!("Some(include_bytes!({:?}))", gz.display().to_string())
        } else {
            "None".to_owned()
        };
        let _ = writeln!(
            s,
            "    Asset {{ path: {url:?}, body: include_bytes!({:?}), gzip: {gzip}, etag: \"\\\"{:016x}\\\"\" }},",
            path.display().to_string(),
            h.finish()
        );
    }
    s.push(']');
    s
}

fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write ui_assets.rs");
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file or of anything under a directory (skipping the
/// UI's own build output if it ever lands inside).
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter(|e| e.file_name() != "dist" && e.file_name() != "target")
        .filter_map(|e| newest(&e.path()))
        .chain(meta.modified().ok())
        .max()
}
