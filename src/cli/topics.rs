//! `paperbell topics`: the configured topics as text, one block each.

use crate::topics::TopicSet;

/// Each topic's id, name, categories and keyword groups (`a | b` within a group, groups joined
/// by AND), then what else works as a topic.
pub fn listing(topics: &TopicSet) -> String {
    let mut out = String::new();
    for t in &topics.topics {
        let cats: Vec<&str> = t.categories.iter().map(|c| c.as_str()).collect();
        let groups: Vec<String> = t
            .keywords
            .iter()
            .map(|g| {
                g.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        out.push_str(&format!(
            "{:<12} {}\n             categories: {}\n             keywords:   {}\n",
            t.id,
            t.name,
            cats.join(" "),
            groups.join(" AND ")
        ));
    }
    out.push_str(
        "\nAny arXiv category (e.g. cs.CV) or a query such as '\"diffusion\" AND video -survey' also works as a topic.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_is_listed_with_its_groups() {
        let set = crate::config::Config::shipped().topic_set().unwrap();
        let text = listing(&set);
        for t in &set.topics {
            assert!(
                text.contains(&format!("{:<12} {}\n", t.id, t.name)),
                "{text}"
            );
        }
        assert!(text.contains(" | "), "keyword alternatives: {text}");
    }
}
