//! What readers told paperbell about papers: one person's rating of a paper in a chat, a
//! change a tap or a command asks for, and what a chat's ratings of a paper add up to.

use serde::{Deserialize, Serialize};

/// The member an import is rated by: imports count for the chat, not for a person.
pub const IMPORT_MEMBER: &str = "import";

/// One member's rating of one paper in one chat, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1 for 👍, -1 for 👎, 0 for neither.
    pub vote: i8,
    pub saved: bool,
    /// Part of an `/import` (a paper from the chat's library).
    pub imported: bool,
    /// When it last changed (Unix seconds).
    pub at: i64,
    /// The tap that made it last (`tap_id` of the platform's id for it), 0 when none did: a tap
    /// the platform hands over again (after a crash before it was answered) changes nothing.
    pub tap: u64,
}

/// A platform's id for one tap (a Telegram callback query, a Discord interaction), as a rating
/// keeps it: FNV-1a, never 0.
pub fn tap_id(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h.max(1)
}

impl Rating {
    pub fn is_empty(&self) -> bool {
        self.vote == 0 && !self.saved && !self.imported
    }
}

/// What a tap or a command does to the member's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingChange {
    /// 👍; a second 👍 takes it back.
    Up,
    /// 👎; a second 👎 takes it back.
    Down,
    /// ⭐; a second ⭐ takes it back.
    Save,
    /// Everything this member said about the paper.
    Clear,
    /// From an import: liked, without a vote.
    Import,
}

impl RatingChange {
    pub fn parse(s: &str) -> Option<RatingChange> {
        Some(match s {
            "up" => RatingChange::Up,
            "down" => RatingChange::Down,
            "save" => RatingChange::Save,
            "clear" => RatingChange::Clear,
            _ => return None,
        })
    }

    /// `rating` after this change, at `at`. `toggle` false makes Up, Down and Save set rather
    /// than flip (the command line says what it wants, a second tap takes a rating back).
    pub fn apply(self, mut rating: Rating, at: i64, toggle: bool) -> Rating {
        match self {
            RatingChange::Up => rating.vote = if toggle && rating.vote == 1 { 0 } else { 1 },
            RatingChange::Down => rating.vote = if toggle && rating.vote == -1 { 0 } else { -1 },
            RatingChange::Save => rating.saved = !(toggle && rating.saved),
            RatingChange::Clear => rating = Rating::default(),
            RatingChange::Import => rating.imported = true,
        }
        rating.at = at;
        rating
    }
}

/// A chat's ratings of one paper, every member's together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub up: u32,
    pub down: u32,
    pub saved: u32,
    pub imported: bool,
    /// The newest change (Unix seconds).
    pub at: i64,
}

impl Tally {
    /// Adds a member's rating; an empty one (a rating taken back, kept for its tap) says
    /// nothing.
    pub fn add(&mut self, r: &Rating) {
        if r.is_empty() {
            return;
        }
        match r.vote {
            1 => self.up += 1,
            -1 => self.down += 1,
            _ => {}
        }
        self.saved += u32::from(r.saved);
        self.imported |= r.imported;
        self.at = self.at.max(r.at);
    }

    /// What the chat thinks of the paper: above 0 liked, below 0 not, 0 no opinion. A save or
    /// an import is a like; votes otherwise decide.
    /// Nobody in the chat says anything of the paper.
    pub fn is_empty(&self) -> bool {
        self.up == 0 && self.down == 0 && self.saved == 0 && !self.imported
    }

    pub fn opinion(&self) -> i32 {
        let votes = self.up as i32 - self.down as i32;
        if self.saved > 0 || self.imported {
            votes.max(0) + 1
        } else {
            votes
        }
    }
}

/// A tally as a paper's button shows it.
impl From<Tally> for paperbell_chat::Rated {
    fn from(t: Tally) -> Self {
        paperbell_chat::Rated {
            up: t.up,
            down: t.down,
            saved: t.saved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_tap_takes_a_rating_back_and_the_command_line_sets() {
        let r = RatingChange::Up.apply(Rating::default(), 1, true);
        assert_eq!(r.vote, 1);
        assert_eq!(RatingChange::Up.apply(r, 2, true).vote, 0);
        assert_eq!(RatingChange::Up.apply(r, 2, false).vote, 1);
        let r = RatingChange::Down.apply(r, 3, true);
        assert_eq!(r.vote, -1, "👎 replaces 👍");
        let r = RatingChange::Save.apply(r, 4, true);
        assert!(r.saved);
        assert!(!RatingChange::Save.apply(r, 5, true).saved);
        assert!(RatingChange::Clear.apply(r, 6, true).is_empty());
        assert!(
            RatingChange::Import
                .apply(Rating::default(), 7, true)
                .imported
        );
        assert_eq!(RatingChange::parse("save"), Some(RatingChange::Save));
        assert_eq!(RatingChange::parse("love"), None);
    }

    #[test]
    fn a_tally_weighs_saves_and_imports_as_likes() {
        let mut t = Tally::default();
        t.add(&Rating {
            vote: -1,
            ..Rating::default()
        });
        assert_eq!(t.opinion(), -1);
        t.add(&Rating {
            saved: true,
            ..Rating::default()
        });
        assert_eq!(t.opinion(), 1, "a member saved it: liked despite a 👎");
        let mut t = Tally::default();
        t.add(&Rating {
            vote: 1,
            at: 5,
            ..Rating::default()
        });
        t.add(&Rating {
            vote: 1,
            at: 3,
            ..Rating::default()
        });
        assert_eq!((t.up, t.opinion(), t.at), (2, 2, 5));
    }
}
