//! The German edition of the book (`docs/po/de.po`) is complete and up to
//! date with the English text.
//!
//! The book is translated the way Comprehensive Rust is: every paragraph,
//! heading, list item and table of the English chapters is a message in a
//! gettext catalog, and the German edition replaces each with its
//! translation while mdBook builds it (the `mdbook-gettext` preprocessor of
//! mdbook-i18n-helpers). The messages are cut from the Markdown exactly as
//! `mdbook-xgettext` cuts them, by the same library, so this test needs no
//! mdBook installed. It fails when:
//!
//! - a message of the English book has no German translation, or only a
//!   fuzzy one (msgmerge marks a translation fuzzy when the English
//!   paragraph it belongs to has changed: the German is then outdated);
//! - the catalog holds a translation for English text that no longer
//!   exists (left behind by a change; it would hide a missing one);
//! - a prose message is "translated" by copying the English;
//! - a code block, transcript or diagram of a German page differs from the
//!   English one: students must see the same bytes in both editions.
//!
//! The translation runs before mdBook expands `{{#include}}`, so the lessons'
//! code that chapters include never enters the catalog: it is the same file
//! in both editions.
//!
//! How to carry a change of the English text into German is described in
//! `docs/ARCHITECTURE.md` ("The German edition"); in short:
//!
//! ```sh
//! DIY_HTTP_WRITE_POT=1 cargo test -p grader --test translation
//! msgmerge --update --backup=none docs/po/de.po docs/po/messages.pot
//! ```
//!
//! then translate what is new or fuzzy, and remove the `fuzzy` flag.

// A test reports failure by panicking; the workspace lints that forbid
// panics (which protect the servers from network input) do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use mdbook_i18n_helpers::{
    extract_events, extract_messages, reconstruct_markdown, translate_events,
};
use polib::catalog::Catalog;
use polib::message::{Message, MessageMutView, MessageView};
use polib::metadata::CatalogMetadata;
use pulldown_cmark::{Event, Tag, TagEnd};

/// The language of the translated edition, and the name of its catalog.
const LANGUAGE: &str = "de";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn source_folder() -> PathBuf {
    root().join("docs/src")
}

/// One message of the English book, and every place it occurs.
struct EnglishMessage {
    sources: Vec<String>,
    /// Whether every place is inside a code block: a string or a comment
    /// of a listing, which stays as it is in German.
    in_code: bool,
}

/// The chapters that `SUMMARY.md` lists, as paths relative to `docs/src`, in
/// the book's order.
fn chapters(summary: &str) -> Vec<String> {
    let mut chapters = Vec::new();
    for line in summary.lines() {
        let Some(start) = line.find("](") else {
            continue;
        };
        let rest = &line[start + 2..];
        let Some(end) = rest.find(')') else {
            continue;
        };
        let path = &rest[..end];
        if !path.is_empty() && !chapters.iter().any(|known| known == path) {
            chapters.push(path.to_owned());
        }
    }
    chapters
}

/// A summary entry without its link: `[Lesson 01](lesson01.md)` becomes
/// `Lesson 01`, as `mdbook-xgettext` records it.
fn strip_link(text: &str) -> String {
    let events: Vec<(usize, Event)> = extract_events(text, None)
        .into_iter()
        .filter(|(_, event)| {
            !matches!(
                event,
                Event::Start(Tag::Link { .. }) | Event::End(TagEnd::Link)
            )
        })
        .map(|(_, event)| (0, event))
        .collect();
    reconstruct_markdown(&events, None).unwrap().0
}

/// Every message of the English book, in the order `mdbook-xgettext` finds
/// them: the summary's titles first, then every chapter's.
fn english_messages() -> BTreeMap<String, EnglishMessage> {
    let mut messages: BTreeMap<String, EnglishMessage> = BTreeMap::new();
    let mut add = |msgid: String, source: String, in_code: bool| {
        let message = messages.entry(msgid).or_insert_with(|| EnglishMessage {
            sources: Vec::new(),
            in_code: true,
        });
        message.sources.push(source);
        message.in_code &= in_code;
    };
    let summary = fs::read_to_string(source_folder().join("SUMMARY.md")).unwrap();
    for (line, message) in extract_messages(&summary).unwrap() {
        let msgid = strip_link(&message.message);
        add(msgid, format!("src/SUMMARY.md:{line}"), false);
    }
    for chapter in chapters(&summary) {
        let text = fs::read_to_string(source_folder().join(&chapter)).unwrap();
        let code_lines = code_block_lines(&extract_events(&text, None));
        for (line, message) in extract_messages(&text).unwrap() {
            let in_code = code_lines.iter().any(|lines| lines.contains(&line));
            add(message.message, format!("src/{chapter}:{line}"), in_code);
        }
    }
    messages
}

