//! The files a server is graded with, made fresh for every grading run.
//!
//! From lesson 05 on a server serves files, so the grader must know which
//! files there are to judge what comes back. It makes a temporary folder:
//!
//! ```text
//! grader-PID-RANDOM/
//!   secret.txt         a random marker that must never be sent
//!   site/              the document root (--root)
//!     index.html, style.css, images/dot.png, all-bytes.bin, large.bin,
//!     hello world.txt, grüße.txt, readme.xyzzy, guide/index.html,
//!     attic/old.txt (a folder without index.html),
//!     shelf/ (a folder to list: two folders, three files with names to
//!       sort, escape and encode, a hidden .hidden.txt, and two links that
//!       lead out of the root),
//!     secret-link.txt -> ../secret.txt, outside -> .. (symbolic links),
//!     pipe (a named pipe that blocks whoever opens it)
//!     odd/ (files dated before 1970, in the future and in the year 10000,
//!       an empty file, and loop -> loop, a symbolic link to itself)
//!   data/              the data folder of lesson 08 on (--data), empty
//!   access.log         written by the server from lesson 14 on (--access-log)
//! ```
//!
//! Every file's modification time is set to `MODIFIED`, so that lesson 06's
//! `Last-Modified` can be checked. Dropping the `Fixture` removes the folder.

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The modification time of every file: 2001-09-09 01:46:40 UTC, the
/// moment Unix time reached one billion seconds.
pub const MODIFIED_SECONDS: u64 = 1_000_000_000;

/// `MODIFIED_SECONDS` as a point in time.
pub fn modified() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(MODIFIED_SECONDS)
}

/// A file of the test site.
#[derive(Debug, Clone, Copy)]
pub struct SiteFile {
    /// Where it lies below the document root, `/`-separated.
    pub path: &'static str,
    /// A target that names it, percent-encoded where the name needs it.
    pub target: &'static str,
    /// The `Content-Type` a server must send for it.
    pub content_type: &'static str,
    /// What it holds.
    pub content: fn() -> Vec<u8>,
}

pub const INDEX: SiteFile = SiteFile {
    path: "index.html",
    target: "/index.html",
    content_type: "text/html; charset=utf-8",
    content: || {
        b"<!DOCTYPE html>\n<title>Grader site</title>\n<h1>The grader's index page</h1>\n".to_vec()
    },
};

pub const GUIDE_INDEX: SiteFile = SiteFile {
    path: "guide/index.html",
    target: "/guide/index.html",
    content_type: "text/html; charset=utf-8",
    content: || b"<!DOCTYPE html>\n<title>Guide</title>\n<h1>The guide's own index</h1>\n".to_vec(),
};

pub const STYLE: SiteFile = SiteFile {
    path: "style.css",
    target: "/style.css",
    content_type: "text/css; charset=utf-8",
    content: || b"body { font-family: sans-serif; color: #222; }\n".to_vec(),
};

pub const IMAGE: SiteFile = SiteFile {
    path: "images/dot.png",
    target: "/images/dot.png",
    content_type: "image/png",
    content: || PNG_DOT.to_vec(),
};

pub const ALL_BYTES: SiteFile = SiteFile {
    path: "all-bytes.bin",
    target: "/all-bytes.bin",
    content_type: "application/octet-stream",
    content: every_byte_value,
};

pub const LARGE: SiteFile = SiteFile {
    path: "large.bin",
    target: "/large.bin",
    content_type: "application/octet-stream",
    content: || pseudo_random_bytes(600 * 1024),
};

pub const SPACED_NAME: SiteFile = SiteFile {
    path: "hello world.txt",
    target: "/hello%20world.txt",
    content_type: "text/plain; charset=utf-8",
    content: || b"Hello from a file name with a space.\n".to_vec(),
};

pub const UMLAUT_NAME: SiteFile = SiteFile {
    path: "grüße.txt",
    // Lower-case hex digits, which are as valid as upper-case ones.
    target: "/gr%c3%bc%c3%9fe.txt",
    content_type: "text/plain; charset=utf-8",
    content: || "Grüße aus einer Datei mit Umlaut.\n".as_bytes().to_vec(),
};

pub const UNKNOWN_EXTENSION: SiteFile = SiteFile {
    path: "readme.xyzzy",
    target: "/readme.xyzzy",
    content_type: "application/octet-stream",
    content: || b"An extension nobody knows.\n".to_vec(),
};

/// A file in `attic/`, a folder without `index.html`.
pub const ATTIC_FILE: SiteFile = SiteFile {
    path: "attic/old.txt",
    target: "/attic/old.txt",
    content_type: "text/plain; charset=utf-8",
    content: || b"Old things.\n".to_vec(),
};

/// The folder without `index.html` whose listing lesson 14 checks.
pub const SHELF: &str = "shelf";

