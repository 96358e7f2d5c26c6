//! Starting the server to grade, learning its address, and stopping it.
//!
//! A server is a separate program: a reference lesson binary, the `original`
//! example, or any command a student gives. It announces itself with the
//! line `Listening on http://IP:PORT/` on stdout. We read that line, keep
//! reading its output in threads (a server whose output pipe is full and
//! unread would block), and kill it when the `Server` value is dropped.
//!
//! From lesson 05 on a server needs the grader's files (see `fixture`): a
//! `Session` keeps the server, its files, and what started it, so that a
//! check can stop the server and start it again on the same files. Later
//! lessons also get settings that keep the checks quick: a short idle
//! timeout (11), a small connection cap (12) and an access log (14).

use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::fixture::Fixture;

/// How long a server may take from being started to accepting connections,
/// unless `set_start_timeout` says otherwise (`--start-timeout`).
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// The start timeout in milliseconds; 0 means `DEFAULT_START_TIMEOUT`.
static START_TIMEOUT_MILLIS: AtomicU64 = AtomicU64::new(0);

/// Sets how long every server started from now on may take to start
/// listening: a cold `cargo run` that compiles first needs more than the
/// default.
pub fn set_start_timeout(timeout: Duration) {
    let millis = u64::try_from(timeout.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    START_TIMEOUT_MILLIS.store(millis, Ordering::Relaxed);
}

/// How long a server may take to start listening.
pub fn start_timeout() -> Duration {
    match START_TIMEOUT_MILLIS.load(Ordering::Relaxed) {
        0 => DEFAULT_START_TIMEOUT,
        millis => Duration::from_millis(millis),
    }
}

/// How much of a server's output we keep, to explain why it did not start.
const MAX_KEPT_OUTPUT: usize = 16 * 1024;

/// The folder of the Cargo workspace, fixed when the grader is compiled.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The first lesson with a deadline for the whole request head
/// (`--head-timeout`).
pub const FIRST_LESSON_WITH_HEAD_TIMEOUT: u8 = 2;

/// The first lesson that reads request bodies, with a minimum rate
/// (`--body-timeout`, `--min-body-rate`).
pub const FIRST_LESSON_WITH_BODIES: u8 = 7;

/// The first lesson that serves files from a document root (`--root`).
pub const FIRST_LESSON_WITH_ROOT: u8 = 5;

/// The first lesson that stores data (`--data`).
pub const FIRST_LESSON_WITH_DATA: u8 = 8;

/// The first lesson that stores uploaded files (`--max-storage`).
pub const FIRST_LESSON_WITH_UPLOADS: u8 = 10;

/// The first lesson that limits the size of an upload (`--max-body`).
pub const FIRST_LESSON_WITH_MAX_BODY: u8 = 9;

/// The first lesson that keeps connections open (`--idle-timeout`).
pub const FIRST_LESSON_WITH_KEEP_ALIVE: u8 = 11;

/// The first lesson that serves many connections at once
/// (`--max-connections`).
pub const FIRST_LESSON_WITH_THREADS: u8 = 12;

/// The first lesson that writes an access log (`--access-log`).
pub const FIRST_LESSON_WITH_ACCESS_LOG: u8 = 14;

/// The idle timeout the grader gives a server (`--idle-timeout`): short,
/// so that the check that waits for it is quick.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// The upload limit the grader gives a server (`--max-body`), in bytes:
/// small, so that a body of exactly this size is quick to send, and large
/// enough for every other upload of the checks.
pub const MAX_BODY: u64 = 256 * 1024;

/// The deadline for a request head the grader gives a server
/// (`--head-timeout`): short, so that the check that trickles a head is
/// quick, and still far longer than the checks that stall in the middle of
/// a head on purpose (lesson 12) need.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(3);

/// The time a body may take before its minimum rate counts
/// (`--body-timeout`), and that rate in bytes per second
/// (`--min-body-rate`): a body that trickles in at a few bytes a second
/// falls behind soon after.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(1);
pub const MIN_BODY_RATE: u64 = 500;

/// The connection cap the grader gives a server (`--max-connections`):
/// small, so that reaching it takes few connections.
pub const MAX_CONNECTIONS: usize = 8;

/// The guestbook cap the grader gives a server (`--max-guestbook`, in
/// bytes): small, so that reaching it takes few posts, and large enough
/// for every other check's entries.
pub const MAX_GUESTBOOK: u64 = 64 * 1024;

/// The cap on all uploads together the grader gives a server
/// (`--max-storage`, in bytes): small in the same way, but larger than
/// `MAX_BODY` and the files the other checks store, so that an upload of
/// exactly `--max-body` bytes is still judged by its size alone.
pub const MAX_STORAGE: u64 = 600 * 1024;

/// What to start, so that it can be started again.
#[derive(Debug, Clone)]
pub enum Program {
    /// A lesson's reference binary, graded by that lesson's rules.
    Lesson(u8),
    /// A program built elsewhere (a student's copy of a lesson, see
    /// `exercise`), started with the options a reference lesson gets.
    Binary { path: PathBuf, lesson: u8 },
    /// A shell command with the placeholders `{port}`, `{root}`, `{data}`,
    /// `{head_timeout}`, `{body_timeout}`, `{min_body_rate}`,
    /// `{max_guestbook}`, `{max_body}`, `{max_storage}`, `{idle_timeout}`,
    /// `{max_connections}` and `{access_log}`, graded by the rules of
    /// `lesson`.
    Command { line: String, lesson: u8 },
}

impl Program {
    /// The lesson whose rules the program is graded by.
    pub fn lesson(&self) -> u8 {
        match self {
            Program::Lesson(lesson)
            | Program::Binary { lesson, .. }
            | Program::Command { lesson, .. } => *lesson,
        }
    }
}

/// A server being graded, the files it was given, and what started it.
#[derive(Debug)]
pub struct Session {
    // Fields drop in this order: the server stops before its files go.
    server: Server,
    /// `None` when the grader did not start the server (`--addr`).
    program: Option<Program>,
    /// The lesson whose rules apply (`Connection: keep-alive` is allowed
    /// from lesson 11 on, for example).
    lesson: u8,
    /// The `--max-connections` the server was started with.
    max_connections: usize,
    fixture: Fixture,
}

impl Session {
    /// Starts `program` on the files of `fixture`.
    pub fn launch(program: Program, fixture: Fixture) -> io::Result<Session> {
        Ok(Session {
            server: Server::launch(&program, &fixture, MAX_CONNECTIONS)?,
            lesson: program.lesson(),
            program: Some(program),
            max_connections: MAX_CONNECTIONS,
            fixture,
        })
    }

    /// A session with a server the grader did not start and cannot
    /// restart, graded by the rules of `lesson`.
    pub fn with_server(server: Server, fixture: Fixture, lesson: u8) -> Session {
        Session {
            server,
            program: None,
            lesson,
            max_connections: MAX_CONNECTIONS,
            fixture,
        }
    }

    /// Where the server accepts connections.
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The lesson whose rules the server is graded by.
    pub fn lesson(&self) -> u8 {
        self.lesson
    }

    /// How many connections the server was told to serve at once.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn server_mut(&mut self) -> &mut Server {
        &mut self.server
    }

    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    /// Stops the server and starts it again on the same files; its address
    /// may change.
    pub fn restart(&mut self) -> io::Result<()> {
        self.restart_with_max_connections(self.max_connections)
    }

    /// Restarts the server with another connection cap, which stays for
    /// later restarts.
    pub fn restart_with_max_connections(&mut self, max_connections: usize) -> io::Result<()> {
        let Some(program) = &self.program else {
            return Err(io::Error::other(
                "the grader cannot restart a server it did not start",
            ));
        };
        self.server.stop();
        self.max_connections = max_connections;
        self.server = Server::launch(program, &self.fixture, max_connections)?;
        Ok(())
    }
}

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    /// `None` for a server that was already running (`--addr`).
    child: Option<Child>,
    /// Whether the child leads a process group of its own, so that stopping
    /// it also stops what it started (`sh -c "cargo run ..."`).
    own_process_group: bool,
    address: SocketAddr,
    output: Arc<Mutex<String>>,
    /// The last lines it printed, and how many it printed in all.
    recent: Arc<Mutex<Recent>>,
}

