//! The course's conventions: choices the lessons make where HTTP allows
//! several answers, or habits that hold until a later lesson changes them.
//! Each is graded once, here, and by no other check, so that a correct
//! server that chose otherwise fails one clearly named check instead of
//! every check that happens to meet the convention on its way.

use std::time::Duration;

use super::{
    Failure, SIMPLE, VERSION_0_9, answered, connect, expect_status, expect_status_in, files,
    large_header_section_request, send,
};
use crate::client::{Ending, Request, TIMEOUT};
use crate::server::Session;

/// The last lesson whose folders without `index.html` get an error (lesson
/// 14 lists them).
const LAST_LESSON_WITHOUT_LISTINGS: u8 = 13;

/// How long a server may take to close after its response.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);

/// Until lesson 11, a server closes after each response, and says so, even
/// when the request (HTTP/1.1 without `Connection: close`) would let the
/// connection stay open. HTTP/1.1 allows both.
pub(super) fn connection_close(session: &Session) -> Result<(), Failure> {
    let mut connection = connect(session)?;
    connection.send(SIMPLE);
    let exchange = connection.next_response(TIMEOUT);
    let response = answered(&exchange)?;
    let says_close = response
        .field("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
    if !says_close {
        return Err(Failure::new(
            &exchange,
            "the response lacks Connection: close (until lesson 11, the course's servers close after every response and say so)",
        ));
    }
    let end = connection.wait_for_close(CLOSE_WITHIN);
    if end.ending != Ending::Closed {
        return Err(Failure::new(
            &end,
            format!(
                "the response says Connection: close, but then {} (waited {} s)",
                end.ending,
                crate::client::seconds(CLOSE_WITHIN)
            ),
        ));
    }
    Ok(())
}

/// Errors explain themselves in text/plain.
pub(super) fn error_media_types(session: &Session) -> Result<(), Failure> {
    // Every server refuses this head, whatever its status for it.
    let exchange = send(session, &large_header_section_request())?;
    let response = expect_status_in(session, &exchange, &[431, 400])?;
    let content_type = response.field("Content-Type").unwrap_or_default();
    if !content_type.starts_with("text/plain") {
        return Err(Failure::new(
            &exchange,
            format!("the course's errors explain themselves in text/plain, not {content_type}"),
        ));
    }
    Ok(())
}

/// From lesson 05 on a 404 is a small HTML page, which a browser shows
/// better than plain text.
pub(super) fn not_found_page(session: &Session) -> Result<(), Failure> {
    let exchange = expect_status(session, &Request::get(files::MISSING).bytes(), 404)?;
    let content_type = exchange.response.field("Content-Type").unwrap_or_default();
    if !content_type.starts_with("text/html") {
        return Err(Failure::new(
            &exchange,
            format!("the course's 404 is a small text/html page, not {content_type}"),
        ));
    }
    Ok(())
}

/// Adds to a failure that the other status would be valid HTTP too.
fn course_choice(failure: Failure) -> Failure {
    Failure {
        problem: format!(
            "{} (this check grades the course's choice where HTTP allows several statuses)",
            failure.problem
        ),
        ..failure
    }
}

/// 431 (not 400) for a head that is too large.
pub(super) fn status_choices(session: &Session) -> Result<(), Failure> {
    expect_status(session, &large_header_section_request(), 431)
        .map(drop)
        .map_err(course_choice)
}

/// 505 (not 400) for HTTP/0.9, which has no version in its request line.
pub(super) fn version_status(session: &Session) -> Result<(), Failure> {
    expect_status(session, VERSION_0_9, 505)
        .map(drop)
        .map_err(course_choice)
}

/// 404 (not 403) for a symbolic link out of the root and, until lesson 14
/// lists them, a folder without index.html; 400 (not 404) for a broken
/// percent escape.
pub(super) fn file_statuses(session: &Session) -> Result<(), Failure> {
    file_statuses_in_order(session).map_err(course_choice)
}

fn file_statuses_in_order(session: &Session) -> Result<(), Failure> {
    if session.lesson() <= LAST_LESSON_WITHOUT_LISTINGS {
        expect_status(
            session,
            &Request::get(files::FOLDER_WITHOUT_INDEX).bytes(),
            404,
        )?;
    }
    for target in files::LINKS_OUT {
        expect_status(session, &Request::get(target).bytes(), 404)?;
    }
    for target in files::INVALID_ESCAPES {
        expect_status(session, &Request::get(target).bytes(), 400)?;
    }
    Ok(())
}