/// The files of `shelf/`, in the order a listing shows them: first the
/// files in the two folders (which stand for their folders), then the
/// files, each group sorted by name, byte by byte (upper case first).
pub const SHELF_FILES: [SiteFile; 5] = [
    text_file(
        "shelf/A folder/one.txt",
        "/shelf/A%20folder/one.txt",
        || b"In a folder whose name has a space.\n".to_vec(),
    ),
    text_file("shelf/zeta/two.txt", "/shelf/zeta/two.txt", || {
        b"In a folder, which comes before the files.\n".to_vec()
    }),
    text_file("shelf/Z.txt", "/shelf/Z.txt", || {
        b"Upper case sorts first.\n".to_vec()
    }),
    text_file("shelf/a&b #1.txt", "/shelf/a%26b%20%231.txt", || {
        b"A name to escape in HTML and to encode in a link.\n".to_vec()
    }),
    text_file("shelf/b.txt", "/shelf/b.txt", || {
        b"The last one.\n".to_vec()
    }),
];

/// A hidden file in `shelf/`: listings leave names with a leading dot out.
pub const SHELF_HIDDEN: SiteFile = text_file("shelf/.hidden.txt", "/shelf/.hidden.txt", || {
    b"Names that start with a dot are not listed.\n".to_vec()
});

/// A `.txt` file of the site, which is `text/plain; charset=utf-8`.
const fn text_file(path: &'static str, target: &'static str, content: fn() -> Vec<u8>) -> SiteFile {
    SiteFile {
        path,
        target,
        content_type: "text/plain; charset=utf-8",
        content,
    }
}

/// The symbolic links in `shelf/` that lead out of the root (Unix only):
/// to the secret file, and to the folder that holds the root.
pub const SHELF_LEAKS: [(&str, &str); 2] = [
    ("shelf/leak-file.txt", "../../secret.txt"),
    ("shelf/leak-folder", "../.."),
];

/// The folder of files that test how a server copes with what the file
/// system holds (see `hostile.rs` in the checks).
pub const ODD: &str = "odd";

/// A file dated 1969-07-20 20:17:40 UTC, before Unix time began.
pub const PRE_1970: SiteFile = text_file("odd/1969.txt", "/odd/1969.txt", || {
    b"Dated the evening of the first moon landing, before 1970.\n".to_vec()
});

/// A file dated a year after the grading run.
pub const FUTURE: SiteFile = text_file("odd/future.txt", "/odd/future.txt", || {
    b"Dated a year from now.\n".to_vec()
});

/// A file dated in the year 10000, which no HTTP date can show (a file
/// system that cannot store it, such as ext4, keeps its latest date).
pub const YEAR_10000: SiteFile = text_file("odd/year-10000.txt", "/odd/year-10000.txt", || {
    b"Dated in the year 10000.\n".to_vec()
});

/// An empty file.
pub const EMPTY: SiteFile = text_file("odd/empty.txt", "/odd/empty.txt", Vec::new);

/// A symbolic link to itself (Unix only): following it never ends.
pub const SYMLINK_LOOP: &str = "odd/loop";

/// The odd files and the times they get.
fn odd_files() -> [(SiteFile, Option<SystemTime>); 4] {
    [
        (
            PRE_1970,
            UNIX_EPOCH.checked_sub(Duration::from_secs(14_182_940)),
        ),
        (
            FUTURE,
            SystemTime::now().checked_add(Duration::from_secs(365 * 24 * 60 * 60)),
        ),
        (
            YEAR_10000,
            UNIX_EPOCH.checked_add(Duration::from_secs(253_402_300_800)),
        ),
        (EMPTY, None),
    ]
}

/// Every regular file of the site.
pub const SITE_FILES: [SiteFile; 11] = [
    INDEX,
    GUIDE_INDEX,
    STYLE,
    IMAGE,
    ALL_BYTES,
    LARGE,
    SPACED_NAME,
    UMLAUT_NAME,
    UNKNOWN_EXTENSION,
    ATTIC_FILE,
    SiteFile {
        path: "images/readme.txt",
        target: "/images/readme.txt",
        content_type: "text/plain; charset=utf-8",
        content: || b"The images folder has no index.html either.\n".to_vec(),
    },
];

/// The symbolic link to the secret file, inside the root (Unix only).
pub const SECRET_LINK: &str = "secret-link.txt";
/// The symbolic link to the folder that holds the root (Unix only).
pub const OUTSIDE_LINK: &str = "outside";
/// The named pipe inside the root (Unix only).
pub const PIPE: &str = "pipe";

/// A one-pixel PNG image.
const PNG_DOT: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// The bytes 0, 1, ..., 255: a file that any text conversion, any
/// treatment of NUL or of CR LF, would change.
pub fn every_byte_value() -> Vec<u8> {
    (0..=u8::MAX).collect()
}

