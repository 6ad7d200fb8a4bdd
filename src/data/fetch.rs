//! Downloading MNIST and Fashion-MNIST: each of the four files from a list of mirrors tried in
//! order, checked against SHA-256 digests kept in this file, and written atomically (a temporary
//! file in the target folder, fsync, check, rename), so a failed or damaged download leaves
//! nothing behind. Progress goes to a callback; nothing here prints.

use crate::data::error::DataError;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A data set that can be downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// LeCun, Cortes and Burges' handwritten digits.
    Mnist,
    /// Zalando's article images, in MNIST's format and file names.
    FashionMnist,
}

/// A file of a collection and the SHA-256 digests (lowercase hex) of its known good copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFile {
    /// File name, as on the mirrors and in the target folder.
    pub name: &'static str,
    /// Digests a download may have; any other is refused.
    pub sha256: &'static [&'static str],
}

/// MNIST mirrors, tried in this order.
pub const MNIST_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The MNIST files. Each has two known copies with the same IDX content: the archive the mirrors
/// serve (its digest is the one published with torchvision's and TensorFlow Datasets' loaders),
/// and the re-compressed copy in the project's shared data folder (digests from its
/// `SHA256SUMS`). Both decompress to the same bytes.
pub const MNIST_FILES: &[KnownFile] = &[
    KnownFile {
        name: "train-images-idx3-ubyte.gz",
        sha256: &[
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
        ],
    },
    KnownFile {
        name: "train-labels-idx1-ubyte.gz",
        sha256: &[
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
        ],
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: &[
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
        ],
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: &[
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
        ],
    },
];

/// Fashion-MNIST mirrors, tried in this order: Zalando's own bucket, then the files in its
/// GitHub repository.
pub const FASHION_MNIST_MIRRORS: &[&str] = &[
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
];

/// The Fashion-MNIST files. Zalando publishes only MD5s; these SHA-256 digests are the ones that
/// many independent loaders record for the files matching those MD5s.
pub const FASHION_MNIST_FILES: &[KnownFile] = &[
    KnownFile {
        name: "train-images-idx3-ubyte.gz",
        sha256: &["3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"],
    },
    KnownFile {
        name: "train-labels-idx1-ubyte.gz",
        sha256: &["a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"],
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: &["346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"],
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: &["67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"],
    },
];

/// The largest download accepted by default; Fashion-MNIST's largest file has 26 MB.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

impl Collection {
    /// The collection's name as users write it.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Mnist => "mnist",
            Collection::FashionMnist => "fashion-mnist",
        }
    }

    /// Its default mirrors, in the order they are tried.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            Collection::Mnist => MNIST_MIRRORS,
            Collection::FashionMnist => FASHION_MNIST_MIRRORS,
        }
    }

    /// Its four files.
    pub fn files(self) -> &'static [KnownFile] {
        match self {
            Collection::Mnist => MNIST_FILES,
            Collection::FashionMnist => FASHION_MNIST_FILES,
        }
    }
}

/// How to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Base URLs tried in order; a file's URL is the base, a `/`, and the file name.
    pub mirrors: Vec<String>,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any single read from the network.
    pub read_timeout: Duration,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
}

impl FetchOptions {
    /// The collection's default mirrors, 30 s timeouts and [`DEFAULT_MAX_BYTES`].
    pub fn new(collection: Collection) -> FetchOptions {
        FetchOptions {
            mirrors: collection
                .mirrors()
                .iter()
                .map(|mirror| mirror.to_string())
                .collect(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// What a download reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// A good copy is already in the folder; nothing is downloaded.
    AlreadyThere {
        /// The file name.
        file: &'a str,
    },
    /// A mirror is being asked.
    Trying {
        /// The file name.
        file: &'a str,
        /// The full URL.
        url: &'a str,
    },
    /// More bytes arrived.
    Received {
        /// The file name.
        file: &'a str,
        /// Bytes so far.
        bytes: u64,
        /// The size the server announced, if any.
        total: Option<u64>,
    },
    /// A mirror failed; the next one is tried.
    MirrorFailed {
        /// The file name.
        file: &'a str,
        /// What went wrong.
        failure: &'a MirrorFailure,
    },
    /// The file passed its check and is in place.
    Saved {
        /// The file name.
        file: &'a str,
        /// Where it is.
        path: &'a Path,
    },
}

/// Why one mirror did not give a good copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFailure {
    /// The URL asked.
    pub url: String,
    /// What went wrong.
    pub reason: FailureReason,
}

/// What went wrong at a mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// The server answered with a status other than 200.
    Status(u16),
    /// The connection failed or broke off.
    Transport(String),
    /// The file is larger than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The file arrived whole but its SHA-256 is not a known one.
    DigestMismatch {
        /// The SHA-256 of what arrived, lowercase hex.
        found: String,
    },
}

impl fmt::Display for MirrorFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            FailureReason::Status(status) => write!(f, "{} answered HTTP {status}", self.url),
            FailureReason::Transport(message) => write!(f, "{}: {message}", self.url),
            FailureReason::TooLarge { limit } => {
                write!(f, "{} sent more than {limit} bytes", self.url)
            }
            FailureReason::DigestMismatch { found } => write!(
                f,
                "{} sent a copy whose SHA-256 {found} is not a known digest",
                self.url
            ),
        }
    }
}

