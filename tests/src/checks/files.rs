//! Lesson 05: serving the files of the document root, and nothing else.

use std::path::Path;
use std::thread;

use super::{
    Failure, expect_allowed, expect_file, expect_status, expect_status_in, percent_encode, send,
};
use crate::client::{Ending, Request};
use crate::fixture::{self, SiteFile};
use crate::server::Session;

pub(super) fn index_for_root(session: &Session) -> Result<(), Failure> {
    expect_file(session, &Request::get("/"), &fixture::INDEX).map(drop)
}

pub(super) fn folder_index(session: &Session) -> Result<(), Failure> {
    expect_file(session, &Request::get("/guide/"), &fixture::GUIDE_INDEX).map(drop)
}

/// A folder without an index: 404 (nothing to show) and 403 (not shown)
/// are both right; the course's 404 is graded by `convention-status-choices`.
pub(super) fn folder_without_index(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, &Request::get(FOLDER_WITHOUT_INDEX).bytes())?;
    expect_status_in(session, &exchange, &[404, 403]).map(drop)
}

/// The folder of the test site that has no `index.html`.
pub(super) const FOLDER_WITHOUT_INDEX: &str = "/attic/";

/// A missing file: 404 with a body that explains it (in any media type:
/// the course's text/html page is `convention-error-media-types`).
pub(super) fn missing_file(session: &Session) -> Result<(), Failure> {
    expect_status(session, &Request::get(MISSING).bytes(), 404).map(drop)
}

/// A file the test site does not have.
pub(super) const MISSING: &str = "/no-such-file.html";

/// Checks that `target` serves `file`.
fn serves(session: &Session, target: &str, file: &SiteFile) -> Result<(), Failure> {
    expect_file(session, &Request::get(target), file).map(drop)
}

pub(super) fn percent_encoded_space(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::SPACED_NAME.target, &fixture::SPACED_NAME)
}

pub(super) fn percent_encoded_umlaut(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::UMLAUT_NAME.target, &fixture::UMLAUT_NAME)
}

pub(super) fn query_ignored(session: &Session) -> Result<(), Failure> {
    serves(session, "/style.css?v=1&lang=de", &fixture::STYLE)
}

pub(super) fn absolute_form_file(session: &Session) -> Result<(), Failure> {
    serves(session, "http://localhost/style.css", &fixture::STYLE)
}

pub(super) fn dot_and_empty_segments(session: &Session) -> Result<(), Failure> {
    serves(session, "//style.css", &fixture::STYLE)?;
    serves(session, "/./guide//index.html", &fixture::GUIDE_INDEX)
}

/// Targets with broken percent escapes, or escapes that are not UTF-8.
pub(super) const INVALID_ESCAPES: [&str; 3] = ["/%zz.html", "/style.css%4", "/%c3%28.txt"];

/// A target that cannot be decoded is a bad request (400) or names no
/// file (404); the course's 400 is graded by `convention-status-choices`.
pub(super) fn invalid_percent_escape(session: &Session) -> Result<(), Failure> {
    for target in INVALID_ESCAPES {
        let exchange = send(session, &Request::get(target).bytes())?;
        expect_status_in(session, &exchange, &[400, 404])?;
    }
    Ok(())
}

pub(super) fn css_file(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::STYLE.target, &fixture::STYLE)
}

pub(super) fn png_file(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::IMAGE.target, &fixture::IMAGE)
}

pub(super) fn all_byte_values(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::ALL_BYTES.target, &fixture::ALL_BYTES)
}

pub(super) fn unknown_extension(session: &Session) -> Result<(), Failure> {
    serves(
        session,
        fixture::UNKNOWN_EXTENSION.target,
        &fixture::UNKNOWN_EXTENSION,
    )
}

pub(super) fn large_file(session: &Session) -> Result<(), Failure> {
    serves(session, fixture::LARGE.target, &fixture::LARGE)
}

