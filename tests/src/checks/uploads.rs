//! Lessons 09 and 10: file uploads from an HTML form, sent as
//! `multipart/form-data` to `POST /uploads`.
//!
//! Lesson 09 reads the form and stores nothing: its checks send forms, good
//! and broken, and look at the status, and for a good form at the answer,
//! which must name every file and its exact size in bytes. Lesson 10 stores
//! the files: its checks read them back, and look into the data folder.
//!
//! The checks grade the rules, not one way of keeping them: a server may
//! word its summary as it likes, name stored files as it likes, answer a
//! taken name with 409 or store the file under a fresh name, and answer with
//! HTML or text. They only rely on what the chapters ask of every server:
//! for lesson 09 a 2xx whose body names each file and its size, for lesson
//! 10 201 with a `Location`, a body that names the URL (`/uploads/...`) of
//! every stored file, and `GET` on those URLs.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    Failure, connect, expect_allowed, expect_content, expect_status, expect_status_in, send,
};
use crate::client::{Exchange, Request};
use crate::fixture;
use crate::server::Session;

/// 10^12 bytes, one terabyte: more than any sensible `--max-body`.
const ONE_TERABYTE: &str = "1000000000000";

/// How long we wait for the answer to a head whose body we hold back.
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(3);

/// One part of a form: the field's name, the file name if it is a file,
/// and its bytes.
pub(super) struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn file(filename: &'a str, content: &'a [u8]) -> Part<'a> {
        Part {
            name: "file",
            filename: Some(filename),
            content,
        }
    }
}

/// A boundary of the kind curl makes: 24 dashes and 16 hex digits.
pub(super) fn curl_boundary() -> String {
    format!("------------------------{:016x}", fixture::random_number())
}

/// A boundary of the kind Chrome and Safari make.
fn browser_boundary() -> String {
    let letters = format!("{:016X}", fixture::random_number());
    format!("----WebKitFormBoundary{letters}")
}

