//! The student's own copy of a lesson: made from the reference lesson, with
//! the lesson's new code replaced by `todo!()`, and built for grading.
//!
//! The reference lessons mark the code a student writes with two comments:
//!
//! ```text
//! // Exercise lesson03: answer a method other than GET with 501
//! return Err(HttpError::NotImplemented);
//! // End of exercise lesson03.
//! ```
//!
//! `grader start lesson03` copies lesson 03 and replaces every region
//! marked `lesson03` by `todo!("lesson03: answer a method ...")`, so the
//! copy is the previous lesson's program plus the skeleton of the new idea.
//! The markers of other lessons are left out of the copy, their code kept.
//! The markers stay in every later lesson with the same code (so that
//! `diff -ruN` between two lessons shows only the new idea); only the regions
//! of the lesson being started are blanked. A region is chosen so that only
//! the new behaviour reaches it: the copy still passes the previous lesson's
//! checks and fails the new ones, with the todo's message in the panic.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The folder of the Cargo workspace, fixed when the grader is compiled.
pub const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The first line of a marked region: `// Exercise lesson03: what to write`.
const BEGIN: &str = "// Exercise lesson";
/// The last line: `// End of exercise lesson03.`
const END: &str = "// End of exercise lesson";

/// The line the copy's `main.rs` gets, so that the skeleton compiles
/// without warnings about the code the todos leave unused.
const ALLOW: &str = "// Remove the next line when every todo!() is written: the compiler then \
                     warns about what you left unused.\n\
                     #![allow(unused_variables, unused_imports, unused_mut, dead_code, \
                     unreachable_code)]\n";

/// One region to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// The file, relative to the crate (`src/request.rs`).
    pub file: PathBuf,
    /// The line of the `todo!()` in the copy, from 1.
    pub line: usize,
    /// What to write there.
    pub message: String,
}

/// The workspace's folder, without the `tests/..` of `WORKSPACE` where
/// possible (it is shown to the student).
fn workspace() -> PathBuf {
    Path::new(WORKSPACE)
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(WORKSPACE))
}

/// The reference lesson's folder.
pub fn reference(lesson: u8) -> PathBuf {
    workspace()
        .join("lessons")
        .join(format!("lesson{lesson:02}"))
}

/// Where `start` puts the copy when no folder is named: `exercises/lessonNN`.
pub fn default_folder(lesson: u8) -> PathBuf {
    workspace()
        .join("exercises")
        .join(format!("lesson{lesson:02}"))
}

/// The package name of a copy: `my-lesson03`, or `solved-lesson03` for a
/// copy with the reference code kept (which the tests build).
pub fn package_name(lesson: u8, solved: bool) -> String {
    let prefix = if solved { "solved" } else { "my" };
    format!("{prefix}-lesson{lesson:02}")
}

