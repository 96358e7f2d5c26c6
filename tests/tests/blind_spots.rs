//! The checks of `checks/blind_spots.rs` grade rules of lessons that other
//! checks already test, so failing against the previous lesson proves
//! little. Here each fails against a server that breaks just its rule: a
//! tiny server written below, or a reference lesson started with a
//! setting that breaks it.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use grader::checks;
use grader::fixture::{self, Fixture};
use grader::server::{self, MAX_BODY, Program, Server, Session};

/// Runs the check `name` in `session`; its problem if it fails.
fn run(session: &mut Session, name: &str) -> Result<(), String> {
    let check = checks::CHECKS
        .iter()
        .find(|check| check.name == name)
        .unwrap();
    check.run(session).map_err(|failure| failure.problem)
}

/// A request as a tiny server sees it: the head, and the body as far as
/// it came (up to `Content-Length`).
struct Incoming {
    head: String,
    body: Vec<u8>,
    /// Whether the body came whole.
    complete: bool,
}

impl Incoming {
    fn header(&self, name: &str) -> Vec<&str> {
        self.head
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .collect()
    }

    fn request_line(&self) -> &str {
        self.head.split("\r\n").next().unwrap_or_default()
    }
}

/// A response: status, type and body, with `Connection: close`.
fn response(status: u16, content_type: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A plain-text error that says what was wrong.
fn error(status: u16) -> Vec<u8> {
    response(
        status,
        "text/plain",
        b"the tiny server refuses this request\n",
        "",
    )
}

/// Starts a server on a thread that reads each request (head, and a body
/// of up to 1 MiB unless `answer_early` answers from the head alone) and
/// answers it with `answer`, closing after each response.
fn tiny_server(
    answer_early: fn(&Incoming) -> Option<Vec<u8>>,
    answer: fn(&Incoming) -> Vec<u8>,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream, answer_early, answer));
        }
    });
    Server::running_at(address).unwrap()
}

fn serve(
    mut stream: TcpStream,
    answer_early: fn(&Incoming) -> Option<Vec<u8>>,
    answer: fn(&Incoming) -> Vec<u8>,
) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0; 64 * 1024];
    let end = loop {
        if let Some(position) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
        match stream.read(&mut buffer) {
            Ok(count) if count > 0 => received.extend_from_slice(&buffer[..count]),
            _ => return,
        }
    };
    let mut incoming = Incoming {
        head: String::from_utf8_lossy(&received[..end]).into_owned(),
        body: received[end..].to_vec(),
        complete: false,
    };
    let reply = if let Some(reply) = answer_early(&incoming) {
        reply
    } else {
        let length: usize = incoming
            .header("Content-Length")
            .first()
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
            .min(1024 * 1024);
        while incoming.body.len() < length {
            match stream.read(&mut buffer) {
                Ok(count) if count > 0 => incoming.body.extend_from_slice(&buffer[..count]),
                _ => break,
            }
        }
        incoming.complete = incoming.body.len() >= length;
        answer(&incoming)
    };
    let _ = stream.write_all(&reply);
    let _ = stream.shutdown(Shutdown::Write);
    while matches!(stream.read(&mut buffer), Ok(count) if count > 0) {}
}

fn never_early(_: &Incoming) -> Option<Vec<u8>> {
    None
}

/// A session for a tiny server, graded by the rules of `lesson`.
fn session(server: Server, lesson: u8) -> Session {
    Session::with_server(server, Fixture::create().unwrap(), lesson)
}

#[test]
fn error_bodies_that_only_repeat_the_status_fail() {
    fn bare(_: &Incoming) -> Vec<u8> {
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\
          Connection: close\r\n\r\n400 Bad Request: \n"
            .to_vec()
    }
    let mut session = session(tiny_server(never_early, bare), 2);
    let problem = run(&mut session, "error-bodies-explain").unwrap_err();
    assert!(
        problem.contains("only repeats the status line"),
        "{problem}"
    );
}