/// Downloads a collection's four files into `folder` (created if needed). Files already there
/// with a known digest are kept; any other file of the same name is an error and stays untouched.
/// Returns the paths of the four files.
pub fn fetch(
    collection: Collection,
    folder: &Path,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<PathBuf>, DataError> {
    collection
        .files()
        .iter()
        .map(|file| fetch_file(file, folder, options, progress))
        .collect()
}

/// Downloads one file into `folder` (created if needed), trying the mirrors in order; see
/// [`fetch`]. Returns its path.
pub fn fetch_file(
    file: &KnownFile,
    folder: &Path,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<PathBuf, DataError> {
    let target = folder.join(file.name);
    fs::create_dir_all(folder).map_err(|source| DataError::Write {
        path: target.clone(),
        source,
    })?;
    if target.exists() {
        let found = digest_of_file(&target)?;
        if file.sha256.contains(&found.as_str()) {
            progress(Progress::AlreadyThere { file: file.name });
            return Ok(target);
        }
        return Err(DataError::UnknownExistingFile {
            path: target,
            found,
        });
    }
    if options.mirrors.is_empty() {
        return Err(DataError::NoMirrors { path: target });
    }

    let agent = agent(options);
    let mut attempts = Vec::new();
    for mirror in &options.mirrors {
        let url = format!("{}/{}", mirror.trim_end_matches('/'), file.name);
        progress(Progress::Trying {
            file: file.name,
            url: &url,
        });
        let mut partial = Partial::create(folder, file.name)?;
        match download(
            &agent,
            &url,
            file,
            &mut partial,
            options.max_bytes,
            progress,
        ) {
            Ok(()) => {
                partial.finish(&target)?;
                progress(Progress::Saved {
                    file: file.name,
                    path: &target,
                });
                return Ok(target);
            }
            Err(Attempt::Local(error)) => return Err(error),
            Err(Attempt::Mirror(reason)) => {
                drop(partial);
                let failure = MirrorFailure { url, reason };
                progress(Progress::MirrorFailed {
                    file: file.name,
                    failure: &failure,
                });
                attempts.push(failure);
            }
        }
    }
    Err(DataError::Download {
        path: target,
        attempts,
    })
}

/// Why one attempt stopped: the mirror's fault (try the next) or ours (stop).
enum Attempt {
    Mirror(FailureReason),
    Local(DataError),
}

fn agent(options: &FetchOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .user_agent(concat!("netcalc/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Streams one URL into the partial file, hashing as it goes, then syncs and checks the digest.
fn download(
    agent: &ureq::Agent,
    url: &str,
    file: &KnownFile,
    partial: &mut Partial,
    max_bytes: u64,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), Attempt> {
    let response = agent
        .get(url)
        .call()
        .map_err(|error| Attempt::Mirror(FailureReason::Transport(error.to_string())))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Attempt::Mirror(FailureReason::Status(status)));
    }
    let body = response.into_body();
    let total = body.content_length();
    let too_large = || Attempt::Mirror(FailureReason::TooLarge { limit: max_bytes });
    if total.is_some_and(|total| total > max_bytes) {
        return Err(too_large());
    }
    let mut reader = body.into_reader();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received: u64 = 0;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(Attempt::Mirror(FailureReason::Transport(error.to_string())));
            }
        };
        let chunk = buffer.get(..read).unwrap_or_default();
        received = received.saturating_add(u64::try_from(read).unwrap_or(u64::MAX));
        if received > max_bytes {
            return Err(too_large());
        }
        hasher.update(chunk);
        partial.write(chunk).map_err(Attempt::Local)?;
        progress(Progress::Received {
            file: file.name,
            bytes: received,
            total,
        });
    }
    partial.sync().map_err(Attempt::Local)?;
    let found = hex(&hasher.finalize());
    if file.sha256.contains(&found.as_str()) {
        Ok(())
    } else {
        Err(Attempt::Mirror(FailureReason::DigestMismatch { found }))
    }
}

