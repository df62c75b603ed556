"""arxiv-sanity's ranking for the `taste` bench: TF-IDF and a linear SVM per reader
(scikit-learn), trained on the same ratings paperbell's model learns from.

Usage: svm.py PAPERS.jsonl.gz SCENARIO.json  -> prints one JSON object of metrics.

As arxiv-sanity-lite does (serve.py and compute.py): TF-IDF over titles and abstracts with
uni- and bigrams, sublinear tf, max_df 0.1, min_df 5, 20,000 features, fitted on every paper of
the window; `LinearSVC(class_weight="balanced", C=0.1)`; the reader's liked papers (imports and
thumbs-up) are the positives and every other paper before the test days is a negative (its
thumbs-down included). The test day's candidates are ranked by the SVM's decision value.
"""

import gzip
import json
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def metrics(order, relevant, k=10):
    gains = [1.0 if pid in relevant else 0.0 for pid in order[:k]]
    p = sum(gains) / k
    dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return p, (dcg / ideal if ideal > 0 else 0.0)


def main():
    papers_path, scenario_path = sys.argv[1], sys.argv[2]
    scenario = json.load(open(scenario_path))
    window = set(scenario["window"])
    texts = {}
    with gzip.open(papers_path, "rt") as f:
        for line in f:
            p = json.loads(line)
            if p["id"] in window:
                texts[p["id"]] = p["title"] + ". " + p["abstract"]
    ids = sorted(texts)
    index = {pid: i for i, pid in enumerate(ids)}
    vectorizer = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
        lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
        max_df=0.1, min_df=5,
    )
    x = vectorizer.fit_transform([texts[pid] for pid in ids])
    p_sum = n_sum = 0.0
    count = 0
    for reader in scenario["readers"]:
        liked = set(reader["liked"])
        train = [pid for pid in reader["train"] if pid in index]
        y = np.array([1 if pid in liked else 0 for pid in train])
        if y.sum() == 0 or y.sum() == len(y):
            continue
        clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.1)
        clf.fit(x[[index[pid] for pid in train]], y)
        for day in reader["test"]:
            cands = [pid for pid in day["candidates"] if pid in index]
            scores = clf.decision_function(x[[index[pid] for pid in cands]])
            order = [cands[i] for i in np.argsort(-scores, kind="stable")]
            p, n = metrics(order, set(day["relevant"]))
            p_sum += p
            n_sum += n
            count += 1
    print(json.dumps({"p10": p_sum / max(count, 1), "ndcg10": n_sum / max(count, 1), "days": count}))


if __name__ == "__main__":
    main()
