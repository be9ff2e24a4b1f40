//! File backfill: NDJSON (one JSON object per line) or CSV with a header row,
//! both with the [`PostRecord`] field names. The cursor is the byte offset of
//! the first unread record, so an import resumes exactly where the last
//! confirmed batch ended after a crash.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use crate::Connector;
use crate::http::HttpClient;
use crate::record::PostRecord;
use crate::{IngestError, Rejected, Source, SourceBatch};

/// Longest raw input kept in a dead letter; the rest is cut so one huge bad
/// line cannot blow up the dead-letter queue.
const MAX_RAW_BYTES: usize = 16 * 1024;

/// How the file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated with a header row.
    Csv,
}

/// Configuration of a file source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// Name of the source within its account; posts get source `file:{name}`.
    pub name: String,
    /// The file to import.
    pub path: PathBuf,
    /// Its format; by default guessed from the extension (`.csv` or NDJSON).
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// Records per batch (and per publish/checkpoint round).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_batch_size() -> usize {
    1000
}

impl Connector for FileSourceConfig {
    fn kind(&self) -> &'static str {
        "file"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        None
    }
    fn validate(&self) -> Result<(), FieldError> {
        if self.batch_size == 0 {
            return Err(FieldError::new("batch_size", "must be at least 1"));
        }
        Ok(())
    }
    fn build(&self, account: AccountId, _: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(FileSource::new(account, self)))
    }
}

/// A file being imported for one account.
#[derive(Debug)]
pub struct FileSource {
    name: String,
    account: AccountId,
    path: PathBuf,
    format: FileFormat,
    batch_size: usize,
}

impl FileSource {
    /// A source importing `config.path` for `account`.
    pub fn new(account: AccountId, config: &FileSourceConfig) -> Self {
        let format =
            config.format.unwrap_or_else(|| match config.path.extension().and_then(|e| e.to_str()) {
                Some(ext) if ext.eq_ignore_ascii_case("csv") => FileFormat::Csv,
                _ => FileFormat::Ndjson,
            });
        Self {
            name: format!("file:{}", config.name),
            account,
            path: config.path.clone(),
            format,
            batch_size: config.batch_size.max(1),
        }
    }

    fn io_error(&self, error: std::io::Error) -> IngestError {
        IngestError::Io { source_name: self.name.clone(), path: self.path.display().to_string(), error }
    }
}

#[async_trait]
impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let offset = match cursor {
            None => 0,
            Some(raw) => raw.parse::<u64>().map_err(|_| IngestError::BadCursor {
                source_name: self.name.clone(),
                cursor: raw.to_owned(),
            })?,
        };
        let job = BatchJob {
            source: self.name.clone(),
            account: self.account.clone(),
            path: self.path.clone(),
            batch_size: self.batch_size,
            offset,
        };
        let format = self.format;
        let result = tokio::task::spawn_blocking(move || match format {
            FileFormat::Ndjson => job.read_ndjson(),
            FileFormat::Csv => job.read_csv(),
        })
        .await
        .map_err(|join| self.io_error(std::io::Error::other(join.to_string())))?;
        result.map_err(|e| self.io_error(e))
    }
}

/// One blocking read of a batch, owned so it can move to the blocking pool.
struct BatchJob {
    source: String,
    account: AccountId,
    path: PathBuf,
    batch_size: usize,
    offset: u64,
}

