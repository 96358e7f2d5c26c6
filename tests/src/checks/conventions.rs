//! The course's conventions: choices the lessons make where HTTP allows
//! several answers, or habits that hold until a later lesson changes them.
//! Each is graded once, here, and by no other check, so that a correct
//! server that chose otherwise fails one clearly named check instead of
//! every check that happens to meet the convention on its way.

use std::time::Duration;

use super::{
    Failure, LAST_LESSON_WITH_REQUEST_PAGE, SIMPLE, VERSION_0_9, answered, connect, expect_status,
    expect_status_in, files, large_header_section_request, send,
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

/// Errors explain themselves in text/plain; from lesson 05 on a 404 is a
/// small HTML page, which a browser shows better.
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
    if session.lesson() > LAST_LESSON_WITH_REQUEST_PAGE {
        let exchange = expect_status(session, &Request::get(files::MISSING).bytes(), 404)?;
        let content_type = exchange.response.field("Content-Type").unwrap_or_default();
        if !content_type.starts_with("text/html") {
            return Err(Failure::new(
                &exchange,
                format!("the course's 404 is a small text/html page, not {content_type}"),
            ));
        }
    }
    Ok(())
}

/// The course's choice where several statuses are right.
pub(super) fn status_choices(session: &Session) -> Result<(), Failure> {
    status_choices_in_order(session).map_err(|failure| Failure {
        problem: format!(
            "{} (the other status is valid HTTP too; this is the course's choice)",
            failure.problem
        ),
        ..failure
    })
}

fn status_choices_in_order(session: &Session) -> Result<(), Failure> {
    let lesson = session.lesson();
    expect_status(session, &large_header_section_request(), 431)?;
    if lesson >= 3 {
        expect_status(session, VERSION_0_9, 505)?;
    }
    if lesson > LAST_LESSON_WITH_REQUEST_PAGE {
        for target in files::LINKS_OUT {
            expect_status(session, &Request::get(target).bytes(), 404)?;
        }
        if lesson <= LAST_LESSON_WITHOUT_LISTINGS {
            expect_status(
                session,
                &Request::get(files::FOLDER_WITHOUT_INDEX).bytes(),
                404,
            )?;
        }
        for target in files::INVALID_ESCAPES {
            expect_status(session, &Request::get(target).bytes(), 400)?;
        }
    }
    Ok(())
}
