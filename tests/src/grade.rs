//! Running a lesson's checks and reporting them: what `grader LESSON` does
//! once the server runs.
//!
//! The normal checks run first and decide the exit code; with `--stretch`
//! the stretch checks follow (see `stretch`), reported in a section of
//! their own and never counted. With `--verbose` the exchanges of every
//! check are recorded (see `recording`) and shown.

use std::io::{self, Write};
use std::time::Duration;

use crate::checks::{self, Check};
use crate::recording;
use crate::report::{self, Format, Outcome, Totals, Trouble};
use crate::server::Session;
use crate::stretch;

/// How to grade and report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--format`.
    pub format: Format,
    /// `--verbose`: show what every check sent and received.
    pub verbose: bool,
    /// `--stretch`: also run the stretch checks.
    pub stretch: bool,
}

/// What `grader --help` says about the exit codes.
pub const EXIT_CODES: &str = "Exit codes:
  0  every check passed (stretch checks never count)
  1  at least one check failed
  2  the grader could not run: a bad option, or the server could not be
     started or reached (the reason is on stderr)";

/// Runs the checks of `lesson` against the server of `session` and writes
/// the report to `out`. Returns the totals of the normal checks, which
/// decide the exit code.
pub fn grade(
    session: &mut Session,
    lesson: u8,
    options: Options,
    out: &mut impl Write,
) -> io::Result<Totals> {
    let text = options.format == Format::Text;
    let mut outcomes = Vec::new();
    for check in checks::for_lesson(lesson) {
        let outcome = run(check, session, options.verbose)?;
        if text {
            report::print_outcome(out, &outcome, options.verbose)?;
            out.flush()?;
        }
        outcomes.push(outcome);
    }
    let totals = Totals::of(&outcomes);
    if text {
        report::print_summary(out, totals.passed, totals.failed)?;
    }

    let mut stretch_outcomes = Vec::new();
    if options.stretch {
        if text {
            report::print_stretch_heading(out)?;
        }
        for check in stretch::for_lesson(lesson) {
            let outcome = run(check, session, options.verbose)?;
            if text {
                report::print_outcome(out, &outcome, options.verbose)?;
                out.flush()?;
            }
            stretch_outcomes.push(outcome);
        }
        if text {
            report::print_stretch_summary(out, Totals::of(&stretch_outcomes))?;
        }
    }
    let stretch = options.stretch.then_some(stretch_outcomes.as_slice());
    match options.format {
        Format::Text => {}
        Format::Json => report::write_json(out, lesson, &outcomes, stretch)?,
        Format::Junit => report::write_junit(out, lesson, &outcomes, stretch)?,
    }
    out.flush()?;
    Ok(totals)
}

/// Runs one check, recording its exchanges when `verbose`. When the server
/// dies during the check (a panic, a `todo!()` reached), its last lines go
/// into the outcome and it is started again for the next check; that
/// fails only when it cannot be started again.
fn run(check: &'static Check, session: &mut Session, verbose: bool) -> io::Result<Outcome> {
    if verbose {
        recording::start();
    }
    let lines_before = session.server().lines_printed();
    let result = check.run(session);
    let recorded = if verbose {
        recording::finish()
    } else {
        recording::Recorded::default()
    };
    if result.is_err() {
        // A server that panicked closes its connections while it unwinds,
        // so the check may see the end before the process is gone.
        let _ = session.server_mut().wait_for_exit(EXIT_GRACE);
    }
    let stopped = session.server_mut().exited();
    // When the server died, "no response came back" is only the symptom:
    // the check's own section explains what the server should have done.
    let result = match (result, stopped.is_some()) {
        (Err(mut failure), true) => {
            failure.problem = format!(
                "{} (the server stopped: its last lines are below)",
                failure.problem
            );
            failure.section = None;
            Err(failure)
        }
        (result, _) => result,
    };
    let mut lines = session.server().last_lines(lines_before);
    if stopped.is_none() {
        // A server that lives on: only a thread's panic is worth showing.
        let panic = lines.iter().position(|line| line.contains("panicked at"));
        lines.drain(..panic.unwrap_or(lines.len()));
    }
    let trouble = (stopped.is_some() || !lines.is_empty()).then(|| Trouble {
        stopped: stopped.map(|status| status.to_string()),
        lines,
    });
    if stopped.is_some() {
        session
            .restart()
            .map_err(|error| io::Error::other(format!("cannot start the server again: {error}")))?;
    }
    Ok(Outcome {
        check,
        result,
        recorded,
        trouble,
    })
}

/// How long a failed check waits for a server that may be exiting.
const EXIT_GRACE: Duration = Duration::from_millis(50);

/// Lists the checks of `lesson`, and with `stretch` its stretch checks.
pub fn list(out: &mut impl Write, lesson: u8, stretch: bool) -> io::Result<()> {
    report::print_list(out, checks::for_lesson(lesson))?;
    if stretch {
        report::print_stretch_heading(out)?;
        report::print_list(out, stretch::for_lesson(lesson))?;
    }
    Ok(())
}

/// Reads `--start-timeout`: a positive number of seconds, such as `60` or
/// `2.5`.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| *seconds > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| {
            format!("expected a positive number of seconds, such as 60 or 2.5, not {text:?}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seconds() {
        assert_eq!(parse_seconds("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-1", "soon", "", "inf", "NaN"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
