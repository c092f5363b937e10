//! Processes for tests: a server binary started with its output captured
//! whole ([`Process`]: stdout's `listening on http://ADDR` line gives the
//! address), a command run to completion ([`run`]), and a command with no
//! `QUIETLINE_*` variable inherited from the environment ([`clean_command`]),
//! so only the test's own flags apply. The binary's path comes from the
//! caller (`env!("CARGO_BIN_EXE_…")` exists only in its own package's tests).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};

use crate::server::TIMEOUT;

/// `bin` with no `QUIETLINE_*` variable inherited and stdin closed.
pub fn clean_command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("QUIETLINE_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// The result of a command run to completion.
#[derive(Debug)]
pub struct Admin {
    /// Exit success.
    pub ok: bool,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

/// Run `cmd` to completion, capturing both outputs.
pub fn run(mut cmd: Command) -> Admin {
    let out = cmd.output().expect("run the command");
    Admin {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running server process (e.g. `quietline serve`).
pub struct Process {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Everything a stopped process printed.
#[derive(Debug)]
pub struct Captured {
    /// Stdout bytes.
    pub stdout: Vec<u8>,
    /// Stderr bytes.
    pub stderr: Vec<u8>,
    /// Whether it exited successfully.
    pub success: bool,
}

fn capture(
    pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
    first_listen: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        let mut first_listen = first_listen;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    sink.lock().unwrap().extend_from_slice(&line);
                    let text = String::from_utf8_lossy(&line);
                    if let Some(rest) = text.trim().strip_prefix("listening on http://")
                        && let Some(tx) = first_listen.take()
                    {
                        let _ = tx.send(rest.to_owned());
                    }
                }
            }
        }
    })
}

impl Process {
    /// Start `cmd` (a server that prints `listening on http://ADDR` on
    /// stdout) and wait for that line.
    pub fn spawn(mut cmd: Command) -> Process {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the server");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            capture(child.stdout.take().unwrap(), stdout.clone(), Some(tx)),
            capture(child.stderr.take().unwrap(), stderr.clone(), None),
        ];
        let addr = match rx.recv_timeout(TIMEOUT) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not print its address; stderr:\n{}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                );
            }
        };
        let addr: SocketAddr = addr.parse().expect("address in the listening line");
        Process {
            child: Some(child),
            base: format!("http://{addr}"),
            addr,
            stdout,
            stderr,
            readers,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What it printed so far on stdout.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Send SIGTERM (graceful shutdown) without waiting.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Stop with SIGTERM and collect the output.
    pub fn stop(self) -> Captured {
        self.terminate();
        self.wait()
    }

    /// Stop with SIGKILL (no chance to flush anything) and collect the output.
    pub fn kill(mut self) -> Captured {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
        self.wait()
    }

    /// Wait for exit (bounded) and collect the output.
    pub fn wait(mut self) -> Captured {
        let mut child = self.child.take().expect("not yet waited for");
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = match rx.recv_timeout(TIMEOUT) {
            Ok(s) => s.expect("wait for the server"),
            Err(_) => {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
                panic!("the server did not exit within {TIMEOUT:?}");
            }
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Captured {
            stdout: std::mem::take(&mut self.stdout.lock().unwrap()),
            stderr: std::mem::take(&mut self.stderr.lock().unwrap()),
            success: status.success(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A test that panicked must not leave a server running.
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
