#!/usr/bin/env bash
# Makes the README's screenshots: one real announcement day of ../shared/data stored as a
# fetch stores it, figures asked of a local stand-in of arXiv's HTML edition (html_edition.py:
# arXiv is out of reach here), the archive served by `paperbell run`, and headless Chromium
# (Debian's `chromium`) taking the pictures.
#
#   docs/screenshots/make.sh [DAY] [TOPIC]      (default 2026-05-13 nerf)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
day=${1:-2026-05-13}
topic=${2:-nerf}
bin=${PAPERBELL_BIN:-$root/target/debug/paperbell}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export PAPERBELL_DATA=$work/data PAPERBELL_HUGGINGFACE_ENABLED=false
export PAPERBELL_ARXIV_HTML_URL=http://127.0.0.1:8098/html/ PAPERBELL_ARXIV_MIN_INTERVAL_SECS=0
python3 "$root/../shared/data/to_rss.py" "$root/../shared/data/arxiv-papers.jsonl.gz" "$work/feeds" \
  --from "$day" --to "$day" >/dev/null
"$bin" --config "$root/config/paperbell.toml" fetch --from-file "$work"/feeds/*.xml >/dev/null
# The topic's papers, the one with the most TeX first (its page is the second picture).
mapfile -t papers < <("$bin" --config "$root/config/paperbell.toml" recent "$topic" -n 300 --json |
  python3 -c 'import json,sys
ps = sorted(json.load(sys.stdin), key=lambda p: ("$" not in p["title"], -p["abstract"].count("$")))
for p in ps: print(p["id"] + "v" + str(p["version"]))')
python3 "$root/docs/screenshots/html_edition.py" 8098 "${papers[@]}" &
sleep 1
for p in "${papers[@]}"; do
  "$bin" --config "$root/config/paperbell.toml" paper "${p%v*}" >/dev/null
done
"$bin" --config "$root/config/paperbell.toml" paper "${papers[0]%v*}" > "$work/paper.txt"
PAPERBELL_HTTP_LISTEN=127.0.0.1:8099 PAPERBELL_SCHEDULE_FETCH_ON_START=false \
  "$bin" --config "$root/config/paperbell.toml" run >"$work/run.log" 2>&1 &
sleep 2
shot() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chrome" --hide-scrollbars --window-size="$3" \
    --screenshot="$root/docs/$2" "http://127.0.0.1:8099$1" 2>/dev/null
}
shot "/topics/$topic/$day" topic-page.png 1280,2300
shot "/papers/${papers[0]%v*}" paper-page.png 1100,1300
cat "$work/paper.txt"
