//! Reading the labelled CSV files every task evaluates on.

use std::path::Path;

use anyhow::Context;

/// Labelled rows of a file, and the rows that could not be used.
#[derive(Debug)]
pub(super) struct Loaded<T> {
    pub(super) rows: Vec<T>,
    pub(super) skipped: Skipped,
}

/// Bad rows: how many, and the first few reasons for the warning.
#[derive(Debug, Default)]
pub(super) struct Skipped {
    pub(super) count: usize,
    pub(super) examples: Vec<String>,
}

impl Skipped {
    pub(super) const EXAMPLES: usize = 5;

    pub(super) fn add(&mut self, reason: String) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(reason);
        }
    }

    /// Warns on stderr (stdout stays clean for `--json`).
    pub(super) fn warn(&self, path: &Path) {
        if self.count == 0 {
            return;
        }
        eprintln!("warning: {}: skipped {} bad row(s):", path.display(), self.count);
        for example in &self.examples {
            eprintln!("  {example}");
        }
        if self.count > self.examples.len() {
            eprintln!("  …");
        }
    }
}

/// A column looked up by header name: the first of `names` present wins
/// (case-insensitive); a required column that is absent is an error.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub(super) names: &'static [&'static str],
    pub(super) required: bool,
}

pub(super) const fn required(names: &'static [&'static str]) -> Column {
    Column { names, required: true }
}

pub(super) const fn optional(names: &'static [&'static str]) -> Column {
    Column { names, required: false }
}

/// Reads `path`, hands each row's values of `columns` (in that order,
/// `None` for an absent optional column) to `parse`, and skips and counts
/// rows that are malformed or that `parse` rejects.
pub(super) fn read_csv<T>(
    path: &Path,
    columns: &[Column],
    mut parse: impl FnMut(&[Option<&str>]) -> Result<T, String>,
) -> anyhow::Result<Loaded<T>> {
    let (reader, headers) = open_csv(path)?;
    let names: Vec<String> =
        headers.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect();
    let mut positions = Vec::with_capacity(columns.len());
    for column in columns {
        let found = column.names.iter().find_map(|name| names.iter().position(|h| h == name));
        if found.is_none() && column.required {
            anyhow::bail!(
                "{}: no `{}` column (the header row has: {})",
                path.display(),
                column.names.join("` or `"),
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
        positions.push(found);
    }
    parse_records(path, reader, headers.len(), |record, _line| {
        let values: Vec<Option<&str>> =
            positions.iter().map(|position| position.and_then(|i| record.get(i))).collect();
        parse(&values)
    })
}

/// Opens `path` as a CSV file with a header row, and reads the header.
pub(super) fn open_csv(path: &Path) -> anyhow::Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers =
        reader.headers().with_context(|| format!("{}: reading the header row", path.display()))?.clone();
    Ok((reader, headers))
}

/// Hands every record of `reader` with `fields` fields to `parse` (with its
/// line number) and collects the rows; a record of another length, one the
/// CSV reader refuses, or one `parse` rejects is skipped and counted. An
/// I/O error, or a file without a usable row, is an error.
pub(super) fn parse_records<T>(
    path: &Path,
    mut reader: csv::Reader<std::fs::File>,
    fields: usize,
    mut parse: impl FnMut(&csv::StringRecord, u64) -> Result<T, String>,
) -> anyhow::Result<Loaded<T>> {
    let mut rows = Vec::new();
    let mut skipped = Skipped::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                if record.len() != fields {
                    skipped
                        .add(format!("line {line}: {} fields where the header has {fields}", record.len()));
                    continue;
                }
                match parse(&record, line) {
                    Ok(row) => rows.push(row),
                    Err(reason) => skipped.add(format!("line {line}: {reason}")),
                }
            }
            // Invalid UTF-8 or a broken quote spoils one row; an I/O error
            // spoils the rest of the file.
            Err(error) if error.is_io_error() => {
                return Err(error).with_context(|| format!("reading {}", path.display()));
            }
            Err(error) => skipped.add(format!("line {line}: {error}")),
        }
    }
    anyhow::ensure!(!rows.is_empty(), "{}: no usable rows ({} skipped)", path.display(), skipped.count);
    Ok(Loaded { rows, skipped })
}

/// The value of a column every row must have.
pub(super) fn value<'a>(values: &[Option<&'a str>], index: usize) -> &'a str {
    values.get(index).copied().flatten().unwrap_or_default()
}

/// A non-empty optional group value (language, domain, kind).
pub(super) fn group(values: &[Option<&str>], index: usize) -> Option<String> {
    values.get(index).copied().flatten().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The `text` column of a CSV (bad rows skipped with a warning): texts for
/// `smo-tools bench classify --file`.
pub fn read_text_column(path: &Path) -> anyhow::Result<Vec<String>> {
    let loaded = read_csv(path, &[required(&["text"])], |values| Ok(value(values, 0).to_owned()))?;
    loaded.skipped.warn(path);
    Ok(loaded.rows)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::eval::complaint::read_complaints;
    use crate::eval::language::read_languages;
    use crate::eval::sentiment::read_sentiment;
    pub(in crate::eval) fn csv_file(content: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, content.as_bytes()).unwrap();
        file
    }

    #[test]
    fn a_missing_column_is_named() {
        let file = csv_file("tweet_id,text,domain\n1,hello,food\n");
        let error = read_complaints(file.path()).unwrap_err().to_string();
        assert!(error.contains("no `label` column"), "{error}");
        assert!(error.contains("tweet_id, text, domain"), "{error}");
        let file = csv_file("text,label\nhello,1\n");
        let error = read_languages(file.path()).unwrap_err().to_string();
        assert!(error.contains("`lang`"), "{error}");
    }

    #[test]
    fn a_file_without_usable_rows_is_an_error_not_a_panic() {
        for content in ["", "text,label\n", "text,label\nhello,7\n"] {
            let file = csv_file(content);
            assert!(read_complaints(file.path()).is_err(), "{content:?}");
        }
        assert!(read_sentiment(Path::new("/nonexistent/file.csv")).is_err());
    }
}
