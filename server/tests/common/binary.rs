//! The real `tracewire` binary as a child process, for tests that need what only a process has:
//! `kill -9`, its peak memory, its sockets and its file descriptors.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestDb;

/// Admin password every spawned collector is bootstrapped with.
pub const ADMIN_PASSWORD: &str = "binary-test-admin";

/// The collector child process; killed on drop so a failing assertion leaves no orphan behind.
pub struct Collector {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Collector {
    /// Starts the binary on `db` with ingest key `key`, on a free port, and waits (with a
    /// deadline) until `/healthz` answers. `args` are extra command line flags.
    pub async fn start(db: &TestDb, key: &str, args: &[&str]) -> Self {
        Self::start_with_env(db, key, args, &[]).await
    }

    /// [`Collector::start`] with extra environment variables.
    pub async fn start_with_env(
        db: &TestDb,
        key: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let client = reqwest::Client::new();
        for _attempt in 0..5 {
            // The port is free when we read it; another process could take it before the child
            // binds, in which case the child exits and we try another one.
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut command = Command::new(env!("CARGO_BIN_EXE_tracewire"));
            command
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--database-url")
                .arg(&db.url)
                .args(args)
                .env("TRACEWIRE_INGEST_KEY", key)
                .env("TRACEWIRE_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (name, value) in env {
                command.env(name, value);
            }
            let child = command.spawn().expect("spawn tracewire");
            let mut collector = Collector {
                child,
                base: format!("http://127.0.0.1:{port}"),
                port,
            };
            if collector.wait_ready(&client).await {
                return collector;
            }
        }
        panic!("the collector did not become ready");
    }

    /// Polls `/healthz` until it answers 200, the child exits, or 15 s pass.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        let url = format!("{}/healthz", self.base);
        while Instant::now() < deadline {
            if let Ok(Some(_status)) = self.child.try_wait() {
                return false;
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// SIGKILL: no graceful shutdown, no writer drain.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9 the collector");
        self.child.wait().expect("reap the collector");
    }

    /// SIGTERM, then waits up to `deadline` for the process to exit; true when it did.
    pub fn terminate(&mut self, deadline: Duration) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + deadline;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Peak resident memory of the process so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("field in /proc/<pid>/status")
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