/// The last `RECENT_LINES` lines a server printed, to show why it died.
#[derive(Debug, Default)]
struct Recent {
    lines: VecDeque<String>,
    total: usize,
}

/// How many of the last lines of its output a server keeps.
const RECENT_LINES: usize = 12;

impl Server {
    /// Builds the reference binary of a lesson (`cargo build -p lessonNN`)
    /// and starts it on a free port.
    pub fn start_lesson(lesson: u8) -> io::Result<Server> {
        let program = built_lesson(lesson)?;
        let mut command = Command::new(program);
        command.args(["--port", "0"]);
        Server::start(command, false, None)
    }

    /// Builds the `original` example (the course's first server, mistakes
    /// included) and starts it with `--mistake line-endings`, `single-read`
    /// or `both` on a free port.
    pub fn start_example_original(mistake: &str) -> io::Result<Server> {
        let program = built_example("original")?;
        let mut command = Command::new(program);
        command.args(["--port", "0", "--mistake", mistake]);
        Server::start(command, false, None)
    }

    /// Starts `program` on the files of `fixture`: a lesson from 02 on
    /// gets `--head-timeout`, from 05 on `--root`, from 07 on
    /// `--body-timeout` and `--min-body-rate`, from 08 on also `--data` and
    /// `--max-guestbook`, from 09 on `--max-body`, from 10 on
    /// `--max-storage`, from 11 on
    /// `--idle-timeout`, from 12 on `--max-connections`, from 14 on
    /// `--access-log`. A command gets the same values in its placeholders.
    pub fn launch(
        program: &Program,
        fixture: &Fixture,
        max_connections: usize,
    ) -> io::Result<Server> {
        let head_timeout = HEAD_TIMEOUT.as_secs_f64().to_string();
        let body_timeout = BODY_TIMEOUT.as_secs_f64().to_string();
        let min_body_rate = MIN_BODY_RATE.to_string();
        let idle_timeout = IDLE_TIMEOUT.as_secs_f64().to_string();
        let max_body = MAX_BODY.to_string();
        let max_connections = max_connections.to_string();
        match program {
            Program::Lesson(_) | Program::Binary { .. } => {
                let lesson = program.lesson();
                let mut command = match program {
                    Program::Binary { path, .. } => {
                        let mut command = Command::new(path);
                        // The panic message names file, line and todo; a
                        // backtrace would push it out of the last lines.
                        command.env("RUST_BACKTRACE", "0");
                        command
                    }
                    _ => Command::new(built_lesson(lesson)?),
                };
                command.args(["--port", "0"]);
                if lesson >= FIRST_LESSON_WITH_HEAD_TIMEOUT {
                    command.args(["--head-timeout", &head_timeout]);
                }
                if lesson >= FIRST_LESSON_WITH_BODIES {
                    command.args(["--body-timeout", &body_timeout]);
                    command.args(["--min-body-rate", &min_body_rate]);
                }
                if lesson >= FIRST_LESSON_WITH_ROOT {
                    command.arg("--root").arg(fixture.root());
                }
                if lesson >= FIRST_LESSON_WITH_DATA {
                    command.arg("--data").arg(fixture.data());
                    command.args(["--max-guestbook", &MAX_GUESTBOOK.to_string()]);
                }
                if lesson >= FIRST_LESSON_WITH_UPLOADS {
                    command.args(["--max-storage", &MAX_STORAGE.to_string()]);
                }
                if lesson >= FIRST_LESSON_WITH_MAX_BODY {
                    command.args(["--max-body", &max_body]);
                }
                if lesson >= FIRST_LESSON_WITH_KEEP_ALIVE {
                    command.args(["--idle-timeout", &idle_timeout]);
                }
                if lesson >= FIRST_LESSON_WITH_THREADS {
                    command.args(["--max-connections", &max_connections]);
                }
                if lesson >= FIRST_LESSON_WITH_ACCESS_LOG {
                    command.arg("--access-log").arg(fixture.access_log());
                }
                Server::start(command, false, None)
            }
            Program::Command { line, .. } => {
                let line = line
                    .replace("{root}", &shell_word(&fixture.root()))
                    .replace("{data}", &shell_word(&fixture.data()))
                    .replace("{max_guestbook}", &MAX_GUESTBOOK.to_string())
                    .replace("{max_storage}", &MAX_STORAGE.to_string())
                    .replace("{max_body}", &max_body)
                    .replace("{head_timeout}", &head_timeout)
                    .replace("{body_timeout}", &body_timeout)
                    .replace("{min_body_rate}", &min_body_rate)
                    .replace("{idle_timeout}", &idle_timeout)
                    .replace("{max_connections}", &max_connections)
                    .replace("{access_log}", &shell_word(&fixture.access_log()));
                Server::start_command(&line)
            }
        }
    }