/// `length` bytes that look random but are the same every time.
pub fn pseudo_random_bytes(length: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..length)
        .map(|_| {
            // xorshift32
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A random number, different in every call and every process.
pub fn random_number() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// The temporary folder of one grading run; dropping it removes it.
#[derive(Debug)]
pub struct Fixture {
    folder: PathBuf,
    marker: String,
}

impl Fixture {
    /// Makes a fresh folder with the site, the secret and the data folder.
    pub fn create() -> io::Result<Fixture> {
        Fixture::create_in(&std::env::temp_dir())
    }

    /// The same, in `parent` instead of the temporary folder: a test that
    /// needs a file system with more room for dates than the usual one (a
    /// `tmpfs` keeps any year, ext4 none after 2446) chooses one here.
    pub fn create_in(parent: &Path) -> io::Result<Fixture> {
        let (folder, number) = loop {
            let number = random_number();
            let folder = parent.join(format!("grader-{}-{number:016x}", std::process::id()));
            match fs::create_dir(&folder) {
                Ok(()) => break (folder, number),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(io::Error::new(
                        error.kind(),
                        format!("cannot make the folder {}: {error}", folder.display()),
                    ));
                }
            }
        };
        // From here on, returning early drops `fixture`, which removes it.
        let fixture = Fixture {
            folder,
            marker: format!("grader-secret-{number:016x}"),
        };
        fixture.fill().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot make the test files in {}: {error}",
                    fixture.folder.display()
                ),
            )
        })?;
        Ok(fixture)
    }

    fn fill(&self) -> io::Result<()> {
        write_file(&self.secret_path(), self.marker.as_bytes())?;
        fs::create_dir(self.data())?;
        let root = self.root();
        for file in SITE_FILES.iter().chain(&SHELF_FILES).chain([&SHELF_HIDDEN]) {
            write_file(&root.join(file.path), &(file.content)())?;
        }
        for (file, modified) in odd_files() {
            let path = root.join(file.path);
            write_file(&path, &(file.content)())?;
            // A file system that cannot store the date keeps the file's
            // usual one, or the nearest it can store; the checks read the
            // date back from the server's answer, so either is fine.
            if let Some(modified) = modified {
                let _ = File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(modified));
            }
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(Path::new("..").join("secret.txt"), root.join(SECRET_LINK))?;
            std::os::unix::fs::symlink("..", root.join(OUTSIDE_LINK))?;
            std::os::unix::fs::symlink("loop", root.join(SYMLINK_LOOP))?;
            for (link, destination) in SHELF_LEAKS {
                std::os::unix::fs::symlink(destination, root.join(link))?;
            }
            // `mkfifo` is part of every Unix; without it there is no pipe,
            // and the check for it finds a missing file, which it accepts.
            let _ = std::process::Command::new("mkfifo")
                .arg(root.join(PIPE))
                .stderr(std::process::Stdio::null())
                .status();
        }
        Ok(())
    }

    /// The document root, to be given as `--root`.
    pub fn root(&self) -> PathBuf {
        self.folder.join("site")
    }

    /// The data folder, to be given as `--data`.
    pub fn data(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// The access log file, to be given as `--access-log`. The server
    /// makes it.
    pub fn access_log(&self) -> PathBuf {
        self.folder.join("access.log")
    }

    /// The secret file beside the root.
    pub fn secret_path(&self) -> PathBuf {
        self.folder.join("secret.txt")
    }

    /// What the secret file holds: a text that appears nowhere else, so
    /// that any response containing it must have read the secret file.
    pub fn marker(&self) -> &str {
        &self.marker
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // `remove_dir_all` removes symbolic links, not what they lead to.
        let _ = fs::remove_dir_all(&self.folder);
    }
}

/// Writes a file, making its folder first, and dates it `MODIFIED_SECONDS`.
fn write_file(path: &Path, content: &[u8]) -> io::Result<()> {
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder)?;
    }
    fs::write(path, content)?;
    File::options()
        .write(true)
        .open(path)?
        .set_modified(modified())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // failed assertions are the point

    use super::*;

    #[test]
    fn makes_the_files_and_removes_them() {
        let fixture = Fixture::create().unwrap();
        let folder = fixture.folder.clone();
        for file in SITE_FILES.iter().chain(&SHELF_FILES).chain([&SHELF_HIDDEN]) {
            let path = fixture.root().join(file.path);
            assert_eq!(fs::read(&path).unwrap(), (file.content)(), "{}", file.path);
            assert_eq!(path.metadata().unwrap().modified().unwrap(), modified());
        }
        assert_eq!(
            fs::read_to_string(fixture.secret_path()).unwrap(),
            fixture.marker()
        );
        #[cfg(unix)]
        for link in [OUTSIDE_LINK, SHELF_LEAKS[1].0] {
            let secret = fixture.root().join(link).join("secret.txt");
            assert_eq!(fs::read_to_string(secret).unwrap(), fixture.marker());
        }
        assert!(fixture.data().is_dir());
        drop(fixture);
        assert!(!folder.exists());
    }

    #[test]
    fn every_byte_value_once() {
        let bytes = every_byte_value();
        assert_eq!(bytes.len(), 256);
        assert!(
            bytes
                .iter()
                .enumerate()
                .all(|(index, &byte)| usize::from(byte) == index)
        );
    }
}
