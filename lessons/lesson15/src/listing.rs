//! Folder listings: for a folder without `index.html`, a page that links to
//! everything in it, as servers have offered since the early web.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use crate::error::HttpError;
use crate::files::{file_error, percent_encode, resolve_inside};
use crate::response::{Response, Status, escape_html, http_date};

/// One line of the listing.
struct ListedEntry {
    name: String,
    is_folder: bool,
    size: u64,
    modified: Option<SystemTime>,
}

/// Answers with a page that lists `folder`, whose URL path is made of
/// `segments` (empty for the root).
pub fn folder_listing(
    document_root: &Path,
    folder: &Path,
    segments: &[String],
) -> Result<Response, HttpError> {
    // Exercise lesson14: an HTML page that lists the folder, folders first, names escaped
    let mut entries = Vec::new();
    for entry in fs::read_dir(folder).map_err(file_error)? {
        let entry = entry.map_err(file_error)?;
        // A name that is not UTF-8 could not be requested: targets are
        // decoded as UTF-8 (see `files.rs`). So it is not listed either.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Names that start with a dot are hidden by convention (`.git`,
        // `.env`); like nginx, we leave them out of listings.
        if name.starts_with('.') {
            continue;
        }
        // Symbolic links are followed, and those that lead out of the root
        // are left out: the listing must not show what we refuse to serve.
        let Ok(real_path) = resolve_inside(document_root, &entry.path()) else {
            continue;
        };
        let Ok(metadata) = real_path.metadata() else {
            continue;
        };
        // Special files such as named pipes are not served, so not listed.
        if !metadata.is_file() && !metadata.is_dir() {
            continue;
        }
        entries.push(ListedEntry {
            name,
            is_folder: metadata.is_dir(),
            size: metadata.len(),
            modified: metadata.modified().ok(),
        });
    }
    // Folders first, then files; each group sorted by name.
    entries.sort_by(|a, b| {
        b.is_folder
            .cmp(&a.is_folder)
            .then_with(|| a.name.cmp(&b.name))
    });

    let folder_path: String = segments
        .iter()
        .map(|segment| format!("{segment}/"))
        .collect();
    let mut rows = String::new();
    if !segments.is_empty() {
        rows.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for entry in &entries {
        rows.push_str(&listing_row(entry));
    }
    // ANCHOR: page
    // The page links the site's style sheet, so that a listing looks like
    // part of the site. A site without `/style.css` costs the browser one
    // 404, and the listing is shown unstyled.
    let page = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head><meta charset=\"utf-8\"><title>Index of /{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/style.css\"></head>\n\
         <body>\n\
         <h1>Index of /{title}</h1>\n\
         <table>\n\
         <tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n\
         {rows}\
         </table>\n\
         </body>\n\
         </html>\n",
        title = escape_html(&folder_path),
    );
    // ANCHOR_END: page
    Ok(Response::html(Status::Ok, page))
    // End of exercise lesson14.
}

/// One table row. The link is percent-encoded, because a name may contain
/// characters that mean something in a URL (`#`, `?`, a space); the text is
/// HTML-escaped, because a name may contain `<`. The link is relative,
/// which works because a folder's URL always ends with `/`.
fn listing_row(entry: &ListedEntry) -> String {
    let (link, text, size) = if entry.is_folder {
        (
            format!("{}/", percent_encode(&entry.name)),
            format!("{}/", escape_html(&entry.name)),
            "-".to_owned(),
        )
    } else {
        (
            percent_encode(&entry.name),
            escape_html(&entry.name),
            entry.size.to_string(),
        )
    };
    let modified = entry.modified.map_or_else(|| "-".to_owned(), http_date);
    format!("<tr><td><a href=\"{link}\">{text}</a></td><td>{size}</td><td>{modified}</td></tr>\n")
}
