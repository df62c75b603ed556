//! What each chat cares about, pure: papers as TF-IDF words (`features`), a chat's model learnt
//! from its ratings and imports (`model`), and a list put in the chat's order with a short
//! reason per paper (`order`). The store keeps ratings and models; `compose::taste` joins them.

pub mod features;
pub mod model;
pub mod order;

pub use features::{Features, TermId, Vocabulary, WordCounts, is_embedding_term};
pub use model::{Example, MAX_BYTES, Scorer, Taste, mark, train};
pub use order::{ListIndex, Personal, Reason, personal_order, reason};
