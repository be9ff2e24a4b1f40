//! Writing a report's files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Report, ReportError, render_json, render_markdown};

/// Where [`write_report`] put a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    /// The JSON copy.
    pub json: PathBuf,
    /// The Markdown document.
    pub markdown: PathBuf,
}

/// Writes `dir/<account>/<from>_<to>.json` and `.md`, creating directories as
/// needed. Each file is written beside its final name and renamed into place,
/// so a reader (or a delivery job) never sees half a report; writing the same
/// report again replaces it.
pub fn write_report(dir: &Path, report: &Report) -> Result<ReportPaths, ReportError> {
    // Account ids are slugs (no `/`, no `.`), safe as a directory name.
    let folder = dir.join(report.account.as_str());
    fs::create_dir_all(&folder).map_err(|source| ReportError::Io { path: folder.clone(), source })?;
    let stem = format!("{}_{}", report.period.from(), report.period.to());
    let json = folder.join(format!("{stem}.json"));
    let markdown = folder.join(format!("{stem}.md"));
    replace_file(&json, &render_json(report))?;
    replace_file(&markdown, &render_markdown(report))?;
    Ok(ReportPaths { json, markdown })
}

fn replace_file(path: &Path, contents: &str) -> Result<(), ReportError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    fs::write(&partial, contents).map_err(io_error(&partial))?;
    fs::rename(&partial, path).map_err(io_error(path))
}
