//! `paperbell topics`: the configured topics as text, each with its query.

use crate::topics::TopicSet;

/// Each topic's id and name, then its query (what it follows, in the query language), then
/// what else works as a topic.
pub fn listing(topics: &TopicSet) -> String {
    let mut out = String::new();
    for t in &topics.topics {
        let follows = if t.external {
            "(its own source)".to_string()
        } else {
            t.query().to_string()
        };
        out.push_str(&format!(
            "{:<12} {}\n             {follows}\n",
            t.id, t.name
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
        assert!(
            text.contains("(cat:cs.CV OR cat:cs.RO) (\"6 dof\" OR \"6d object\""),
            "each topic's query: {text}"
        );
    }
}
