//! The one reader of labelled CSV files (a header row, then one post per
//! row), used by training ([`crate::model::dataset`]) and by evaluation
//! (`smo-tools eval`, `bench classify --file`).
//!
//! Columns are found by header name, matched with a byte order mark
//! stripped, trimmed and case-insensitive; a missing required column is an
//! error naming the role the caller asked for and the header row found.
//!
//! Bad rows are skipped and counted here, never fatal: a row with another
//! number of fields than the header, one the CSV parser refuses (a broken
//! quote, invalid UTF-8) or one the caller's parser rejects is recorded in
//! [`Skipped`] with its line and reason. What to do with them is the
//! caller's decision, because it differs: evaluation scores the other rows
//! and warns, so one bad row does not abort a run over a public set;
//! training refuses the file, because a silently dropped row would bias the
//! model and its reported figures. Only an I/O error or a file without a
//! usable row is an error here. Nothing is printed.

use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// Why a labelled CSV file cannot be read: the file, and the problem.
#[derive(Debug, Error)]
#[error("{file}: {problem}")]
pub struct LabelledCsvError {
    /// The file, as named by the caller.
    pub file: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a labelled CSV file as a whole.
#[derive(Debug, Error)]
pub enum Problem {
    /// The file cannot be opened, or reading it failed part way.
    #[error("{0}")]
    Read(csv::Error),
    /// The header row cannot be read.
    #[error("reading the header row: {0}")]
    Header(csv::Error),
    /// A required column is absent.
    #[error("no {role} column ({}the header row has: {})", one_of(.names), .header.join(", "))]
    MissingColumn {
        /// The column's role, as the caller names it.
        role: String,
        /// The header names accepted for it.
        names: Vec<String>,
        /// The header row found, as written.
        header: Vec<String>,
    },
    /// Not one row could be used.
    #[error("{}", no_rows(.skipped))]
    NoRows {
        /// The rows skipped, if any.
        skipped: Skipped,
    },
}

fn one_of(names: &[String]) -> String {
    if names.len() < 2 { String::new() } else { format!("one of `{}`; ", names.join("`, `")) }
}

fn no_rows(skipped: &Skipped) -> String {
    if skipped.count == 0 {
        "no rows".to_owned()
    } else {
        format!("no usable rows ({} skipped, the first {})", skipped.count, skipped.examples[0])
    }
}

/// A column looked up by header name: the first of `names` present wins.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    role: &'a str,
    names: &'a [&'a str],
    required: bool,
}

impl<'a> Column<'a> {
    /// A column every file must have; its absence is an error naming `role`.
    pub const fn required(role: &'a str, names: &'a [&'a str]) -> Self {
        Self { role, names, required: true }
    }

    /// A column a file may lack.
    pub const fn optional(names: &'a [&'a str]) -> Self {
        Self { role: "", names, required: false }
    }
}

/// Rows that could not be used: how many, and the first few reasons, each
/// starting with the row's line (`line 3: …`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many rows were skipped.
    pub count: usize,
    /// The reasons of the first [`Skipped::EXAMPLES`] of them.
    pub examples: Vec<String>,
}

impl Skipped {
    /// How many reasons are kept.
    pub const EXAMPLES: usize = 5;

    fn add(&mut self, line: u64, reason: impl std::fmt::Display) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(format!("line {line}: {reason}"));
        }
    }
}

/// The usable rows of a file, in file order, and the skipped ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledRows<T> {
    /// What the caller's parser made of each usable row.
    pub rows: Vec<T>,
    /// The rows skipped.
    pub skipped: Skipped,
}

/// One row with as many fields as the header, handed to the caller's parser.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    record: &'a csv::StringRecord,
    line: u64,
}

impl<'a> Row<'a> {
    /// The row's line in the file (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The raw value of `column`, empty when the column is absent.
    pub fn get(&self, column: impl Into<Option<usize>>) -> &'a str {
        column.into().and_then(|index| self.record.get(index)).unwrap_or_default()
    }

    /// The value of `column` trimmed, unless absent or blank.
    pub fn nonblank(&self, column: impl Into<Option<usize>>) -> Option<&'a str> {
        Some(self.get(column).trim()).filter(|value| !value.is_empty())
    }

    /// Every field, in header order.
    pub fn fields(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.record.iter()
    }
}