    /// Starts a shell command such as `python3 server.py --port {port}`,
    /// with `{port}` replaced by a free port. The server counts as started
    /// when it prints the `Listening on` line or accepts connections there.
    pub fn start_command(command_line: &str) -> io::Result<Server> {
        let port = free_port()?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(command_line.replace("{port}", &port.to_string()));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        Server::start(command, cfg!(unix), Some(port))
    }

    /// A server that somebody else started and stops. Fails when nothing
    /// accepts connections at `address`.
    pub fn running_at(address: SocketAddr) -> io::Result<Server> {
        TcpStream::connect_timeout(&address, start_timeout()).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot connect to {address}: {error}"),
            )
        })?;
        Ok(Server {
            child: None,
            own_process_group: false,
            address,
            output: Arc::default(),
            recent: Arc::default(),
        })
    }

    /// Where the server accepts connections.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The process id of the server, when the grader started it.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends the server SIGTERM, as `kill` and a service manager do: a
    /// server from lesson 12 on then shuts down gracefully. A `--cmd`
    /// runs in a process group of its own, and the whole group gets the
    /// signal (as systemd sends it to every process of a service), so that
    /// it reaches the server even behind `sh -c`. Fails for a server the
    /// grader did not start (`--addr`), and where there are no signals.
    pub fn terminate(&self) -> io::Result<()> {
        let Some(id) = self.id() else {
            return Err(io::Error::other(
                "the grader did not start this server (--addr), so it cannot send it SIGTERM",
            ));
        };
        if !cfg!(unix) {
            return Err(io::Error::other(
                "the grader sends SIGTERM only on Unix (Linux, macOS, WSL)",
            ));
        }
        let target = if self.own_process_group {
            format!("-{id}")
        } else {
            id.to_string()
        };
        let status = Command::new("kill")
            .args(["-TERM", "--", &target])
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "kill -TERM {target} failed ({status})"
            )))
        }
    }

    /// Waits up to `within` for the server to end: the process the grader
    /// started, and for a `--cmd` every process of its group. Returns how
    /// the started process exited, `None` when something still runs.
    pub fn wait_until_gone(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        let status = self.wait_for_exit(within)?;
        let Some(id) = self.id().filter(|_| self.own_process_group) else {
            return Some(status);
        };
        loop {
            let group_alive = Command::new("kill")
                .args(["-0", "--", &format!("-{id}")])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|alive| alive.success());
            if !group_alive {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the grader started a shell command (`--cmd`) rather than a
    /// server binary: the process it knows may then be the shell.
    pub fn is_command(&self) -> bool {
        self.own_process_group
    }

    /// Waits up to `within` for the server to exit by itself, and returns
    /// how it exited; `None` when it still runs (or was not started by the
    /// grader).
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + within;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => return None,
            }
        }
    }

    /// What the server printed so far (stdout and stderr, the first 16 KiB).
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many lines the server printed so far.
    pub fn lines_printed(&self) -> usize {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// The last lines the server printed (at most `RECENT_LINES`), of those
    /// after the first `skip`.
    pub fn last_lines(&self, skip: usize) -> Vec<String> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let kept_from = recent.total - recent.lines.len();
        recent
            .lines
            .iter()
            .skip(skip.saturating_sub(kept_from))
            .cloned()
            .collect()
    }

    /// How the server exited, if it has (a panic, a `todo!()` reached);
    /// `None` while it runs. Waits a moment for its last lines to be read.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        let (lines, collected) = (self.lines_printed(), Instant::now());
        // The readers end when the pipes close; a short wait lets them
        // collect the last words (the panic message).
        while collected.elapsed() < Duration::from_millis(200) {
            thread::sleep(Duration::from_millis(10));
            if self.lines_printed() != lines {
                break;
            }
        }
        Some(status)
    }

    fn start(
        mut command: Command,
        own_process_group: bool,
        probe_port: Option<u16>,
    ) -> io::Result<Server> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot start {:?}: {error}", command.get_program()),
            )
        })?;
        let (announced, announcement) = mpsc::channel();
        let output: Arc<Mutex<String>> = Arc::default();
        let recent: Arc<Mutex<Recent>> = Arc::default();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let kept = (Arc::clone(&output), Arc::clone(&recent));
            readers.push(drain(stdout, kept, Some(announced)));
        }
        if let Some(stderr) = child.stderr.take() {
            let kept = (Arc::clone(&output), Arc::clone(&recent));
            readers.push(drain(stderr, kept, None));
        }
        // From here on, returning early drops `server`, which kills the child.
        let mut server = Server {
            child: Some(child),
            own_process_group,
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, probe_port.unwrap_or(0))),
            output,
            recent,
        };

        let deadline = Instant::now() + start_timeout();
        while Instant::now() < deadline {
            match announcement.recv_timeout(Duration::from_millis(50)) {
                Ok(address) => {
                    server.address = address;
                    return Ok(server);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // The server closed its stdout: wait for a connection then.
                Err(RecvTimeoutError::Disconnected) => thread::sleep(Duration::from_millis(50)),
            }
            if probe_port.is_some() && TcpStream::connect(server.address).is_ok() {
                return Ok(server);
            }
            if let Some(status) = server
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok()?)
            {
                // Give the readers a moment to collect the last words.
                let waited = Instant::now();
                while !readers.iter().all(JoinHandle::is_finished)
                    && waited.elapsed() < Duration::from_secs(1)
                {
                    thread::sleep(Duration::from_millis(10));
                }
                return Err(server.start_error(&format!("the server exited ({status})")));
            }
        }
        Err(server.start_error(&format!(
            "the server did not start listening within {} s (a slow start, such as a \
             `cargo run` that compiles first, needs a longer --start-timeout SECONDS)",
            crate::client::seconds(start_timeout())
        )))
    }

    fn start_error(&self, what: &str) -> io::Error {
        let output = self.output();
        let printed = if output.trim().is_empty() {
            " and printed nothing".to_owned()
        } else {
            format!("; it printed:\n{}", output.trim_end())
        };
        io::Error::other(format!("{what}{printed}"))
    }

    /// Stops the server (and what it started) and waits until it is gone.
    /// Stopping a stopped server does nothing.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.own_process_group {
            // The negative id names the whole process group.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A path as one word for `sh`: unchanged when that is safe, else in
