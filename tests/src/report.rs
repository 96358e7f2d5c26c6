//! Printing the results, in one of three formats (`--format`):
//!
//! - `text` (the default): one line per check as it finishes, details for
//!   each failure (what was sent, the head and the start of the body that
//!   came back, the problem, and where the book explains the rule), and the
//!   closing line `N passed, M failed`. With `--verbose` every check also
//!   shows each exchange it made, so that a passing check can be read too.
//! - `json`: one object, written when every check has run (see `write_json`).
//! - `junit`: a JUnit XML report, which most CI systems display
//!   (see `write_junit`).
//!
//! The stretch checks (`--stretch`) come after the normal ones, in a
//! section of their own, and never count toward the totals.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::checks::{Check, Failure};
use crate::client::Exchange;
use crate::recording::Recorded;

/// How many characters of sent or received bytes a failure shows.
const SHOWN_CHARS: usize = 200;

/// How many bytes of a received body a report shows.
const SHOWN_BODY_BYTES: usize = 200;

const PASSED: Style = AnsiColor::Green.on_default().bold();
const FAILED: Style = AnsiColor::Red.on_default().bold();

/// How the results are written (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines for people, as the checks run.
    #[default]
    Text,
    /// One JSON object, for scripts.
    Json,
    /// A JUnit XML report, for CI systems.
    Junit,
}

/// A check that ran, how it went, and (with `--verbose`) what it sent and
/// received.
#[derive(Debug)]
pub struct Outcome {
    pub check: &'static Check,
    pub result: Result<(), Failure>,
    pub recorded: Recorded,
    /// What went wrong with the server itself during the check, if
    /// anything.
    pub trouble: Option<Trouble>,
}

/// The server under test stopped during a check (a panic, a `todo!()`
/// reached), or one of its threads panicked while it lives on.
#[derive(Debug)]
pub struct Trouble {
    /// How it exited, when it did; it is then started again.
    pub stopped: Option<String>,
    /// Its last lines, which name the file, line and message of a panic.
    pub lines: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }

    /// What the check is worth: 1 when it passed, else 0. A stretch check
    /// is worth nothing (see `write_json`).
    pub fn points(&self) -> usize {
        usize::from(self.passed())
    }
}

/// How many checks passed and failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
}

impl Totals {
    pub fn of(outcomes: &[Outcome]) -> Totals {
        let passed = outcomes.iter().filter(|outcome| outcome.passed()).count();
        Totals {
            passed,
            failed: outcomes.len() - passed,
        }
    }
}

/// Prints one check's result. `out` should be an `anstream` stream, which
/// drops the colours when they are not wanted.
pub fn print_result(
    out: &mut impl Write,
    check: &Check,
    result: &Result<(), Failure>,
) -> io::Result<()> {
    let Err(failure) = result else {
        return writeln!(out, "{PASSED}✔{PASSED:#} {}", check.name);
    };
    writeln!(out, "{FAILED}✘{FAILED:#} {}", check.name)?;
    out.write_all(failure_details(check, failure).as_bytes())
}

/// Prints one check's result, and with `verbose` every exchange it made
/// before the details of a failure.
pub fn print_outcome(out: &mut impl Write, outcome: &Outcome, verbose: bool) -> io::Result<()> {
    let check = outcome.check;
    match &outcome.result {
        Ok(()) => writeln!(out, "{PASSED}✔{PASSED:#} {}", check.name)?,
        Err(_) => writeln!(out, "{FAILED}✘{FAILED:#} {}", check.name)?,
    }
    if verbose {
        let recorded = &outcome.recorded;
        let count = recorded.exchanges.len() + recorded.left_out;
        for (index, exchange) in recorded.exchanges.iter().enumerate() {
            if count > 1 {
                writeln!(out, "    exchange {} of {count}:", index + 1)?;
            }
            out.write_all(exchange_lines(exchange).as_bytes())?;
        }
        if recorded.left_out > 0 {
            writeln!(out, "    ({} more exchanges not shown)", recorded.left_out)?;
        }
    }
    if let Err(failure) = &outcome.result {
        out.write_all(failure_details(check, failure).as_bytes())?;
    }
    if let Some(trouble) = &outcome.trouble {
        print_trouble(out, trouble)?;
    }
    Ok(())
}

/// Says that the server stopped (or a thread of it panicked) and shows its
/// last lines.
fn print_trouble(out: &mut impl Write, trouble: &Trouble) -> io::Result<()> {
    match &trouble.stopped {
        Some(status) => writeln!(
            out,
            "    server:   stopped during this check ({status}); it is started again. \
             Its last lines:"
        )?,
        None => writeln!(out, "    server:   a thread panicked during this check:")?,
    }
    for line in &trouble.lines {
        writeln!(out, "      | {line}")?;
    }
    Ok(())
}