/// The Rust source `text` with the regions of `lesson` replaced by
/// `todo!()` (all regions kept when `lesson` is `None`) and every marker
/// line removed. Also returns each todo's line (from 1) and message.
pub fn blank(text: &str, lesson: Option<u8>) -> Result<(String, Vec<(usize, String)>), String> {
    let mut out = String::new();
    let mut todos = Vec::new();
    let mut open: Option<(u8, usize)> = None;
    let mut lines_out = 0;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(BEGIN) {
            let (tag, message) = rest
                .split_once(": ")
                .and_then(|(tag, message)| Some((tag.parse::<u8>().ok()?, message)))
                .ok_or_else(|| format!("line {}: a marker needs `lessonNN: text`", index + 1))?;
            if open.is_some() {
                return Err(format!("line {}: a region inside a region", index + 1));
            }
            open = Some((tag, index + 1));
            if Some(tag) == lesson {
                let indent = line.get(..line.len() - trimmed.len()).unwrap_or_default();
                let escaped = format!("lesson{tag:02}: {message}")
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('{', "{{")
                    .replace('}', "}}");
                let _ = writeln!(out, "{indent}todo!(\"{escaped}\");");
                lines_out += 1;
                todos.push((lines_out, format!("lesson{tag:02}: {message}")));
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(END) {
            let tag = rest.trim_end_matches('.').parse::<u8>().ok();
            match open.take() {
                Some((open_tag, _)) if Some(open_tag) == tag => {}
                _ => return Err(format!("line {}: an end without its start", index + 1)),
            }
            continue;
        }
        if let Some((tag, _)) = open
            && Some(tag) == lesson
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        lines_out += 1;
    }
    if let Some((_, start)) = open {
        return Err(format!("line {start}: a region without its end"));
    }
    Ok((out, todos))
}

/// The lesson a folder holds a copy of, from its package name.
pub fn copied_lesson(folder: &Path) -> Option<u8> {
    let manifest = fs::read_to_string(folder.join("Cargo.toml")).ok()?;
    manifest.lines().find_map(|line| {
        let name = line.strip_prefix("name = \"")?.strip_suffix('"')?;
        let (_, number) = name.split_once("-lesson")?;
        number.parse().ok()
    })
}

/// Makes the copy of `lesson` in `folder`, which must not exist yet. With
/// `solved`, the reference code stays (the tests build that copy to see it
/// pass). Returns the todos to write.
pub fn start(lesson: u8, folder: &Path, solved: bool) -> Result<Vec<Todo>, String> {
    if folder.exists() {
        return Err(format!(
            "{} exists already; `start` never overwrites your work (remove the \
             folder to start over, or name another with --dir)",
            folder.display()
        ));
    }
    let source = reference(lesson);
    let member = inside_workspace(folder);
    let manifest = manifest(lesson, solved, member)?;
    let mut todos = Vec::new();
    let mut files = Vec::new();
    collect_files(&source.join("src"), &mut files).map_err(|error| error.to_string())?;
    files.sort();
    let mut written = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&source)
            .map_err(|error| error.to_string())?;
        let text = fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let mut text = if path.extension().is_some_and(|extension| extension == "rs") {
            let blanked = blank(&text, (!solved).then_some(lesson))
                .map_err(|error| format!("{}: {error}", path.display()))?;
            let shift = usize::from(relative == Path::new("src/main.rs") && !solved) * 2;
            todos.extend(blanked.1.into_iter().map(|(line, message)| Todo {
                file: relative.to_path_buf(),
                line: line + shift,
                message,
            }));
            blanked.0
        } else {
            text
        };
        if relative == Path::new("src/main.rs") && !solved {
            text = with_allow(&text);
        }
        written.push((folder.join(relative), text));
    }
    written.push((folder.join("Cargo.toml"), manifest));
    if !member {
        let lock = Path::new(WORKSPACE).join("Cargo.lock");
        if let Ok(lock) = fs::read_to_string(lock) {
            written.push((folder.join("Cargo.lock"), lock));
        }
    }
    for (path, text) in written {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|error| error.to_string())?;
        }
        fs::write(&path, text)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    // The todos of `main.rs` move down by the lines `with_allow` adds.
    Ok(todos)
}