/// The lines of every code block of a chapter, from its opening fence to
/// its last line of code.
fn code_block_lines(events: &[(usize, Event)]) -> Vec<std::ops::RangeInclusive<usize>> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for (line, event) in events {
        match (event, current.as_mut()) {
            (Event::Start(Tag::CodeBlock(_)), _) => current = Some((*line, *line)),
            (Event::Text(text), Some((_, last))) => {
                *last = (*last).max(line + text.matches('\n').count());
            }
            (Event::End(TagEnd::CodeBlock), Some(_)) => {
                blocks.extend(current.take().map(|(first, last)| first..=last));
            }
            _ => {}
        }
    }
    blocks
}

fn catalog_path() -> PathBuf {
    root().join(format!("docs/po/{LANGUAGE}.po"))
}

fn load_catalog() -> Catalog {
    let path = catalog_path();
    polib::po_file::parse(&path).unwrap_or_else(|error| {
        panic!("cannot read {}: {error}", path.display());
    })
}

/// Writes the English messages as a template, `docs/po/messages.pot`, for
/// `msgmerge` to carry into the German catalog.
fn write_template(messages: &BTreeMap<String, EnglishMessage>) {
    let mut metadata = CatalogMetadata::new();
    metadata.project_id_version = "diy-http".to_owned();
    metadata.mime_version = "1.0".to_owned();
    metadata.content_type = "text/plain; charset=UTF-8".to_owned();
    metadata.content_transfer_encoding = "8bit".to_owned();
    let mut catalog = Catalog::new(metadata);
    // In the order of the book, so that the template reads like it.
    let mut ordered: Vec<(&String, &EnglishMessage)> = messages.iter().collect();
    ordered.sort_by_key(|(_, message)| first_position(&message.sources[0]));
    for (msgid, message) in ordered {
        catalog.append_or_update(
            Message::build_singular()
                .with_source(message.sources.join("\n"))
                .with_msgid(msgid.clone())
                .done(),
        );
    }
    let path = root().join("docs/po/messages.pot");
    polib::po_file::write(&catalog, &path).unwrap();
    eprintln!("wrote {}", path.display());
}

/// Where a source such as `src/lesson03.md:12` comes in the book, for
/// sorting: the summary first, then the chapters in the summary's order.
fn first_position(source: &str) -> (usize, usize) {
    let summary = fs::read_to_string(source_folder().join("SUMMARY.md")).unwrap();
    let (file, line) = source.rsplit_once(':').unwrap();
    let file = file.strip_prefix("src/").unwrap();
    let index = if file == "SUMMARY.md" {
        0
    } else {
        1 + chapters(&summary)
            .iter()
            .position(|chapter| chapter == file)
            .unwrap()
    };
    (index, line.parse().unwrap())
}

/// Whether a message is prose that a reader has to read, as opposed to a
/// name, a number, a command or a table cell that is the same in German.
fn is_prose(message: &str) -> bool {
    // An mdBook directive, and a status line such as `431 Request Header
    // Fields Too Large` (its reason phrase is English in every edition).
    if message.starts_with("{{#")
        || message
            .get(..4)
            .is_some_and(|code| code.ends_with(' ') && code.trim().parse::<u16>().is_ok())
    {
        return false;
    }
    // Code spans, links' addresses and HTML tags are not words to translate.
    let mut words = 0;
    let mut in_code = false;
    for part in message.split('`') {
        if !in_code {
            words += part
                .split(|c: char| !c.is_alphabetic())
                .filter(|word| word.chars().count() > 2)
                .count();
        }
        in_code = !in_code;
    }
    words > 4
}

