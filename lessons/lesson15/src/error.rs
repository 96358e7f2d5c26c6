//! The one error type of this lesson: everything that can go wrong with a
//! request, each case with the status code that answers it.

use std::io;

use crate::response::Status;

/// Why a request cannot be answered normally.
#[derive(Debug)]
pub enum HttpError {
    /// The request breaks a rule of the HTTP syntax; the text says which.
    BadRequest(&'static str),
    /// The client did not send the rest of its request in time.
    TimedOut,
    /// The file exists, but the operating system does not let us read it.
    Forbidden,
    /// There is no such file inside the document root.
    NotFound,
    /// The method is one HTTP defines, but this server does not allow it
    /// here. The response lists the methods it does allow.
    MethodNotAllowed {
        method: String,
        allowed: &'static str,
    },
    /// `If-Match` or `If-Unmodified-Since` names a version of the file
    /// that is no longer the current one.
    PreconditionFailed,
    /// The requested byte range lies outside the file, whose size is given.
    RangeNotSatisfiable(u64),
    /// An upload would replace a file that already exists.
    Conflict,
    /// A POST without `Content-Length`: we cannot tell where its body ends.
    LengthRequired,
    /// The body is larger than the limit, which is given in bytes.
    ContentTooLarge(u64),
    /// The body is in a format this server does not accept here.
    UnsupportedMediaType,
    /// An upload that is not a form sent as `multipart/form-data`.
    NotMultipart,
    /// The body is sent with `Transfer-Encoding`, which this lesson does not
    /// implement.
    TransferEncodingNotImplemented,
    /// The request line does not fit into `MAX_HEAD_BYTES`. Almost all of a
    /// request line is its target, so this means the target is too long.
    UriTooLong,
    /// The head as a whole does not fit into `MAX_HEAD_BYTES`.
    HeadTooLarge,
    /// Every connection slot is taken; the client should try again soon.
    Overloaded,
    /// The method is well-formed, but this server does not implement it.
    NotImplemented(String),
    /// The version is well-formed, but its major number is not 1.
    VersionNotSupported(String),
    /// Reading from the connection or a file failed, for example because
    /// the client reset the connection. If it was the connection, there is
    /// usually nobody left to answer.
    Io(io::Error),
    /// Storing what the request sends would take more room than this server
    /// may use (`--max-guestbook`, `--max-storage`); the text says which.
    InsufficientStorage(&'static str),
}

// ANCHOR: status
impl HttpError {
    /// The status code that answers this error.
    pub fn status(&self) -> Status {
        match self {
            HttpError::BadRequest(_) => Status::BadRequest,
            HttpError::Forbidden => Status::Forbidden,
            HttpError::NotFound => Status::NotFound,
            HttpError::MethodNotAllowed { .. } => Status::MethodNotAllowed,
            HttpError::PreconditionFailed => Status::PreconditionFailed,
            HttpError::RangeNotSatisfiable(_) => Status::RangeNotSatisfiable,
            HttpError::Conflict => Status::Conflict,
            HttpError::LengthRequired => Status::LengthRequired,
            HttpError::ContentTooLarge(_) => Status::ContentTooLarge,
            HttpError::UnsupportedMediaType => Status::UnsupportedMediaType,
            HttpError::NotMultipart => Status::UnsupportedMediaType,
            HttpError::TransferEncodingNotImplemented => Status::NotImplemented,
            HttpError::TimedOut => Status::RequestTimeout,
            HttpError::UriTooLong => Status::UriTooLong,
            HttpError::HeadTooLarge => Status::RequestHeaderFieldsTooLarge,
            HttpError::Overloaded => Status::ServiceUnavailable,
            HttpError::NotImplemented(_) => Status::NotImplemented,
            HttpError::VersionNotSupported(_) => Status::HttpVersionNotSupported,
            HttpError::Io(_) => Status::InternalServerError,
            HttpError::InsufficientStorage(_) => Status::InsufficientStorage,
        }
    }
    // ANCHOR_END: status

    /// One sentence for the client that says what was wrong.
    pub fn explanation(&self) -> String {
        match self {
            HttpError::BadRequest(rule) => (*rule).to_owned(),
            HttpError::Forbidden => "this server may not read that file".to_owned(),
            HttpError::NotFound => "there is no such file on this server".to_owned(),
            HttpError::MethodNotAllowed { method, allowed } => {
                format!("{method} is not allowed here; use one of: {allowed}")
            }
            HttpError::PreconditionFailed => {
                "the file is no longer the version the request names (If-Match or If-Unmodified-Since)"
                    .to_owned()
            }
            HttpError::RangeNotSatisfiable(size) => {
                format!("the requested range lies outside the file, which has {size} bytes")
            }
            HttpError::Conflict => {
                "a file with this name exists already, and uploads never replace files".to_owned()
            }
            HttpError::LengthRequired => {
                "a POST needs a Content-Length field that says how long its body is".to_owned()
            }
            HttpError::ContentTooLarge(limit) => {
                format!("the body is larger than this server accepts here ({limit} bytes)")
            }
            HttpError::UnsupportedMediaType => {
                "send the form as application/x-www-form-urlencoded".to_owned()
            }
            HttpError::NotMultipart => {
                "send the files as a form encoded as multipart/form-data".to_owned()
            }
            HttpError::TransferEncodingNotImplemented => {
                "this server does not implement Transfer-Encoding; send Content-Length instead"
                    .to_owned()
            }
            HttpError::TimedOut => "the request did not arrive in time".to_owned(),
            HttpError::UriTooLong => "the request line is too long".to_owned(),
            HttpError::HeadTooLarge => "the request head is too large".to_owned(),
            HttpError::Overloaded => {
                "the server is busy with too many connections; try again in a moment".to_owned()
            }
            HttpError::NotImplemented(method) => {
                format!("this server does not implement the method {method}")
            }
            HttpError::VersionNotSupported(version) => {
                format!("this server speaks HTTP/1.0 and HTTP/1.1, not {version}")
            }
            // The details (which file, which error) are for whoever runs the
            // server, not for the client; `respond` reports them.
            HttpError::Io(_) => "something went wrong on the server while answering".to_owned(),
            HttpError::InsufficientStorage(problem) => (*problem).to_owned(),
        }
    }
}

/// Lets `?` turn a failed read into an `HttpError`. A read timeout shows up
/// as `WouldBlock` on Unix and as `TimedOut` on Windows.
impl From<io::Error> for HttpError {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::TimedOut,
            _ => HttpError::Io(error),
        }
    }
}
