//! The grader graded: every reference lesson passes its checks, every check
//! can fail, the original's mistakes fail exactly the checks for them, an
//! unsafe file server fails the checks for path safety, lesson 12 shuts
//! down gracefully where lesson 11 dies, and the command line reports and
//! exits as documented.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Output};
use std::time::Duration;

use grader::checks::{self, Check};
use grader::fixture::Fixture;
use grader::server::{self, Program, Server, Session};

/// The names of the checks that fail in `session`, with each problem.
fn failures<'a>(
    session: &mut Session,
    checks: impl Iterator<Item = &'a Check>,
) -> Vec<(&'static str, String)> {
    checks
        .filter_map(|check| {
            let failure = check.run(session).err()?;
            Some((check.name, failure.problem))
        })
        .collect()
}

/// Starts `program` on fresh test files.
fn launch(program: Program) -> Session {
    Session::launch(program, Fixture::create().unwrap()).unwrap()
}

/// A shell command that starts `program` with `arguments`.
fn command(program: &Path, arguments: &str) -> String {
    format!("'{}' {arguments}", program.display())
}

fn assert_lesson_passes(lesson: u8) {
    let mut session = launch(Program::Lesson(lesson));
    let failed = failures(&mut session, checks::for_lesson(lesson));
    assert!(failed.is_empty(), "lesson{lesson:02} fails {failed:#?}");
}

#[test]
fn lesson01_passes_its_checks() {
    assert_lesson_passes(1);
}

#[test]
fn lesson02_passes_its_checks() {
    assert_lesson_passes(2);
}

#[test]
fn lesson03_passes_its_checks() {
    assert_lesson_passes(3);
}

#[test]
fn lesson04_passes_its_checks() {
    assert_lesson_passes(4);
}

#[test]
fn lesson05_passes_its_checks() {
    assert_lesson_passes(5);
}

#[test]
fn lesson06_passes_its_checks() {
    assert_lesson_passes(6);
}

#[test]
fn lesson07_passes_its_checks() {
    assert_lesson_passes(7);
}

#[test]
fn lesson08_passes_its_checks() {
    assert_lesson_passes(8);
}

#[test]
fn lesson09_passes_its_checks() {
    assert_lesson_passes(9);
}

#[test]
fn lesson10_passes_its_checks() {
    assert_lesson_passes(10);
}

#[test]
fn lesson11_passes_its_checks() {
    assert_lesson_passes(11);
}

#[test]
fn lesson12_passes_its_checks() {
    assert_lesson_passes(12);
}

#[test]
fn lesson13_passes_its_checks() {
    assert_lesson_passes(13);
}

#[test]
fn lesson14_passes_its_checks() {
    assert_lesson_passes(14);
}

/// Lesson 15 adds no check (see `checks::LAST_LESSON`): every check of
/// lesson 14 must still pass with its event loop.
#[test]
fn lesson15_passes_every_check_of_lesson14() {
    assert_eq!(
        checks::for_lesson(15).count(),
        checks::for_lesson(14).count()
    );
    assert_lesson_passes(15);
}

/// The grader knows every lesson of the course, and no more.
#[test]
fn the_grader_grades_every_lesson_folder() {
    let folders = fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("lesson")
        })
        .count();
    assert_eq!(folders, usize::from(checks::last_lesson()));
}

/// Each check a lesson adds fails against the lesson before, so none of
/// them passes without the work the lesson teaches.
fn assert_new_checks_fail_against_previous_lesson(lesson: u8) {
    let mut session = launch(Program::Lesson(lesson - 1));
    let new_checks: Vec<&Check> = checks::CHECKS
        .iter()
        .filter(|check| check.since == lesson)
        .collect();
    assert!(!new_checks.is_empty());
    let passing: Vec<&str> = new_checks
        .iter()
        .filter(|check| check.run(&mut session).is_ok())
        .map(|check| check.name)
        .collect();
    assert!(
        passing.is_empty(),
        "{passing:?} pass against lesson{:02}, so they do not test what lesson{lesson:02} adds",
        lesson - 1
    );
}

#[test]
fn lesson02_checks_fail_against_lesson01() {
    assert_new_checks_fail_against_previous_lesson(2);
}

#[test]
fn lesson03_checks_fail_against_lesson02() {
    assert_new_checks_fail_against_previous_lesson(3);
}

#[test]
fn lesson04_checks_fail_against_lesson03() {
    assert_new_checks_fail_against_previous_lesson(4);
}

#[test]
fn lesson05_checks_fail_against_lesson04() {
    assert_new_checks_fail_against_previous_lesson(5);
}

#[test]
fn lesson06_checks_fail_against_lesson05() {
    assert_new_checks_fail_against_previous_lesson(6);
}

