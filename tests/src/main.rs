//! `grader LESSON`: grades a server by the checks of a lesson.
//!
//! Without options it builds and starts the lesson's reference server;
//! `--cmd` starts your own program, `--addr` talks to a running server.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use grader::checks;
use grader::report;
use grader::server::Server;

/// Grades an HTTP server by the checks of one lesson of the course.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The lesson whose checks to run: lesson02, 02 or 2.
    #[arg(value_parser = parse_lesson)]
    lesson: u8,

    /// Start this command and grade it; {port} is replaced by a free port.
    /// Example: --cmd "python3 my_server.py --port {port}"
    #[arg(long, conflicts_with = "addr")]
    cmd: Option<String>,

    /// Grade the server that already listens at this address.
    #[arg(long)]
    addr: Option<SocketAddr>,

    /// Only list the lesson's checks.
    #[arg(long)]
    list: bool,
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
        return exit_code(
            report::print_list(&mut out, checks::for_lesson(cli.lesson)),
            0,
        );
    }

    let server = match (&cli.cmd, cli.addr) {
        (Some(command), _) => Server::start_command(command),
        (None, Some(address)) => Server::running_at(address),
        (None, None) => Server::start_lesson(cli.lesson),
    };
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let (mut passed, mut failed) = (0, 0);
    for check in checks::for_lesson(cli.lesson) {
        let result = check.run(server.address());
        if result.is_ok() {
            passed += 1;
        } else {
            failed += 1;
        }
        if let Err(error) = report::print_result(&mut out, check, &result) {
            return exit_code(Err(error), 0);
        }
        let _ = out.flush();
    }
    let printed = report::print_summary(&mut out, passed, failed);
    exit_code(printed, if failed == 0 { 0 } else { 1 })
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
