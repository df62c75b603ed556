#!/usr/bin/env python3
"""The peer of `cargo bench --bench search`: SQLite FTS5 (bm25, title weighted 2, abstract 1)
over the same papers and the same known-item queries, in one run beside paperbell's index.

usage: search_fts5.py PAPERS.jsonl[.gz] CASES.jsonl DBFILE [--days N]
Prints build time and size, top-3 rate and MRR, and query latency p50/p99."""
import gzip, json, os, sqlite3, sys, time

papers_path, cases_path, db_path = sys.argv[1:4]
days = int(sys.argv[sys.argv.index("--days") + 1]) if "--days" in sys.argv else None
opener = gzip.open if papers_path.endswith(".gz") else open
rows = [json.loads(l) for l in opener(papers_path, "rt", encoding="utf-8")]
if days:
    keep = set(sorted({r["date"] for r in rows})[-days:])
    rows = [r for r in rows if r["date"] in keep]
if os.path.exists(db_path):
    os.remove(db_path)
db = sqlite3.connect(db_path)
db.execute("create virtual table p using fts5(id unindexed, title, abstract, authors, comment, tokenize='porter unicode61')")
t = time.perf_counter()
with db:
    db.executemany(
        "insert into p values (?, ?, ?, ?, ?)",
        ((r["id"], r["title"], r["abstract"], ", ".join(r["authors"]), r.get("comment") or "") for r in rows),
    )
build = time.perf_counter() - t
cases = [json.loads(l) for l in open(cases_path)]
lat, top3, rr = [], 0, 0.0
for c in cases:
    q = " ".join('"%s"' % w.replace('"', "") for w in c["query"].split())
    t = time.perf_counter()
    found = [r[0] for r in db.execute(
        "select id from p where p match ? order by bm25(p, 0.0, 2.0, 1.0, 1.0, 0.5) limit 10", (q,))]
    lat.append(time.perf_counter() - t)
    if c["id"] in found:
        r = found.index(c["id"])
        rr += 1 / (r + 1)
        top3 += r < 3
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, max(0, int(len(lat) * p + 0.999999) - 1))] * 1e3
db.close()
print("fts5: %d papers indexed in %.2f s = %.0f papers/s, %.1f MB; %d queries: top-3 %.1f%%, MRR %.3f; latency p50 %.2f ms, p99 %.2f ms"
      % (len(rows), build, len(rows) / build, os.path.getsize(db_path) / 1e6, len(cases),
         100 * top3 / len(cases), rr / len(cases), pct(0.5), pct(0.99)))
