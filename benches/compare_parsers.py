"""Times Python's arXiv parsers on the files the Rust parse bench wrote, for a side-by-side run.

Usage: python compare_parsers.py API_FILE RSS_FILE MIN_SECONDS
Prints one JSON object: {"tool/file": {"seconds": per-parse seconds, "entries": n}, ...}
"""
import json
import sys
import time

import feedparser
import arxiv
from arxiv import _feed as arxiv_feed


def timed(fn, data, min_seconds):
    fn(data)  # warm-up
    runs, start = 0, time.perf_counter()
    while True:
        result = fn(data)
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and runs >= 3:
            return elapsed / runs, result


def main():
    api_path, rss_path, min_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    api = open(api_path, "rb").read()
    rss = open(rss_path, "rb").read()
    out = {}
    s, r = timed(feedparser.parse, api, min_seconds)
    out["feedparser/api"] = {"seconds": s, "entries": len(r.entries)}
    s, r = timed(feedparser.parse, rss, min_seconds)
    out["feedparser/rss"] = {"seconds": s, "entries": len(r.entries)}
    s, r = timed(arxiv_feed.parse, api, min_seconds)
    out["arxiv/api"] = {"seconds": s, "entries": len(r.results)}
    out["versions"] = {"feedparser": feedparser.__version__, "arxiv": getattr(arxiv, "__version__", "4.0.2"), "python": sys.version.split()[0]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
