//! Config fixtures: every file under `tests/config/good` loads, and every
//! file under `tests/config/bad` fails with a message naming the key its
//! first line gives (`# error: accounts[0].id`). Files named `env-*` are
//! valid as written and fail only the environment step (an unreadable
//! file, an unset secret variable): validation into types does no I/O.

use std::path::{Path, PathBuf};

use smo_pipeline::Settings;
use smo_pipeline::settings::{ENV_OVERRIDES, RawConfig};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Parses a fixture without the process environment, so CI variables
/// cannot change what it means.
fn validate(path: &Path) -> Result<Settings, smo_runtime::ConfigError> {
    let text = std::fs::read_to_string(path).expect("read");
    let raw: RawConfig =
        smo_runtime::parse_config(&text, &path.display().to_string(), ENV_OVERRIDES, Vec::new())?;
    Settings::validate(raw)
}

#[test]
fn good_files_load() {
    for path in fixtures("good") {
        let mut settings = validate(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        settings.check_environment().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!settings.accounts.is_empty(), "{}", path.display());
    }
}

#[test]
fn the_full_fixture_is_typed_as_written() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/good/full.toml");
    let mut settings = validate(&path).expect("valid");
    settings.check_environment().expect("environment");
    assert_eq!(settings.prefetch, 200);
    assert_eq!(settings.batches.index_max_posts.map(|n| n.get()), Some(1000));
    assert_eq!(settings.batches.index_max_wait, Some(std::time::Duration::from_millis(250)));
    assert_eq!(settings.batches.classify_max_posts.map(|n| n.get()), Some(250));
    let account = &settings.accounts[0];
    assert_eq!(account.sources.len(), 8);
    assert_eq!(account.profile.languages.as_deref(), Some(&["en".to_owned(), "es".to_owned()][..]));
    assert_eq!(account.roster.agents.len(), 3);
    assert_eq!(account.community.routing.len(), 1);
    assert_eq!(account.outbound_secret.as_ref().map(|s| s.expose()), Some("whsec-fixture"));
    assert!(settings.accounts[1].outbound.is_none());
}

#[test]
fn bad_files_name_the_key() {
    for path in fixtures("bad") {
        let text = std::fs::read_to_string(&path).expect("read");
        let key = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# error: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# error: KEY`", path.display()))
            .trim()
            .to_owned();
        let environment_only =
            path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("env-"));
        let error = match validate(&path) {
            Ok(mut settings) => {
                assert!(environment_only, "{}: validated, but should fail naming {key}", path.display());
                settings.check_environment().expect_err("the environment step must fail")
            }
            Err(error) => {
                assert!(
                    !environment_only,
                    "{}: failed validation, not the environment step: {error}",
                    path.display()
                );
                error
            }
        };
        let message = error.to_string();
        assert!(message.contains(&key), "{}: {message:?} does not name {key}", path.display());
    }
}
