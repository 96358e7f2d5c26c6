//! The file system is input too: no file name, date, type, permission or
//! link in the document root may make a lesson panic or misbehave.
//!
//! The test adds a folder of hostile entries to the grader's site: files
//! dated before 1970, after the server's clock and after the year 9999,
//! names that are not UTF-8, names with line breaks, `%` or HTML in them, a
//! very long name, a dangling link, two loops of links, a named pipe, an
//! unreadable file and an empty one. Then every lesson from 05 on gets GET
//! and HEAD for each name (percent-encoded), a conditional GET, two ranges,
//! and the folder itself (a listing from lesson 14 on). Every request must
//! get an answer that is not a 5xx, every `Last-Modified` must be a date
//! no later than the response's `Date` (RFC 9110, section 8.8.2.1), and the
//! server must never print a panic message.
//!
//! Where the file system refuses a date (ext4 stops at the year 2446), the
//! test says so and goes on with the date it got; it prefers `/dev/shm`, a
//! `tmpfs` that keeps any year.

#![cfg(unix)]
// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grader::client::{self, Request};
use grader::fixture::Fixture;
use grader::server::{Program, Session};

/// The folder of hostile entries, below the document root.
const FOLDER: &str = "hostile";

/// A year, in seconds, near enough.
const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The first second of the year 10000, which no HTTP date can show.
const YEAR_10000: u64 = 253_402_300_800;

/// Regular files and their modification times (`None`: now).
fn dated_files() -> Vec<(&'static [u8], Option<SystemTime>)> {
    vec![
        (
            b"moon-landing-1969.txt",
            Some(UNIX_EPOCH - Duration::from_secs(14_182_940)),
        ),
        (b"year-1900.txt", Some(UNIX_EPOCH - 70 * YEAR)),
        (b"next-year.txt", Some(SystemTime::now() + YEAR)),
        (
            b"year-10000.txt",
            Some(UNIX_EPOCH + Duration::from_secs(YEAR_10000)),
        ),
        (
            b"year-50000.txt",
            Some(UNIX_EPOCH + Duration::from_secs(YEAR_10000) + 40_000 * YEAR),
        ),
        (b"not-utf-8-\xff\xfe.txt", None),
        (b"line\nbreak.txt", None),
        (b"carriage\rreturn.txt", None),
        (b"100%.txt", None),
        (b"%41%2F.txt", None),
        (b"<i>&amp; \"quoted\" <i>.txt", None),
        (b"question? hash#.txt", None),
        (b"tab\there.txt", None),
    ]
}

/// Builds the hostile folder in `root` and returns the names in it.
fn build(root: &Path) -> Vec<Vec<u8>> {
    let folder = root.join(FOLDER);
    fs::create_dir(&folder).unwrap();
    let mut names = Vec::new();
    for (name, modified) in dated_files() {
        let path = folder.join(OsStr::from_bytes(name));
        fs::write(&path, b"0123456789 hostile\n").unwrap();
        if let Some(modified) = modified {
            set_modified(&path, modified);
        }
        names.push(name.to_vec());
    }
    // The longest name Linux allows, 255 bytes.
    let long_name = format!("{}.txt", "x".repeat(251));
    fs::write(folder.join(&long_name), b"long\n").unwrap();
    names.push(long_name.into_bytes());

    fs::write(folder.join("empty.txt"), b"").unwrap();
    names.push(b"empty.txt".to_vec());

    let unreadable = folder.join("unreadable.txt");
    fs::write(&unreadable, b"nobody may read this\n").unwrap();
    fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o000)).unwrap();
    names.push(b"unreadable.txt".to_vec());

    let old_folder = folder.join("old-folder");
    fs::create_dir(&old_folder).unwrap();
    fs::write(old_folder.join("inside.txt"), b"inside\n").unwrap();
    set_modified(&old_folder, UNIX_EPOCH - 10 * YEAR);
    names.push(b"old-folder".to_vec());
    names.push(b"old-folder/inside.txt".to_vec());

    let links: [(&str, &str); 5] = [
        ("dangling", "nowhere"),
        ("loop-a", "loop-b"),
        ("loop-b", "loop-a"),
        ("self-loop", "self-loop"),
        ("folder-loop", "."),
    ];
    for (link, destination) in links {
        symlink(destination, folder.join(link)).unwrap();
        names.push(link.as_bytes().to_vec());
    }
    names.push(b"folder-loop/folder-loop/folder-loop/empty.txt".to_vec());

    let fifo = folder.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|status| status.success()) {
        names.push(b"fifo".to_vec());
    } else {
        eprintln!("mkfifo failed: the test goes on without a named pipe");
    }
    names
}

