//! The grader's report formats and options, from the outside: `--format
//! json` and `--format junit` are well-formed and count right, `--verbose`
//! shows what passing checks sent, a failure shows the start of the body,
//! and `--start-timeout` waits for a slow start, or gives up with exit
//! code 2 and a message that names the option.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Output};

use grader::checks;
use grader::server;
use serde_json::Value;

fn grader(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(arguments)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A `--cmd` that starts the `original` example with `--mistake both`,
/// which fails three checks of lesson 01.
fn original_with_mistakes() -> String {
    let original = server::built_example("original").unwrap();
    format!("'{}' --port {{port}} --mistake both", original.display())
}

fn json_of(output: &Output) -> Value {
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "one line of JSON: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

#[test]
fn json_counts_every_check_of_a_passing_lesson() {
    let output = grader(&["lesson02", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let json = json_of(&output);
    let count = checks::for_lesson(2).count();
    assert_eq!(json["lesson"], 2);
    assert_eq!(json["passed"], count);
    assert_eq!(json["failed"], 0);
    assert_eq!(json["points"], count);
    assert_eq!(json["max_points"], count);
    let listed = json["checks"].as_array().unwrap();
    assert_eq!(listed.len(), count);
    for (entry, check) in listed.iter().zip(checks::for_lesson(2)) {
        assert_eq!(entry["name"], check.name);
        assert_eq!(entry["passed"], true);
        assert_eq!(entry["points"], 1);
        assert!(entry["message"].is_null());
        assert_eq!(entry["section"], check.section);
    }
    assert!(json.get("stretch").is_none());
}

#[test]
fn json_reports_failures_with_exit_code_1() {
    let output = grader(&["1", "--cmd", &original_with_mistakes(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output);
    assert_eq!(json["failed"], 3);
    assert_eq!(json["points"], json["passed"]);
    let failed: Vec<&Value> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 3);
    for entry in failed {
        assert_eq!(entry["points"], 0);
        assert!(!entry["message"].as_str().unwrap().is_empty(), "{entry}");
    }
}

#[test]
fn json_and_junit_write_nothing_to_stdout_when_the_server_does_not_start() {
    for format in ["json", "junit"] {
        let output = grader(&["2", "--cmd", "exit 3", "--format", format]);
        assert_eq!(output.status.code(), Some(2));
        assert!(output.stdout.is_empty(), "{format}");
        assert!(!output.stderr.is_empty(), "{format}");
    }
}

/// Checks that `xml` is well-formed as far as a JUnit report needs: every
/// element closed in order, attribute values quoted, only the five named
/// entities and numeric ones, no raw `<` or `&` in text. Returns the
/// elements' names, in order, with their attributes.
fn elements(xml: &str) -> Vec<String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("an XML declaration");
    let mut open: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let Some(start) = rest.find('<') else {
            check_text(rest);
            break;
        };
        check_text(&rest[..start]);
        let end = rest[start..].find('>').expect("a tag ends") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "closing {name}");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split(' ').next().unwrap().to_owned();
        assert_eq!(tag.matches('"').count() % 2, 0, "quoted attributes: {tag}");
        check_text(tag);
        seen.push(tag.to_owned());
        if !self_closing {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    seen
}

fn check_text(text: &str) {
    assert!(!text.contains('<'), "raw < in {text:?}");
    for (index, _) in text.match_indices('&') {
        let entity = &text[index..text[index..].find(';').unwrap() + index + 1];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity)
                || entity.starts_with("&#"),
            "entity {entity}"
        );
    }
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
        "a control character in {text:?}"
    );
}

#[test]
fn junit_has_a_test_case_per_check_and_a_failure_per_failed_check() {
    let output = grader(&["1", "--cmd", &original_with_mistakes(), "--format", "junit"]);
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);
    let elements = elements(&xml);
    let count = checks::for_lesson(1).count();
    let cases = elements
        .iter()
        .filter(|e| e.starts_with("testcase "))
        .count();
    let failures = elements
        .iter()
        .filter(|e| e.starts_with("failure "))
        .count();
    assert_eq!(cases, count, "{xml}");
    assert_eq!(failures, 3, "{xml}");
    assert!(
        xml.contains(&format!(
            "<testsuite name=\"lesson01\" tests=\"{count}\" failures=\"3\""
        )),
        "{xml}"
    );
    // The details of a failure are in it, escaped: the request's CR LF as
    // the text \r\n, the quotes around it as &quot;.
    assert!(xml.contains("sent:     &quot;GET"), "{xml}");
    assert!(xml.contains("hint:     see docs/src/lesson01.md#line-endings"));
}