/// single quotes.
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || b"/._-+:,@%".contains(&byte))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Reads a server's output line by line until it ends, keeps the start of
/// it and its last lines, and sends the address of the first `Listening on` line to
/// `announced`.
fn drain(
    stream: impl Read + Send + 'static,
    (kept, recent): (Arc<Mutex<String>>, Arc<Mutex<Recent>>),
    mut announced: Option<Sender<SocketAddr>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader
            .read_until(b'\n', &mut line)
            .is_ok_and(|read| read > 0)
        {
            let text = String::from_utf8_lossy(&line);
            if let Some(address) = listening_address(&text)
                && let Some(sender) = announced.take()
            {
                let _ = sender.send(address);
            }
            {
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                if kept.len() < MAX_KEPT_OUTPUT {
                    kept.push_str(&text);
                }
            }
            let mut recent = recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.lines.len() == RECENT_LINES {
                recent.lines.pop_front();
            }
            recent.lines.push_back(text.trim_end().to_owned());
            recent.total += 1;
            line.clear();
        }
    })
}

/// Reads `Listening on http://IP:PORT/`. A server listening on every
/// interface (0.0.0.0 or ::) is reached through the loopback address.
pub fn listening_address(line: &str) -> Option<SocketAddr> {
    let address = line
        .trim()
        .strip_prefix("Listening on http://")?
        .strip_suffix('/')?;
    let mut address: SocketAddr = address.parse().ok()?;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    Some(address)
}

