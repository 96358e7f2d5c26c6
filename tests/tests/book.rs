//! Checks on the course book that are not transcripts (those are replayed
//! by `transcripts.rs`).
//!
//! - Diagrams: every fenced block with the info string `text` in
//!   `docs/src` (subfolders included) is at most 80 columns wide, so that it fits a printed
//!   page, a projector and a narrow browser window without wrapping.
//! - Course map: the table in `docs/src/course-map.md` gives, for every
//!   lesson, the size of its new code. The numbers are computed here from
//!   the lessons themselves and must match exactly; a failure prints the
//!   right numbers. A step above `MAX_STEP_LINES` fails too, unless the
//!   pair is on the allow-list `LARGE_STEPS` with a reason.
//! - Periods: every lesson is planned for one or two 45-minute periods.
//! - Diffs: where the book or the README shows a diff, it is `diff -ruN`
//!   (`diff -ru` leaves out new files, such as a lesson's new module).
//! - Includes: every `{{#include PATH}}` names a file that exists, and every
//!   `{{#include PATH:ANCHOR}}` an anchor that the file has, so the book
//!   builds with mdBook although `cargo test` never runs it.
//!
//! "New code" is counted like this: for every file of `lessons/lessonNN`
//! (the previous lesson's file of the same path, or nothing for a new file)
//! a line diff is made, as `diff -ruN` makes it, and the added lines are
//! counted, except blank lines and lines that start with `//` (comments and
//! doc comments) after their indentation. Lesson 01 is compared with
//! nothing: all of it is new.

// A test reports failure by panicking; the workspace lints that forbid
// panics (which protect the servers from network input) do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The widest a line of a `text` block may be, in characters.
const MAX_TEXT_COLUMNS: usize = 80;

/// Chapters whose `text` blocks are known to be too wide and are not yet
/// fixed, with the reason. The test fails when such a chapter has become
/// narrow enough, so that the entry is removed and the chapter stays so.
const WIDE_CHAPTERS_ALLOWED: &[(&str, &str)] = &[];

/// The largest step from one lesson to the next, in added lines of code
/// (counted as described in the module documentation).
const MAX_STEP_LINES: usize = 260;

/// Steps that may be larger than `MAX_STEP_LINES`, as (from, to, reason).
/// Every entry needs a reason; remove it once the step is small enough.
const LARGE_STEPS: &[(u8, u8, &str)] = &[
    (
        13,
        14,
        "issue 10 added the speed work (openat2, one peer-address lookup per \
         connection, small files in the head's write, TCP_CORK, threads that \
         wait for the next connection) to lesson 14; it is one idea of its \
         own and could become a lesson \"Where the time goes\" between 14 \
         and 15, now that the grader grades a lesson without new checks",
    ),
    (
        14,
        15,
        "an event loop is one idea that cannot run in halves: the loop, the \
         three states of a connection with their deadlines, and the hand-over \
         to a thread with the bytes already read are needed together",
    ),
];

/// The most 45-minute periods a lesson may take.
const MAX_PERIODS: u32 = 2;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The pages of the book: every Markdown file under `docs/src`, subfolders
/// (such as the teachers' pages) included, as paths relative to `docs/src`
/// with `/` between folders, sorted.
fn book_pages() -> Vec<String> {
    fn walk(folder: &Path, prefix: &str, pages: &mut Vec<String>) {
        for entry in fs::read_dir(folder).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{name}/"), pages);
            } else if name.ends_with(".md") {
                pages.push(format!("{prefix}{name}"));
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root().join("docs/src"), "", &mut pages);
    pages.sort();
    pages
}

/// The lesson numbers present in `lessons/`, in order.
fn lessons() -> Vec<u8> {
    let mut numbers: Vec<u8> = fs::read_dir(root().join("lessons"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let digits = name.strip_prefix("lesson")?;
            (digits.len() == 2).then(|| digits.parse().ok())?
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Every file under `folder`, by its path relative to `folder`, with its
/// text. A `target` folder is skipped.
fn files(folder: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, folder: &Path, found: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "target" {
                    walk(base, &path, found);
                }
            } else if let Ok(text) = fs::read_to_string(&path) {
                found.insert(path.strip_prefix(base).unwrap().to_path_buf(), text);
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(folder, folder, &mut found);
    found
}

/// The lines of `new` that a line diff from `old` to `new` shows as added.
/// The diff keeps a longest common subsequence of lines, as `diff` does.
fn added_lines<'a>(old: &str, new: &'a str) -> Vec<&'a str> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    // Equal lines at the start and the end are common; only the middle
    // needs the quadratic table.
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old = &old[prefix..old.len() - suffix];
    let new = &new[prefix..new.len() - suffix];
    // lcs[i][j]: the length of a longest common subsequence of old[i..] and
    // new[j..].
    let mut lcs = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut added = Vec::new();
    let (mut i, mut j) = (0, 0);
    while j < new.len() {
        if i < old.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if i < old.len() && lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1; // a removed line
        } else {
            added.push(new[j]);
            j += 1;
        }
    }
    added
}

