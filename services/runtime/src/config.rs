//! Loading of a TOML configuration file with environment overrides.
//!
//! The file is parsed into a `toml::Value`, overridden by environment variables
//! (`SMO_BUS__URL=amqp://…` sets `bus.url`: the prefix, then the key path in
//! upper case with `__` between levels), and only then deserialized into the
//! caller's shape, so that one error path reports both sources with the full
//! key (`accounts[1].agents: invalid type…`). Shapes should use
//! `deny_unknown_fields` so a typo is an error, not a silently ignored key.
//!
//! Only variables whose first key is one of the shape's top-level keys
//! ([`EnvOverrides::keys`]) are applied: other variables with the same prefix
//! belong to someone else (`SMO_CONFIG` names the file, `SMO_TEST_…` configure
//! tests) and must not break loading.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{origin} is not valid TOML: {message}")]
    Syntax {
        /// The file or `<string>`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value has the wrong type or an unknown key was given.
    #[error("config key `{key}`: {message}")]
    Key {
        /// Dotted path of the offending key, e.g. `accounts[0].agents`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// An environment override could not be applied.
    #[error("environment variable {variable}: {message}")]
    Env {
        /// The variable's name.
        variable: String,
        /// What is wrong with it.
        message: String,
    },
}

/// A setting that failed validation, with its key relative to the table
/// that was checked (`limit`, `secret_env`) and why. Every config shape
/// (ingest sources, outbound, community) returns this one type; the caller
/// that knows where the table sits turns it into a [`ConfigError`] with
/// [`FieldError::under`], so every message names the full key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct FieldError {
    /// The key, relative to the checked table.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    /// `key` is wrong because of `reason`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { key: key.into(), reason: reason.into() }
    }

    /// The same error seen from the table that holds this one at `prefix`.
    pub fn nested(self, prefix: &str) -> Self {
        Self { key: format!("{prefix}.{}", self.key), reason: self.reason }
    }

    /// The error of the key under the table at `prefix` (`accounts[0].outbound`).
    pub fn under(self, prefix: &str) -> ConfigError {
        ConfigError::invalid(format!("{prefix}.{}", self.key), self.reason)
    }
}

impl ConfigError {
    /// A semantic validation error for `key`, for use by callers validating
    /// the deserialized shape into their typed config.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Key { key: key.into(), message: message.into() }
    }
}

/// Which environment variables override which keys.
#[derive(Debug, Clone, Copy)]
pub struct EnvOverrides<'a> {
    /// Variable prefix without the trailing `_`, e.g. `SMO`.
    pub prefix: &'a str,
    /// The shape's top-level keys that may be overridden, lowercase.
    pub keys: &'a [&'a str],
}

/// Reads `path`, applies the environment overrides, and deserializes into `T`.
pub fn load_config<T: DeserializeOwned>(path: &Path, env: EnvOverrides<'_>) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    parse_config(&text, &path.display().to_string(), env, std::env::vars())
}

/// Parses TOML `text` (named `origin` in errors), applies overrides from
/// `vars` (pairs of name and value) as `env` says, and deserializes into `T`.
/// Separate from [`load_config`] so tests can pass their own environment.
pub fn parse_config<T: DeserializeOwned>(
    text: &str,
    origin: &str,
    env: EnvOverrides<'_>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut value: toml::Value = toml::from_str(text)
        .map_err(|e| ConfigError::Syntax { origin: origin.to_owned(), message: e.to_string() })?;
    let prefix = format!("{}_", env.prefix);
    let mut overrides: Vec<(Vec<String>, String, String)> = vars
        .into_iter()
        .filter_map(|(name, raw)| {
            let path: Vec<String> =
                name.strip_prefix(&prefix)?.split("__").map(|part| part.to_ascii_lowercase()).collect();
            env.keys.contains(&path[0].as_str()).then_some((path, name, raw))
        })
        .collect();
    overrides.sort();
    for (path, name, raw) in overrides {
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env { variable: name, message: "empty key segment".into() });
        }
        set_path(&mut value, &path, parse_env_value(&raw))
            .map_err(|message| ConfigError::Env { variable: name.clone(), message })?;
    }
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(value, &mut track);
    T::deserialize(deserializer)
        .map_err(|error| ConfigError::Key { key: track.path().to_string(), message: error.to_string() })
}

