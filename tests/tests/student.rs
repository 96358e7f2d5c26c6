//! The student's path: `grader start`, `check`, `progress` and `hint`.
//!
//! For every lesson from 02 on, `start` makes a copy (here outside the
//! repository), the copy builds, `check` passes every check it had before
//! the lesson and fails some of the lesson's new ones, showing the todo's
//! message; the copy with the reference code kept passes everything.
//!
//! All copies live in one Cargo workspace of their own under
//! `target/student-tests` and are built by one `cargo build`, into one
//! target folder that later runs reuse.

// A failed assertion is a panic; tests may use them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use grader::checks;
use grader::exercise::{self, WORKSPACE};

const GRADER: &str = env!("CARGO_BIN_EXE_grader");

fn base() -> PathBuf {
    Path::new(WORKSPACE).join("target").join("student-tests")
}

/// The workspace with every lesson's copy, `my-lessonNN` (to write) and
/// `solved-lessonNN` (the reference code kept), built.
fn copies() -> &'static Path {
    static COPIES: OnceLock<PathBuf> = OnceLock::new();
    COPIES.get_or_init(|| {
        let folder = base().join("copies");
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).unwrap();
        let members = r#"["my-*", "solved-*"]"#;
        fs::write(
            folder.join("Cargo.toml"),
            exercise::standalone_workspace(Some(members)).unwrap(),
        )
        .unwrap();
        fs::copy(
            Path::new(WORKSPACE).join("Cargo.lock"),
            folder.join("Cargo.lock"),
        )
        .unwrap();
        for lesson in 1..=checks::last_lesson() {
            for solved in [false, true] {
                let name = exercise::package_name(lesson, solved);
                let mut arguments = vec![
                    "start".to_owned(),
                    format!("lesson{lesson:02}"),
                    "--dir".to_owned(),
                    folder.join(&name).display().to_string(),
                ];
                if solved {
                    arguments.push("--solved".to_owned());
                }
                let output = grader(&arguments);
                assert!(output.status.success(), "{}", text(&output));
            }
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "--workspace"])
            .current_dir(&folder)
            .env("CARGO_TARGET_DIR", base().join("target"))
            .status()
            .unwrap();
        assert!(status.success(), "the copies do not build");
        folder
    })
}