/// Whether an added line counts as code: not blank, not a `//` comment.
fn is_code(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with("//")
}

/// The added lines of code from one folder to the next (`from` may be
/// missing: then everything is new).
fn step_size(from: Option<&Path>, to: &Path) -> usize {
    let old = from.map(files).unwrap_or_default();
    let new = files(to);
    new.iter()
        .map(|(path, text)| {
            let before = old.get(path).map_or("", String::as_str);
            added_lines(before, text)
                .into_iter()
                .filter(|line| is_code(line))
                .count()
        })
        .sum()
}

/// The size of every lesson's step, by lesson number.
fn step_sizes() -> BTreeMap<u8, usize> {
    let lessons_folder = root().join("lessons");
    let folder = |number: u8| lessons_folder.join(format!("lesson{number:02}"));
    let numbers = lessons();
    let mut sizes = BTreeMap::new();
    let mut previous = None;
    for number in numbers {
        let from = previous.map(folder);
        sizes.insert(number, step_size(from.as_deref(), &folder(number)));
        previous = Some(number);
    }
    sizes
}

/// The course map's table of lessons: the first table whose header has a
/// column `New code`. Returns lesson number -> cells (trimmed), for the rows
/// whose first cell links to a lesson chapter.
fn course_map_rows() -> BTreeMap<u8, Vec<String>> {
    let text = fs::read_to_string(root().join("docs/src/course-map.md")).unwrap();
    let mut rows = BTreeMap::new();
    let table = text
        .lines()
        .skip_while(|line| !(line.trim_start().starts_with('|') && line.contains("New code")))
        .take_while(|line| line.trim_start().starts_with('|'));
    for line in table {
        let Some(inner) = line.trim().strip_prefix('|') else {
            continue;
        };
        let cells: Vec<String> = inner
            .trim_end_matches('|')
            .split('|')
            .map(|cell| cell.trim().to_owned())
            .collect();
        let Some(first) = cells.first() else {
            continue;
        };
        let Some(position) = first.find("(lesson") else {
            continue;
        };
        let digits = &first[position + "(lesson".len()..];
        if let Some(number) = digits.get(..2).and_then(|d| d.parse().ok()) {
            rows.insert(number, cells);
        }
    }
    rows
}

/// A column of the course map, found by the start of its heading.
fn column(heading_start: &str) -> usize {
    let text = fs::read_to_string(root().join("docs/src/course-map.md")).unwrap();
    let header = text
        .lines()
        .find(|line| line.trim_start().starts_with('|') && line.contains("New code"))
        .expect("the course map has a table with a column `New code`");
    header
        .trim()
        .trim_matches('|')
        .split('|')
        .position(|cell| cell.trim().starts_with(heading_start))
        .unwrap_or_else(|| panic!("the course map table has no column `{heading_start}...`"))
}

#[test]
fn the_course_map_gives_the_real_step_sizes() {
    let sizes = step_sizes();
    let rows = course_map_rows();
    let new_code = column("New code");
    let mut wrong = Vec::new();
    for (number, size) in &sizes {
        let written = rows
            .get(number)
            .and_then(|cells| cells.get(new_code))
            .map(String::as_str);
        if written != Some(size.to_string().as_str()) {
            wrong.push(format!(
                "lesson {number:02}: the table says {}, the code says {size}",
                written.unwrap_or("nothing")
            ));
        }
    }
    let right: Vec<String> = sizes
        .iter()
        .map(|(number, size)| format!("  lesson {number:02}: {size}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "the column `New code` of docs/src/course-map.md is out of date:\n{}\n\n\
         The right numbers (added non-blank, non-comment lines since the \
         previous lesson):\n{}",
        wrong.join("\n"),
        right.join("\n")
    );
    for number in rows.keys() {
        assert!(
            sizes.contains_key(number),
            "the course map lists lesson {number:02}, which does not exist"
        );
    }
}

#[test]
fn no_step_is_too_large() {
    let sizes = step_sizes();
    let numbers: Vec<u8> = sizes.keys().copied().collect();
    let mut too_large = Vec::new();
    for pair in numbers.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let size = sizes[&to];
        let allowed = LARGE_STEPS.iter().any(|(a, b, _)| (*a, *b) == (from, to));
        if size > MAX_STEP_LINES && !allowed {
            too_large.push(format!(
                "lesson {from:02} -> {to:02}: {size} new lines (at most {MAX_STEP_LINES})"
            ));
        }
    }
    for (from, to, reason) in LARGE_STEPS {
        assert!(
            !reason.trim().is_empty(),
            "LARGE_STEPS: {from:02} -> {to:02} needs a reason"
        );
    }
    assert!(
        too_large.is_empty(),
        "steps too large for one lesson; split them, or add them to LARGE_STEPS \
         in tests/tests/book.rs with a reason:\n{}",
        too_large.join("\n")
    );
}

