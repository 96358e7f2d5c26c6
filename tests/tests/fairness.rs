//! The grader is fair: a server that is correct but not the course's
//! passes, and where it differs from the course only in a convention (or in
//! a choice HTTP leaves open) it fails the one check named for that
//! convention, nothing else. Shown with an independently written Python
//! server (`tests/examples/other_server.py`) and its flags, tiny servers
//! written here, and stock nginx, which must fail only the checks for rules
//! it really breaks. Python and nginx are optional: without them a test
//! says why it was skipped and passes (`cargo test` needs only Rust; CI
//! installs both).

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use grader::checks::{self, Check};
use grader::client;
use grader::fixture::Fixture;
use grader::server::{Program, Server, Session};

/// The names of the checks of `lesson` that fail in `session`, with each
/// problem.
fn failures(session: &mut Session, lesson: u8) -> Vec<(&'static str, String)> {
    checks::for_lesson(lesson)
        .filter_map(|check: &Check| {
            let failure = check.run(session).err()?;
            Some((check.name, failure.problem))
        })
        .collect()
}

fn failing_names(session: &mut Session, lesson: u8) -> Vec<&'static str> {
    failures(session, lesson)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Whether `program --version` runs; if not, says that `test` is skipped.
fn available(program: &str, test: &str) -> bool {
    let runs = Command::new(program)
        .arg(if program == "nginx" {
            "-v"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !runs {
        println!("{test}: skipped, {program} is not installed (.ci/run installs it)");
    }
    runs
}

fn other_server() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/other_server.py")
}

/// Grades the Python server started with `flags` by the checks of `lesson`.
fn python_failures(lesson: u8, flags: &str) -> Vec<&'static str> {
    let line = format!(
        "exec python3 '{}' --port {{port}} {flags}",
        other_server().display()
    );
    let program = Program::Command { line, lesson };
    let mut session = Session::launch(program, Fixture::create().unwrap()).unwrap();
    failing_names(&mut session, lesson)
}

/// Expects the Python server with `flags` to fail exactly `expected` in
/// lessons 02 and 03 (lesson 01 has no conventions).
fn assert_python_fails(test: &str, flags: &str, expected: &[&str]) {
    if !available("python3", test) {
        return;
    }
    for lesson in 2..=3 {
        assert_eq!(
            python_failures(lesson, flags),
            expected,
            "lesson{lesson:02} {flags}"
        );
    }
}

#[test]
fn another_server_passes_lessons_01_to_03() {
    if !available("python3", "another_server_passes_lessons_01_to_03") {
        return;
    }
    for lesson in 1..=3 {
        let failed = python_failures(lesson, "");
        assert!(failed.is_empty(), "lesson{lesson:02} fails {failed:?}");
    }
}

#[test]
fn html_error_pages_fail_only_their_convention() {
    assert_python_fails(
        "html_error_pages_fail_only_their_convention",
        "--html-errors",
        &["convention-error-media-types"],
    );
}

#[test]
fn keeping_connections_open_fails_only_the_closing_convention() {
    assert_python_fails(
        "keeping_connections_open_fails_only_the_closing_convention",
        "--keep-alive",
        &["convention-connection-close"],
    );
}

#[test]
fn another_valid_status_fails_only_the_status_convention() {
    for (flags, convention) in [
        ("--400-for-large", "convention-status-choices"),
        ("--400-for-0.9", "convention-version-status"),
    ] {
        if !available(
            "python3",
            "another_valid_status_fails_only_the_status_convention",
        ) {
            return;
        }
        let failed = python_failures(3, flags);
        assert_eq!(failed, [convention], "{flags}");
    }
    // Lesson 02 does not parse the version yet.
    assert!(python_failures(2, "--400-for-0.9").is_empty());
}

#[test]
fn a_correct_head_answer_passes_before_lesson_06() {
    assert_python_fails(
        "a_correct_head_answer_passes_before_lesson_06",
        "--head",
        &[],
    );
}

#[test]
fn an_empty_reason_phrase_passes() {
    assert_python_fails("an_empty_reason_phrase_passes", "--empty-reason", &[]);
}

/// A server whose head limit is 32 KiB answers a 20 KiB head with 200,
/// and passes: the grader's heads are larger than any sensible limit.
#[test]
fn a_larger_head_limit_passes() {
    if !available("python3", "a_larger_head_limit_passes") {
        return;
    }
    let line = format!(
        "exec python3 '{}' --port {{port}} --head-limit 32768",
        other_server().display()
    );
    let program = Program::Command { line, lesson: 3 };
    let mut session = Session::launch(program, Fixture::create().unwrap()).unwrap();
    let twenty_kib = format!(
        "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let exchange = client::exchange(session.address(), twenty_kib.as_bytes()).unwrap();
    assert_eq!(exchange.response.code, Some(200));
    assert!(failing_names(&mut session, 3).is_empty());
}

/// Starts a server on a thread that answers every request head with what
/// `answer` makes of it, closing after each response.
fn tiny_server(answer: fn(&[u8]) -> Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut head = Vec::new();
            let mut buffer = [0; 4096];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(count) if count > 0 => head.extend_from_slice(&buffer[..count]),
                    _ => break,
                }
            }
            if head.windows(4).any(|window| window == b"\r\n\r\n") {
                let _ = stream.write_all(&answer(&head));
            }
            let _ = stream.shutdown(Shutdown::Write);
            while matches!(stream.read(&mut buffer), Ok(count) if count > 0) {}
        }
    });
    Server::running_at(address).unwrap()
}