/// Targets that try to reach `secret.txt`, which lies beside the document
/// root, or other places outside it. Each is a trick that has worked
/// against some real server. Symbolic links are not among them: following
/// one is a choice of the server's owner (nginx and Apache do by default),
/// graded once, by `symlink-out-of-root`.
pub fn escape_targets(secret: &Path) -> Vec<Vec<u8>> {
    let secret = secret.to_string_lossy();
    let mut targets: Vec<Vec<u8>> = [
        // Plain climbing, also from a subfolder and after skipped segments.
        "/../secret.txt",
        "/guide/../../secret.txt",
        "/./../secret.txt",
        "//../secret.txt",
        "/.//..//secret.txt",
        // Encoded dots, whole or in part, in either case.
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/guide/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e//secret.txt",
        // Encoded slashes and backslashes that only appear after decoding.
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/%5c..%5csecret.txt",
        // A raw backslash, which Windows takes for a separator.
        "/guide\\..\\..\\secret.txt",
        // NUL bytes, encoded or raw, which cut C strings short.
        "/../secret.txt%00.html",
        "/..%00/secret.txt",
        "/..\0/secret.txt",
        // Overlong UTF-8 for `.` and `/`, and double encoding.
        "/%c0%ae%c0%ae/secret.txt",
        "/..%c0%afsecret.txt",
        "/%252e%252e/secret.txt",
        "/..%252fsecret.txt",
        // Names that only look like `..`.
        "/.../secret.txt",
        "/..;/secret.txt",
        // The absolute form, with and without encoding.
        "http://localhost/../secret.txt",
        "http://localhost/%2e%2e/secret.txt",
        "http://localhost/..%2fsecret.txt",
    ]
    .iter()
    .map(|target| target.as_bytes().to_vec())
    .collect();
    // The secret's absolute path: joined to the root naively, an absolute
    // path replaces the root (Rust's `Path::join` and Python's
    // `os.path.join` both do that).
    targets.push(format!("/{secret}").into_bytes());
    targets.push(format!("/{}", percent_encode(&secret)).into_bytes());
    targets.push(format!("file://{secret}").into_bytes());
    targets
}

pub(super) fn path_escapes(session: &Session) -> Result<(), Failure> {
    let marker = session.fixture().marker();
    for target in escape_targets(&session.fixture().secret_path()) {
        let exchange = send(session, &Request::get(&target).bytes())?;
        if exchange
            .received
            .windows(marker.len())
            .any(|window| window == marker.as_bytes())
        {
            return Err(Failure::new(
                &exchange,
                "the response contains the content of secret.txt, a file outside the document root",
            ));
        }
        expect_status_in(session, &exchange, &[400, 403, 404])?;
    }
    Ok(())
}

/// Symbolic links inside the root that lead out of it.
pub(super) const LINKS_OUT: [&str; 2] = ["/secret-link.txt", "/outside/secret.txt"];

/// A link out of the root is refused (403) or hidden (404); the course's
/// 404 is graded by `convention-status-choices`.
pub(super) fn symlink_out_of_root(session: &Session) -> Result<(), Failure> {
    for target in LINKS_OUT {
        let exchange = send(session, &Request::get(target).bytes())?;
        expect_status_in(session, &exchange, &[404, 403])?;
    }
    Ok(())
}

pub(super) fn named_pipe(session: &Session) -> Result<(), Failure> {
    let target = format!("/{}", fixture::PIPE);
    let exchange = send(session, &Request::get(&target).bytes())?;
    if matches!(exchange.ending, Ending::TimedOut(_)) {
        // The server probably opened the pipe and waits for a writer. Be
        // that writer, so that it can go on with the next check.
        let pipe = session.fixture().root().join(fixture::PIPE);
        thread::spawn(move || std::fs::OpenOptions::new().write(true).open(pipe));
        return Err(Failure::new(
            &exchange,
            "no answer: the server seems to wait for the named pipe to deliver data; check that a path is a regular file before opening it",
        ));
    }
    expect_status_in(session, &exchange, &[404]).map(drop)
}

pub(super) fn methods_not_allowed(session: &Session) -> Result<(), Failure> {
    for method in ["POST", "PUT", "DELETE"] {
        let request = Request::new(method, "/index.html").body("x=1");
        let exchange = expect_status(session, &request.bytes(), 405)?;
        expect_allowed(&exchange, &["GET"])?;
    }
    expect_status(session, &Request::new("BREW", "/").bytes(), 501).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_many_different_escape_targets() {
        let mut targets = escape_targets(Path::new("/tmp/grader-1/secret.txt"));
        let count = targets.len();
        targets.sort();
        targets.dedup();
        assert_eq!(targets.len(), count);
        assert!(count >= 25);
        assert!(targets.contains(&b"/%2Ftmp%2Fgrader-1%2Fsecret.txt".to_vec()));
        // The rule says how many there are.
        let check = super::super::CHECKS
            .iter()
            .find(|check| check.name == "path-escapes")
            .map(|check| check.rule);
        assert!(check.is_some_and(|rule| rule.starts_with(&format!("{count} targets"))));
    }
}
