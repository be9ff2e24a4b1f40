//! Reading the labelled CSV files every task evaluates on, with
//! [`smo_classify::labelled_csv`]: it skips and counts bad rows, which
//! evaluation scores without and warns about here.

use std::path::Path;

pub(super) use smo_classify::labelled_csv::{Column, LabelledCsv, LabelledRows as Loaded, Skipped};

/// Warns on stderr (stdout stays clean for `--json`) about the rows of
/// `path` that were skipped.
pub(super) fn warn(path: &Path, skipped: &Skipped) {
    if skipped.count == 0 {
        return;
    }
    eprintln!("warning: {}: skipped {} bad row(s):", path.display(), skipped.count);
    for example in &skipped.examples {
        eprintln!("  {example}");
    }
    if skipped.count > skipped.examples.len() {
        eprintln!("  …");
    }
}

/// The `text` column of a CSV (bad rows skipped with a warning): texts for
/// `smo-tools bench classify --file`.
pub fn read_text_column(path: &Path) -> anyhow::Result<Vec<String>> {
    let loaded = LabelledCsv::open(path)?
        .read([Column::required("`text`", &["text"])], |row, [text]| Ok(row.get(text).to_owned()))?;
    warn(path, &loaded.skipped);
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