#[test]
fn lesson07_checks_fail_against_lesson06() {
    assert_new_checks_fail_against_previous_lesson(7);
}

#[test]
fn lesson08_checks_fail_against_lesson07() {
    assert_new_checks_fail_against_previous_lesson(8);
}

#[test]
fn lesson09_checks_fail_against_lesson08() {
    assert_new_checks_fail_against_previous_lesson(9);
}

#[test]
fn lesson10_checks_fail_against_lesson09() {
    assert_new_checks_fail_against_previous_lesson(10);
}

#[test]
fn lesson11_checks_fail_against_lesson10() {
    assert_new_checks_fail_against_previous_lesson(11);
}

#[test]
fn lesson12_checks_fail_against_lesson11() {
    assert_new_checks_fail_against_previous_lesson(12);
}

#[test]
fn lesson13_checks_fail_against_lesson12() {
    assert_new_checks_fail_against_previous_lesson(13);
}

#[test]
fn lesson14_checks_fail_against_lesson13() {
    assert_new_checks_fail_against_previous_lesson(14);
}

/// The size of the file downloaded while the server is told to stop: far
/// more than the socket buffers of both ends hold, so the server is still
/// sending it when the signal comes.
const DOWNLOAD_BYTES: usize = 32 * 1024 * 1024;

/// How a download fared when its server got SIGTERM in the middle of it.
struct Interrupted {
    /// The `Content-Length` of the response, and how many body bytes came.
    announced: usize,
    received: usize,
    /// How the server exited (`None`: it still ran 15 s after the signal).
    status: Option<ExitStatus>,
    output: String,
}

/// Starts `lesson`, starts downloading a large file, sends the server
/// SIGTERM once the response has begun, and reads the rest.
fn sigterm_during_download(lesson: u8) -> Interrupted {
    let fixture = Fixture::create().unwrap();
    let content = grader::fixture::every_byte_value().repeat(DOWNLOAD_BYTES / 256);
    fs::write(fixture.root().join("download.bin"), &content).unwrap();
    let mut session = Session::launch(Program::Lesson(lesson), fixture).unwrap();

    let mut stream = TcpStream::connect(session.address()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
        .write_all(b"GET /download.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = vec![0; 64 * 1024];
    while !received.windows(4).any(|window| window == b"\r\n\r\n") {
        let count = stream.read(&mut buffer).unwrap();
        assert!(count > 0, "lesson{lesson:02} closed before the head");
        received.extend_from_slice(&buffer[..count]);
    }
    // The response has begun, and most of it cannot have left the server.
    let pid = session.server().id().unwrap().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());

    while let Ok(count) = stream.read(&mut buffer) {
        if count == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..count]);
    }
    drop(stream);
    let text = String::from_utf8_lossy(&received);
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let announced = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    Interrupted {
        announced,
        received: received.len() - head.len() - 4,
        status: session.server_mut().wait_for_exit(Duration::from_secs(15)),
        output: session.server().output(),
    }
}

#[test]
fn lesson12_finishes_a_download_on_sigterm_and_exits_0() {
    let download = sigterm_during_download(12);
    assert_eq!(download.announced, DOWNLOAD_BYTES);
    assert_eq!(download.received, DOWNLOAD_BYTES, "{}", download.output);
    let status = download
        .status
        .expect("lesson12 did not exit after SIGTERM");
    assert!(status.success(), "{status}: {}", download.output);
    assert!(
        download.output.contains("Shutting down"),
        "{}",
        download.output
    );
}

/// The test above can fail: lesson 11 knows nothing of signals, so SIGTERM
/// ends it at once, in the middle of the download.
#[test]
fn lesson11_dies_on_sigterm_in_the_middle_of_a_download() {
    let download = sigterm_during_download(11);
    assert!(download.received < download.announced);
    let status = download
        .status
        .expect("lesson11 did not exit after SIGTERM");
    assert!(!status.success(), "{status}");
}

/// How an upload fared when its server got SIGTERM while the body was
/// still arriving.
struct InterruptedUpload {
    /// The server's answer (empty if none came).
    response: String,
    /// Whether the file is stored, complete and unchanged.
    stored: bool,
    status: Option<ExitStatus>,
    output: String,
}