/// A page of lesson 04 that shows `X-Padded` as `X-Padded: VALUE`.
fn padded_page(value: &str) -> Vec<u8> {
    let body = format!("<!doctype html><p>Host: localhost</p><p>X-Padded: {value}</p>\n");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn run_check(server: Server, lesson: u8, name: &str) -> Result<(), String> {
    let mut session = Session::with_server(server, Fixture::create().unwrap(), lesson);
    let check = checks::CHECKS
        .iter()
        .find(|check| check.name == name)
        .unwrap();
    check.run(&mut session).map_err(|failure| failure.problem)
}

/// The space after the colon is the page's, not the value's.
#[test]
fn a_trimmed_value_shown_after_a_colon_passes() {
    let trimmed = tiny_server(|_| padded_page("padded value"));
    assert_eq!(run_check(trimmed, 4, "header-value-trimmed"), Ok(()));
    // The check still finds a value that was not trimmed.
    let untrimmed = tiny_server(|_| padded_page("\t  padded value \t "));
    assert!(run_check(untrimmed, 4, "header-value-trimmed").is_err());
    let left_only = tiny_server(|_| padded_page("  padded value"));
    assert!(run_check(left_only, 4, "header-value-trimmed").is_err());
}

/// A failure names the property the check is about (the status) first,
/// and the framing problem of the same response after it.
#[test]
fn a_failure_names_the_wrong_status_first() {
    let sloppy = tiny_server(|_| b"HTTP/1.1 200 OK\r\n\r\nhello".to_vec());
    let problem = run_check(sloppy, 2, "bare-lf-in-request").unwrap_err();
    assert!(
        problem.starts_with("expected status 400, got 200;"),
        "{problem}"
    );
    assert!(problem.contains("no Content-Type"), "{problem}");
}

/// What stock nginx fails, graded as lessons 05 and 06, each with the rule
/// it breaks. docs/src/production.md explains every line.
const NGINX_FAILS: &[(&str, &str)] = &[
    (
        "bare-lf-in-request",
        "takes a bare LF for a line end (RFC 9112 2.2 lets a recipient)",
    ),
    (
        "trickled-head",
        "gives a head 60 s (client_header_timeout) and then closes without an answer",
    ),
    (
        "convention-connection-close",
        "keeps HTTP/1.1 connections open, the protocol's default",
    ),
    (
        "convention-error-media-types",
        "explains errors in HTML pages",
    ),
    (
        "convention-status-choices",
        "400, not 431, for a head too large",
    ),
    (
        "request-line-double-space",
        "splits the request line on any run of spaces",
    ),
    (
        "request-line-missing-version",
        "answers GET / as HTTP/0.9, without a status line",
    ),
    (
        "request-line-trailing-space",
        "ignores a space after the version",
    ),
    (
        "target-bad-character",
        "takes < in a target, 404 instead of 400",
    ),
    (
        "method-unknown",
        "405 for a method it does not know, not 501",
    ),
    (
        "convention-version-status",
        "400, not 505, for GET / HTTP/0.9",
    ),
    (
        "options-star-and-connect",
        "400 for OPTIONS * and CONNECT host:443, well-formed requests (501)",
    ),
    (
        "header-without-colon",
        "ignores a header line without a colon",
    ),
    (
        "symlink-out-of-root",
        "follows symbolic links out of the root (disable_symlinks off)",
    ),
    ("methods-not-allowed", "a 405 without an Allow field"),
    (
        "convention-file-statuses",
        "403, not 404, for a folder without index.html",
    ),
];

/// What nginx fails in lesson 06 on top of lesson 05's list.
const NGINX_FAILS_IN_06: &[(&str, &str)] = &[
    ("methods-allow-head", "a 405 without an Allow field"),
    (
        "not-modified-later-date",
        "304 only for the exact date, 200 for a later one",
    ),
    (
        "last-modified-not-after-date",
        "sends a file's time in the future as Last-Modified, after Date",
    ),
];

/// Writes the start script for nginx into `dir`: it writes a config for
/// one worker in the foreground, on the port and root it is given, with
/// every file nginx writes inside `dir`, and starts nginx with it.
fn nginx_command(dir: &Path) -> String {
    let dir = dir.display();
    let script = format!(
        r#"port=$1; root=$2
cat > '{dir}/nginx.conf' <<CONF
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/css css; text/plain txt; image/png png; }}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:$port;
        root $root;
    }}
}}
CONF
exec nginx -p '{dir}' -c '{dir}/nginx.conf' -e '{dir}/error.log'
"#
    );
    fs::write(format!("{dir}/start.sh"), script).unwrap();
    format!("exec sh '{dir}/start.sh' {{port}} {{root}}")
}

#[test]
fn nginx_fails_only_the_rules_it_breaks() {
    if !available("nginx", "nginx_fails_only_the_rules_it_breaks") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("grader-nginx-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    for lesson in [5, 6] {
        let program = Program::Command {
            line: nginx_command(&dir),
            lesson,
        };
        let mut session = Session::launch(program, Fixture::create().unwrap()).unwrap();
        let failed = failures(&mut session, lesson);
        let names: Vec<&str> = failed.iter().map(|(name, _)| *name).collect();
        let mut expected: Vec<&str> = NGINX_FAILS.iter().map(|(name, _)| *name).collect();
        if lesson == 6 {
            expected.extend(NGINX_FAILS_IN_06.iter().map(|(name, _)| *name));
        }
        assert_eq!(names, expected, "lesson{lesson:02}: {failed:#?}");
    }
    let _ = fs::remove_dir_all(&dir);
}