/// Host rules with three arms broken: Host required in HTTP/1.0 too,
/// several agreeing Host fields accepted, IPv6 literals refused.
fn broken_host_rules(incoming: &Incoming) -> Vec<u8> {
    let hosts = incoming.header("Host");
    match hosts.first() {
        None => error(400),
        Some(host) if host.contains('[') || host.contains('/') => error(400),
        Some(_) => response(200, "text/html", b"<!doctype html><p>hello</p>\n", ""),
    }
}

#[test]
fn broken_host_rules_fail_the_host_checks() {
    for name in [
        "host-http10-optional",
        "host-exactly-one",
        "host-ipv6-literal",
    ] {
        let mut session = session(tiny_server(never_early, broken_host_rules), 4);
        let problem = run(&mut session, name).unwrap_err();
        assert!(problem.starts_with("expected status"), "{name}: {problem}");
    }
}

/// `/echo` with its limit off by one: 65536 bytes are refused.
fn echo_refuses_at_the_limit(incoming: &Incoming) -> Option<Vec<u8>> {
    let length: usize = incoming.header("Content-Length").first()?.parse().ok()?;
    (length >= 64 * 1024).then(|| error(413))
}

fn echo(incoming: &Incoming) -> Vec<u8> {
    response(200, "application/octet-stream", &incoming.body, "")
}

#[test]
fn an_echo_limit_off_by_one_fails() {
    let mut session = session(tiny_server(echo_refuses_at_the_limit, echo), 7);
    let problem = run(&mut session, "echo-limit-exact").unwrap_err();
    assert!(
        problem.contains("expected status 200, got 413"),
        "{problem}"
    );
}

/// Lesson 09 with `--max-body` one byte below or above the grader's.
#[test]
fn an_upload_limit_off_by_one_fails() {
    let lesson09 = server::built_lesson(9).unwrap();
    for (max_body, expected) in [
        (MAX_BODY - 1, "expected status 200 or 201, got 413"),
        (MAX_BODY + 1, "expected status 413"),
    ] {
        let line = format!(
            "exec '{}' --port {{port}} --root {{root}} --data {{data}} --max-body {max_body}",
            lesson09.display()
        );
        let program = Program::Command { line, lesson: 9 };
        let mut session = Session::launch(program, Fixture::create().unwrap()).unwrap();
        let problem = run(&mut session, "upload-limit-exact").unwrap_err();
        assert!(problem.starts_with(expected), "{max_body}: {problem}");
    }
}

/// A range parser that fills an empty position with the file's ends:
/// `bytes=-1` is taken as `0-1`, `bytes=-` as the whole file.
fn naive_ranges(incoming: &Incoming) -> Vec<u8> {
    let content = fixture::every_byte_value();
    let range = incoming
        .header("Range")
        .first()
        .map(|range| range.to_string());
    let Some(spec) = range
        .as_deref()
        .and_then(|range| range.strip_prefix("bytes="))
    else {
        return response(200, "application/octet-stream", &content, "");
    };
    let (first, last) = spec.split_once('-').unwrap_or((spec, ""));
    let first: usize = first.parse().unwrap_or(0);
    let last: usize = last.parse().unwrap_or(255).min(255);
    if first > last {
        return response(
            416,
            "text/plain",
            b"nothing there\n",
            "Content-Range: bytes */256\r\n",
        );
    }
    let range = format!("Content-Range: bytes {first}-{last}/256\r\n");
    response(
        206,
        "application/octet-stream",
        &content[first..=last],
        &range,
    )
}

#[test]
fn a_range_parser_that_fills_empty_positions_fails() {
    let mut session = session(tiny_server(never_early, naive_ranges), 13);
    let problem = run(&mut session, "range-empty-positions").unwrap_err();
    assert!(problem.contains("bytes=-1"), "{problem}");
}

