//! The stretch checks graded: every one fails against each reference lesson
//! it applies to (the lessons do not do the exercises), the ones for the
//! exercises `stretch_server` does pass against it, and on the command line
//! they come after the summary and never change the exit code or the
//! totals.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Output};

use grader::checks;
use grader::fixture::Fixture;
use grader::server::{self, Program, Session};
use grader::stretch::{self, STRETCH_CHECKS};
use serde_json::Value;

/// The stretch checks `stretch_server` does.
const DONE_BY_THE_EXAMPLE: [&str; 4] = [
    "stretch-server-field",
    "stretch-head-early",
    "stretch-chunked-echo",
    "stretch-keep-alive-field",
];

fn launch(program: Program) -> Session {
    Session::launch(program, Fixture::create().unwrap()).unwrap()
}

/// Expects every stretch check for `lesson` to fail against its reference
/// server.
fn assert_stretch_fails_against_lesson(lesson: u8) {
    let mut session = launch(Program::Lesson(lesson));
    for check in stretch::for_lesson(lesson) {
        assert!(
            check.run(&mut session).is_err(),
            "{} passes against lesson{lesson:02}",
            check.name
        );
    }
}

#[test]
fn every_stretch_check_has_lessons_an_exercise_and_a_unique_name() {
    let last = checks::last_lesson();
    for check in STRETCH_CHECKS {
        assert!(check.name.starts_with("stretch-"), "{}", check.name);
        assert!((1..=last).any(|lesson| check.applies_to(lesson)));
        assert!(check.section.ends_with(".md#exercises"), "{}", check.name);
        assert!(check.rule.starts_with("exercise "), "{}", check.name);
        let same = STRETCH_CHECKS
            .iter()
            .filter(|other| other.name == check.name);
        assert_eq!(same.count(), 1, "{}", check.name);
        assert!(
            !checks::CHECKS.iter().any(|other| other.name == check.name),
            "{}",
            check.name
        );
    }
}

#[test]
fn stretch_fails_against_lesson02() {
    assert_stretch_fails_against_lesson(2);
}

#[test]
fn stretch_fails_against_lesson03() {
    assert_stretch_fails_against_lesson(3);
}

#[test]
fn stretch_fails_against_lesson05() {
    assert_stretch_fails_against_lesson(5);
}

#[test]
fn stretch_fails_against_lesson06() {
    assert_stretch_fails_against_lesson(6);
}

#[test]
fn stretch_fails_against_lesson07() {
    assert_stretch_fails_against_lesson(7);
}

#[test]
fn stretch_fails_against_lesson10() {
    assert_stretch_fails_against_lesson(10);
}

#[test]
fn stretch_fails_against_lesson11() {
    assert_stretch_fails_against_lesson(11);
}

#[test]
fn stretch_fails_against_lesson12() {
    assert_stretch_fails_against_lesson(12);
}

#[test]
fn stretch_fails_against_lesson13() {
    assert_stretch_fails_against_lesson(13);
}

#[test]
fn stretch_fails_against_lesson14() {
    assert_stretch_fails_against_lesson(14);
}

#[test]
fn stretch_fails_against_lesson15() {
    assert_stretch_fails_against_lesson(15);
}

/// Every stretch check is among those the lessons above prove failing.
#[test]
fn the_lessons_above_cover_every_stretch_check() {
    let tested = [2, 3, 5, 6, 7, 10, 11, 12, 13, 14];
    for check in STRETCH_CHECKS {
        assert!(
            tested.iter().any(|&lesson| check.applies_to(lesson)),
            "{}",
            check.name
        );
    }
}

fn example_command() -> String {
    let example = server::built_example("stretch_server").unwrap();
    format!("'{}' --port {{port}}", example.display())
}

#[test]
fn the_stretch_example_passes_the_stretch_checks_it_does() {
    let mut session = launch(Program::Command {
        line: example_command(),
        lesson: 11,
    });
    for name in DONE_BY_THE_EXAMPLE {
        let check = STRETCH_CHECKS
            .iter()
            .find(|check| check.name == name)
            .unwrap();
        if let Err(failure) = check.run(&mut session) {
            panic!("{name} fails against the example: {}", failure.problem);
        }
    }
}

fn grader(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(arguments)
        .output()
        .unwrap()
}

#[test]
fn cli_reports_stretch_checks_after_the_summary_without_counting_them() {
    let output = grader(&["lesson03", "--stretch"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stretch failures never count"
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let count = checks::for_lesson(3).count();
    let summary = text
        .find(&format!("\n{count} passed, 0 failed\n"))
        .expect("the summary");
    let section = text.find(grader::report::STRETCH_HEADING).unwrap();
    let stretch_failure = text.find("✘ stretch-head-early\n").unwrap();
    assert!(summary < section && section < stretch_failure, "{text}");
    assert!(
        text.ends_with("stretch: 0 passed, 2 failed (not counted)\n"),
        "{text}"
    );
}

#[test]
fn cli_without_stretch_runs_no_stretch_check() {
    let text = String::from_utf8(grader(&["lesson03"]).stdout).unwrap();
    assert!(!text.contains("stretch"), "{text}");
}

#[test]
fn cli_passing_stretch_checks_do_not_count_either() {
    let command = example_command();
    let output = grader(&[
        "lesson03",
        "--stretch",
        "--cmd",
        &command,
        "--format",
        "json",
    ]);
    // The example fails lesson 03's own checks: that alone decides.
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = checks::for_lesson(3).count();
    assert_eq!(json["max_points"], count);
    let passed = json["passed"].as_u64().unwrap();
    assert_eq!(json["points"], passed);
    let stretch = json["stretch"].as_array().unwrap();
    let names: Vec<&str> = stretch
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["stretch-server-field", "stretch-head-early"]);
    for check in stretch {
        assert_eq!(check["passed"], true, "{check}");
        assert_eq!(check["points"], 0, "{check}");
    }
}

#[test]
fn cli_junit_reports_a_missing_exercise_as_skipped() {
    let output = grader(&["lesson02", "--stretch", "--format", "junit"]);
    assert_eq!(output.status.code(), Some(0));
    let xml = String::from_utf8(output.stdout).unwrap();
    assert!(
        xml.contains(
            "<testsuite name=\"lesson02-stretch\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"the response (200) has no Server field\">"));
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn cli_lists_stretch_checks_with_stretch() {
    let text = String::from_utf8(grader(&["13", "--list", "--stretch"]).stdout).unwrap();
    for check in stretch::for_lesson(13) {
        assert!(text.contains(check.name), "{text}");
    }
    assert!(!text.contains("stretch-head-early"));
}
