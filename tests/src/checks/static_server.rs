//! Lesson 14: folder redirects and listings, and the access log.

use std::fs;
use std::net::IpAddr;
use std::thread;
use std::time::{Duration, Instant};

use super::keep_alive::ask;
use super::posting::expect_location;
use super::{
    ACCESS_LOG, Failure, connect, expect_page, expect_status, expect_status_for_each,
    expect_status_in,
};
use crate::client::Request;
use crate::fixture;
use crate::server::Session;

/// How long the access log may lag behind the responses.
const LOG_DEADLINE: Duration = Duration::from_secs(3);

/// The pause between two looks at the access log.
const LOG_POLL: Duration = Duration::from_millis(20);

pub(super) fn folder_redirect(session: &Session) -> Result<(), Failure> {
    let redirects = [
        ("/guide", "/guide/"),
        ("/guide?x=1&y=2", "/guide/?x=1&y=2"),
        // Copied naively, `//guide/` would send the browser to a host
        // called guide.
        ("//guide", "/guide/"),
        ("/shelf/A%20folder", "/shelf/A%20folder/"),
    ];
    for (target, location) in redirects {
        let exchange = expect_status(session, &Request::get(target).bytes(), 301)?;
        expect_location(&exchange, location)?;
    }
    Ok(())
}

pub(super) fn file_with_slash(session: &Session) -> Result<(), Failure> {
    let targets = ["/style.css/", "/guide/index.html/"];
    expect_status_for_each(session, targets.map(Request::get), 404)
}

/// The entries of `shelf/` as a listing links them, in the order it must
/// show them: folders first, then files, each sorted byte by byte.
const SHELF_ENTRIES: [&str; 5] = ["A folder/", "zeta/", "Z.txt", "a&b #1.txt", "b.txt"];

pub(super) fn folder_listing(session: &Session) -> Result<(), Failure> {
    let target = format!("/{}/", fixture::SHELF);
    let page = expect_page(session, &Request::get(&target).bytes())?;
    let body = page.response.body_text();
    if body.contains("leak-") {
        return Err(Failure::new(
            &page,
            "the listing shows leak-file.txt or leak-folder, symbolic links that lead out of the document root",
        ));
    }
    if body.contains(".hidden") {
        return Err(Failure::new(
            &page,
            "the listing shows .hidden.txt: names that start with a dot are hidden by convention (.git, .env)",
        ));
    }
    if body.contains("a&b #1.txt") {
        return Err(Failure::new(
            &page,
            "the name a&b #1.txt appears unescaped: in HTML, & must be written &amp;",
        ));
    }
    if !body.contains("a&amp;b #1.txt") {
        return Err(Failure::new(
            &page,
            "the listing does not show the file a&b #1.txt (escaped as a&amp;b #1.txt)",
        ));
    }
    let mut listed = Vec::new();
    for link in links(&body) {
        let link = link.strip_prefix(&target).unwrap_or(&link);
        if link.contains([' ', '#', '?']) {
            return Err(Failure::new(
                &page,
                format!(
                    "the link {link:?} is not percent-encoded: a space, # or ? in a link breaks it (a&b #1.txt is a&b%20%231.txt)"
                ),
            ));
        }
        if let Some(name) =
            percent_decode(link).filter(|name| SHELF_ENTRIES.contains(&name.as_str()))
        {
            listed.push(name);
        }
    }
    if let Some(missing) = SHELF_ENTRIES
        .iter()
        .find(|entry| !listed.iter().any(|name| name == *entry))
    {
        return Err(Failure::new(
            &page,
            format!("the listing has no link to {missing} (a folder's link ends with /)"),
        ));
    }
    if listed != SHELF_ENTRIES {
        return Err(Failure::new(
            &page,
            format!(
                "the entries come in the order {listed:?}; folders come first, then files, each sorted by name byte by byte: {SHELF_ENTRIES:?}"
            ),
        ));
    }
    Ok(())
}