#[test]
fn junit_of_a_passing_lesson_has_no_failure() {
    let output = grader(&["3", "--format", "junit"]);
    assert_eq!(output.status.code(), Some(0));
    let elements = elements(&stdout(&output));
    assert!(!elements.iter().any(|e| e.starts_with("failure")));
    let cases = elements
        .iter()
        .filter(|e| e.starts_with("testcase "))
        .count();
    assert_eq!(cases, checks::for_lesson(3).count());
}

#[test]
fn verbose_shows_what_passing_checks_sent_and_received() {
    let quiet = stdout(&grader(&["2"]));
    assert!(!quiet.contains("sent:"), "{quiet}");
    let output = grader(&["2", "--verbose"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains(
            "✔ hallo-welt\n    sent:     \"GET /irgendwas HTTP/1.0\\r\\n\\r\\n\"\n    received: \"HTTP/1.1 200 OK\\r\\n"
        ),
        "{text}"
    );
    assert!(text.contains("    body:     \"Hallo Welt\\n\"\n"), "{text}");
    // Every check shows its exchanges (garbage-bytes two), and the
    // summary stays last.
    let count = checks::for_lesson(2).count();
    assert!(text.matches("    sent:     ").count() > count, "{text}");
    assert!(text.contains("    exchange 2 of 2:\n"), "{text}");
    assert!(
        text.ends_with(&format!("{count} passed, 0 failed\n")),
        "{text}"
    );
}

#[test]
fn a_failure_shows_the_start_of_the_body() {
    let output = grader(&["1", "--cmd", &original_with_mistakes()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let failure = text
        .split("✘ crlf-line-endings\n")
        .nth(1)
        .expect("crlf-line-endings fails");
    let received = failure.find("    received: ").unwrap();
    let body = failure.find("    body:     \"").unwrap();
    let problem = failure.find("    problem:  ").unwrap();
    assert!(received < body && body < problem, "{failure}");
}

/// A shell command that waits `seconds` before it starts lesson 01.
fn slow_start(seconds: &str) -> String {
    let lesson01 = server::built_lesson(1).unwrap();
    format!(
        "sleep {seconds}; exec '{}' --port {{port}}",
        lesson01.display()
    )
}

#[test]
fn a_slow_start_passes_with_a_longer_start_timeout() {
    let output = grader(&["1", "--cmd", &slow_start("1"), "--start-timeout", "20"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn a_slow_start_fails_with_a_shorter_start_timeout_and_names_the_option() {
    let output = grader(&["1", "--cmd", &slow_start("5"), "--start-timeout", "0.5"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("within 0.5 s") && stderr.contains("--start-timeout"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn start_timeout_refuses_what_is_not_a_number_of_seconds() {
    let output = grader(&["1", "--start-timeout", "soon"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_lists_the_exit_codes_and_the_new_options() {
    let help = stdout(&grader(&["--help"]));
    for text in [
        "Exit codes:",
        "0  every check passed",
        "1  at least one check failed",
        "2  the grader could not run",
        "--format",
        "--verbose",
        "--stretch",
        "--start-timeout",
    ] {
        assert!(help.contains(text), "{text}: {help}");
    }
}
