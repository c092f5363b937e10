use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use quietline::pow::PowSettings;
use quietline::storage;
use tokio::net::TcpListener;

// ------------------------------------------------------------------ proof of work

/// The flood benchmark's server (the hidden `pow-server` subcommand): run as a
/// child process so that its CPU time can be read from `/proc/PID/stat`.
/// `quietline::run` on a 2-worker runtime, SQLite in `dir`, the demo force,
/// proof of work as given; prints its address on stdout and stops when its
/// stdin is closed.
pub(crate) fn pow_server(dir: &Path, pow: PowSettings) -> Result<()> {
    let rt = quietline_testkit::blocking::runtime("server");
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("q.sqlite").display());
        let storage = storage::open(&url).await?;
        quietline::demo::ensure_demo(storage.as_ref(), dir).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", listener.local_addr()?)?;
            out.flush()?;
        }
        let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed.send(());
        });
        let settings = quietline::ServerSettings {
            pow,
            ..quietline::ServerSettings::default()
        };
        quietline::run(listener, storage, settings, async move {
            let _ = stdin_closed.await;
        })
        .await
    })
}

/// [`pow_server`] as a child process of this one.
pub(crate) struct ChildServer {
    pub(crate) child: std::process::Child,
    pub(crate) stdin: Option<std::process::ChildStdin>,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) clk_tck: f64,
}

impl ChildServer {
    pub(crate) fn start(dir: &Path, difficulty: u8) -> Result<ChildServer> {
        Self::start_with(dir, PowSettings::fixed(difficulty))
    }

    pub(crate) fn start_with(dir: &Path, pow: PowSettings) -> Result<ChildServer> {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("pow-server")
            .arg("--dir")
            .arg(dir)
            .arg("--difficulty")
            .arg(pow.floor.to_string())
            .arg("--max")
            .arg(pow.max.to_string())
            .arg("--expected-rate")
            .arg(pow.expected_rate.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the child's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let mut server = ChildServer {
            child,
            stdin,
            addr: "127.0.0.1:0".parse()?,
            clk_tck: clk_tck(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .context("the server child printed no address within 120 s")??;
        server.addr = line
            .trim()
            .parse()
            .with_context(|| format!("the server child printed {line:?}"))?;
        if !server.addr.ip().is_loopback() {
            bail!("the server child listens on {}", server.addr);
        }
        Ok(server)
    }

    /// The child's CPU time so far (user + system, all threads), seconds.
    pub(crate) fn cpu_secs(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name in parentheses start at field 3
        // (state); utime and stime are fields 14 and 15 (proc(5)).
        let rest = &stat[stat.rfind(')').context("/proc/PID/stat")? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11).context("utime")?.parse::<u64>()?
            + f.get(12).context("stime")?.parse::<u64>()?;
        Ok(ticks as f64 / self.clk_tck)
    }

    /// Close its stdin (it drains and stops), wait at most 60 s, else kill it.
    pub(crate) fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the server child did not stop within 60 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Clock ticks per second of `/proc/PID/stat` (100 on Linux unless told).
pub(crate) fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
