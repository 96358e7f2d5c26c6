//! `grader LESSON`: grades a server by the checks of a lesson.
//!
//! Without options it builds and starts the lesson's reference server;
//! `--cmd` starts your own program, `--addr` talks to a running server.
//! From lesson 05 on, the server serves files the grader makes for each
//! run, so `--cmd` must pass them on with `{root}` (and from lesson 08 on
//! `{data}`), and `--addr` cannot be used. Later lessons take the settings
//! the checks rely on from `{idle_timeout}` (11), `{max_connections}` (12)
//! and `{access_log}` (14).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use grader::checks;
use grader::fixture::Fixture;
use grader::grade::{self, EXIT_CODES};
use grader::report::Format;
use grader::server::{
    FIRST_LESSON_WITH_ACCESS_LOG, FIRST_LESSON_WITH_DATA, FIRST_LESSON_WITH_KEEP_ALIVE,
    FIRST_LESSON_WITH_ROOT, FIRST_LESSON_WITH_THREADS, Program, Server, Session,
};

/// Grades an HTTP server by the checks of one lesson of the course.
#[derive(Parser)]
#[command(version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The lesson whose checks to run: lesson03, 03 or 3.
    #[arg(value_parser = parse_lesson)]
    lesson: u8,

    /// Start this command and grade it. {port} is replaced by a free port,
    /// {root} by the folder of test files to serve (lesson 05 on), {data} by
    /// an empty folder for the server's data (lesson 08 on), {idle_timeout}
    /// by the seconds an idle connection stays open (lesson 11 on),
    /// {max_connections} by how many connections to serve at once (lesson
    /// 12 on), {access_log} by the file for the access log (lesson 14 on).
    /// Example: --cmd "python3 my_server.py --port {port} --root {root}"
    #[arg(long, conflicts_with = "addr")]
    cmd: Option<String>,

    /// Grade the server that already listens at this address (lessons 01
    /// to 04 only: later lessons need the grader's test files).
    #[arg(long)]
    addr: Option<SocketAddr>,

    /// Only list the lesson's checks.
    #[arg(long)]
    list: bool,

    /// How to write the results: text for people, json or junit (a JUnit
    /// XML report) for CI. Only the report goes to stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Also show what passing checks sent and received.
    #[arg(long)]
    verbose: bool,

    /// Also run the stretch checks for the chapters' exercises, after the
    /// others; they never count toward passing.
    #[arg(long)]
    stretch: bool,

    /// How long the server may take to start listening (default 10): a
    /// --cmd with a `cargo run` that compiles first needs more.
    #[arg(long, value_name = "SECONDS", value_parser = grade::parse_seconds)]
    start_timeout: Option<Duration>,
}

fn parse_lesson(text: &str) -> Result<u8, String> {
    let last = checks::last_lesson();
    let number = text.strip_prefix("lesson").unwrap_or(text);
    match number.parse::<u8>() {
        Ok(lesson) if (1..=last).contains(&lesson) => Ok(lesson),
        _ => Err(format!(
            "expected a lesson from lesson01 to lesson{last:02} (or just its number)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = anstream::stdout().lock();
    if cli.list {
        return exit_code(grade::list(&mut out, cli.lesson, cli.stretch), 0);
    }
    if let Some(timeout) = cli.start_timeout {
        grader::server::set_start_timeout(timeout);
    }

    let mut session = match start(&cli) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let options = grade::Options {
        format: cli.format,
        verbose: cli.verbose,
        stretch: cli.stretch,
    };
    match grade::grade(&mut session, cli.lesson, options, &mut out) {
        Ok(totals) => ExitCode::from(if totals.failed == 0 { 0 } else { 1 }),
        Err(error) => exit_code(Err(error), 0),
    }
}

/// Makes the test files and starts (or finds) the server to grade.
fn start(cli: &Cli) -> Result<Session, String> {
    if cli.addr.is_some() && cli.lesson >= FIRST_LESSON_WITH_ROOT {
        return Err(format!(
            "--addr cannot grade lesson{:02}: from lesson{FIRST_LESSON_WITH_ROOT:02} on the \
             checks need to know the files the server serves, and the grader makes them \
             fresh for each run. Use --cmd with {{root}} instead, for example \
             --cmd \"python3 my_server.py --port {{port}} --root {{root}}\"",
            cli.lesson
        ));
    }
    let fixture = Fixture::create().map_err(|error| error.to_string())?;
    let started = match (&cli.cmd, cli.addr) {
        (Some(command), _) => {
            warn_about_placeholders(command, cli.lesson);
            let program = Program::Command {
                line: command.clone(),
                lesson: cli.lesson,
            };
            Session::launch(program, fixture)
        }
        (None, Some(address)) => Server::running_at(address)
            .map(|server| Session::with_server(server, fixture, cli.lesson)),
        (None, None) => Session::launch(Program::Lesson(cli.lesson), fixture),
    };
    started.map_err(|error| error.to_string())
}

/// Warns when `--cmd` does not pass on the folders the lesson's checks
/// expect the server to use.
fn warn_about_placeholders(command: &str, lesson: u8) {
    for (placeholder, since, what) in [
        ("{root}", FIRST_LESSON_WITH_ROOT, "the test files to serve"),
        ("{data}", FIRST_LESSON_WITH_DATA, "a fresh data folder"),
        (
            "{idle_timeout}",
            FIRST_LESSON_WITH_KEEP_ALIVE,
            "a short idle timeout",
        ),
        (
            "{max_connections}",
            FIRST_LESSON_WITH_THREADS,
            "a small connection cap",
        ),
        (
            "{access_log}",
            FIRST_LESSON_WITH_ACCESS_LOG,
            "an access log file the grader reads",
        ),
    ] {
        if lesson >= since && !command.contains(placeholder) {
            eprintln!(
                "warning: --cmd has no {placeholder}: the checks of lesson{lesson:02} expect \
                 the server to use {what}, which {placeholder} names"
            );
        }
    }
}

/// The exit code: `code` when the output could be written, else 2.
fn exit_code(printed: std::io::Result<()>, code: u8) -> ExitCode {
    match printed {
        Ok(()) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: cannot write the report: {error}");
            ExitCode::from(2)
        }
    }
}
