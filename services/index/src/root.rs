//! Where account indexes live: one directory per account under a root,
//! `<root>/<account>`. Tenancy is the directory: a writer or reader is
//! opened for one account and can only see that account's directory, and
//! [`AccountId`] is a slug that cannot escape the root (no `/`, no `.`).

use std::path::{Path, PathBuf};

use smo_proto::AccountId;
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::{LockError, OpenDirectoryError};
use tantivy::{Index, TantivyError};

use crate::error::IndexError;
use crate::reader::AccountReader;
use crate::schema::{post_schema, register_tokenizers};
use crate::writer::AccountWriter;

/// Default memory an account's writer buffers before flushing a segment.
pub const DEFAULT_WRITER_MEMORY_BUDGET: usize = 50 * 1024 * 1024;
/// Smallest budget tantivy accepts for one indexing thread.
pub const MIN_WRITER_MEMORY_BUDGET: usize = 15_000_000;

/// The directory holding every account's index, and how to open them.
#[derive(Debug, Clone)]
pub struct IndexRoot {
    dir: PathBuf,
    writer_memory_budget: usize,
}

impl IndexRoot {
    /// Indexes under `dir`; nothing is touched on disk until a writer opens.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), writer_memory_budget: DEFAULT_WRITER_MEMORY_BUDGET }
    }

    /// Sets the indexing memory budget of writers opened from now on (default
    /// [`DEFAULT_WRITER_MEMORY_BUDGET`]). More memory means fewer, larger
    /// segments for big backfills; at least [`MIN_WRITER_MEMORY_BUDGET`].
    pub fn with_writer_memory_budget(mut self, bytes: usize) -> Self {
        self.writer_memory_budget = bytes;
        self
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of `account`'s index.
    pub fn account_dir(&self, account: &AccountId) -> PathBuf {
        self.dir.join(account.as_str())
    }

    /// Opens the single writer of `account`'s index, creating the index if
    /// needed. Fails with [`IndexError::Locked`] while another writer (in this
    /// process or any other) holds it, and with [`IndexError::SchemaMismatch`]
    /// when the index was built with another schema.
    pub fn open_writer(&self, account: &AccountId) -> Result<AccountWriter, IndexError> {
        if self.writer_memory_budget < MIN_WRITER_MEMORY_BUDGET {
            return Err(IndexError::InvalidConfig(format!(
                "writer memory budget of {} bytes is below the minimum of {MIN_WRITER_MEMORY_BUDGET}",
                self.writer_memory_budget
            )));
        }
        let path = self.account_dir(account);
        std::fs::create_dir_all(&path).map_err(|source| IndexError::Io { path: path.clone(), source })?;
        let directory = open_directory(&path)?;
        let index = Index::open_or_create(directory, post_schema()).map_err(|err| match err {
            TantivyError::SchemaError(reason) => {
                IndexError::SchemaMismatch { account: account.clone(), path: path.clone(), reason }
            }
            other => IndexError::Tantivy(other),
        })?;
        register_tokenizers(&index);
        let writer = index.writer(self.writer_memory_budget).map_err(|err| match err {
            TantivyError::LockFailure(LockError::LockBusy, _) => {
                IndexError::Locked { account: account.clone(), path: path.clone() }
            }
            other => IndexError::Tantivy(other),
        })?;
        AccountWriter::new(account.clone(), writer)
    }

    /// Opens a read-only view of `account`'s index; it never takes the writer
    /// lock, so any number of readers can run beside the writer.
    ///
    /// An account with no index yet (nothing ever indexed) is not an error:
    /// the reader is empty, so searches return no hits and facts are zeros.
    /// Such an empty reader stays empty; open a new one once the account has
    /// data. A reader of an existing index sees new commits after
    /// [`AccountReader::reload`].
    pub fn open_reader(&self, account: &AccountId) -> Result<AccountReader, IndexError> {
        let path = self.account_dir(account);
        let index = if path.join("meta.json").is_file() {
            let index = Index::open(open_directory(&path)?)?;
            if index.schema() != post_schema() {
                return Err(IndexError::SchemaMismatch {
                    account: account.clone(),
                    path,
                    reason: "the schema on disk differs from this version's".to_owned(),
                });
            }
            index
        } else {
            tantivy::IndexBuilder::new().schema(post_schema()).create_in_ram()?
        };
        register_tokenizers(&index);
        AccountReader::new(account.clone(), index)
    }

    /// Accounts that have an index under the root, sorted.
    pub fn accounts(&self) -> Result<Vec<AccountId>, IndexError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(IndexError::Io { path: self.dir.clone(), source }),
        };
        let mut accounts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| IndexError::Io { path: self.dir.clone(), source })?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Ok(account) = AccountId::new(name)
                && entry.path().join("meta.json").is_file()
            {
                accounts.push(account);
            }
        }
        accounts.sort();
        Ok(accounts)
    }
}

fn open_directory(path: &Path) -> Result<MmapDirectory, IndexError> {
    MmapDirectory::open(path).map_err(|err| match err {
        OpenDirectoryError::IoError { io_error, directory_path } => IndexError::Io {
            path: directory_path,
            source: std::io::Error::new(io_error.kind(), io_error.to_string()),
        },
        other => IndexError::Io { path: path.to_owned(), source: std::io::Error::other(other.to_string()) },
    })
}