/// Dates `path`; says so when the file system keeps another date.
fn set_modified(path: &Path, modified: SystemTime) {
    let result = File::open(path).and_then(|file| file.set_modified(modified));
    let kept = fs::metadata(path).and_then(|metadata| metadata.modified());
    match (result, kept) {
        (Ok(()), Ok(kept)) if kept == modified => {}
        (result, kept) => eprintln!(
            "the file system did not keep {modified:?} for {} ({result:?}); it has {kept:?}",
            path.display()
        ),
    }
}

/// Every byte but ASCII letters, digits, `-`, `.` and `_` as `%XX`;
/// slashes between names stay.
fn percent_encode(name: &[u8]) -> String {
    name.iter()
        .map(|&byte| {
            if byte.is_ascii_alphanumeric() || b"-._/".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The requests for one name: GET, HEAD, a conditional GET, ranges.
fn requests_for(target: &str) -> Vec<Request> {
    let get = || Request::get(target).field("Connection", "close");
    vec![
        get(),
        Request::head(target).field("Connection", "close"),
        get().field("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
        get().field("If-Modified-Since", "Fri, 31 Dec 9999 23:59:59 GMT"),
        get().field("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
        get().field("Range", "bytes=-5"),
        get()
            .field("Range", "bytes=0-0")
            .field("If-Range", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ]
}

/// What is wrong with the answer to `request`, if anything.
fn problem(session: &Session, request: &Request) -> Option<String> {
    let exchange = match client::exchange(session.address(), &request.bytes()) {
        Ok(exchange) => exchange,
        Err(error) => return Some(format!("cannot connect: {error}")),
    };
    let response = &exchange.response;
    let Some(code) = response.code else {
        return Some(format!("no answer ({})", exchange.ending));
    };
    if code >= 500 {
        return Some(format!("{code}: {}", response.body_text().trim()));
    }
    if let Some(last_modified) = response.field("Last-Modified") {
        let Ok(modified) = httpdate::parse_http_date(last_modified) else {
            return Some(format!("Last-Modified: {last_modified} is not a date"));
        };
        let date = response.field("Date").unwrap_or_default();
        let Ok(date) = httpdate::parse_http_date(date) else {
            return Some(format!("Date: {date} is not a date"));
        };
        if modified > date {
            return Some(format!(
                "Last-Modified: {last_modified} is later than the response's Date"
            ));
        }
    }
    None
}

fn survives_a_hostile_root(lesson: u8) {
    let shm = Path::new("/dev/shm");
    let fixture = if shm.is_dir() {
        Fixture::create_in(shm).unwrap()
    } else {
        Fixture::create().unwrap()
    };
    let names = build(&fixture.root());
    let session = Session::launch(Program::Lesson(lesson), fixture).unwrap();

    let folder = format!("/{FOLDER}");
    let mut requests = vec![
        Request::get(format!("{folder}/")).field("Connection", "close"),
        Request::get(&folder).field("Connection", "close"),
        Request::head(format!("{folder}/")).field("Connection", "close"),
    ];
    for name in &names {
        requests.extend(requests_for(&format!("{folder}/{}", percent_encode(name))));
    }
    let mut problems = Vec::new();
    for request in &requests {
        if let Some(problem) = problem(&session, request) {
            let line = request.bytes();
            let line = line.split(|&byte| byte == b'\r').next().unwrap_or_default();
            problems.push(format!("{}: {problem}", String::from_utf8_lossy(line)));
        }
    }
    let output = session.server().output();
    assert!(
        problems.is_empty() && !output.contains("panicked"),
        "lesson{lesson:02} misbehaves over a hostile document root:\n{}\n\nits output:\n{output}",
        problems.join("\n")
    );
}

#[test]
fn lesson05_survives_a_hostile_root() {
    survives_a_hostile_root(5);
}

#[test]
fn lesson06_survives_a_hostile_root() {
    survives_a_hostile_root(6);
}

#[test]
fn lesson07_survives_a_hostile_root() {
    survives_a_hostile_root(7);
}

#[test]
fn lesson08_survives_a_hostile_root() {
    survives_a_hostile_root(8);
}

#[test]
fn lesson09_survives_a_hostile_root() {
    survives_a_hostile_root(9);
}

#[test]
fn lesson10_survives_a_hostile_root() {
    survives_a_hostile_root(10);
}

#[test]
fn lesson11_survives_a_hostile_root() {
    survives_a_hostile_root(11);
}

#[test]
fn lesson12_survives_a_hostile_root() {
    survives_a_hostile_root(12);
}

#[test]
fn lesson13_survives_a_hostile_root() {
    survives_a_hostile_root(13);
}

#[test]
fn lesson14_survives_a_hostile_root() {
    survives_a_hostile_root(14);
}

#[test]
fn lesson15_survives_a_hostile_root() {
    survives_a_hostile_root(15);
}