/// Starts `lesson`, sends the head of an upload with `Expect: 100-continue`
/// and waits for the `100 Continue` (so the server is reading this request),
/// sends SIGTERM, waits until the server has noticed it (or died), and only
/// then sends the body.
fn sigterm_during_upload(lesson: u8) -> InterruptedUpload {
    let mut session = launch(Program::Lesson(lesson));
    let content = grader::fixture::every_byte_value().repeat(4);
    let boundary = "------------------------5e1a7e0b1d2c3f4a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"late.bin\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut stream = TcpStream::connect(session.address()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let head = format!(
        "POST /uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut buffer = [0; 64];
    let count = stream.read(&mut buffer).unwrap();
    assert!(
        buffer[..count].starts_with(b"HTTP/1.1 100"),
        "no 100 Continue"
    );

    let pid = session.server().id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut status = None;
    for _ in 0..1000 {
        status = session
            .server_mut()
            .wait_for_exit(Duration::from_millis(10));
        if status.is_some() || session.server().output().contains("Shutting down") {
            break;
        }
    }

    let _ = stream.write_all(&body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    drop(stream);
    let stored = fs::read(session.fixture().data().join("uploads").join("late.bin"))
        .is_ok_and(|stored| stored == content);
    InterruptedUpload {
        response: String::from_utf8_lossy(&response).into_owned(),
        stored,
        status: status.or_else(|| session.server_mut().wait_for_exit(Duration::from_secs(15))),
        output: session.server().output(),
    }
}

#[test]
fn lesson12_finishes_an_upload_that_is_still_arriving_on_sigterm() {
    let upload = sigterm_during_upload(12);
    assert!(
        upload.response.starts_with("HTTP/1.1 201"),
        "{}\n{}",
        upload.response,
        upload.output
    );
    assert!(upload.stored, "{}", upload.output);
    let status = upload.status.expect("lesson12 did not exit after SIGTERM");
    assert!(status.success(), "{status}: {}", upload.output);
}

/// The test above can fail: lesson 11 dies at once, and the upload is lost.
#[test]
fn lesson11_loses_an_upload_that_is_still_arriving_on_sigterm() {
    let upload = sigterm_during_upload(11);
    assert!(upload.response.is_empty(), "{}", upload.response);
    assert!(!upload.stored);
}

/// The names of the lesson 01 checks that the original fails with `mistake`.
fn original_fails(mistake: &str) -> Vec<&'static str> {
    let server = Server::start_example_original(mistake).unwrap();
    let mut session = Session::with_server(server, Fixture::create().unwrap(), 1);
    let failed = failures(&mut session, checks::for_lesson(1));
    failed.into_iter().map(|(name, _)| name).collect()
}

#[test]
fn wrong_line_endings_fail_only_the_crlf_check() {
    assert_eq!(original_fails("line-endings"), ["crlf-line-endings"]);
}

#[test]
fn a_single_read_fails_only_the_checks_for_reading_the_head() {
    assert_eq!(
        original_fails("single-read"),
        ["long-request-head", "request-in-pieces"]
    );
}

/// A server that serves whatever the target names, outside the root too,
/// fails the safety checks, and `path-escapes` says that the secret leaked.
/// The other lesson 05 checks it does not care about.
#[test]
fn an_unsafe_file_server_fails_the_safety_checks() {
    let unsafe_files = server::built_example("unsafe_files").unwrap();
    let command = command(&unsafe_files, "--port {port} --root {root}");
    let mut session = launch(Program::Command {
        line: command,
        lesson: 5,
    });
    let safety = checks::CHECKS
        .iter()
        .filter(|check| ["path-escapes", "symlink-out-of-root"].contains(&check.name));
    let failed = failures(&mut session, safety);
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert!(failed[0].1.contains("secret.txt"), "{failed:#?}");
    assert!(failed[1].1.contains("got 200"), "{failed:#?}");
}

/// The cap checks fail against servers without a small cap: lessons 08
/// and 10 started without `--max-guestbook` and `--max-storage`, so with
/// their defaults of 10 MiB and 1 GiB.
#[test]
fn servers_without_caps_fail_the_cap_checks() {
    for (lesson, name) in [(8, "guestbook-cap"), (10, "storage-cap")] {
        let binary = server::built_lesson(lesson).unwrap();
        let mut session = launch(Program::Command {
            line: command(&binary, "--port {port} --root {root} --data {data}"),
            lesson,
        });
        let cap = checks::CHECKS.iter().filter(|check| check.name == name);
        let failed = failures(&mut session, cap);
        assert_eq!(failed.len(), 1, "{name} passes without a cap");
        assert!(failed[0].1.contains("507"), "{failed:#?}");
    }
}

/// The restart check fails against a server that loses its guestbook on
/// the way: lesson 08 started on a data folder emptied at each start.
#[test]
fn a_guestbook_that_forgets_fails_the_restart_check() {
    let lesson08 = server::built_lesson(8).unwrap();
    let command = format!(
        "rm -rf {{data}}/* && exec {}",
        command(&lesson08, "--port {port} --root {root} --data {data}")
    );
    let mut session = launch(Program::Command {
        line: command,
        lesson: 8,
    });
    let restart = checks::CHECKS
        .iter()
        .filter(|check| check.name == "guestbook-survives-restart");
    let failed = failures(&mut session, restart);
    assert_eq!(failed.len(), 1);
    assert!(failed[0].1.contains("does not show"), "{failed:#?}");
}

fn grader(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(arguments)
        .output()
        .unwrap()
}

#[test]
fn cli_passes_lesson01_and_says_so_last() {
    let output = grader(&["lesson01"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let count = checks::for_lesson(1).count();
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{count} passed, 0 failed").as_str())
    );
    assert!(!stdout.contains('\u{1b}'), "no colours when piped");
}

#[test]
fn cli_fails_the_original_started_with_cmd() {
    let original = server::built_example("original").unwrap();
    let command = command(&original, "--port {port}");
    let output = grader(&["1", "--cmd", &command]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✘ crlf-line-endings\n"), "{stdout}");
    assert!(stdout.contains("hint:     see docs/src/lesson01.md#line-endings"));
    assert!(stdout.ends_with(" passed, 3 failed\n"), "{stdout}");
}

/// Grades `lesson`'s reference binary started by `--cmd` with
/// `arguments`, and expects every check to pass, without a warning.
fn assert_passes_with_cmd(lesson: u8, arguments: &str) {
    let program = server::built_lesson(lesson).unwrap();
    let command = command(&program, arguments);
    let output = grader(&[&format!("lesson{lesson:02}"), "--cmd", &command]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(output.stderr.is_empty());
}

#[test]
fn cli_grades_a_file_server_started_with_cmd_and_root() {
    assert_passes_with_cmd(
        5,
        "--port {port} --head-timeout {head_timeout} --root {root}",
    );
}

/// The placeholders of later lessons reach the command.
#[test]
fn cli_grades_lesson14_started_with_cmd_and_every_placeholder() {
    assert_passes_with_cmd(
        14,
        "--port {port} --root {root} --data {data} --head-timeout {head_timeout} \
         --body-timeout {body_timeout} --min-body-rate {min_body_rate} \
         --max-guestbook {max_guestbook} --max-body {max_body} --max-storage {max_storage} \
         --idle-timeout {idle_timeout} --max-connections {max_connections} --access-log {access_log}",
    );
}

#[test]
fn cli_warns_about_every_placeholder_cmd_leaves_out() {
    let stderr = grader_error(&["14", "--cmd", "exit 3"]);
    for placeholder in [
        "{head_timeout}",
        "{body_timeout}",
        "{min_body_rate}",
        "{root}",
        "{data}",
        "{max_guestbook}",
        "{max_body}",
        "{max_storage}",
        "{idle_timeout}",
        "{max_connections}",
        "{access_log}",
    ] {
        assert!(
            stderr.contains(&format!("warning: --cmd has no {placeholder}")),
            "{stderr}"
        );
    }
}

#[test]
fn cli_warns_when_cmd_leaves_out_the_root() {
    let lesson05 = server::built_lesson(5).unwrap();
    let command = command(&lesson05, "--port {port}");
    let output = grader(&["lesson05", "--cmd", &command]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("warning: --cmd has no {root}"), "{stderr}");
}

/// Runs the grader, expects it to give up with exit code 2 and to say why
/// on stderr, and returns what it said.
fn grader_error(arguments: &[&str]) -> String {
    let output = grader(arguments);
    assert_eq!(output.status.code(), Some(2), "{arguments:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.is_empty(), "{arguments:?}");
    stderr
}

#[test]
fn cli_refuses_addr_for_lessons_with_files() {
    let stderr = grader_error(&["lesson05", "--addr", "127.0.0.1:9"]);
    assert!(
        stderr.contains("--cmd") && stderr.contains("{root}"),
        "{stderr}"
    );
}

#[test]
fn cli_rejects_an_unknown_lesson() {
    for lesson in ["lesson99", "0", "hallo"] {
        grader_error(&[lesson]);
    }
}

#[test]
fn cli_reports_a_server_that_does_not_start() {
    let stderr = grader_error(&["2", "--cmd", "echo cannot start >&2; exit 3"]);
    assert!(
        stderr.contains("exited") && stderr.contains("cannot start"),
        "{stderr}"
    );
}

#[test]
fn cli_lists_the_checks_of_a_lesson() {
    let output = grader(&["02", "--list"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split(' ').next())
        .collect();
    let expected: Vec<&str> = checks::for_lesson(2).map(|check| check.name).collect();
    assert_eq!(names, expected);
}