/// The lines under a failed check: the rule, the exchange that showed the
/// problem, the problem and the hint.
pub fn failure_details(check: &Check, failure: &Failure) -> String {
    let mut details = format!("    checks:   {}\n", check.rule);
    if let Some(exchange) = &failure.exchange {
        details.push_str(&exchange_lines(exchange));
    }
    let section = failure.section.unwrap_or(check.section);
    details.push_str(&format!(
        "    problem:  {}\n    hint:     see docs/src/{section}\n",
        failure.problem
    ));
    details
}

/// `sent:`, `received:` (the head) and, when there is one, `body:` (its
/// first bytes), each on a line of its own.
fn exchange_lines(exchange: &Exchange) -> String {
    let mut lines = format!("    sent:     {}\n", shown(&exchange.sent));
    if exchange.received.is_empty() {
        lines.push_str("    received: nothing\n");
        return lines;
    }
    lines.push_str(&format!(
        "    received: {}\n",
        shown(&exchange.response.head)
    ));
    let body = &exchange.response.body;
    if !body.is_empty() {
        lines.push_str(&format!("    body:     {}\n", shown_start(body)));
    }
    lines
}

/// Prints the closing line.
pub fn print_summary(out: &mut impl Write, passed: usize, failed: usize) -> io::Result<()> {
    writeln!(out, "{passed} passed, {failed} failed")
}

/// The line that starts the stretch section.
pub const STRETCH_HEADING: &str =
    "stretch checks (chapter exercises; they never count toward passing the lesson):";

/// Prints the line that starts the stretch section.
pub fn print_stretch_heading(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "\n{STRETCH_HEADING}")
}

/// Prints the closing line of the stretch section.
pub fn print_stretch_summary(out: &mut impl Write, totals: Totals) -> io::Result<()> {
    writeln!(
        out,
        "stretch: {} passed, {} failed (not counted)",
        totals.passed, totals.failed
    )
}

/// Prints the checks of a lesson without running them.
pub fn print_list<'a>(
    out: &mut impl Write,
    checks: impl Iterator<Item = &'a Check>,
) -> io::Result<()> {
    for check in checks {
        writeln!(out, "{:<30} {}", check.name, check.rule)?;
    }
    Ok(())
}

/// Writes the results as one JSON object (and a line end):
///
/// ```json
/// {"lesson": 3, "checks": [{"name": "crlf-line-endings", "passed": true,
///   "points": 1, "message": null, "section": "lesson01.md#line-endings"}],
///  "passed": 1, "failed": 0, "points": 1, "max_points": 1}
/// ```
///
/// Every check is worth one point; `message` is `null` for a passed check
/// and the problem for a failed one, `section` the part of the book that
/// explains it. With `--stretch` the object also has `"stretch": [...]`,
/// the stretch checks in the same shape, each worth 0 points.
pub fn write_json(
    out: &mut impl Write,
    lesson: u8,
    outcomes: &[Outcome],
    stretch: Option<&[Outcome]>,
) -> io::Result<()> {
    let totals = Totals::of(outcomes);
    let mut json = format!("{{\"lesson\": {lesson}, \"checks\": ");
    json.push_str(&json_checks(outcomes, 1));
    json.push_str(&format!(
        ", \"passed\": {}, \"failed\": {}, \"points\": {}, \"max_points\": {}",
        totals.passed,
        totals.failed,
        totals.passed,
        outcomes.len()
    ));
    if let Some(stretch) = stretch {
        json.push_str(", \"stretch\": ");
        json.push_str(&json_checks(stretch, 0));
    }
    json.push('}');
    writeln!(out, "{json}")
}

/// The outcomes as a JSON array; a passed check is worth `worth` points.
fn json_checks(outcomes: &[Outcome], worth: usize) -> String {
    let objects: Vec<String> = outcomes
        .iter()
        .map(|outcome| {
            let (message, section) = match &outcome.result {
                Ok(()) => ("null".to_owned(), outcome.check.section),
                Err(failure) => (
                    json_string(&failure.problem),
                    failure.section.unwrap_or(outcome.check.section),
                ),
            };
            format!(
                "{{\"name\": {}, \"passed\": {}, \"points\": {}, \"message\": {message}, \
                 \"section\": {}}}",
                json_string(outcome.check.name),
                outcome.passed(),
                outcome.points() * worth,
                json_string(section),
            )
        })
        .collect();
    format!("[{}]", objects.join(", "))
}

/// A JSON string literal (RFC 8259): quotes, backslashes and control
/// characters escaped, everything else as it is.
pub fn json_string(text: &str) -> String {
    let mut json = String::with_capacity(text.len() + 2);
    json.push('"');
    for character in text.chars() {
        match character {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\n' => json.push_str("\\n"),
            '\r' => json.push_str("\\r"),
            '\t' => json.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                json.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => json.push(other),
        }
    }
    json.push('"');
    json
}