/// A labelled CSV file whose header row has been read.
#[derive(Debug)]
pub struct LabelledCsv<R> {
    file: String,
    reader: csv::Reader<R>,
    header: csv::StringRecord,
}

fn builder() -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    // Rows of another length are skipped by `rows`, not refused by csv.
    builder.flexible(true);
    builder
}

impl LabelledCsv<std::fs::File> {
    /// Opens `path` and reads its header row.
    pub fn open(path: &Path) -> Result<Self, LabelledCsvError> {
        let file = path.display().to_string();
        match builder().from_path(path) {
            Ok(reader) => Self::start(file, reader),
            Err(error) => Err(LabelledCsvError { file, problem: Problem::Read(error) }),
        }
    }
}

impl<R: Read> LabelledCsv<R> {
    /// Reads the header row of `reader`, named `file` in errors.
    pub fn from_reader(file: &str, reader: R) -> Result<Self, LabelledCsvError> {
        Self::start(file.to_owned(), builder().from_reader(reader))
    }

    fn start(file: String, mut reader: csv::Reader<R>) -> Result<Self, LabelledCsvError> {
        match reader.headers() {
            Ok(header) => {
                let header = header.clone();
                Ok(Self { file, reader, header })
            }
            Err(error) => Err(LabelledCsvError { file, problem: Problem::Header(error) }),
        }
    }

    fn error(&self, problem: Problem) -> LabelledCsvError {
        LabelledCsvError { file: self.file.clone(), problem }
    }

    /// The header row as written.
    pub fn header(&self) -> impl Iterator<Item = &str> {
        self.header.iter()
    }

