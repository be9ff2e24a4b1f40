//! Machine-readable output of the command-line tools.

use std::io::Write as _;

/// Prints `value` as pretty JSON on stdout, one document and a newline.
/// A reader that stops early (`smo sources --json | head`) is not an error.
pub fn print_json(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error),
        _ => Ok(()),
    }
}