/// Environment values are strings; read them as TOML scalars when they parse
/// as such (`8`, `true`, `1.5`, `["a","b"]`) so numeric keys can be overridden,
/// and as plain strings otherwise (URLs, paths).
fn parse_env_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&probe) {
        Ok(mut table) => table.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

fn set_path(root: &mut toml::Value, path: &[String], new: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("no key".into());
    };
    let mut node = root;
    for (depth, key) in parents.iter().enumerate() {
        let table =
            node.as_table_mut().ok_or_else(|| format!("`{}` is not a table", path[..depth].join(".")))?;
        node = table.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    let table = node.as_table_mut().ok_or_else(|| format!("`{}` is not a table", parents.join(".")))?;
    table.insert(last.clone(), new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Shape {
        bus: Bus,
        #[serde(default)]
        accounts: Vec<Account>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Bus {
        url: String,
        #[serde(default)]
        prefetch: u16,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Account {
        id: String,
        agents: Vec<String>,
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const SMO: EnvOverrides<'static> = EnvOverrides { prefix: "SMO", keys: &["bus", "accounts"] };

    #[test]
    fn variables_for_other_consumers_are_left_alone() {
        let shape: Shape = parse_config(
            "[bus]\nurl = \"x\"\n",
            "t",
            SMO,
            env(&[("SMO_CONFIG", "/etc/smo.toml"), ("SMO_TEST_AMQP_URL", "amqp://h"), ("SMOKE", "1")]),
        )
        .expect("unrelated variables are ignored");
        assert_eq!(shape.bus.url, "x");
        let err = parse_config::<Shape>("[bus]\nurl = \"x\"\n", "t", SMO, env(&[("SMO_BUS__URLL", "y")]))
            .expect_err("a typo inside an overridable section is still an error");
        assert!(err.to_string().contains("urll"), "{err}");
    }

    #[test]
    fn environment_overrides_file_values_with_types() {
        let text = "[bus]\nurl = \"sqlite://x\"\nprefetch = 10\n";
        let shape: Shape = parse_config(
            text,
            "t",
            SMO,
            env(&[("SMO_BUS__URL", "amqp://h:5672/%2f"), ("SMO_BUS__PREFETCH", "500"), ("OTHER", "x")]),
        )
        .expect("valid");
        assert_eq!(shape.bus, Bus { url: "amqp://h:5672/%2f".into(), prefetch: 500 });
    }

    #[test]
    fn errors_name_the_key() {
        let text = "[bus]\nurl = \"x\"\n[[accounts]]\nid = \"a\"\nagents = \"alice\"\n";
        let err = parse_config::<Shape>(text, "t", SMO, env(&[])).expect_err("bad type");
        assert!(err.to_string().contains("accounts[0].agents"), "{err}");

        let text = "[bus]\nurl = \"x\"\nprefech = 3\n";
        let err = parse_config::<Shape>(text, "t", SMO, env(&[])).expect_err("typo");
        assert!(err.to_string().contains("bus") && err.to_string().contains("prefech"), "{err}");

        let err =
            parse_config::<Shape>("[bus]\nurl = \"x\"\n", "t", SMO, env(&[("SMO_BUS__PREFETCH", "many")]))
                .expect_err("not a number");
        assert!(err.to_string().contains("bus.prefetch"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let err = parse_config::<Shape>("[bus\n", "smo.toml", SMO, env(&[])).expect_err("syntax");
        assert!(err.to_string().contains("smo.toml"), "{err}");
    }

    #[test]
    fn override_through_a_scalar_is_an_env_error() {
        let err =
            parse_config::<Shape>("[bus]\nurl = \"x\"\n", "t", SMO, env(&[("SMO_BUS__URL__HOST", "h")]))
                .expect_err("url is not a table");
        assert!(err.to_string().contains("SMO_BUS__URL__HOST"), "{err}");
    }
}
