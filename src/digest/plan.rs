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

/// The chat's digest messages, pure: one per topic with something new (each paper once, under
/// the first topic it matched, naming all), or one combined message when the format asks.
/// `overview` gives a topic's overview line for the papers (indexes into its list, ascending)
/// its message speaks of. `order`, for a chat with a taste model, is each list's order for the
/// chat (indexes into the list, best first); without it the lists' own order stands.
pub fn messages(
    subs: &[Subscription],
    lists: &[&Ranked],
    order: Option<&[Vec<usize>]>,
    delivered: impl Fn(&str) -> bool,
    overview: &mut dyn FnMut(usize, &[usize]) -> String,
    eff: &Effective,
    day: &str,
) -> Vec<PlannedMessage> {
    let ordered: Vec<Vec<&StoredPaper>> = lists
        .iter()
        .enumerate()
        .map(|(t, l)| match order {
            Some(o) => o[t].iter().map(|&i| &l.papers[i]).collect(),
            None => l.papers.iter().collect(),
        })
        .collect();
    let per_topic: Vec<(&str, &[&StoredPaper])> = subs
        .iter()
        .zip(&ordered)
        .map(|(s, l)| (s.topic_name.as_str(), l.as_slice()))
        .collect();
    // A planned index (into the chat's order) as an index into the topic's list.
    let at = |t: usize, i: usize| order.map_or(i, |o| o[t][i]);
    let combined = eff.format == DigestFormat::Combined;
    let max = if combined {
        usize::MAX
    } else {
        eff.max as usize
    };
    let planned = plan(&per_topic, delivered, max);
    let ids = |t: &PlannedTopic| -> Vec<(String, Vec<String>)> {
        t.papers
            .iter()
            .map(|(i, names)| {
                (
                    lists[t.topic].papers[at(t.topic, *i)].paper.id.to_string(),
                    names.clone(),
                )
            })
            .collect()
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
        if planned.is_empty() {
            return Vec::new();
        }
        let mut papers: Vec<(String, Vec<String>)> = planned.iter().flat_map(ids).collect();
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
    planned
        .iter()
        .map(|p| {
            message(
                subs[p.topic].topic_name.clone(),
                ids(p),
                p.more as u32,
                Some(subs[p.topic].topic_id.clone()),
                Some(overview(p.topic, &{
                    let mut about: Vec<usize> =
                        p.about().into_iter().map(|i| at(p.topic, i)).collect();
                    about.sort_unstable();
                    about
                })),
            )
        })
        .collect()
}