/// The fenced and indented code blocks of a chapter, in order, each with its
/// info string and its text.
fn code_blocks(events: &[(usize, Event)]) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (line, event) in events {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    pulldown_cmark::CodeBlockKind::Fenced(info) => format!("```{info}\n"),
                    pulldown_cmark::CodeBlockKind::Indented => "(indented)\n".to_owned(),
                };
                current = Some((*line, info));
            }
            Event::Text(text) => {
                if let Some((_, block)) = current.as_mut() {
                    block.push_str(text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// What is wrong with the translation of `chapter` in `catalog`: code blocks
/// that differ from the English ones.
fn code_block_differences(chapter: &str, catalog: &Catalog) -> Vec<String> {
    let text = fs::read_to_string(source_folder().join(chapter)).unwrap();
    let english = extract_events(&text, None);
    let german = translate_events(&english, catalog).unwrap_or_else(|error| {
        panic!("src/{chapter}: the translation does not fit the English Markdown: {error}")
    });
    let english_blocks = code_blocks(&english);
    let german_blocks = code_blocks(&german);
    let mut problems = Vec::new();
    if english_blocks.len() != german_blocks.len() {
        problems.push(format!(
            "src/{chapter}: {} code blocks in English, {} in German",
            english_blocks.len(),
            german_blocks.len()
        ));
    }
    for ((line, english_block), (_, german_block)) in english_blocks.iter().zip(&german_blocks) {
        if english_block != german_block {
            problems.push(format!(
                "src/{chapter}:{line}: this code block differs in German; code, \
                 transcripts and diagrams must be the same bytes in both editions"
            ));
        }
    }
    problems
}

fn shorten(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let short: String = first_line.chars().take(70).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Everything that keeps `catalog` from being a complete, current
/// translation of the English `messages`.
fn problems(messages: &BTreeMap<String, EnglishMessage>, catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    for (msgid, message) in messages {
        let place = &message.sources[0];
        let Some(entry) = catalog.find_message(None, msgid, None) else {
            problems.push(format!("{place}: not translated: {}", shorten(msgid)));
            continue;
        };
        if entry.is_fuzzy() {
            problems.push(format!(
                "{place}: the English changed, the German is outdated (fuzzy): {}",
                shorten(msgid)
            ));
        } else if !entry.is_translated() {
            problems.push(format!("{place}: not translated: {}", shorten(msgid)));
        } else if entry.msgstr().unwrap() == msgid && is_prose(msgid) && !message.in_code {
            problems.push(format!(
                "{place}: the \"translation\" is the English text: {}",
                shorten(msgid)
            ));
        }
    }
    for entry in catalog.messages() {
        if !entry.msgid().is_empty() && !messages.contains_key(entry.msgid()) {
            problems.push(format!(
                "{}: translates English text that is no longer in the book: {}",
                catalog_path().display(),
                shorten(entry.msgid())
            ));
        }
    }
    let summary = fs::read_to_string(source_folder().join("SUMMARY.md")).unwrap();
    for chapter in chapters(&summary) {
        problems.extend(code_block_differences(&chapter, catalog));
    }
    problems
}

#[test]
fn the_german_edition_is_complete_and_up_to_date() {
    let messages = english_messages();
    if std::env::var_os("DIY_HTTP_WRITE_POT").is_some() {
        write_template(&messages);
    }
    let problems = problems(&messages, &load_catalog());
    assert!(
        problems.is_empty(),
        "The German edition ({}) is not in step with the English book.\n\
         {} problems:\n  {}\n\n\
         To carry English changes into German (see docs/ARCHITECTURE.md, \"The German edition\"):\n  \
         DIY_HTTP_WRITE_POT=1 cargo test -p grader --test translation\n  \
         msgmerge --update --backup=none docs/po/de.po docs/po/messages.pot\n\
         then translate the new and fuzzy entries and remove their `fuzzy` flag.",
        catalog_path().display(),
        problems.len(),
        problems.join("\n  ")
    );
}

/// The German catalog without the translation of one English paragraph.
fn catalog_without(msgid: &str) -> Catalog {
    let mut catalog = load_catalog();
    let before = catalog.count();
    catalog.messages_mut().for_each(|mut entry| {
        if entry.msgid() == msgid {
            *entry.msgstr_mut().unwrap() = String::new();
        }
    });
    assert_eq!(catalog.count(), before);
    catalog
}

#[test]
fn an_untranslated_paragraph_is_found() {
    let messages = english_messages();
    // The first prose paragraph of lesson 01.
    let (msgid, _) = messages
        .iter()
        .find(|(msgid, message)| {
            message.sources[0].starts_with("src/lesson01.md:") && is_prose(msgid)
        })
        .unwrap();
    let found = problems(&messages, &catalog_without(msgid));
    assert!(
        found
            .iter()
            .any(|problem| problem.contains("not translated")),
        "{found:?}"
    );
}

#[test]
fn a_changed_code_block_is_found() {
    let english_text =
        "Send this:\n\n```sh\nprintf \"GET / HTTP/1.1\\r\\n\"  # the request line\n```\n";
    // A translator who translates everything, the code block's string and
    // comment included.
    let mut catalog = Catalog::new(CatalogMetadata::new());
    for (_, message) in extract_messages(english_text).unwrap() {
        let translated = message.message.replace("Send this", "Schick das");
        let translated = translated
            .replace("GET", "HOLE")
            .replace("request line", "Anfragezeile");
        catalog.append_or_update(
            Message::build_singular()
                .with_msgid(message.message.clone())
                .with_msgstr(translated)
                .done(),
        );
    }
    let english = extract_events(english_text, None);
    let german = translate_events(&english, &catalog).unwrap();
    assert_ne!(code_blocks(&english), code_blocks(&german));
}
