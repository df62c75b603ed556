//! Reading the config: the file (or the shipped default), `PAPERBELL_<SECTION>_<KEY>`
//! overrides typed like the defaults, and secrets from the environment or the files it names.
//! The only code that reads the environment.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

/// Whether the operator tuned glibc's malloc arenas (`MALLOC_ARENA_MAX`): then `main` leaves
/// them as they are. Read here because this module is the only reader of the environment.
pub fn malloc_arenas_set_by_environment() -> bool {
    std::env::var_os("MALLOC_ARENA_MAX").is_some()
}

/// Environment variables that are not settings (read by the command line instead).
const NOT_SETTINGS: &[&str] = &["PAPERBELL_CONFIG", "PAPERBELL_DATA"];

impl Config {
    /// Reads the config file (or the built-in default when the default path is absent) and
    /// the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        // All of it: the LLM key may live in a variable of any name (`llm.api_key_env`).
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let (origin, text) = match path {
            Some(p) => (p.display().to_string(), read(p)?),
            None => {
                let p = Path::new(DEFAULT_CONFIG_PATH);
                if p.exists() {
                    (p.display().to_string(), read(p)?)
                } else {
                    (
                        "built-in default config".to_string(),
                        DEFAULT_CONFIG.to_string(),
                    )
                }
            }
        };
        Self::from_parts(&origin, &text, &env, |p| std::fs::read_to_string(p))
    }

    /// The shipped configuration with no environment: what a fresh clone runs with.
    pub fn shipped() -> Config {
        Self::from_parts(
            "built-in default config",
            DEFAULT_CONFIG,
            &BTreeMap::new(),
            |_| unreachable!("the shipped config names no secret files"),
        )
        .expect("the shipped config is valid (tested)")
    }

    /// Pure core of `load`: file text, environment and a file reader for `*_FILE` secrets.
    pub fn from_parts(
        origin: &str,
        text: &str,
        env: &BTreeMap<String, String>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Config, ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            let at = e.span().map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}")
            });
            ConfigError {
                origin: origin.to_string(),
                key: at.unwrap_or_default(),
                message,
            }
        })?;
        for (var, section, key) in SECRETS {
            if table.get(*section).and_then(|s| s.get(*key)).is_some() {
                return Err(err(
                    &format!("{section}.{key}"),
                    format!(
                        "secrets are not read from the config file; set {var} (or {var}_FILE) instead"
                    ),
                ));
            }
        }
        let defaults = toml::Table::try_from(Config::default()).expect("defaults serialise");
        // The LLM key lives in a variable the config names; it may look like a setting.
        let key_var = env
            .get("PAPERBELL_LLM_API_KEY_ENV")
            .cloned()
            .or_else(|| {
                table
                    .get("llm")
                    .and_then(|l| l.get("api_key_env"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| LlmConfig::default().api_key_env);
        for (var, value) in env {
            if !var.starts_with("PAPERBELL_")
                || NOT_SETTINGS.contains(&var.as_str())
                || *var == key_var
                || SECRETS
                    .iter()
                    .any(|(s, _, _)| var == s || *var == format!("{s}_FILE"))
            {
                continue;
            }
            apply_env(&mut table, &defaults, var, value).map_err(|e| ConfigError {
                origin: format!("environment variable {var}"),
                key: String::new(),
                message: e.message,
            })?;
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                err(
                    if path == "." { "" } else { &path },
                    e.into_inner().message().to_string(),
                )
            })?;
        config.telegram.token = secret(env, "PAPERBELL_TELEGRAM_TOKEN", &read_file)?;
        config.telegram.webhook_secret =
            secret(env, "PAPERBELL_TELEGRAM_WEBHOOK_SECRET", &read_file)?;
        config.discord.token = secret(env, "PAPERBELL_DISCORD_TOKEN", &read_file)?;
        if !config.llm.api_key_env.trim().is_empty() {
            let var = config.llm.api_key_env.trim().to_string();
            config.llm.api_key = env
                .get(&var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret(v.trim().to_string()));
        }
        config.validate().map_err(|e| err(&e.key, e.message))?;
        Ok(config)
    }
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|e| ConfigError {
        origin: p.display().to_string(),
        key: String::new(),
        message: format!("cannot read the config file: {e}"),
    })
}

fn secret(
    env: &BTreeMap<String, String>,
    var: &str,
    read_file: &impl Fn(&Path) -> std::io::Result<String>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = env.get(var).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Secret(v.trim().to_string())));
    }
    let file_var = format!("{var}_FILE");
    if let Some(path) = env.get(&file_var).filter(|v| !v.trim().is_empty()) {
        let text = read_file(Path::new(path.trim())).map_err(|e| ConfigError {
            origin: format!("environment variable {file_var}"),
            key: String::new(),
            // The path is not secret; the contents are, and are never shown.
            message: format!("cannot read {path}: {e}"),
        })?;
        let v = text.trim();
        if v.is_empty() {
            return Err(ConfigError {
                origin: file_var,
                key: String::new(),
                message: format!("{path} is empty"),
            });
        }
        return Ok(Some(Secret(v.to_string())));
    }
    Ok(None)
}

/// Applies `PAPERBELL_<SECTION>_<KEY>=value` to the parsed file, typed like the default value.
fn apply_env(
    table: &mut toml::Table,
    defaults: &toml::Table,
    var: &str,
    value: &str,
) -> Result<(), InvalidSetting> {
    let bad = |m: String| invalid(var.to_string(), m);
    let rest = var
        .strip_prefix("PAPERBELL_")
        .unwrap_or(var)
        .to_ascii_lowercase();
    let Some((section, key)) = defaults
        .iter()
        .filter(|(_, v)| v.is_table())
        .find_map(|(s, _)| {
            rest.strip_prefix(&format!("{s}_"))
                .map(|k| (s.clone(), k.to_string()))
        })
    else {
        return Err(bad(format!(
            "`{var}` does not name a setting (PAPERBELL_<SECTION>_<KEY>, sections: {})",
            sections(defaults)
        )));
    };
    let default = defaults[&section].as_table().and_then(|t| t.get(&key));
    let known_optional = matches!(
        (section.as_str(), key.as_str()),
        ("discord", "application_id" | "public_key" | "guild_id")
            | ("telegram", "webhook_url")
            | ("backup", "dir")
    );
    let typed = match default {
        Some(toml::Value::Integer(_)) => value
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| bad(format!("`{value}` is not a whole number")))?,
        Some(toml::Value::Float(_)) => value
            .trim()
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| bad(format!("`{value}` is not a number")))?,
        Some(toml::Value::Boolean(_)) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(bad(format!("`{value}` is not true or false"))),
        },
        Some(toml::Value::String(_)) => toml::Value::String(value.to_string()),
        None if known_optional => toml::Value::String(value.to_string()),
        _ => {
            return Err(bad(format!(
                "[{section}] has no setting `{key}` that the environment can set"
            )));
        }
    };
    let entry = table
        .entry(section)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => {
            t.insert(key, typed);
            Ok(())
        }
        _ => Err(bad(
            "the config file has this section as a value, not a table".into(),
        )),
    }
}

fn sections(defaults: &toml::Table) -> String {
    defaults
        .iter()
        .filter(|(_, v)| v.is_table())
        .map(|(k, _)| k.to_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}