#[test]
fn every_lesson_takes_one_or_two_periods() {
    let rows = course_map_rows();
    let periods = column("Periods");
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        lessons(),
        "the course map needs one row per lesson"
    );
    for (number, cells) in &rows {
        let value: u32 = cells
            .get(periods)
            .and_then(|cell| cell.parse().ok())
            .unwrap_or_else(|| panic!("lesson {number:02}: `Periods` is not a number"));
        assert!(
            (1..=MAX_PERIODS).contains(&value),
            "lesson {number:02}: {value} periods; a lesson takes one or two"
        );
    }
}

/// The lines of the `text` blocks of a Markdown file that are too wide, as
/// (line number, width).
fn wide_text_lines(markdown: &str) -> Vec<(usize, usize)> {
    let mut wide = Vec::new();
    // The open fence: its character, its length, whether it is `text`.
    let mut open: Option<(char, usize, bool)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match open {
            None => {
                if let Some(c) = fence_char.filter(|_| fence_len >= 3) {
                    let info = trimmed[fence_len..].trim();
                    let language = info.split([',', ' ']).next().unwrap_or("");
                    open = Some((c, fence_len, language == "text"));
                }
            }
            Some((c, len, is_text)) => {
                if fence_char == Some(c)
                    && fence_len >= len
                    && trimmed[fence_len..].trim().is_empty()
                {
                    open = None;
                } else if is_text {
                    let width = line.chars().count();
                    if width > MAX_TEXT_COLUMNS {
                        wide.push((index + 1, width));
                    }
                }
            }
        }
    }
    wide
}