/// The data folder of the naive upload server (one test uses it).
static UPLOAD_DATA: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// An upload server that stores each file of a form as soon as it has
/// read it, under its own name: a name that exists gets 409, and a body
/// that breaks off gets 400, but what it stored before stays.
fn naive_uploads(incoming: &Incoming) -> Vec<u8> {
    let folder = UPLOAD_DATA.get().unwrap().join("uploads");
    fs::create_dir_all(&folder).unwrap();
    let request_line = incoming.request_line().to_owned();
    if let Some(name) = request_line
        .strip_prefix("GET /uploads/")
        .and_then(|rest| rest.split(' ').next())
    {
        return match fs::read(folder.join(name)) {
            Ok(content) => response(200, "application/octet-stream", &content, ""),
            Err(_) => error(404),
        };
    }
    let content_type = incoming
        .header("Content-Type")
        .first()
        .map(|value| value.to_string());
    let boundary = content_type
        .as_deref()
        .and_then(|value| value.split_once("boundary="))
        .map(|(_, boundary)| format!("--{boundary}"))
        .unwrap_or_default();
    let body = &incoming.body;
    let positions: Vec<usize> = body
        .windows(boundary.len())
        .enumerate()
        .filter(|(_, window)| *window == boundary.as_bytes())
        .map(|(position, _)| position)
        .collect();
    let mut first_url = None;
    for pair in positions.windows(2) {
        let part = &body[pair[0] + boundary.len()..pair[1] - 2];
        let split = part
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .unwrap();
        let head = String::from_utf8_lossy(&part[..split]);
        let name = head
            .split("filename=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let path = folder.join(name);
        if path.exists() {
            return error(409);
        }
        fs::write(&path, &part[split + 4..]).unwrap();
        first_url.get_or_insert(format!("/uploads/{name}"));
    }
    if !incoming.complete {
        return error(400);
    }
    let location = format!("Location: {}\r\n", first_url.unwrap_or_default());
    response(201, "text/plain", b"stored\n", &location)
}

#[test]
fn uploads_stored_piece_by_piece_fail_all_or_nothing() {
    let fixture = Fixture::create().unwrap();
    UPLOAD_DATA.set(fixture.data()).unwrap();
    let mut session = Session::with_server(tiny_server(never_early, naive_uploads), fixture, 10);
    let problem = run(&mut session, "upload-never-replaces").unwrap_err();
    assert!(
        problem.contains("a 409 stores no file of the form"),
        "{problem}"
    );
    let problem = run(&mut session, "upload-failure-leaves-nothing").unwrap_err();
    assert!(problem.contains("must leave nothing behind"), "{problem}");
}

/// Lesson 12 behind a shell that ignores SIGTERM and starts it in a
/// session of its own, where the signal cannot reach it: as if the
/// server's shutdown did nothing. The test stops it by its process id.
#[test]
fn a_server_that_ignores_sigterm_fails_the_shutdown_checks() {
    let lesson12 = server::built_lesson(12).unwrap();
    let fixture = Fixture::create().unwrap();
    let pid_file = fixture.data().with_extension("pid");
    let line = format!(
        "trap '' TERM; setsid sh -c 'echo $$ > {pid}; exec {program} --port {{port}} --root {{root}} --data {{data}} --max-body {{max_body}} --idle-timeout {{idle_timeout}} --max-connections {{max_connections}}'; exit 0",
        pid = pid_file.display(),
        program = lesson12.display()
    );
    let program = Program::Command { line, lesson: 12 };
    let mut session = Session::launch(program, fixture).unwrap();
    let pid = fs::read_to_string(&pid_file).unwrap();
    let problem = run(&mut session, "shutdown-finishes-download");
    // The check restarted the server: stop both copies by their ids.
    let restarted = fs::read_to_string(&pid_file).unwrap();
    for id in [pid.trim(), restarted.trim()] {
        let _ = Command::new("kill").args(["-KILL", id]).status();
    }
    let problem = problem.unwrap_err();
    assert!(problem.contains("still ran"), "{problem}");
    let _ = fs::remove_file(Path::new(&pid_file));
}
