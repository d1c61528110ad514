//! The sample deployment files in docs/deploy stay true: the systemd unit passes
//! `systemd-analyze verify` with the real binary in its ExecStart, its command line parses, and
//! every key of the sample settings file is a flag of the collector.

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Command;
use tracewire_server::config::{Cli, config_file_env};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy")
}

fn unit_text() -> String {
    std::fs::read_to_string(deploy_dir().join("tracewire.service")).expect("unit file")
}

#[test]
fn the_sample_settings_file_uses_only_real_settings() {
    let path = deploy_dir().join("tracewire.toml");
    let text = std::fs::read_to_string(&path).expect("settings file");
    let pairs = config_file_env(&text, &path.display().to_string()).expect("valid settings");
    assert!(
        pairs
            .iter()
            .any(|(name, _)| name == "TRACEWIRE_DATABASE_URL")
    );
}

#[test]
fn the_unit_command_line_parses() {
    let exec = unit_text()
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .to_owned();
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(args[0], "/usr/local/bin/tracewire");
    Cli::try_parse_from(&args).expect("ExecStart parses as the collector's command line");
}

#[test]
fn systemd_accepts_the_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: systemd-analyze is not installed here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let unit = dir.path().join("tracewire.service");
    let text = unit_text().replace("/usr/local/bin/tracewire", env!("CARGO_BIN_EXE_tracewire"));
    std::fs::write(&unit, text).expect("write unit");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .expect("run systemd-analyze");
    let report =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && report.trim().is_empty(), "{report}");
}