#[test]
fn text_blocks_are_at_most_80_columns_wide() {
    let source = root().join("docs/src");
    let names = book_pages();
    let mut problems = Vec::new();
    for name in &names {
        let markdown = fs::read_to_string(source.join(name)).unwrap();
        let wide = wide_text_lines(&markdown);
        let allowed = WIDE_CHAPTERS_ALLOWED.iter().any(|(file, _)| file == name);
        if allowed && wide.is_empty() {
            problems.push(format!(
                "{name}: no longer too wide; remove it from WIDE_CHAPTERS_ALLOWED"
            ));
        }
        if !allowed {
            for (line, width) in wide {
                problems.push(format!(
                    "{name}:{line}: {width} columns in a `text` block \
                     (at most {MAX_TEXT_COLUMNS})"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn wide_lines_are_found_in_text_blocks_only() {
    let long = "x".repeat(81);
    let markdown = format!(
        "{long}\n```text\nshort\n{long}\n```\n```rust\n{long}\n```\n\
         ````text\n```\n{long}\n````\n"
    );
    assert_eq!(wide_text_lines(&markdown), [(4, 81), (11, 81)]);
    assert!(wide_text_lines(&format!("```text\n{}\n```\n", "é".repeat(80))).is_empty());
}

#[test]
fn added_lines_are_counted_like_diff() {
    assert_eq!(added_lines("a\nb\nc\n", "a\nx\nb\nc\ny\n"), ["x", "y"]);
    assert_eq!(added_lines("", "a\nb\n"), ["a", "b"]);
    assert!(added_lines("a\nb\n", "a\n").is_empty());
    assert_eq!(added_lines("a\nb\n", "b\na\n"), ["a"]);
    assert!(is_code("    let x = 1;"));
    assert!(!is_code("    // a comment"));
    assert!(!is_code("/// a doc comment"));
    assert!(!is_code("   "));
}

/// Files that still show `diff -ru` (which leaves out new files), with the
/// reason they are not fixed yet. The test fails when such a file is fixed,
/// so that the entry is removed.
const DIFF_RU_ALLOWED: &[(&str, &str)] = &[];

/// Whether a text shows `diff -ru` without `N` (as a command or in prose).
fn shows_diff_without_new_files(text: &str) -> bool {
    text.match_indices("diff -ru").any(|(at, found)| {
        let after = &text[at + found.len()..];
        !after.starts_with('N')
    })
}

/// Where the book or the README shows a diff, it is `diff -ruN`: `diff -ru`
/// silently leaves out files that exist in only one of the two folders,
/// such as a lesson's new module.
#[test]
fn diffs_are_shown_with_new_files() {
    let mut files = vec!["README.md".to_owned(), "docs/ARCHITECTURE.md".to_owned()];
    files.extend(book_pages().iter().map(|page| format!("docs/src/{page}")));
    let mut problems = Vec::new();
    for file in &files {
        let Ok(text) = fs::read_to_string(root().join(file)) else {
            continue;
        };
        let wrong = shows_diff_without_new_files(&text);
        let allowed = DIFF_RU_ALLOWED.iter().any(|(name, _)| name == file);
        if wrong && !allowed {
            problems.push(format!("{file}: shows `diff -ru`; use `diff -ruN`"));
        }
        if allowed && !wrong {
            problems.push(format!("{file}: fixed; remove it from DIFF_RU_ALLOWED"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(shows_diff_without_new_files("see diff -ru a b"));
    assert!(!shows_diff_without_new_files("see diff -ruN a b"));
}

/// The `{{#include PATH}}` and `{{#include PATH:ANCHOR}}` directives of a
/// Markdown text, as (line number, path, anchor).
fn includes(markdown: &str) -> Vec<(usize, String, Option<String>)> {
    let mut found = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#include ") {
            let after = &rest[start + "{{#include ".len()..];
            let Some(end) = after.find("}}") else {
                break;
            };
            let target = after[..end].trim();
            let (path, anchor) = match target.split_once(':') {
                Some((path, anchor)) => (path, Some(anchor.to_owned())),
                None => (target, None),
            };
            found.push((index + 1, path.to_owned(), anchor));
            rest = &after[end..];
        }
    }
    found
}

/// mdBook fails (or, for an unknown anchor, silently includes nothing)
/// when an include names a file or an anchor that does not exist. Lessons
/// move and anchors get renamed, so every include of the book is resolved
/// here, without mdBook: the file must exist, and a named anchor must have
/// both its `ANCHOR: name` and its `ANCHOR_END: name` line.
#[test]
fn every_include_of_the_book_resolves() {
    let chapters = root().join("docs/src");
    let mut problems = Vec::new();
    for name in book_pages() {
        let path = chapters.join(&name);
        let markdown = fs::read_to_string(&path).unwrap();
        for (line, included, anchor) in includes(&markdown) {
            let folder = path.parent().unwrap();
            let Ok(text) = fs::read_to_string(folder.join(&included)) else {
                problems.push(format!("{name}:{line}: {included} does not exist"));
                continue;
            };
            let Some(anchor) = anchor else {
                continue;
            };
            // Line ranges (`:10:20`) are not used by the book; an anchor
            // is a name.
            if anchor
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte == b':')
            {
                problems.push(format!(
                    "{name}:{line}: {included}:{anchor} is a line range; use a named anchor, \
                     which moves with the code"
                ));
                continue;
            }
            // mdBook finds an anchor anywhere in a line, so that it works in
            // a Rust comment (`// ANCHOR: name`) and in an HTML comment in
            // Markdown (`<!-- ANCHOR: name -->`) alike.
            let has = |marker: &str| {
                text.lines().any(|code_line| {
                    code_line.match_indices(marker).any(|(at, _)| {
                        let named = code_line[at + marker.len()..].trim_start();
                        let word: String = named
                            .chars()
                            .take_while(|&c| c.is_alphanumeric() || c == '_' || c == '-')
                            .collect();
                        word == anchor
                    })
                })
            };
            if !has("ANCHOR:") || !has("ANCHOR_END:") {
                problems.push(format!(
                    "{name}:{line}: {included} has no anchor `{anchor}` (ANCHOR: {anchor} ... ANCHOR_END: {anchor})"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn includes_are_found_with_and_without_anchors() {
    let markdown =
        "text\n{{#include ../a.rs}}\n  {{#include ../b.rs:name}} and {{#include c.md}}\n";
    assert_eq!(
        includes(markdown),
        vec![
            (2, "../a.rs".to_owned(), None),
            (3, "../b.rs".to_owned(), Some("name".to_owned())),
            (3, "c.md".to_owned(), None),
        ]
    );
}
