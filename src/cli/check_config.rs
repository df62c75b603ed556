//! `paperbell check-config`: what the service would run with, in a few lines, secrets named
//! by where they come from and never shown.

use crate::config::Config;
use crate::topics::TopicSet;

/// The report for a config whose topics compiled to `topics`.
pub fn report(config: &Config, topics: &TopicSet) -> String {
    let mut out = format!(
        "config OK: {} topic(s), fetch \"{}\" in {}, store {}\n",
        topics.topics.iter().filter(|t| !t.external).count(),
        config.schedule.fetch,
        config.schedule.timezone,
        config.store.path.display()
    );
    let hf = if config.huggingface.enabled {
        format!("on ({}; topic hf-daily)", config.huggingface.api_url)
    } else {
        "off".into()
    };
    out.push_str(&format!("Hugging Face: {hf}\n"));
    let llm = if config.llm.enabled() {
        let key = if config.llm.api_key.is_some() {
            format!("from {}", config.llm.api_key_env)
        } else {
            format!("none: {} is not set", config.llm.api_key_env)
        };
        format!(
            "{} at {} (key {key})",
            config.llm.model,
            config.llm.base_url.as_deref().unwrap_or_default()
        )
    } else {
        "off (extractive TL;DRs; set [llm] base_url and model)".into()
    };
    out.push_str(&format!("LLM summaries: {llm}\n"));
    out.push_str(&format!(
        "taste models: {}\n",
        if config.llm.embeddings() {
            format!("words and {} embeddings", config.llm.embedding_model.trim())
        } else {
            "words (set [llm] embedding_model to add embeddings)".into()
        }
    ));
    for (name, set) in [
        ("Telegram", config.telegram.token.is_some()),
        ("Discord", config.discord.token.is_some()),
    ] {
        let state = if set {
            "token set"
        } else {
            "no token (disabled)"
        };
        out.push_str(&format!("{name}: {state}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_report_names_what_runs_and_never_a_secret() {
        let env: BTreeMap<String, String> = [
            ("PAPERBELL_TELEGRAM_TOKEN", "123:secret-token"),
            ("PAPERBELL_LLM_BASE_URL", "http://127.0.0.1:9/v1"),
            ("PAPERBELL_LLM_MODEL", "m"),
            ("PAPERBELL_LLM_API_KEY", "sk-very-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = Config::from_parts(
            "test",
            crate::config::DEFAULT_CONFIG,
            &env,
            |_| unreachable!(),
        )
        .unwrap();
        let r = report(&config, &config.topic_set().unwrap());
        assert!(r.starts_with("config OK: 7 topic(s), fetch \""), "{r}");
        assert!(
            r.contains("Telegram: token set\nDiscord: no token (disabled)\n"),
            "{r}"
        );
        assert!(
            r.contains("m at http://127.0.0.1:9/v1 (key from PAPERBELL_LLM_API_KEY)"),
            "{r}"
        );
        assert!(!r.contains("secret"), "{r}");
    }
}
