"""A stand-in for arXiv's HTML edition, for the README's screenshots only (arXiv is out of reach
where they are made): serves, for each paper id given, a LaTeXML-shaped page whose first
figure is a small chart drawn here, `<base>`-relative as arxiv.org/html writes it. The figures
are synthetic; the papers around them are real.

    python3 html_edition.py PORT ID_VERSION...
"""
import http.server
import random
import struct
import sys
import zlib

W, H = 640, 400


def png(seed):
    """A bar chart with a trend line, as RGB PNG bytes."""
    rnd = random.Random(seed)
    px = bytearray(b"\xff" * (W * H * 3))

    def put(x, y, c):
        if 0 <= x < W and 0 <= y < H:
            i = (y * W + x) * 3
            px[i : i + 3] = bytes(c)

    def rect(x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(H, y1)):
            for x in range(max(0, x0), min(W, x1)):
                put(x, y, c)

    rect(60, 40, 62, 360, (60, 60, 60))
    rect(60, 358, 610, 360, (60, 60, 60))
    palette = [(37, 99, 235), (234, 88, 12), (22, 163, 74), (147, 51, 234)]
    groups = 6
    heights = []
    for g in range(groups):
        for k in range(3):
            h = int(rnd.uniform(0.2, 0.95) * 300)
            x0 = 80 + g * 88 + k * 24
            rect(x0, 358 - h, x0 + 20, 358, palette[k])
        heights.append(rnd.uniform(0.3, 0.9))
    last = None
    for g, f in enumerate(sorted(heights)):
        x, y = 110 + g * 88, int(358 - f * 310)
        rect(x - 5, y - 5, x + 5, y + 5, palette[3])
        if last:
            steps = max(abs(x - last[0]), 1)
            for s in range(steps):
                put(last[0] + s, last[1] + (y - last[1]) * s // steps, palette[3])
                put(last[0] + s, last[1] + (y - last[1]) * s // steps + 1, palette[3])
        last = (x, y)
    raw = b"".join(b"\x00" + bytes(px[y * W * 3 : (y + 1) * W * 3]) for y in range(H))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<base href="/html/{idv}/"><title>{idv}</title></head><body>
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">{idv}</h1>
<section id="S1" class="ltx_section"><h2 class="ltx_title">1 Introduction</h2>
<figure id="S1.F1" class="ltx_figure"><img src="x1.png" id="S1.F1.g1" class="ltx_graphics ltx_centering ltx_img_landscape" width="{w}" height="{h}" alt="Refer to caption">
<figcaption class="ltx_caption ltx_centering"><span class="ltx_tag ltx_tag_figure">Figure 1: </span>Results across six benchmarks; the line is the mean gain <math alttext="\\Delta_{{\\text{{mean}}}} \\pm \\sigma" display="inline"><mi>Δ</mi></math> over {runs} runs.</figcaption>
</figure></section></article></body></html>"""


class Edition(http.server.BaseHTTPRequestHandler):
    papers = set()

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "html" and parts[1] in self.papers:
            if len(parts) == 2:
                body = PAGE.format(idv=parts[1], w=476, h=298, runs=3 + len(parts[1]) % 5)
                return self.send(200, "text/html; charset=utf-8", body.encode())
            if parts[2:] == ["x1.png"]:
                return self.send(200, "image/png", png(parts[1]))
        self.send(404, "text/html", b"<h1>No HTML for this paper</h1>")

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


if __name__ == "__main__":
    Edition.papers = set(sys.argv[2:])
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Edition).serve_forever()
