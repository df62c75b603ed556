//! Which papers go into a chat's digest, pure: each paper once under the first topic that
//! matched it (naming all), nothing already delivered, at most `max` per topic; and the planned
//! messages that come of it, per topic or combined, as the chat's format asks.

use crate::i18n::t;
use crate::model::chat::{DigestFormat, Effective, Subscription};
use crate::model::delivery::PlannedMessage;
use crate::model::paper::StoredPaper;

use super::Ranked;

/// One topic's part of a chat's digest: each paper once, with every subscribed topic it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTopic {
    /// Index of the topic in the plan's input.
    pub topic: usize,
    /// Index of each paper in that topic's list, with the names of all topics it matched.
    pub papers: Vec<(usize, Vec<String>)>,
    /// Papers left out by the chat's `max`.
    pub more: usize,
    /// Their indexes, for the overview, which speaks of all of them.
    pub left_out: Vec<usize>,
}

impl PlannedTopic {
    /// Indexes of every paper this topic's message speaks of: shown, then left out.
    pub fn about(&self) -> Vec<usize> {
        self.papers
            .iter()
            .map(|(i, _)| *i)
            .chain(self.left_out.iter().copied())
            .collect()
    }
}

/// Plans a chat's digest from each subscribed topic's new papers, `(name, papers)` in
/// subscription order: a paper already delivered to the chat is left out; a paper that several
/// topics matched is shown once, under the first, naming all of them; at most `max` papers per
/// topic. Topics left with nothing are left out.
pub fn plan<P: std::borrow::Borrow<StoredPaper>>(
    topics: &[(&str, &[P])],
    delivered: impl Fn(&str) -> bool,
    max: usize,
) -> Vec<PlannedTopic> {
    let total: usize = topics.iter().map(|(_, p)| p.len()).sum();
    let mut names: std::collections::HashMap<&str, Vec<&str>> =
        std::collections::HashMap::with_capacity(total);
    for (name, papers) in topics {
        for sp in papers.iter() {
            let list = names.entry(sp.borrow().paper.id.as_str()).or_default();
            if !list.contains(name) {
                list.push(name);
            }
        }
    }
    let mut placed = std::collections::HashSet::with_capacity(total);
    let mut out = Vec::new();
    for (t, (_, papers)) in topics.iter().enumerate() {
        let fresh: Vec<usize> = papers
            .iter()
            .enumerate()
            .filter(|(_, sp)| {
                let id = sp.borrow().paper.id.as_str();
                !delivered(id) && placed.insert(id)
            })
            .map(|(i, _)| i)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        out.push(PlannedTopic {
            topic: t,
            more: fresh.len().saturating_sub(max),
            left_out: fresh.iter().skip(max).copied().collect(),
            papers: fresh
                .into_iter()
                .take(max)
                .map(|i| {
                    let id = papers[i].borrow().paper.id.as_str();
                    (i, names[id].iter().map(|n| n.to_string()).collect())
                })
                .collect(),
        });
    }
    out
}

/// Every new paper each topic would show a chat, pure, before the chat's `max`: each paper
/// once, under the first topic it matched (naming all), nothing `delivered`, in the lists'
/// order. It depends on the subscriptions and windows only, so a planning run shares it
/// between chats (and chats with a taste model cut it their own way).
pub fn fresh(
    subs: &[Subscription],
    lists: &[&Ranked],
    delivered: impl Fn(&str) -> bool,
) -> Vec<PlannedTopic> {
    let per_topic: Vec<(&str, &[StoredPaper])> = subs
        .iter()
        .zip(lists)
        .map(|(s, l)| (s.topic_name.as_str(), l.papers.as_slice()))
        .collect();
    plan(&per_topic, delivered, usize::MAX)
}

/// The chat's digest messages, pure, from its `fresh` papers: one message per topic with
/// something new, at most `max` papers each, or one combined message when the format asks.
/// `overview` gives a topic's overview line for the papers (indexes into its list, ascending)
/// its message speaks of. `scores`, for a chat with a taste model, weighs each list's papers
/// for the chat (by index): its best come first, ties in the list's order; without it the
/// lists' own order stands.
pub fn messages(
    subs: &[Subscription],
    lists: &[&Ranked],
    fresh: &[PlannedTopic],
    scores: Option<&[Vec<f32>]>,
    overview: &mut dyn FnMut(usize, &[usize]) -> String,
    eff: &Effective,
    day: &str,
) -> Vec<PlannedMessage> {
    let combined = eff.format == DigestFormat::Combined;
    let max = if combined {
        usize::MAX
    } else {
        eff.max as usize
    };
    // Each topic's papers to show, in the chat's order, and how many were left out.
    let chosen = |p: &PlannedTopic| -> (Vec<(String, Vec<String>)>, usize) {
        let list = &lists[p.topic];
        let mut shown: Vec<&(usize, Vec<String>)> = p.papers.iter().collect();
        if let Some(s) = scores {
            let s = &s[p.topic];
            let better = |a: &&(usize, Vec<String>), b: &&(usize, Vec<String>)| {
                s[b.0].total_cmp(&s[a.0]).then(a.0.cmp(&b.0))
            };
            if shown.len() > max {
                shown.select_nth_unstable_by(max, better);
                shown.truncate(max);
            }
            shown.sort_by(better);
        } else {
            shown.truncate(max);
        }
        let ids = shown
            .into_iter()
            .map(|(i, names)| (list.papers[*i].paper.id.to_string(), names.clone()))
            .collect::<Vec<_>>();
        let more = p.papers.len() - ids.len();
        (ids, more)
    };
    let message = |title: String, papers, more, unsubscribe, overview| PlannedMessage {
        title,
        day: day.to_string(),
        papers,
        more,
        unsubscribe_topic: unsubscribe,
        lang: eff.lang.code().to_string(),
        compact: eff.format == DigestFormat::Compact,
        overview,
    };
    if combined {
        if fresh.is_empty() {
            return Vec::new();
        }
        let mut papers: Vec<(String, Vec<String>)> =
            fresh.iter().flat_map(|p| chosen(p).0).collect();
        let cap = eff.max as usize * subs.len().max(1);
        let more = papers.len().saturating_sub(cap) as u32;
        papers.truncate(cap);
        return vec![message(
            t(eff.lang, "Your papers", "你的论文").to_string(),
            papers,
            more,
            None,
            None,
        )];
    }
    fresh
        .iter()
        .map(|p| {
            let (ids, more) = chosen(p);
            message(
                subs[p.topic].topic_name.clone(),
                ids,
                more as u32,
                Some(subs[p.topic].topic_id.clone()),
                // Every new paper of the topic, whichever the chat is shown.
                Some(overview(p.topic, &p.about())),
            )
        })
        .collect()
}
