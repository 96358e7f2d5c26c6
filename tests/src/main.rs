//! `grader LESSON`: grades a server by the checks of a lesson.
//!
//! Without options it builds and starts the lesson's reference server;
//! `--cmd` starts your own program, `--addr` talks to a running server.
//! From lesson 05 on, the server serves files the grader makes for each
//! run, so `--cmd` must pass them on with `{root}` (and from lesson 08 on
//! `{data}`), and `--addr` cannot be used. Later lessons take the settings
//! the checks rely on from `{head_timeout}` (02), `{body_timeout}` and
//! `{min_body_rate}` (07), `{max_guestbook}` (08), `{max_body}` (09),
//! `{max_storage}` (10), `{idle_timeout}` (11), `{max_connections}` (12) and
//! `{access_log}` (14).
//!
//! The student's path has four subcommands: `start` makes your own copy of
//! a lesson with the new code left as `todo!()` (see `exercise`), `check`
//! builds and grades it, `progress` shows how far you are, and `hint`
//! explains one check step by step (see `hints`).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use grader::checks;
use grader::exercise;
use grader::fixture::Fixture;
use grader::grade::{self, EXIT_CODES};
use grader::hints;
use grader::report::Format;
use grader::server::{
    FIRST_LESSON_WITH_ACCESS_LOG, FIRST_LESSON_WITH_BODIES, FIRST_LESSON_WITH_DATA,
    FIRST_LESSON_WITH_HEAD_TIMEOUT, FIRST_LESSON_WITH_KEEP_ALIVE, FIRST_LESSON_WITH_MAX_BODY,
    FIRST_LESSON_WITH_ROOT, FIRST_LESSON_WITH_THREADS, FIRST_LESSON_WITH_UPLOADS, Program, Server,
    Session,
};

/// Grades an HTTP server by the checks of one lesson of the course.
///
/// `grader lesson03` grades the reference lesson, `--cmd` or `--addr` your
/// own server. To write the server yourself, lesson by lesson: `grader
/// start lesson03` makes your copy of the lesson in exercises/lesson03 with
/// the new code left as todo!(), `grader check lesson03` builds and grades
/// it, `grader progress` shows all lessons, and `grader hint lesson03
/// CHECK` helps with one check.
#[derive(Parser)]
#[command(version, about, args_conflicts_with_subcommands = true, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Step>,

    /// The lesson whose checks to run: lesson03, 03 or 3.
    #[arg(value_parser = parse_lesson, required = true)]
    lesson: Option<u8>,

    /// Start this command and grade it. {port} is replaced by a free port,
    /// {head_timeout} by the seconds a request head may take (lesson 02
    /// on), {body_timeout} and {min_body_rate} by the seconds a body may
    /// take before it must arrive at least at {min_body_rate} bytes per
    /// second (lesson 07 on), {root} by the folder of test files to serve
    /// (lesson 05 on), {data} by an empty folder for the server's data
    /// (lesson 08 on), {max_guestbook} by the most bytes the guestbook may
    /// hold (lesson 08 on), {max_body} by the largest upload to accept, in
    /// bytes (lesson 09 on), {max_storage} by the most bytes all uploads may
    /// hold (lesson 10 on), {idle_timeout}
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

    #[command(flatten)]
    report: ReportOptions,
}