/// Asks the operating system for a port nobody uses right now.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Builds a lesson's binary and returns its path.
pub fn built_lesson(lesson: u8) -> io::Result<PathBuf> {
    let package = format!("lesson{lesson:02}");
    cargo_build(&["-p", &package])?;
    Ok(profile_dir()?.join(format!("{package}{}", std::env::consts::EXE_SUFFIX)))
}

/// Builds one of the grader's examples and returns its path.
pub fn built_example(name: &str) -> io::Result<PathBuf> {
    cargo_build(&["-p", "grader", "--example", name])?;
    Ok(profile_dir()?
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Runs `cargo build` once per process for each set of arguments. The lock
/// makes callers in other threads wait until the build they need is done.
fn cargo_build(arguments: &[&str]) -> io::Result<()> {
    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let key = arguments.join(" ");
    if built.as_ref().is_some_and(|done| done.contains(&key)) {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "-q"]).args(arguments);
    if profile_dir()?
        .file_name()
        .is_some_and(|name| name == "release")
    {
        command.arg("--release");
    }
    let status = command
        .current_dir(Path::new(WORKSPACE))
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "`cargo build {key}` failed ({status})"
        )));
    }
    built.get_or_insert_default().insert(key);
    Ok(())
}

/// The folder with the binaries of the profile the grader was built with,
/// such as `target/debug`: the grader's own folder, or its parent when the
/// grader is a test (`target/debug/deps`) or an example.
fn profile_dir() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| io::Error::other("the grader's program has no folder"))?;
    let is_nested = dir
        .file_name()
        .is_some_and(|name| name == "deps" || name == "examples");
    match (is_nested, dir.parent()) {
        (true, Some(parent)) => Ok(parent.to_path_buf()),
        _ => Ok(dir.to_path_buf()),
    }
}
