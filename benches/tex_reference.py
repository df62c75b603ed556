"""The reference TeX reader for `cargo bench --bench tex`: pylatexenc's latex2text on the same
titles, compared with paperbell's reading letter for letter.

Reads JSON lines {"tex": ..., "ours": ...} on stdin; prints one JSON object with the share of
titles that read alike and the first differences. "Alike": the same letters and digits in the
same order once both are folded (NFKC, so 𝒩 is N and ᴷ is K; case ignored), which is what a
reader of the title gets from it; spacing and punctuation are not compared.
"""
import json
import sys
import unicodedata

from pylatexenc.latex2text import LatexNodes2Text


def letters(s):
    return "".join(c for c in unicodedata.normalize("NFKC", s).lower() if c.isalnum())


def main():
    reader = LatexNodes2Text(math_mode="text", strict_latex_spaces=True)
    total = alike = 0
    differ = []
    for line in sys.stdin:
        row = json.loads(line)
        try:
            theirs = reader.latex_to_text(row["tex"])
        except Exception as e:  # noqa: BLE001 - a reference that fails is a difference
            theirs = f"<pylatexenc failed: {e}>"
        total += 1
        if letters(theirs) == letters(row["ours"]):
            alike += 1
        elif len(differ) < 25:
            differ.append({"tex": row["tex"], "ours": row["ours"], "pylatexenc": theirs})
    print(json.dumps({"total": total, "alike": alike, "differ": differ}, ensure_ascii=False))


if __name__ == "__main__":
    main()
