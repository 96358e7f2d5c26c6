//! Printing the results: one line per check, details for each failure, and
//! the closing line `N passed, M failed`.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::checks::{Check, Failure};

/// How many characters of sent or received bytes a failure shows.
const SHOWN_CHARS: usize = 200;

const PASSED: Style = AnsiColor::Green.on_default().bold();
const FAILED: Style = AnsiColor::Red.on_default().bold();

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
    writeln!(out, "    checks:   {}", check.rule)?;
    if let Some(exchange) = &failure.exchange {
        writeln!(out, "    sent:     {}", shown(&exchange.sent))?;
        let received = if exchange.received.is_empty() {
            "nothing".to_owned()
        } else {
            shown(&exchange.response.head)
        };
        writeln!(out, "    received: {received}")?;
    }
    writeln!(out, "    problem:  {}", failure.problem)?;
    let section = failure.section.unwrap_or(check.section);
    writeln!(out, "    hint:     see docs/src/{section}")
}

/// Prints the closing line.
pub fn print_summary(out: &mut impl Write, passed: usize, failed: usize) -> io::Result<()> {
    writeln!(out, "{passed} passed, {failed} failed")
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
}