/// Runs the grader, with the copies' target folder, and without colours.
fn grader(arguments: &[String]) -> Output {
    Command::new(GRADER)
        .args(arguments)
        .env("CARGO_TARGET_DIR", base().join("target"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The names of the checks the report marks with `mark` (✔ or ✘).
fn marked(report: &str, mark: char) -> BTreeSet<String> {
    report
        .lines()
        .filter_map(|line| line.strip_prefix(mark))
        .map(|name| name.trim().to_owned())
        .collect()
}

fn check(lesson: u8, copy: &str) -> (Option<i32>, String) {
    let output = grader(&[
        "check".to_owned(),
        format!("lesson{lesson:02}"),
        "--dir".to_owned(),
        copies().join(copy).display().to_string(),
    ]);
    (output.status.code(), text(&output))
}

fn the_copy_to_write_fails_only_new_checks(lesson: u8) {
    let (code, report) = check(lesson, &exercise::package_name(lesson, false));
    let failed = marked(&report, '✘');
    let new: BTreeSet<String> = checks::for_lesson(lesson)
        .filter(|check| check.since == lesson)
        .map(|check| check.name.to_owned())
        .collect();
    assert_eq!(code, Some(1), "{report}");
    assert!(!failed.is_empty(), "no check failed:\n{report}");
    // A lesson without checks of its own (lesson 15 changes how the server
    // waits, not what it answers) has its todos on every request's path, so
    // its copy fails earlier lessons' checks; the todo's message says why.
    if !new.is_empty() {
        assert!(
            failed.is_subset(&new),
            "checks of earlier lessons failed: {:?}\n{report}",
            failed.difference(&new).collect::<Vec<_>>()
        );
    }
    assert!(
        report.contains(&format!("not yet implemented: lesson{lesson:02}: ")),
        "the todo's message is not shown:\n{report}"
    );

    let (code, report) = check(lesson, &exercise::package_name(lesson, true));
    assert_eq!(
        code,
        Some(0),
        "the copy with the reference code fails:\n{report}"
    );
}

macro_rules! lessons {
    ($($name:ident: $lesson:literal,)*) => {
        $(
            #[test]
            fn $name() {
                the_copy_to_write_fails_only_new_checks($lesson);
            }
        )*
    };
}

lessons! {
    lesson01_copy: 1,
    lesson02_copy: 2,
    lesson03_copy: 3,
    lesson04_copy: 4,
    lesson05_copy: 5,
    lesson06_copy: 6,
    lesson07_copy: 7,
    lesson08_copy: 8,
    lesson09_copy: 9,
    lesson10_copy: 10,
    lesson11_copy: 11,
    lesson12_copy: 12,
    lesson13_copy: 13,
    lesson14_copy: 14,
    lesson15_copy: 15,
}

#[test]
fn progress_shows_each_state() {
    let copies = copies();
    let folder = base().join("progress");
    let _ = fs::remove_dir_all(&folder);
    fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(copies.join("solved-lesson02"), folder.join("lesson02")).unwrap();
    std::os::unix::fs::symlink(copies.join("my-lesson03"), folder.join("lesson03")).unwrap();
    let output = grader(&[
        "progress".to_owned(),
        "--dir".to_owned(),
        folder.display().to_string(),
    ]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), usize::from(checks::last_lesson()), "{report}");
    assert_eq!(lines[0], "lesson01  not started");
    assert!(lines[1].starts_with("lesson02  passed"), "{report}");
    let total = checks::for_lesson(3).count();
    assert!(
        lines[2].starts_with("lesson03  ") && lines[2].ends_with(&format!(" of {total} checks")),
        "{report}"
    );
    assert_eq!(lines[13], "lesson14  not started");
}

#[test]
fn progress_with_a_command_stops_at_the_first_lesson_it_does_not_pass() {
    let program = base().join("target").join("debug").join("solved-lesson02");
    copies();
    let output = grader(&[
        "progress".to_owned(),
        "--cmd".to_owned(),
        format!(
            "{} --port {{port}} --head-timeout {{head_timeout}}",
            program.display()
        ),
    ]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines[0].starts_with("lesson01  passed"), "{report}");
    assert!(lines[1].starts_with("lesson02  passed"), "{report}");
    assert!(lines[2].starts_with("lesson03  "), "{report}");
    assert!(lines[3].starts_with("Next: make lesson03 pass"), "{report}");
    assert_eq!(lines.len(), 4, "{report}");
}

#[test]
fn start_refuses_to_overwrite_a_copy() {
    let copy = copies().join("my-lesson02");
    let output = grader(&[
        "start".to_owned(),
        "lesson02".to_owned(),
        "--dir".to_owned(),
        copy.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("never overwrites"),
        "{}",
        text(&output)
    );
}

#[test]
fn hint_explains_a_check_and_ends_with_its_section() {
    let output = grader(&[
        "hint".to_owned(),
        "lesson03".to_owned(),
        "version-2-0".to_owned(),
    ]);
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    assert!(report.starts_with("version-2-0: "), "{report}");
    assert!(report.contains("1. "), "{report}");
    let last = report.lines().last().unwrap();
    assert!(last.contains("lesson03.md#"), "{report}");
    let unknown = grader(&["hint".to_owned(), "lesson03".to_owned(), "nope".to_owned()]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// The text of a chapter's "Start the lesson" box, as one line.
fn start_box(chapter: &str) -> String {
    let lines = chapter
        .lines()
        .skip_while(|line| !line.contains("**Start the lesson.**"))
        .take_while(|line| line.starts_with('>'));
    let text: Vec<&str> = lines
        .map(|line| line.trim_start_matches('>').trim())
        .collect();
    text.join(" ")
}

#[test]
fn every_chapter_says_how_to_start_the_lesson_and_what_is_left() {
    for lesson in 1..=checks::last_lesson() {
        let chapter = fs::read_to_string(
            Path::new(WORKSPACE)
                .join("docs/src")
                .join(format!("lesson{lesson:02}.md")),
        )
        .unwrap();
        let text = start_box(&chapter);
        assert!(
            text.contains(&format!("cargo run -p grader -- start lesson{lesson:02}")),
            "lesson{lesson:02}.md has no box that says how to start the lesson"
        );
        let folder = exercise::reference(lesson).join("src");
        let mut todos = 0;
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let source = fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            for (_, message) in exercise::blank(&source, Some(lesson)).unwrap().1 {
                let (_, message) = message.split_once(": ").unwrap();
                let item = format!("`src/{name}`: {message}");
                assert!(
                    text.contains(&item),
                    "lesson{lesson:02}.md does not list {item}"
                );
                todos += 1;
            }
        }
        assert!(todos > 0, "lesson{lesson:02} marks nothing to write");
        assert_eq!(
            text.matches("- `src/").count(),
            todos,
            "lesson{lesson:02}.md lists other todos than the lesson marks"
        );
    }
}
