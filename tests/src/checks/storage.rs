//! Lessons 08 and 10: the caps on what a server stores. Anybody may sign
//! the guestbook and upload files, so without a cap anybody could fill the
//! disk. The grader starts a server with small caps (`--max-guestbook`,
//! `--max-storage`, see `server.rs`) and expects 507 Insufficient Storage,
//! with nothing stored, once a request would go beyond them.
//!
//! How a server counts its bytes is its own choice (the guestbook's file
//! format, a little room for framing), so the checks use amounts that are
//! clearly within or clearly beyond the cap in any sensible way of
//! counting. Each check starts the server again on an empty data folder,
//! so that it knows what is stored, and does so once more at the end, so
//! that the checks after it find room again.

use std::fs;

use super::uploads::{data_listing, expect_nothing_stored, upload};
use super::{Failure, expect_page, expect_status_in, send};
use crate::client::{Exchange, Request};
use crate::fixture;
use crate::server::{MAX_GUESTBOOK, MAX_STORAGE, Session};

/// How many letters each guestbook entry's message has. Four of them are
/// more than `MAX_GUESTBOOK` holds, one fits with room to spare.
const ENTRY_LETTERS: usize = 20_000;

/// How many entries a server may store before it must refuse one.
const ENTRIES_BEFORE_FULL: usize = 4;

/// A name no earlier grading run has used.
fn unique(label: &str) -> String {
    format!("{label}-{:016x}", fixture::random_number())
}

/// Stops the server, empties its data folder and starts it again.
fn start_afresh(session: &mut Session) -> Result<(), Failure> {
    session.server_mut().stop();
    let data = session.fixture().data();
    let emptied = fs::remove_dir_all(&data).and_then(|()| fs::create_dir_all(&data));
    emptied.map_err(|error| {
        Failure::without_exchange(format!(
            "could not empty the data folder {}: {error}",
            data.display()
        ))
    })?;
    session.restart().map_err(|error| {
        Failure::without_exchange(format!("could not restart the server: {error}"))
    })
}

/// Runs `check` on an empty data folder, and leaves an empty one behind.
fn on_empty_data(
    session: &mut Session,
    check: fn(&Session) -> Result<(), Failure>,
) -> Result<(), Failure> {
    start_afresh(session)?;
    let result = check(session);
    start_afresh(session).and(result)
}

/// Posts a guestbook entry whose name is `name`, with a long message.
fn post_long_entry(session: &Session, name: &str) -> Result<Exchange, Failure> {
    // Letters, digits and `-` need no encoding in a form.
    let body = format!("name={name}&message={}", "a".repeat(ENTRY_LETTERS));
    let request = Request::post("/guestbook")
        .field("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    send(session, &request.bytes())
}

pub(super) fn guestbook_cap(session: &mut Session) -> Result<(), Failure> {
    on_empty_data(session, fill_guestbook)
}

fn fill_guestbook(session: &Session) -> Result<(), Failure> {
    let mut stored: Option<String> = None;
    for _ in 0..ENTRIES_BEFORE_FULL {
        let name = unique("Full");
        let exchange = post_long_entry(session, &name)?;
        let statuses: &[u16] = if stored.is_some() {
            &[303, 507]
        } else {
            &[303]
        };
        let response = expect_status_in(session, &exchange, statuses)?;
        if response.code != Some(507) {
            stored = Some(name);
            continue;
        }
        // Refused: the page must not show the entry, and must still show
        // the last one that was stored.
        let page = expect_page(session, &Request::get("/guestbook").bytes())?;
        let text = page.response.body_text();
        if text.contains(&name) {
            return Err(Failure::new(
                &page,
                format!("the entry of {name} was refused with 507, but the guestbook shows it"),
            ));
        }
        if let Some(last) = stored.filter(|last| !text.contains(last.as_str())) {
            return Err(Failure::new(
                &page,
                format!(
                    "after a refused entry the guestbook no longer shows the newest one, {last}"
                ),
            ));
        }
        return Ok(());
    }
    Err(Failure::without_exchange(format!(
        "the server stored {ENTRIES_BEFORE_FULL} entries of {ENTRY_LETTERS} letters each, more \
         than --max-guestbook {MAX_GUESTBOOK} bytes allow, without answering 507 Insufficient \
         Storage"
    )))
}

pub(super) fn storage_cap(session: &mut Session) -> Result<(), Failure> {
    on_empty_data(session, fill_storage)
}

fn fill_storage(session: &Session) -> Result<(), Failure> {
    // Two files of a third of the cap fit; a third one does not.
    let size = usize::try_from(MAX_STORAGE / 3 + 1).unwrap_or(usize::MAX);
    for _ in 0..2 {
        let request = upload(&format!("{}.bin", unique("fits")), &vec![b'f'; size]);
        let exchange = send(session, &request.bytes())?;
        expect_status_in(session, &exchange, &[201])?;
    }
    let before = data_listing(session);
    let request = upload(&format!("{}.bin", unique("too-much")), &vec![b't'; size]);
    let exchange = send(session, &request.bytes())?;
    expect_status_in(session, &exchange, &[507]).map_err(|failure| Failure {
        problem: format!(
            "three files of {size} bytes are more than --max-storage {MAX_STORAGE} bytes \
                 allow: {}",
            failure.problem
        ),
        ..failure
    })?;
    expect_nothing_stored(session, &exchange, &before)
}