/// Writes the results as a JUnit XML report: a test suite `lessonNN` with
/// one test case per check, and a `<failure>` with the problem as its
/// message and the details (what was sent and received) as its text. With
/// `--stretch` a second suite, `lessonNN-stretch`, holds the stretch
/// checks; one that fails is reported as skipped (the exercise was not
/// done), never as a failure.
pub fn write_junit(
    out: &mut impl Write,
    lesson: u8,
    outcomes: &[Outcome],
    stretch: Option<&[Outcome]>,
) -> io::Result<()> {
    let totals = Totals::of(outcomes);
    let stretch = stretch.unwrap_or_default();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"grader\" tests=\"{}\" failures=\"{}\">\n",
        outcomes.len() + stretch.len(),
        totals.failed
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"lesson{lesson:02}\" tests=\"{}\" failures=\"{}\" errors=\"0\" \
         skipped=\"0\">\n",
        outcomes.len(),
        totals.failed
    ));
    for outcome in outcomes {
        xml.push_str(&junit_case(lesson, "", outcome, "failure"));
    }
    xml.push_str("  </testsuite>\n");
    if !stretch.is_empty() {
        let skipped = Totals::of(stretch).failed;
        xml.push_str(&format!(
            "  <testsuite name=\"lesson{lesson:02}-stretch\" tests=\"{}\" failures=\"0\" \
             errors=\"0\" skipped=\"{skipped}\">\n",
            stretch.len()
        ));
        for outcome in stretch {
            xml.push_str(&junit_case(lesson, "-stretch", outcome, "skipped"));
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

/// One `<testcase>`; a failed check gets an element named `failed_as`.
fn junit_case(lesson: u8, suffix: &str, outcome: &Outcome, failed_as: &str) -> String {
    let name = xml_escape(outcome.check.name);
    let open = format!("    <testcase name=\"{name}\" classname=\"lesson{lesson:02}{suffix}\"");
    let Err(failure) = &outcome.result else {
        return format!("{open}/>\n");
    };
    format!(
        "{open}>\n      <{failed_as} message=\"{}\">{}</{failed_as}>\n    </testcase>\n",
        xml_escape(&failure.problem),
        xml_escape(&failure_details(outcome.check, failure)),
    )
}

/// Text made safe for XML, in element content and in attribute values:
/// the five special characters as entities, and the control characters
/// XML 1.0 does not allow as `\xNN`.
pub fn xml_escape(text: &str) -> String {
    let mut xml = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            '\n' | '\t' => xml.push(character),
            '\r' => xml.push_str("&#13;"),
            control if u32::from(control) < 0x20 || control == '\u{7f}' => {
                xml.push_str(&format!("\\x{:02x}", u32::from(control)));
            }
            other => xml.push(other),
        }
    }
    xml
}

/// Bytes as a quoted, escaped string (`"GET / HTTP/1.1\r\n..."`). Past
/// `SHOWN_CHARS` characters only the start and the end are shown, since
/// the end of a long request is where its head ends.
fn shown(bytes: &[u8]) -> String {
    let escaped = bytes.escape_ascii().to_string();
    let length = escaped.chars().count();
    if length <= SHOWN_CHARS {
        return format!("\"{escaped}\"");
    }
    let start: String = escaped.chars().take(SHOWN_CHARS * 2 / 3).collect();
    let end: String = escaped.chars().skip(length - SHOWN_CHARS / 3).collect();
    format!("\"{start}...{end}\" ({} bytes)", bytes.len())
}

/// The first `SHOWN_BODY_BYTES` bytes, escaped and quoted like `shown`,
/// with the whole length when there are more.
fn shown_start(bytes: &[u8]) -> String {
    match bytes.get(..SHOWN_BODY_BYTES) {
        Some(start) if bytes.len() > SHOWN_BODY_BYTES => {
            format!("\"{}...\" ({} bytes)", start.escape_ascii(), bytes.len())
        }
        _ => format!("\"{}\"", bytes.escape_ascii()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_bytes_escaped_and_short() {
        assert_eq!(shown(b"GET /\r\n\x00"), r#""GET /\r\n\x00""#);
        let long = shown(&[b'a'; 1000]);
        assert!(long.ends_with("aaa\" (1000 bytes)"));
        assert!(long.len() < SHOWN_CHARS + 40);
    }

    #[test]
    fn shows_the_start_of_a_body() {
        assert_eq!(shown_start(b"Hallo\n\"Welt\""), r#""Hallo\n\"Welt\"""#);
        let long = shown_start(&[b'b'; 500]);
        assert!(long.starts_with("\"bbb"), "{long}");
        assert!(long.ends_with("bbb...\" (500 bytes)"), "{long}");
        assert_eq!(long.matches('b').count(), SHOWN_BODY_BYTES + 1);
    }

    #[test]
    fn escapes_json_strings() {
        assert_eq!(json_string("plain"), r#""plain""#);
        assert_eq!(
            json_string("a \"quote\", a \\ and\r\n\t\u{1}ü"),
            r#""a \"quote\", a \\ and\r\n\t\u0001ü""#
        );
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml_escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
        );
        assert_eq!(xml_escape("a\u{0}b\u{1b}c\r\n"), "a\\x00b\\x1bc&#13;\n");
    }
}