/// How to run the checks and write the report (for grading a lesson and
/// for `check`).
#[derive(Args)]
struct ReportOptions {
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

impl ReportOptions {
    fn grade_options(&self) -> grade::Options {
        if let Some(timeout) = self.start_timeout {
            grader::server::set_start_timeout(timeout);
        }
        grade::Options {
            format: self.format,
            verbose: self.verbose,
            stretch: self.stretch,
        }
    }
}

/// The student's path through the course.
#[derive(Subcommand)]
enum Step {
    /// Make your own copy of a lesson to write: the reference lesson with
    /// the lesson's new code left as todo!(). It never overwrites a copy.
    Start {
        #[arg(value_parser = parse_lesson)]
        lesson: u8,
        /// Where to put the copy (default exercises/lessonNN). Outside a
        /// Cargo workspace the copy is a workspace of its own.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the reference code instead of the todo!()s (package
        /// solved-lessonNN), to see what passes.
        #[arg(long, hide = true)]
        solved: bool,
    },
    /// Build your copy of a lesson and grade it by the lesson's checks.
    /// Exit code 0 when all pass, 1 when one fails, 2 when it does not
    /// build or start.
    Check {
        #[arg(value_parser = parse_lesson)]
        lesson: u8,
        /// The copy to check (default exercises/lessonNN).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        report: ReportOptions,
    },
    /// Show every lesson: not started, k of n checks, or passed. With
    /// --cmd, grade one program against every lesson in order, stopping
    /// at the first it does not pass.
    Progress {
        /// The folder that holds your copies (default exercises).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A command to grade instead of the copies, with the placeholders
        /// of the main --cmd.
        #[arg(long, conflicts_with = "dir")]
        cmd: Option<String>,
    },
    /// Explain one check of a lesson step by step.
    Hint {
        #[arg(value_parser = parse_lesson)]
        lesson: u8,
        /// The check's name, as the report or --list shows it.
        check: String,
    },
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
    match (&cli.command, cli.lesson) {
        (
            Some(Step::Start {
                lesson,
                dir,
                solved,
            }),
            _,
        ) => start_copy(*lesson, dir, *solved),
        (
            Some(Step::Check {
                lesson,
                dir,
                report,
            }),
            _,
        ) => check_copy(*lesson, dir, report),
        (Some(Step::Progress { dir, cmd }), _) => progress(dir.as_deref(), cmd.as_deref()),
        (Some(Step::Hint { lesson, check }), _) => hint(*lesson, check),
        (None, Some(lesson)) => grade_main(&cli, lesson),
        // clap requires the lesson when there is no subcommand.
        (None, None) => ExitCode::from(2),
    }
}

/// `grader lessonNN [--cmd | --addr | --list]`.
fn grade_main(cli: &Cli, lesson: u8) -> ExitCode {
    let mut out = anstream::stdout().lock();
    if cli.list {
        return exit_code(grade::list(&mut out, lesson, cli.report.stretch), 0);
    }
    let options = cli.report.grade_options();
    let session = match start(cli, lesson) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    grade(session, lesson, options, &mut out)
}

/// Runs the lesson's checks, prints the report, and returns the exit code.
fn grade(
    mut session: Session,
    lesson: u8,
    options: grade::Options,
    out: &mut impl Write,
) -> ExitCode {
    match grade::grade(&mut session, lesson, options, out) {
        Ok(totals) => ExitCode::from(if totals.failed == 0 { 0 } else { 1 }),
        Err(error) => {
            let _ = out.flush();
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// `grader start lessonNN`: makes the student's copy.
fn start_copy(lesson: u8, dir: &Option<PathBuf>, solved: bool) -> ExitCode {
    let folder = dir
        .clone()
        .unwrap_or_else(|| exercise::default_folder(lesson));
    match exercise::start(lesson, &folder, solved) {
        Ok(todos) => {
            let package = exercise::package_name(lesson, solved);
            println!(
                "Made {} (package {package}): lesson{:02}'s program with the new code of \
                 lesson{lesson:02} left for you to write.",
                folder.display(),
                lesson.saturating_sub(1).max(1)
            );
            if !todos.is_empty() {
                println!("Write these todo!()s:");
            }
            for todo in &todos {
                println!("  {}:{}: {}", todo.file.display(), todo.line, todo.message);
            }
            println!(
                "Then check your work: cargo run -p grader -- check lesson{lesson:02}{}",
                dir.as_ref()
                    .map(|dir| format!(" --dir {}", dir.display()))
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// `grader check lessonNN`: builds the copy and grades it.
fn check_copy(lesson: u8, dir: &Option<PathBuf>, report: &ReportOptions) -> ExitCode {
    let options = report.grade_options();
    let folder = dir
        .clone()
        .unwrap_or_else(|| exercise::default_folder(lesson));
    let session = match launch_copy(lesson, &folder) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let mut out = anstream::stdout().lock();
    grade(session, lesson, options, &mut out)
}

/// Builds the copy of `lesson` in `folder` and starts it on fresh files.
fn launch_copy(lesson: u8, folder: &Path) -> Result<Session, String> {
    if !folder.join("Cargo.toml").exists() {
        return Err(format!(
            "there is no copy of lesson{lesson:02} in {}: make it with \
             `cargo run -p grader -- start lesson{lesson:02}`",
            folder.display()
        ));
    }
    // A copy linked from elsewhere is built where it lies, in its workspace.
    let folder = folder.canonicalize().map_err(|error| error.to_string())?;
    let path = exercise::build(&folder)?;
    let fixture = Fixture::create().map_err(|error| error.to_string())?;
    Session::launch(Program::Binary { path, lesson }, fixture).map_err(|error| error.to_string())
}

/// `grader progress`: one line per lesson.
fn progress(dir: Option<&Path>, cmd: Option<&str>) -> ExitCode {
    let mut out = anstream::stdout().lock();
    let mut all_passed = true;
    for lesson in 1..=checks::last_lesson() {
        let total = checks::for_lesson(lesson).count();
        let folder = dir.map_or_else(
            || exercise::default_folder(lesson),
            |dir| dir.join(format!("lesson{lesson:02}")),
        );
        let session = match cmd {
            Some(line) => Fixture::create()
                .and_then(|fixture| {
                    let program = Program::Command {
                        line: line.to_owned(),
                        lesson,
                    };
                    Session::launch(program, fixture)
                })
                .map_err(|error| error.to_string()),
            None if !folder.join("Cargo.toml").exists() => {
                all_passed = false;
                let _ = writeln!(out, "lesson{lesson:02}  not started");
                continue;
            }
            None => launch_copy(lesson, &folder),
        };
        let state = match session {
            Ok(mut session) => {
                let quiet = grade::Options::default();
                match grade::grade(&mut session, lesson, quiet, &mut io::sink()) {
                    Ok(totals) if totals.failed == 0 => {
                        format!("passed ({} checks)", totals.passed)
                    }
                    Ok(totals) => format!("{} of {total} checks", totals.passed),
                    Err(error) => format!("stopped: {error}"),
                }
            }
            Err(error) => format!("does not run: {}", first_line(&error)),
        };
        let passed = state.starts_with("passed");
        all_passed &= passed;
        let _ = writeln!(out, "lesson{lesson:02}  {state}");
        let _ = out.flush();
        if cmd.is_some() && !passed {
            let _ = writeln!(
                out,
                "Next: make lesson{lesson:02} pass (cargo run -p grader -- lesson{lesson:02} \
                 --cmd \"...\" shows why it does not)."
            );
            break;
        }
    }
    ExitCode::from(if all_passed { 0 } else { 1 })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `grader hint lessonNN CHECK`.
fn hint(lesson: u8, name: &str) -> ExitCode {
    let Some(check) = checks::for_lesson(lesson).find(|check| check.name == name) else {
        eprintln!(
            "error: lesson{lesson:02} has no check {name:?}; \
             `cargo run -p grader -- lesson{lesson:02} --list` lists them"
        );
        return ExitCode::from(2);
    };
    println!("{}: {}", check.name, check.rule);
    for (number, step) in hints::steps(check).iter().enumerate() {
        println!("{}. {step}", number + 1);
    }
    ExitCode::SUCCESS
}

/// Makes the test files and starts (or finds) the server to grade.
fn start(cli: &Cli, lesson: u8) -> Result<Session, String> {
    if cli.addr.is_some() && lesson >= FIRST_LESSON_WITH_ROOT {
        return Err(format!(
            "--addr cannot grade lesson{:02}: from lesson{FIRST_LESSON_WITH_ROOT:02} on the \
             checks need to know the files the server serves, and the grader makes them \
             fresh for each run. Use --cmd with {{root}} instead, for example \
             --cmd \"python3 my_server.py --port {{port}} --root {{root}}\"",
            lesson
        ));
    }
    let fixture = Fixture::create().map_err(|error| error.to_string())?;
    let started = match (&cli.cmd, cli.addr) {
        (Some(command), _) => {
            warn_about_placeholders(command, lesson);
            let program = Program::Command {
                line: command.clone(),
                lesson,
            };
            Session::launch(program, fixture)
        }
        (None, Some(address)) => {
            Server::running_at(address).map(|server| Session::with_server(server, fixture, lesson))
        }
        (None, None) => Session::launch(Program::Lesson(lesson), fixture),
    };
    started.map_err(|error| error.to_string())
}

/// Warns when `--cmd` does not pass on the folders the lesson's checks
/// expect the server to use.
fn warn_about_placeholders(command: &str, lesson: u8) {
    for (placeholder, since, what) in [
        (
            "{head_timeout}",
            FIRST_LESSON_WITH_HEAD_TIMEOUT,
            "a short deadline for request heads",
        ),
        (
            "{body_timeout}",
            FIRST_LESSON_WITH_BODIES,
            "a short grace period for request bodies",
        ),
        (
            "{min_body_rate}",
            FIRST_LESSON_WITH_BODIES,
            "a minimum rate for request bodies",
        ),
        ("{root}", FIRST_LESSON_WITH_ROOT, "the test files to serve"),
        ("{data}", FIRST_LESSON_WITH_DATA, "a fresh data folder"),
        (
            "{max_guestbook}",
            FIRST_LESSON_WITH_DATA,
            "a small cap on the guestbook",
        ),
        (
            "{max_storage}",
            FIRST_LESSON_WITH_UPLOADS,
            "a small cap on the uploads",
        ),
        (
            "{max_body}",
            FIRST_LESSON_WITH_MAX_BODY,
            "an upload limit the checks test exactly",
        ),
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
