//! The grader graded: every reference lesson passes its checks, every check
//! can fail, the original's mistakes fail exactly the checks for them, and
//! the command line reports and exits as documented.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Output};

use grader::checks::{self, Check};
use grader::server::{self, Server};

/// The names of the checks that fail against `server`, with each problem.
fn failures<'a>(
    server: &Server,
    checks: impl Iterator<Item = &'a Check>,
) -> Vec<(&'static str, String)> {
    checks
        .filter_map(|check| {
            let failure = check.run(server.address()).err()?;
            Some((check.name, failure.problem))
        })
        .collect()
}

fn assert_lesson_passes(lesson: u8) {
    let server = Server::start_lesson(lesson).unwrap();
    let failed = failures(&server, checks::for_lesson(lesson));
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

/// Each check a lesson adds fails against the lesson before, so none of
/// them passes without the work the lesson teaches.
fn assert_new_checks_fail_against_previous_lesson(lesson: u8) {
    let server = Server::start_lesson(lesson - 1).unwrap();
    let new_checks: Vec<&Check> = checks::CHECKS
        .iter()
        .filter(|check| check.since == lesson)
        .collect();
    assert!(!new_checks.is_empty());
    let passing: Vec<&str> = new_checks
        .iter()
        .filter(|check| check.run(server.address()).is_ok())
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

/// The names of the lesson 01 checks that the original fails with `mistake`.
fn original_fails(mistake: &str) -> Vec<&'static str> {
    let server = Server::start_example_original(mistake).unwrap();
    let failed = failures(&server, checks::for_lesson(1));
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
    let command = format!("'{}' --port {{port}}", original.display());
    let output = grader(&["1", "--cmd", &command]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✘ crlf-line-endings\n"), "{stdout}");
    assert!(stdout.contains("hint:     see docs/src/lesson01.md#line-endings"));
    assert!(stdout.ends_with(" passed, 3 failed\n"), "{stdout}");
}

#[test]
fn cli_rejects_an_unknown_lesson() {
    for lesson in ["lesson99", "0", "hallo"] {
        let output = grader(&[lesson]);
        assert_eq!(output.status.code(), Some(2), "{lesson}");
        assert!(!output.stderr.is_empty());
    }
}

#[test]
fn cli_reports_a_server_that_does_not_start() {
    let output = grader(&["2", "--cmd", "echo cannot start >&2; exit 3"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
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