impl BatchJob {
    fn read_ndjson(&self) -> std::io::Result<SourceBatch> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.offset))?;
        let mut reader = BufReader::new(file);
        let mut batch = SourceBatch::default();
        let mut position = self.offset;
        let mut line = Vec::new();
        let mut records = 0;
        while records < self.batch_size {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            if read == 0 {
                batch.exhausted = true;
                break;
            }
            let start = position;
            position += read as u64;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            records += 1;
            let parsed = serde_json::from_str::<PostRecord>(text)
                .map_err(|e| format!("malformed JSON: {e}"))
                .and_then(|record| record.into_post(&self.account, &self.source).map_err(|e| e.to_string()));
            match parsed {
                Ok(post) => batch.posts.push(post),
                Err(reason) => batch.rejected.push(Rejected {
                    location: format!("{}: byte {start}", self.path.display()),
                    raw: truncate(text),
                    reason,
                }),
            }
        }
        if !batch.exhausted && reader.fill_buf()?.is_empty() {
            batch.exhausted = true;
        }
        batch.next_cursor = Some(position.to_string());
        Ok(batch)
    }

    fn read_csv(&self) -> std::io::Result<SourceBatch> {
        let mut header_reader =
            csv::ReaderBuilder::new().flexible(true).from_path(&self.path).map_err(csv_io)?;
        let headers = header_reader.headers().map_err(csv_io)?.clone();
        let header_end = header_reader.position().byte();
        let start_at = self.offset.max(header_end);

        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(start_at))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
        let mut batch = SourceBatch::default();
        let mut record = csv::StringRecord::new();
        let mut records = 0;
        let mut position = start_at;
        while records < self.batch_size {
            let start = start_at + reader.position().byte();
            match reader.read_record(&mut record) {
                Ok(false) => {
                    batch.exhausted = true;
                    break;
                }
                Ok(true) => {
                    records += 1;
                    position = start_at + reader.position().byte();
                    let parsed = record
                        .deserialize::<PostRecord>(Some(&headers))
                        .map_err(|e| format!("malformed CSV record: {e}"))
                        .and_then(|r| r.into_post(&self.account, &self.source).map_err(|e| e.to_string()));
                    match parsed {
                        Ok(post) => batch.posts.push(post),
                        Err(reason) => batch.rejected.push(Rejected {
                            location: format!("{}: byte {start}", self.path.display()),
                            raw: truncate(&record.iter().collect::<Vec<_>>().join(",")),
                            reason,
                        }),
                    }
                }
                Err(error) => {
                    // A record the CSV parser cannot read at all (bad
                    // quoting, invalid UTF-8): reject it and move past it.
                    records += 1;
                    position = start_at + reader.position().byte();
                    batch.rejected.push(Rejected {
                        location: format!("{}: byte {start}", self.path.display()),
                        raw: String::new(),
                        reason: format!("unreadable CSV record: {error}"),
                    });
                    if position <= start {
                        // The parser made no progress; stop rather than spin.
                        batch.exhausted = true;
                        break;
                    }
                }
            }
        }
        batch.next_cursor = Some(position.to_string());
        Ok(batch)
    }
}

fn csv_io(error: csv::Error) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_RAW_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_RAW_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn source(path: PathBuf, batch_size: usize) -> FileSource {
        FileSource::new(
            AccountId::new("acme").expect("valid"),
            &FileSourceConfig { name: "t".into(), path, format: None, batch_size },
        )
    }

    #[tokio::test]
    async fn ndjson_batches_resume_from_the_cursor_and_reject_bad_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("posts.ndjson");
        let mut file = File::create(&path).expect("create");
        for i in 0..5 {
            writeln!(
                file,
                r#"{{"id":"{i}","text":"post {i}","author_handle":"a","created_at":"2026-11-01T10:00:00Z"}}"#
            )
            .expect("write");
            if i == 2 {
                writeln!(file, "{{not json").expect("write");
                writeln!(file).expect("write");
            }
        }
        drop(file);

        let mut source = source(path, 3);
        let first = source.poll(None).await.expect("poll");
        assert_eq!(first.posts.len(), 3);
        assert!(first.rejected.is_empty());
        assert!(!first.exhausted);
        let second = source.poll(first.next_cursor.as_deref()).await.expect("poll");
        assert_eq!(second.posts.len(), 2);
        assert_eq!(second.rejected.len(), 1);
        assert!(second.rejected[0].reason.contains("malformed JSON"), "{:?}", second.rejected);
        assert!(second.exhausted);
        let third = source.poll(second.next_cursor.as_deref()).await.expect("poll");
        assert!(third.posts.is_empty() && third.exhausted);
    }

    #[tokio::test]
    async fn csv_reads_headers_and_resumes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("posts.csv");
        std::fs::write(
            &path,
            "id,text,author_handle,created_at\n1,\"hello, world\",a,2026-11-01 10:00:00\n2,bye,b,not a date\n3,again,c,2026-11-02T10:00:00Z\n",
        )
        .expect("write");
        let mut source = source(path, 2);
        let first = source.poll(None).await.expect("poll");
        assert_eq!(first.posts.len(), 1);
        assert_eq!(first.posts[0].text, "hello, world");
        assert_eq!(first.rejected.len(), 1, "{first:?}");
        assert!(first.rejected[0].reason.contains("created_at"));
        let second = source.poll(first.next_cursor.as_deref()).await.expect("poll");
        assert_eq!(second.posts.len(), 1, "{first:?} {second:?}");
        assert_eq!(second.posts[0].native_id, "3");
    }

    #[tokio::test]
    async fn a_foreign_cursor_is_an_error() {
        let mut source = source(PathBuf::from("/nonexistent"), 2);
        assert!(matches!(source.poll(Some("abc")).await, Err(IngestError::BadCursor { .. })));
        assert!(matches!(source.poll(None).await, Err(IngestError::Io { .. })));
    }
}