/// `main.rs` with `ALLOW` after its doc comment (the `//!` lines), where
/// the crate's attributes go, and a blank line after it.
fn with_allow(text: &str) -> String {
    let mut out = String::new();
    let mut inserted = false;
    for line in text.lines() {
        if !inserted && !line.starts_with("//!") {
            out.push_str(ALLOW);
            inserted = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn collect_files(folder: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Whether `folder` would lie inside a Cargo workspace (a `Cargo.toml`
/// with `[workspace]` in a folder above it), whose member it then is.
fn inside_workspace(folder: &Path) -> bool {
    let absolute = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    absolute.ancestors().skip(1).any(|parent| {
        fs::read_to_string(parent.join("Cargo.toml"))
            .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
    })
}

/// The copy's `Cargo.toml`: the reference lesson's, renamed. A copy
/// outside a workspace becomes a workspace of its own, with the course's
/// dependency versions and lints, and `shared` by absolute path.
fn manifest(lesson: u8, solved: bool, member: bool) -> Result<String, String> {
    let path = reference(lesson).join("Cargo.toml");
    let text = fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let name = package_name(lesson, solved);
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("name = ") {
            let _ = writeln!(out, "name = \"{name}\"");
        } else if let Some(description) = line.strip_prefix("description = \"") {
            let _ = writeln!(out, "description = \"Your copy of {description}");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    if !member {
        out.push('\n');
        out.push_str(&standalone_workspace(None)?);
    }
    Ok(out)
}

/// The course's `[workspace]` for a crate outside the repository: the
/// package fields, dependency versions and lints of the course's own
/// `Cargo.toml`, `shared` by absolute path, and `members` if given.
pub fn standalone_workspace(members: Option<&str>) -> Result<String, String> {
    let root = Path::new(WORKSPACE);
    let text = fs::read_to_string(root.join("Cargo.toml")).map_err(|error| error.to_string())?;
    let shared = std::path::absolute(root.join("shared")).map_err(|error| error.to_string())?;
    let mut out = String::from("[workspace]\nresolver = \"3\"\n");
    if let Some(members) = members {
        let _ = writeln!(out, "members = {members}");
    }
    let mut keep = false;
    for line in text.lines() {
        if line.starts_with('[') {
            keep = line.starts_with("[workspace.");
            if keep {
                out.push('\n');
            }
        }
        if !keep {
            continue;
        }
        if line.starts_with("shared = ") {
            let _ = writeln!(
                out,
                "shared = {{ path = {:?} }}",
                shared.display().to_string()
            );
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(out)
}

/// Builds the copy in `folder` with Cargo, whose messages (compiler errors
/// included) go to our stderr, and returns the path of its program.
pub fn build(folder: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "-q", "--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(folder.join("Cargo.toml"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"reason\":\"compiler-artifact\"")
                && let Some(path) = json_string(&line, "executable")
            {
                executable = Some(PathBuf::from(path));
            }
        }
    }
    let status = child.wait().map_err(|error| error.to_string())?;
    if !status.success() {
        return Err(format!(
            "{} does not build (see the compiler's messages above)",
            folder.display()
        ));
    }
    executable.ok_or_else(|| format!("cargo built no program in {}", folder.display()))
}

/// The string value of `"key":"..."` in a line of JSON (Cargo's messages),
/// with the escapes a path can hold undone.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line.get(start..)?.chars();
    while let Some(char) = chars.next() {
        match char {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            _ => value.push(char),
        }
    }
    None
}

#[cfg(test)]
// A failed assertion is a panic; tests may use them.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SOURCE: &str = "fn a() -> u8 {\n    // Exercise lesson03: add {one}\n    1 + 1\n    \
                          // End of exercise lesson03.\n}\n// Exercise lesson02: keep\nfn b() {}\n\
                          // End of exercise lesson02.\n";

    #[test]
    fn blanks_only_the_regions_of_the_lesson() {
        let (text, todos) = blank(SOURCE, Some(3)).unwrap();
        assert_eq!(
            text,
            "fn a() -> u8 {\n    todo!(\"lesson03: add {{one}}\");\n}\nfn b() {}\n"
        );
        assert_eq!(todos, [(2, "lesson03: add {one}".to_owned())]);
        let (solved, todos) = blank(SOURCE, None).unwrap();
        assert_eq!(solved, "fn a() -> u8 {\n    1 + 1\n}\nfn b() {}\n");
        assert!(todos.is_empty());
    }

    #[test]
    fn broken_markers_are_errors() {
        assert!(blank("// Exercise lesson03: x\n", Some(3)).is_err());
        assert!(blank("// End of exercise lesson03.\n", Some(3)).is_err());
        assert!(blank("// Exercise lesson3 x\n", Some(3)).is_err());
    }

    #[test]
    fn reads_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","executable":"/t/a\\b\"c","fresh":true}"#;
        assert_eq!(json_string(line, "executable").unwrap(), "/t/a\\b\"c");
        assert_eq!(json_string(r#"{"executable":null}"#, "executable"), None);
    }
}