/// The targets of the `href` attributes of a page, in order, with the
/// HTML escapes a server may use in them undone.
fn links(page: &str) -> Vec<String> {
    page.split("href=")
        .skip(1)
        .filter_map(|rest| {
            let quote = rest
                .chars()
                .next()
                .filter(|quote| ['"', '\''].contains(quote))?;
            let value = rest.get(1..)?.split(quote).next()?;
            Some(
                value
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// Decodes percent escapes; `None` when one is broken or the result is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(after.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = after.get(2..)?;
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

/// One line of the Common Log Format:
/// `127.0.0.1 - - [24/Nov/2026:09:16:34 +0000] "GET / HTTP/1.1" 200 1082`.
#[derive(Debug, PartialEq, Eq)]
struct LogLine<'a> {
    client: &'a str,
    request_line: &'a str,
    status: &'a str,
    body_bytes: &'a str,
}

impl<'a> LogLine<'a> {
    /// Reads a line of the shape `HOST IDENT USER [DATE] "REQUEST" STATUS
    /// BYTES`, with DATE as `dd/Mon/yyyy:hh:mm:ss +zzzz`, STATUS three
    /// digits and BYTES digits or `-`; `None` for any other shape.
    fn parse(line: &'a str) -> Option<LogLine<'a>> {
        let (client, rest) = line.split_once(' ')?;
        let (_ident, rest) = rest.split_once(' ')?;
        let (_user, rest) = rest.split_once(' ')?;
        let (date, rest) = rest.strip_prefix('[')?.split_once("] \"")?;
        let (request_line, rest) = rest.rsplit_once("\" ")?;
        let (status, body_bytes) = rest.split_once(' ')?;
        let well_formed = !client.is_empty()
            && has_shape(date, "00/Aaa/0000:00:00:00 +0000")
            && has_shape(status, "000")
            && (body_bytes == "-"
                || (!body_bytes.is_empty()
                    && body_bytes.bytes().all(|byte| byte.is_ascii_digit())));
        well_formed.then_some(LogLine {
            client,
            request_line,
            status,
            body_bytes,
        })
    }
}

/// Whether `text` has the shape of `shape`, in which `0` stands for a
/// digit, `A` and `a` for a letter, `+` for a sign, and everything else
/// for itself.
fn has_shape(text: &str, shape: &str) -> bool {
    text.len() == shape.len()
        && text
            .bytes()
            .zip(shape.bytes())
            .all(|(byte, wanted)| match wanted {
                b'0' => byte.is_ascii_digit(),
                b'A' | b'a' => byte.is_ascii_alphabetic(),
                b'+' => byte == b'+' || byte == b'-',
                _ => byte == wanted,
            })
}

pub(super) fn access_log(session: &Session) -> Result<(), Failure> {
    let token = format!("{:016x}", fixture::random_number());
    let requests = [
        Request::get(format!("/style.css?log={token}")),
        Request::head(format!("/index.html?log={token}")),
        Request::get(format!("/no-such-file-{token}.html")),
        Request::get(format!("/all-bytes.bin?log={token}")).field("Range", "bytes=0-9"),
    ];
    let mut connection = connect(session)?;
    let mut expected = Vec::new();
    for request in &requests {
        let exchange = ask(&mut connection, request);
        let response = expect_status_in(session, &exchange, &[200, 206, 404])?;
        let body_bytes = match response.body.len() {
            0 => "-".to_owned(),
            length => length.to_string(),
        };
        let request_line = String::from_utf8_lossy(&request.head_bytes())
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let status = response.code.unwrap_or_default().to_string();
        expected.push((exchange, request_line, status, body_bytes));
    }
    drop(connection);

    let path = session.fixture().access_log();
    let deadline = Instant::now() + LOG_DEADLINE;
    loop {
        let log = fs::read_to_string(&path).unwrap_or_default();
        let problem = expected.iter().find_map(|(exchange, request_line, status, body_bytes)| {
            let quoted = format!("\"{request_line}\"");
            let Some(line) = log.lines().find(|line| line.contains(&quoted)) else {
                let problem = if log.is_empty() {
                    format!(
                        "the access log {} is empty or missing (the server was started with --access-log {{access_log}})",
                        path.display()
                    )
                } else {
                    format!("the access log has no line for the request {quoted}")
                };
                return Some((exchange, problem));
            };
            let problem = match LogLine::parse(line) {
                None => format!(
                    "the access log line {line:?} is not in the Common Log Format: HOST - - [dd/Mon/yyyy:hh:mm:ss +0000] \"REQUEST LINE\" STATUS BYTES"
                ),
                Some(entry) if entry.client.parse::<IpAddr>().is_err() => {
                    format!("the access log line {line:?} should start with the client's IP address")
                }
                Some(entry) if entry.request_line != request_line || entry.status != status || entry.body_bytes != body_bytes => format!(
                    "the access log line {line:?} should end \"{request_line}\" {status} {body_bytes}: the status and the body's bytes sent (- for none)"
                ),
                Some(_) => return None,
            };
            Some((exchange, problem))
        });
        match problem {
            None => return Ok(()),
            Some((exchange, problem)) if Instant::now() >= deadline => {
                return Err(Failure::new(exchange, problem).in_section(ACCESS_LOG));
            }
            Some(_) => thread::sleep(LOG_POLL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_log_format() {
        let line = r#"127.0.0.1 - - [24/Nov/2026:09:16:34 +0000] "GET /a "b" HTTP/1.1" 206 2"#;
        assert_eq!(
            LogLine::parse(line),
            Some(LogLine {
                client: "127.0.0.1",
                request_line: r#"GET /a "b" HTTP/1.1"#,
                status: "206",
                body_bytes: "2",
            })
        );
        for line in [
            r#"127.0.0.1 - - [24/Nov/2026:09:16:34] "GET / HTTP/1.1" 200 2"#,
            r#"127.0.0.1 - - [2026-11-24 09:16:34 +0000] "GET / HTTP/1.1" 200 2"#,
            r#"127.0.0.1 - - [24/Nov/2026:09:16:34 +0000] "GET / HTTP/1.1" 200 0x2"#,
            r#"127.0.0.1 [24/Nov/2026:09:16:34 +0000] "GET / HTTP/1.1" 200 2"#,
        ] {
            assert_eq!(LogLine::parse(line), None, "{line}");
        }
    }

    #[test]
    fn finds_and_decodes_links() {
        let page = r#"<a href="a&amp;b%20%231.txt">x</a> <a href='A%20folder/'>y</a> href=bare"#;
        assert_eq!(links(page), ["a&b%20%231.txt", "A%20folder/"]);
        assert_eq!(
            percent_decode("a&b%20%231.txt").as_deref(),
            Some("a&b #1.txt")
        );
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%c3%28"), None);
    }
}