    /// The header names as matched: without a byte order mark, trimmed.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.header.iter().map(|name| name.trim_start_matches('\u{feff}').trim())
    }

    /// The index of the first of `names` the header has (case-insensitive).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| self.header_names().position(|header| header.eq_ignore_ascii_case(name)))
    }

    /// The index of each of `columns`, `None` for an absent optional one; an
    /// absent required column is an error.
    pub fn columns<const N: usize>(
        &self,
        columns: [Column<'_>; N],
    ) -> Result<[Option<usize>; N], LabelledCsvError> {
        let mut found = [None; N];
        for (index, column) in found.iter_mut().zip(columns) {
            *index = self.find(column.names);
            if index.is_none() && column.required {
                return Err(self.error(Problem::MissingColumn {
                    role: column.role.to_owned(),
                    names: column.names.iter().map(|name| (*name).to_owned()).collect(),
                    header: self.header().map(str::to_owned).collect(),
                }));
            }
        }
        Ok(found)
    }

    /// Finds `columns` and hands every row with their indices to `parse`:
    /// [`Self::columns`], then [`Self::rows`].
    pub fn read<T, const N: usize>(
        self,
        columns: [Column<'_>; N],
        mut parse: impl FnMut(&Row<'_>, [Option<usize>; N]) -> Result<T, String>,
    ) -> Result<LabelledRows<T>, LabelledCsvError> {
        let found = self.columns(columns)?;
        self.rows(|row| parse(row, found))
    }

    /// Hands every row to `parse` and collects the results; a row of
    /// another length than the header, one the CSV parser refuses, or one
    /// `parse` rejects (with the reason) is skipped and counted. An I/O
    /// error, or a file without a usable row, is an error.
    pub fn rows<T>(
        mut self,
        mut parse: impl FnMut(&Row<'_>) -> Result<T, String>,
    ) -> Result<LabelledRows<T>, LabelledCsvError> {
        let fields = self.header.len();
        let mut rows = Vec::new();
        let mut skipped = Skipped::default();
        let mut record = csv::StringRecord::new();
        loop {
            let line = self.reader.position().line();
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(line, csv::Position::line);
                    if record.len() != fields {
                        skipped
                            .add(line, format_args!("{} fields where the header has {fields}", record.len()));
                        continue;
                    }
                    match parse(&Row { record: &record, line }) {
                        Ok(row) => rows.push(row),
                        Err(reason) => skipped.add(line, reason),
                    }
                }
                // Invalid UTF-8 or a broken quote spoils one row; an I/O
                // error spoils the rest of the file.
                Err(error) if error.is_io_error() => return Err(self.error(Problem::Read(error))),
                Err(error) => skipped.add(line, error),
            }
        }
        if rows.is_empty() {
            return Err(self.error(Problem::NoRows { skipped }));
        }
        Ok(LabelledRows { rows, skipped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(bytes: &[u8]) -> LabelledCsv<&[u8]> {
        LabelledCsv::from_reader("f.csv", bytes).unwrap()
    }

    #[test]
    fn headers_match_without_bom_case_or_spaces() {
        let file = csv("\u{feff}Text , LANG\nhi,en\n".as_bytes());
        let [text, label, lang] = file
            .columns([
                Column::required("text", &["tweet", "text"]),
                Column::optional(&["label"]),
                Column::optional(&["language", "lang"]),
            ])
            .unwrap();
        assert_eq!((text, label, lang), (Some(0), None, Some(1)));
        assert_eq!(file.header_names().collect::<Vec<_>>(), ["Text", "LANG"]);
    }

    #[test]
    fn a_missing_column_names_its_role_and_the_header() {
        let error = csv(b"id,body\n1,x\n")
            .columns([Column::required("text", &["text", "tweet"])])
            .unwrap_err()
            .to_string();
        assert_eq!(error, "f.csv: no text column (one of `text`, `tweet`; the header row has: id, body)");
    }

    #[test]
    fn bad_rows_are_skipped_and_counted_with_their_line() {
        let bytes = b"text,label\n\" a \",1\nshort\nb,x\nbad \xff,1\nc,1,extra\nd,0\n";
        let file = csv(bytes);
        let [text, label] = file
            .columns([Column::required("text", &["text"]), Column::required("label", &["label"])])
            .unwrap();
        let read = file
            .rows(|row| match row.get(label) {
                "0" | "1" => Ok((row.line(), row.get(text).to_owned())),
                other => Err(format!("label {other:?}")),
            })
            .unwrap();
        assert_eq!(read.rows, [(2, " a ".to_owned()), (7, "d".to_owned())]);
        assert_eq!(read.skipped.count, 4);
        let lines: Vec<&str> = read.skipped.examples.iter().map(|e| &e[..6]).collect();
        assert_eq!(lines, ["line 3", "line 4", "line 5", "line 6"]);
        assert!(read.skipped.examples[0].contains("1 fields where the header has 2"));
        assert!(read.skipped.examples[1].contains("\"x\""));
    }

    #[test]
    fn only_the_first_reasons_are_kept() {
        let bytes = "text\n".to_owned() + &"a,b\n".repeat(7) + "ok\n";
        let read = csv(bytes.as_bytes()).rows(|row| Ok(row.get(0).to_owned())).unwrap();
        assert_eq!((read.skipped.count, read.skipped.examples.len()), (7, Skipped::EXAMPLES));
    }

    #[test]
    fn a_file_without_a_usable_row_is_an_error() {
        let empty = csv(b"text\n").rows(|_| Ok(())).unwrap_err();
        assert_eq!(empty.to_string(), "f.csv: no rows");
        let bad = csv(b"text\nx\n").rows(|_| Err::<(), _>("no".to_owned())).unwrap_err();
        assert!(matches!(&bad.problem, Problem::NoRows { skipped } if skipped.count == 1), "{bad}");
        assert!(bad.to_string().contains("1 skipped, the first line 2: no"), "{bad}");
        let missing = LabelledCsv::open(Path::new("/nonexistent/f.csv")).unwrap_err();
        assert!(matches!(missing.problem, Problem::Read(_)), "{missing}");
    }
}