/// A download in progress: a temporary file in the target folder, removed when dropped unless
/// it was renamed into place.
struct Partial {
    path: PathBuf,
    file: File,
    renamed: bool,
}

/// Makes temporary names unique within this process.
static PARTIAL_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Partial {
    fn create(folder: &Path, name: &str) -> Result<Partial, DataError> {
        loop {
            let number = PARTIAL_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = folder.join(format!(".{name}.{}.{number}.part", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(Partial {
                        path,
                        file,
                        renamed: false,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(DataError::Write { path, source }),
            }
        }
    }

    fn write_error(&self, source: io::Error) -> DataError {
        DataError::Write {
            path: self.path.clone(),
            source,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), DataError> {
        self.file
            .write_all(bytes)
            .map_err(|source| self.write_error(source))
    }

    fn sync(&mut self) -> Result<(), DataError> {
        self.file
            .sync_all()
            .map_err(|source| self.write_error(source))
    }

    /// Renames the checked file into place and makes the rename durable.
    fn finish(mut self, target: &Path) -> Result<(), DataError> {
        let write_error = |source| DataError::Write {
            path: target.to_path_buf(),
            source,
        };
        fs::rename(&self.path, target).map_err(write_error)?;
        self.renamed = true;
        #[cfg(unix)]
        if let Some(folder) = target.parent() {
            File::open(folder)
                .and_then(|directory| directory.sync_all())
                .map_err(write_error)?;
        }
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.renamed {
            // Nothing more can be done about a temporary file that cannot be removed.
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn digest_of_file(path: &Path) -> Result<String, DataError> {
    let read_error = |source| DataError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(buffer.get(..read).unwrap_or_default()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(read_error(error)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist::Dataset;
    use crate::data::testing::{Route, TestServer, mnist_folder};

    fn local_options(mirrors: Vec<String>) -> FetchOptions {
        FetchOptions {
            mirrors,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    fn shared_bytes(name: &str) -> Vec<u8> {
        let path = mnist_folder().join(name);
        fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    fn names_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn labels_file() -> &'static KnownFile {
        MNIST_FILES
            .iter()
            .find(|file| file.name == "t10k-labels-idx1-ubyte.gz")
            .unwrap()
    }

    #[test]
    fn digests_are_lowercase_sha256_hex() {
        for file in MNIST_FILES.iter().chain(FASHION_MNIST_FILES) {
            for digest in file.sha256 {
                assert_eq!(digest.len(), 64, "{}", file.name);
                assert!(digest.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
            }
        }
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn fetches_the_four_files_from_a_local_mirror() {
        let routes = MNIST_FILES
            .iter()
            .map(|file| Route::ok(&format!("/mnist/{}", file.name), shared_bytes(file.name)))
            .collect();
        let server = TestServer::start(routes, 4);
        let folder = tempfile::tempdir().unwrap();
        let target = folder.path().join("mnist");
        let mut saved = Vec::new();
        let paths = fetch(
            Collection::Mnist,
            &target,
            &local_options(vec![server.url("/mnist/")]),
            &mut |event| {
                if let Progress::Saved { file, .. } = event {
                    saved.push(file.to_string());
                }
            },
        )
        .unwrap();
        assert_eq!(server.finish().len(), 4);
        assert_eq!(paths.len(), 4);
        assert_eq!(saved.len(), 4);
        for file in MNIST_FILES {
            assert_eq!(
                fs::read(target.join(file.name)).unwrap(),
                shared_bytes(file.name)
            );
        }
        let mut expected: Vec<String> = MNIST_FILES.iter().map(|f| f.name.to_string()).collect();
        expected.sort();
        assert_eq!(names_in(&target), expected);
        assert_eq!(Dataset::load_test(&target).unwrap().len(), 10_000);

        // A second run finds good copies and asks no mirror (the server is gone by now).
        let mut already = 0;
        fetch(
            Collection::Mnist,
            &target,
            &local_options(vec![server_gone_url()]),
            &mut |event| {
                if let Progress::AlreadyThere { .. } = event {
                    already += 1;
                }
            },
        )
        .unwrap();
        assert_eq!(already, 4);
    }

    /// A loopback URL where nothing listens (a server that has stopped).
    fn server_gone_url() -> String {
        let server = TestServer::start(Vec::new(), 0);
        let url = server.url("/");
        server.finish();
        url
    }

    #[test]
    fn a_missing_mirror_is_skipped_for_the_next_one() {
        let file = labels_file();
        let server = TestServer::start(
            vec![Route::ok(
                &format!("/good/{}", file.name),
                shared_bytes(file.name),
            )],
            2,
        );
        let folder = tempfile::tempdir().unwrap();
        let mut failures = Vec::new();
        let path = fetch_file(
            file,
            folder.path(),
            &local_options(vec![server.url("/missing"), server.url("/good/")]),
            &mut |event| {
                if let Progress::MirrorFailed { failure, .. } = event {
                    failures.push(failure.clone());
                }
            },
        )
        .unwrap();
        assert_eq!(
            server.finish(),
            vec![
                format!("/missing/{}", file.name),
                format!("/good/{}", file.name)
            ]
        );
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].reason, FailureReason::Status(404));
        assert_eq!(fs::read(path).unwrap(), shared_bytes(file.name));
        assert_eq!(names_in(folder.path()), vec![file.name.to_string()]);
    }

    #[test]
    fn a_corrupted_copy_is_refused_and_leaves_nothing() {
        let file = labels_file();
        let mut corrupted = shared_bytes(file.name);
        let middle = corrupted.len() / 2;
        corrupted[middle] ^= 0x01;
        let server = TestServer::start(
            vec![Route::ok(&format!("/bad/{}", file.name), corrupted.clone())],
            1,
        );
        let folder = tempfile::tempdir().unwrap();
        let error = fetch_file(
            file,
            folder.path(),
            &local_options(vec![server.url("/bad/")]),
            &mut |_| {},
        )
        .unwrap_err();
        server.finish();
        let DataError::Download { path, attempts } = &error else {
            panic!("expected a download error, got {error}");
        };
        assert_eq!(path, &folder.path().join(file.name));
        assert_eq!(
            attempts[0].reason,
            FailureReason::DigestMismatch {
                found: hex(&Sha256::digest(&corrupted))
            }
        );
        assert!(
            error.to_string().contains("is not a known digest"),
            "{error}"
        );
        assert!(names_in(folder.path()).is_empty());
    }

    #[test]
    fn a_transfer_cut_short_is_refused_and_leaves_nothing() {
        let file = labels_file();
        let bytes = shared_bytes(file.name);
        let declared = bytes.len() + 100;
        let server = TestServer::start(
            vec![Route::cut(&format!("/cut/{}", file.name), bytes, declared)],
            1,
        );
        let folder = tempfile::tempdir().unwrap();
        let error = fetch_file(
            file,
            folder.path(),
            &local_options(vec![server.url("/cut/")]),
            &mut |_| {},
        )
        .unwrap_err();
        server.finish();
        assert!(
            matches!(&error, DataError::Download { attempts, .. }
                if matches!(attempts[0].reason, FailureReason::Transport(_))),
            "{error}"
        );
        assert!(names_in(folder.path()).is_empty());
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let file = labels_file();
        let server = TestServer::start(
            vec![Route::ok(
                &format!("/big/{}", file.name),
                shared_bytes(file.name),
            )],
            1,
        );
        let folder = tempfile::tempdir().unwrap();
        let mut options = local_options(vec![server.url("/big/")]);
        options.max_bytes = 100;
        let error = fetch_file(file, folder.path(), &options, &mut |_| {}).unwrap_err();
        server.finish();
        assert!(
            matches!(&error, DataError::Download { attempts, .. }
                if attempts[0].reason == FailureReason::TooLarge { limit: 100 }),
            "{error}"
        );
        assert!(names_in(folder.path()).is_empty());
    }

    #[test]
    fn an_unknown_file_in_the_way_is_left_alone() {
        let folder = tempfile::tempdir().unwrap();
        let file = labels_file();
        let existing = folder.path().join(file.name);
        fs::write(&existing, b"not the labels").unwrap();
        let error = fetch_file(
            file,
            folder.path(),
            &local_options(vec![server_gone_url()]),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(error, DataError::UnknownExistingFile { .. }),
            "{error}"
        );
        assert_eq!(fs::read(&existing).unwrap(), b"not the labels");
    }

    #[test]
    fn no_mirrors_is_an_error() {
        let folder = tempfile::tempdir().unwrap();
        let error = fetch_file(
            labels_file(),
            folder.path(),
            &local_options(Vec::new()),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(error, DataError::NoMirrors { .. }));
    }

    #[test]
    fn default_options_use_the_collections_mirrors() {
        let options = FetchOptions::new(Collection::FashionMnist);
        assert_eq!(options.mirrors, FASHION_MNIST_MIRRORS);
        assert_eq!(Collection::Mnist.files().len(), 4);
        assert_eq!(
            Collection::FashionMnist
                .files()
                .iter()
                .map(|file| file.name)
                .collect::<Vec<_>>(),
            Collection::Mnist
                .files()
                .iter()
                .map(|file| file.name)
                .collect::<Vec<_>>()
        );
    }
}