/// Encodes `parts` as `multipart/form-data` with `boundary`.
pub(super) fn multipart_body(boundary: &str, parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match part.filename {
            Some(filename) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n",
                part.name
            ),
            None => format!("Content-Disposition: form-data; name=\"{}\"\r\n", part.name),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part.content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// `POST /uploads` with a form of `parts`.
pub(super) fn upload_form(boundary: &str, parts: &[Part]) -> Request {
    form_post(boundary, multipart_body(boundary, parts))
}

/// `POST /uploads` with `body`, announced as a form with `boundary`.
pub(super) fn form_post(boundary: &str, body: impl Into<Vec<u8>>) -> Request {
    Request::post("/uploads")
        .field(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
}

/// Uploads one file the way `curl -F "file=@NAME"` does.
pub(crate) fn upload(filename: &str, content: &[u8]) -> Request {
    upload_form(&curl_boundary(), &[Part::file(filename, content)])
}

/// The path of the `Location` field, alone or from an absolute URL.
pub(super) fn location_path(exchange: &Exchange) -> Option<String> {
    let location = exchange.response.field("Location")?;
    let path = match location.split_once("://") {
        Some((_scheme, rest)) => rest.get(rest.find('/')?..)?,
        None => location,
    };
    Some(path.to_owned())
}

/// Every distinct `/uploads/...` URL the body of the response names, in
/// order.
fn stored_urls(exchange: &Exchange) -> Vec<String> {
    let body = exchange.response.body_text().replace("&amp;", "&");
    let mut urls: Vec<String> = Vec::new();
    for (start, _) in body.match_indices("/uploads/") {
        let url: String = body
            .get(start..)
            .unwrap_or_default()
            .chars()
            .take_while(|&c| !c.is_whitespace() && !"\"'<>".contains(c))
            .collect();
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// Expects 201 with a `Location`, and returns the stored files' URLs: the
/// `Location` first, then the others the body names.
pub(super) fn expect_created(
    session: &Session,
    exchange: &Exchange,
) -> Result<Vec<String>, Failure> {
    expect_status_in(session, exchange, &[201])?;
    let Some(location) = location_path(exchange) else {
        return Err(Failure::new(
            exchange,
            "a 201 Created needs a Location field with the URL of the (first) stored file",
        ));
    };
    let mut urls = vec![location];
    for url in stored_urls(exchange) {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

/// GETs `url` and fails unless it serves exactly `content`.
pub(super) fn expect_served(
    session: &Session,
    url: &str,
    name: &str,
    content: &[u8],
) -> Result<(), Failure> {
    let served = expect_status(session, &Request::get(url).bytes(), 200)?;
    let received = &served.response.body;
    if received == content {
        return Ok(());
    }
    Err(Failure::new(
        &served,
        format!(
            "{url} does not serve the uploaded {name} byte for byte: {} bytes instead of {}",
            received.len(),
            content.len()
        ),
    ))
}

/// Fails unless every one of `files` (name and content) is served by one
/// of `urls`.
fn expect_all_served(
    session: &Session,
    exchange: &Exchange,
    urls: &[String],
    files: &[(&str, &[u8])],
) -> Result<(), Failure> {
    let mut served = Vec::new();
    for url in urls {
        served.push(expect_status(session, &Request::get(url).bytes(), 200)?);
    }
    for (name, content) in files {
        if !served.iter().any(|got| got.response.body == *content) {
            return Err(Failure::new(
                exchange,
                format!(
                    "none of the URLs in the answer ({}) serves the uploaded file {name} byte for byte",
                    urls.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Every file and folder below `folder`, recursively.
fn listing(folder: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                pending.push(path.clone());
            }
            found.insert(path);
        }
    }
    found
}

/// What the data folder holds, without the guestbook, which other checks
/// may write to at any time.
pub(super) fn data_listing(session: &Session) -> BTreeSet<PathBuf> {
    let mut files = listing(&session.fixture().data());
    files.retain(|path| {
        !path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("guestbook"))
    });
    files
}

/// Fails unless the data folder holds what it held `before`.
pub(super) fn expect_nothing_stored(
    session: &Session,
    exchange: &Exchange,
    before: &BTreeSet<PathBuf>,
) -> Result<(), Failure> {
    let after = data_listing(session);
    let new: Vec<String> = after
        .difference(before)
        .map(|path| path.display().to_string())
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        exchange,
        format!(
            "a refused upload must leave nothing behind, but the data folder now also holds {}",
            new.join(", ")
        ),
    ))
}

/// Sends `request` and expects `status`. (Whether the data folder stayed
/// untouched is checked by `refused_stores_nothing`, from lesson 10 on.)
fn expect_refused(session: &Session, request: &Request, status: u16) -> Result<(), Failure> {
    expect_status(session, &request.bytes(), status).map(|_| ())
}

/// A multipart request with `content_type` and a body of one file.
fn with_content_type(content_type: &str, boundary: &str) -> Request {
    let body = multipart_body(boundary, &[Part::file("refused.txt", b"never stored\n")]);
    Request::post("/uploads")
        .field("Content-Type", content_type)
        .body(body)
}

/// A text no earlier grading run has used.
pub(super) fn unique(label: &str) -> String {
    format!("{label}-{:016x}", fixture::random_number())
}

/// The numbers in `text`, with the separators people put between
/// thousands (`100,256`, `100_256`, `100 256` with a narrow space) removed.
fn numbers(text: &str) -> BTreeSet<u64> {
    let mut found = BTreeSet::new();
    let mut digits = String::new();
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        let next_is_digit = characters.peek().is_some_and(char::is_ascii_digit);
        if character.is_ascii_digit() {
            digits.push(character);
        } else if !(",_'\u{a0}\u{202f}".contains(character) && !digits.is_empty() && next_is_digit)
        {
            found.extend(digits.parse::<u64>().ok());
            digits.clear();
        }
    }
    found.extend(digits.parse::<u64>().ok());
    found
}

/// Expects a 2xx answer to a form whose body names every one of `files`
/// (file name and content) and its exact size in bytes.
fn expect_summary(
    session: &Session,
    exchange: &Exchange,
    files: &[(&str, &[u8])],
) -> Result<(), Failure> {
    expect_status_in(session, exchange, &[200, 201, 202, 204])?;
    let body = exchange.response.body_text();
    let sizes = numbers(&body);
    for (name, content) in files {
        if !body.contains(name) {
            return Err(Failure::new(
                exchange,
                format!("the answer to the form does not name the file {name}"),
            ));
        }
        let size = content.len();
        if !sizes.contains(&(size as u64)) {
            return Err(Failure::new(
                exchange,
                format!(
                    "the answer to the form does not give the size of {name}, {size} bytes: \
                     a part's data ends right before CR LF --boundary"
                ),
            ));
        }
    }
    Ok(())
}

/// A file that holds every byte value, CR LF, and lines that only look like
/// delimiters of `boundary`.
fn tricky_content(boundary: &str) -> Vec<u8> {
    let other = curl_boundary();
    let mut content = fixture::every_byte_value();
    content.extend_from_slice(format!("\r\n--{boundary}X is no delimiter\r\n").as_bytes());
    content.extend_from_slice(format!("nor is --{boundary} inside a line\r\n").as_bytes());
    content.extend_from_slice(format!("\r\n--{other}\r\n\r\n").as_bytes());
    content.extend(fixture::pseudo_random_bytes(100_000));
    content.extend_from_slice(b"\r\n-\r\n--\r\n");
    content
}

/// Three files and a text field, as a browser sends them.
fn browser_files() -> [(&'static str, Vec<u8>); 3] {
    [
        ("first.bin", fixture::pseudo_random_bytes(30_000)),
        ("second.txt", b"Line one\r\nLine two\r\n\r\n".to_vec()),
        ("third.bin", fixture::every_byte_value()),
    ]
}

/// The form of `browser_files`, with a text field before the files.
fn browser_form(files: &[(&str, Vec<u8>)]) -> Request {
    let mut parts = vec![Part {
        name: "comment",
        filename: None,
        content: b"A text field, which is not a file.",
    }];
    parts.extend(
        files
            .iter()
            .map(|(name, content)| Part::file(name, content)),
    );
    upload_form(&browser_boundary(), &parts)
}

pub(super) fn read_one_file(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let content = tricky_content(&boundary);
    let request = upload_form(&boundary, &[Part::file("bytes.bin", &content)]);
    let exchange = send(session, &request.bytes())?;
    expect_summary(session, &exchange, &[("bytes.bin", &content)])
}

pub(super) fn read_several_files(session: &Session) -> Result<(), Failure> {
    let files = browser_files();
    let exchange = send(session, &browser_form(&files).bytes())?;
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, content)| (*name, content.as_slice()))
        .collect();
    expect_summary(session, &exchange, &named)
}

pub(super) fn one_file(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let content = tricky_content(&boundary);
    let request = upload_form(&boundary, &[Part::file("bytes.bin", &content)]);
    let exchange = send(session, &request.bytes())?;
    let urls = expect_created(session, &exchange)?;
    let location = urls.first().cloned().unwrap_or_default();
    expect_served(session, &location, "file", &content)
}

pub(super) fn several_files(session: &Session) -> Result<(), Failure> {
    let files = browser_files();
    let exchange = send(session, &browser_form(&files).bytes())?;
    let urls = expect_created(session, &exchange)?;
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, content)| (*name, content.as_slice()))
        .collect();
    expect_all_served(session, &exchange, &urls, &named)
}

pub(super) fn unsafe_names(session: &Session) -> Result<(), Failure> {
    // The server must accept an ordinary upload, or refusing every name
    // below would prove nothing.
    let ordinary = send(session, &upload("ordinary.txt", b"ordinary\n").bytes())?;
    expect_created(session, &ordinary)?;

    let fixture_folder = session.fixture().data().parent().map(Path::to_path_buf);
    let data = session.fixture().data();
    let outside = |folder: &Option<PathBuf>| -> BTreeSet<PathBuf> {
        folder.as_deref().map(listing).unwrap_or_default()
    };
    let before: BTreeSet<PathBuf> = outside(&fixture_folder)
        .into_iter()
        .filter(|path| !path.starts_with(&data))
        .collect();
    let names = [
        "../../escape.txt",
        "../escape.txt",
        "a/b\\c.txt",
        "..\\..\\escape.txt",
        "/tmp/escape.txt",
        ".hidden",
        "..",
        "with space.txt",
        "grüße.txt",
    ];
    for name in names {
        let content = unique(name).into_bytes();
        let exchange = send(session, &upload(name, &content).bytes())?;
        let code = exchange.response.code.unwrap_or_default();
        if (400..500).contains(&code) {
            continue;
        }
        let urls = expect_created(session, &exchange)?;
        expect_all_served(session, &exchange, &urls, &[(name, &content)])?;
    }
    let after: BTreeSet<PathBuf> = outside(&fixture_folder)
        .into_iter()
        .filter(|path| !path.starts_with(&data))
        .collect();
    let escaped: Vec<String> = after
        .difference(&before)
        .map(|path| path.display().to_string())
        .collect();
    if escaped.is_empty() {
        return Ok(());
    }
    Err(Failure::without_exchange(format!(
        "an upload's file name was used as a path: outside the data folder there is now {}",
        escaped.join(", ")
    )))
}

pub(super) fn conflict(session: &Session) -> Result<(), Failure> {
    let name = format!("{}.txt", unique("conflict"));
    let first = b"The first version.\n";
    let exchange = send(session, &upload(&name, first).bytes())?;
    let urls = expect_created(session, &exchange)?;
    let first_url = urls.first().cloned().unwrap_or_default();
    let second = b"The second version, which must not replace the first.\n";
    let exchange = send(session, &upload(&name, second).bytes())?;
    if exchange.response.code == Some(201) {
        let urls = expect_created(session, &exchange)?;
        expect_all_served(session, &exchange, &urls, &[(&name, second)])?;
    } else {
        expect_status_in(session, &exchange, &[409])?;
    }
    expect_served(session, &first_url, "first file", first)
}

pub(super) fn too_large(session: &Session) -> Result<(), Failure> {
    let request = Request::post("/uploads")
        .field(
            "Content-Type",
            format!("multipart/form-data; boundary={}", curl_boundary()),
        )
        .field("Content-Length", ONE_TERABYTE);
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    let answered = connection.wait_for_head(WAIT_FOR_ANSWER).is_some();
    let exchange = connection.finish();
    if !answered {
        return Err(Failure::new(
            &exchange,
            format!(
                "no answer within {} s: an upload larger than the limit must be refused at once, from its Content-Length",
                WAIT_FOR_ANSWER.as_secs()
            ),
        ));
    }
    expect_status_in(session, &exchange, &[413]).map(|_| ())
}

pub(super) fn not_multipart(session: &Session) -> Result<(), Failure> {
    let requests = [
        Request::post("/uploads")
            .field("Content-Type", "application/octet-stream")
            .body("the raw bytes of a file"),
        Request::post("/uploads")
            .field("Content-Type", "application/x-www-form-urlencoded")
            .body("file=not+a+file"),
    ];
    requests
        .iter()
        .try_for_each(|request| expect_refused(session, request, 415))
}

pub(super) fn no_boundary(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let requests = [
        with_content_type("multipart/form-data", &boundary),
        with_content_type("multipart/form-data; boundary=", &boundary),
        with_content_type("multipart/form-data; charset=utf-8", &boundary),
    ];
    requests
        .iter()
        .try_for_each(|request| expect_refused(session, request, 400))
}

pub(super) fn long_boundary(session: &Session) -> Result<(), Failure> {
    let boundary = format!("{}{}", "-".repeat(55), "0123456789abcdef");
    let content_type = format!("multipart/form-data; boundary={boundary}");
    expect_refused(session, &with_content_type(&content_type, &boundary), 400)
}

pub(super) fn no_disposition(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let body = format!(
        "--{boundary}\r\nContent-Type: text/plain\r\n\r\nA part without a name.\r\n--{boundary}--\r\n"
    );
    expect_refused(session, &form_post(&boundary, body), 400)
}

pub(super) fn no_close_delimiter(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let mut body = multipart_body(&boundary, &[Part::file("unclosed.txt", b"No end.\r\n")]);
    // Cut off the close delimiter, and with it the end of the form.
    body.truncate(body.len() - format!("\r\n--{boundary}--\r\n").len());
    body.extend_from_slice(b"\r\n");
    expect_refused(session, &form_post(&boundary, body), 400)
}

pub(super) fn incomplete(session: &Session) -> Result<(), Failure> {
    let content = fixture::pseudo_random_bytes(100_000);
    let request = upload("partial.bin", &content);
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    connection.send(request.body_bytes().get(..40_000).unwrap_or_default());
    // We close our side: the server reads the end of the stream where
    // 60,000 more bytes should have come.
    let exchange = connection.finish();
    expect_status_in(session, &exchange, &[400]).map(|_| ())
}

/// A check of this module, as a value.
type CheckFunction = fn(&Session) -> Result<(), Failure>;

/// A server that stores files must leave nothing behind when it refuses a
/// form: no file, not even a temporary one, for any of the refusals of
/// lesson 09.
pub(super) fn refused_stores_nothing(session: &Session) -> Result<(), Failure> {
    // The server must store an ordinary upload, or storing nothing below
    // would prove nothing.
    let ordinary = send(session, &upload("kept.txt", b"kept\n").bytes())?;
    expect_created(session, &ordinary)?;
    let refusals: [CheckFunction; 7] = [
        not_multipart,
        no_boundary,
        long_boundary,
        no_disposition,
        no_close_delimiter,
        incomplete,
        too_large,
    ];
    for refusal in refusals {
        let before = data_listing(session);
        refusal(session)?;
        let after = data_listing(session);
        let new: Vec<String> = after
            .difference(&before)
            .map(|path| path.display().to_string())
            .collect();
        if !new.is_empty() {
            return Err(Failure::without_exchange(format!(
                "a refused upload must leave nothing behind, but the data folder now also holds {}",
                new.join(", ")
            )));
        }
    }
    Ok(())
}

pub(super) fn no_file(session: &Session) -> Result<(), Failure> {
    let request = upload_form(
        &browser_boundary(),
        &[
            Part {
                name: "file",
                filename: Some(""),
                content: b"",
            },
            Part {
                name: "comment",
                filename: None,
                content: b"no file chosen",
            },
        ],
    );
    let before = data_listing(session);
    let exchange = expect_status(session, &request.bytes(), 400)?;
    expect_nothing_stored(session, &exchange, &before)
}

/// Anybody can upload, so an uploaded HTML page must not run as a page of
/// the site (stored cross-site scripting): it must be served in a sandbox,
/// or as something other than HTML, and in both cases with `nosniff`.
pub(super) fn sandboxed(session: &Session) -> Result<(), Failure> {
    let name = format!("{}.html", unique("page"));
    let page = b"<!DOCTYPE html><script>document.title = 'uploaded';</script>\n";
    let exchange = send(session, &upload(&name, page).bytes())?;
    let urls = expect_created(session, &exchange)?;
    let url = urls.first().cloned().unwrap_or_default();
    let served = expect_status(session, &Request::get(&url).bytes(), 200)?;
    let response = &served.response;
    let is_sandboxed = response
        .field("Content-Security-Policy")
        .is_some_and(|policy| policy.to_ascii_lowercase().contains("sandbox"));
    let content_type = response
        .field("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_shown_as_page = ["html", "svg", "xml"]
        .iter()
        .any(|kind| content_type.contains(kind));
    let forbids_sniffing = response
        .field("X-Content-Type-Options")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("nosniff"));
    if (is_sandboxed || !is_shown_as_page) && forbids_sniffing {
        return Ok(());
    }
    Err(Failure::new(
        &served,
        "an uploaded HTML page would run its scripts as part of this site: serve uploads with \
         Content-Security-Policy: sandbox (or as a type that is not HTML) and \
         X-Content-Type-Options: nosniff",
    ))
}

pub(super) fn allow_lists_post(session: &Session) -> Result<(), Failure> {
    let request = Request::new("PUT", "/uploads").body("x");
    let exchange = expect_status(session, &request.bytes(), 405)?;
    expect_allowed(&exchange, &["POST"])
}

/// Fails unless `exchange` served `content` (for checks of later lessons
/// that store a file and read it back).
pub(super) fn expect_stored(
    session: &Session,
    exchange: &Exchange,
    name: &str,
    content: &[u8],
) -> Result<(), Failure> {
    let urls = expect_created(session, exchange)?;
    let url = urls.first().cloned().unwrap_or_default();
    let served = expect_status(session, &Request::get(&url).bytes(), 200)?;
    let content_type = served
        .response
        .field("Content-Type")
        .unwrap_or_default()
        .to_owned();
    expect_content(&served, name, &content_type, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_form_like_curl() {
        let body = multipart_body("XyZ", &[Part::file("a.txt", b"hi")]);
        assert_eq!(
            String::from_utf8_lossy(&body),
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
             Content-Type: application/octet-stream\r\n\r\nhi\r\n--XyZ--\r\n"
        );
    }

    #[test]
    fn boundaries_have_the_lengths_of_real_ones() {
        assert_eq!(curl_boundary().len(), 40);
        assert!(browser_boundary().starts_with("----WebKitFormBoundary"));
    }
}
