//! The guestbook page costs the same memory however large the guestbook
//! is: a reference lesson, given a guestbook of almost 20 MB, answers
//! eight GETs of its page (at once, where the lesson serves many clients)
//! while its peak memory grows by a few megabytes at most. Lessons that
//! read the whole file and built the whole page grew by 25 MB (lesson 08,
//! one page at a time) and by 190 MB (lesson 14, eight at once).
//!
//! The memory is the server's peak resident set (`VmHWM` in
//! `/proc/PID/status`), read before and after the GETs. Where there is no
//! `/proc` (macOS, Windows), the test says that it was skipped and passes.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::io::{BufWriter, Write};
use std::thread;

use grader::client::{self, Request};
use grader::fixture::Fixture;
use grader::server::{Program, Session};

/// How many entries the large guestbook has, and how many `<` each
/// message holds: each is stored as `%3C`, three bytes, and shown as
/// `&lt;`, four.
const ENTRIES: usize = 100;
const LETTERS: usize = 64 * 1024;

/// How many GETs of the page the test sends.
const GETS: usize = 8;

/// How much the peak memory may grow, in KiB: a page of the newest entries,
/// its buffers, and a thread or two.
const ALLOWED_GROWTH_KIB: u64 = 12 * 1024;

/// The server's peak resident set in KiB, or `None` without `/proc`.
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes a guestbook of `ENTRIES` long entries in the format of the
/// reference lessons: one form-encoded line per entry.
fn write_large_guestbook(fixture: &Fixture) {
    let file = fs::File::create(fixture.data().join("guestbook.txt")).unwrap();
    let mut file = BufWriter::new(file);
    let message = "%3C".repeat(LETTERS);
    for number in 0..ENTRIES {
        writeln!(file, "name=Visitor{number}&message={message}").unwrap();
    }
    file.flush().unwrap();
}

fn assert_page_memory_is_bounded(lesson: u8) {
    let fixture = Fixture::create().unwrap();
    write_large_guestbook(&fixture);
    let session = Session::launch(Program::Lesson(lesson), fixture).unwrap();
    let pid = session.server().id().unwrap();
    let Some(before) = peak_memory_kib(pid) else {
        eprintln!("skipped: there is no /proc/{pid}/status to read the memory from");
        return;
    };

    let address = session.address();
    let pages: Vec<_> = (0..GETS)
        .map(|_| {
            thread::spawn(move || {
                client::exchange(address, &Request::get("/guestbook").bytes()).unwrap()
            })
        })
        .collect();
    let pages: Vec<_> = pages.into_iter().map(|page| page.join().unwrap()).collect();

    // The memory first: a server that builds the whole page sends more
    // than the grader's client reads, so the pages would fail first.
    let after = peak_memory_kib(pid).unwrap();
    let growth = after.saturating_sub(before);
    assert!(
        growth <= ALLOWED_GROWTH_KIB,
        "lesson{lesson:02}: {GETS} GETs of the guestbook page raised the server's peak memory \
         by {growth} KiB (from {before} to {after} KiB), more than {ALLOWED_GROWTH_KIB} KiB"
    );
    for page in pages {
        assert_eq!(page.response.code, Some(200), "{page:?}");
        let text = page.response.body_text();
        assert!(
            text.contains(&format!("Visitor{}", ENTRIES - 1)),
            "no newest entry"
        );
    }
    eprintln!("lesson{lesson:02}: peak memory {before} KiB, after {GETS} pages {after} KiB");
}

#[test]
fn lesson08_shows_a_large_guestbook_in_bounded_memory() {
    assert_page_memory_is_bounded(8);
}

#[test]
fn lesson14_shows_a_large_guestbook_in_bounded_memory() {
    assert_page_memory_is_bounded(14);
}

#[test]
fn lesson15_shows_a_large_guestbook_in_bounded_memory() {
    assert_page_memory_is_bounded(15);
}
