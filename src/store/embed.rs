//! Papers' embeddings (`E`), one per paper, from the configured embedding model: quantised to
//! a byte a dimension with the vector's scale, and named by their model, so that a change of
//! model makes every older embedding count as missing (it is embedded again).

use serde::{Deserialize, Serialize};

use super::codec::{self, decode, encode};
use super::{Result, Store, key};

/// The meta entry naming the model the embeddings in use come from.
const MODEL_META: &str = "embedding_model";

#[derive(Serialize, Deserialize)]
struct EmbeddingRecord {
    model: String,
    /// What one step of `values` is worth.
    scale: f32,
    values: Vec<i8>,
}

/// Reads the embeddings of the model in use (`Store::embeddings`).
pub struct Embeddings<'s> {
    store: &'s Store,
    model: String,
}

impl Embeddings<'_> {
    /// The paper's embedding, if it has one from the model in use.
    pub fn get(&self, id: &str) -> Result<Option<Vec<f32>>> {
        Ok(self
            .store
            .embedding_record(id)?
            .filter(|r| r.model == self.model)
            .map(|r| r.values.iter().map(|q| f32::from(*q) * r.scale).collect()))
    }
}

impl Store {
    /// The model whose embeddings are in use: set by the job that embeds papers.
    pub fn set_embedding_model(&self, model: &str) -> Result<()> {
        if self.meta(MODEL_META)?.as_deref() != Some(model) {
            self.set_meta(MODEL_META, model)?;
            // Taste features kept in memos would mix two models' dimensions.
            self.facts_changed();
        }
        Ok(())
    }

    /// The embeddings in use, or `None` when papers are not embedded.
    pub fn embeddings(&self) -> Result<Option<Embeddings<'_>>> {
        Ok(self
            .meta(MODEL_META)?
            .filter(|m| !m.is_empty())
            .map(|model| Embeddings { store: self, model }))
    }

    /// Keeps each `(id, values)` as that paper's embedding from `model`, in one batch. The
    /// papers are logged as changed: their similar papers are worked out again with the
    /// embedding (`search::neighbours`; the index takes them again too, which is cheap).
    pub fn put_embeddings(&self, model: &str, embedded: &[(&str, &[f32])]) -> Result<()> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        for (id, values) in embedded {
            let max = values.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            let record = EmbeddingRecord {
                model: model.to_string(),
                scale,
                values: values
                    .iter()
                    .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
                    .collect(),
            };
            batch.insert(
                key(b'E', &[id.as_bytes()]),
                encode(codec::EMBEDDING_V1, &record)?,
            );
        }
        let ids: Vec<&str> = embedded.iter().map(|(id, _)| *id).collect();
        self.log_changes(&mut batch, &ids)?;
        self.db.apply_batch(batch)?;
        // Taste features kept in memos (the background sample) take them from now on.
        self.paper_changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// Whether paper `id` has an embedding from `model`.
    pub fn has_embedding(&self, id: &str, model: &str) -> Result<bool> {
        Ok(self.embedding_record(id)?.is_some_and(|r| r.model == model))
    }

    fn embedding_record(&self, id: &str) -> Result<Option<EmbeddingRecord>> {
        self.db
            .get(key(b'E', &[id.as_bytes()]))?
            .map(|v| decode(codec::EMBEDDING_V1, "embedding", &v))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embeddings_keep_their_direction_and_follow_the_model_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        assert!(store.embeddings().unwrap().is_none());
        let v = [0.5f32, -0.25, 0.0, 0.125];
        store.put_embeddings("m1", &[("2401.00001", &v)]).unwrap();
        store.set_embedding_model("m1").unwrap();
        let got = store
            .embeddings()
            .unwrap()
            .unwrap()
            .get("2401.00001")
            .unwrap()
            .unwrap();
        for (a, b) in got.iter().zip(v) {
            assert!((a - b).abs() < 0.5 / 127.0 + 1e-6, "{got:?}");
        }
        assert!(store.has_embedding("2401.00001", "m1").unwrap());
        // Another model: the old embedding no longer counts.
        store.set_embedding_model("m2").unwrap();
        let e = store.embeddings().unwrap().unwrap();
        assert_eq!(e.get("2401.00001").unwrap(), None);
        assert!(!store.has_embedding("2401.00001", "m2").unwrap());
    }
}
