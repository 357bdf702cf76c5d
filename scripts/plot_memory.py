#!/usr/bin/env python3
"""Plot a gstrain memory log (RUN_DIR/memory.jsonl) as a PNG.

    python3 scripts/plot_memory.py RUN_DIR/memory.jsonl OUT.png

Two panels over training steps:
  top     Gaussians in total, per node when the run has more than one node, and the
          controller's growth limit (sum of max_gaussians) dashed;
  bottom  the model's predicted bytes, the measured (accounted) peak of each log window, the
          accounted bytes at the log step, the budget, and the allocator cap dashed.
Recovered out-of-memory events are marked with a red x on the bottom panel.

Only the Python standard library is used: the plot is drawn into an RGB pixel array with a
built-in 5x7 bitmap font and written as a PNG with zlib + struct, so it works on machines
without matplotlib or numpy. See docs/memory_model.md for what the fields mean.

Exit codes: 0 written, 1 the log cannot be read or is empty/malformed, 2 bad usage.
"""

import argparse
import json
import math
import os
import struct
import sys
import zlib

PROG = "plot_memory.py"


class LogError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# Reading memory.jsonl


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_log(path):
    """Returns the records of the (last) run in `path`, oldest first. Raises LogError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LogError("cannot read '%s': %s" % (path, e.strerror or e))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LogError("'%s' is not a UTF-8 text file (expected memory.jsonl)" % path)
    lines = text.split("\n")
    records = []
    nonblank = [(i + 1, s) for i, s in enumerate(lines) if s.strip()]
    if not nonblank:
        raise LogError("'%s' is empty: no memory log records (expected one JSON object per line)" % path)
    for k, (lineno, s) in enumerate(nonblank):
        last = k == len(nonblank) - 1
        try:
            rec = json.loads(s)
        except ValueError as e:
            # A run that is still writing may leave a partial last line: skip it with a note.
            if last and not text.endswith("\n") and records:
                print("%s: note: '%s' line %d is incomplete (run still writing?); skipped"
                      % (PROG, path, lineno), file=sys.stderr)
                break
            raise LogError("'%s' line %d: not valid JSON (%s)" % (path, lineno, e))
        if not isinstance(rec, dict):
            raise LogError("'%s' line %d: expected a JSON object, got %s"
                           % (path, lineno, type(rec).__name__))
        step = rec.get("step")
        if not _number(step):
            raise LogError("'%s' line %d: missing or non-numeric \"step\"" % (path, lineno))
        g = rec.get("gaussians")
        if not _number(rec.get("gaussians_total")) and not (
                isinstance(g, dict) and all(_number(v) for v in g.values())):
            raise LogError("'%s' line %d: missing \"gaussians_total\" / \"gaussians\"" % (path, lineno))
        rec["_line"] = lineno
        # A resumed run appends steps that overlap the interrupted run's tail, and a fresh run
        # into the same --out appends from step 1: the newer lines replace the older ones.
        if records and step <= records[-1]["step"]:
            dropped = [r for r in records if r["step"] >= step]
            records = [r for r in records if r["step"] < step]
            print("%s: note: '%s' line %d goes back to step %g; %d earlier record(s) from step %g on "
                  "are superseded" % (PROG, path, lineno, step, len(dropped), step), file=sys.stderr)
        records.append(rec)
    return records


def series(records, key, sub=None):
    """(step, value) pairs for records where the value is a finite number."""
    out = []
    for r in records:
        v = r.get(key)
        if sub is not None:
            v = v.get(sub) if isinstance(v, dict) else None
        if _number(v):
            out.append((float(r["step"]), float(v)))
    return out


def node_names(records):
    names = []
    for r in records:
        g = r.get("gaussians")
        if isinstance(g, dict):
            for n in g:
                if n not in names:
                    names.append(n)
    return names


def total_gaussians(records):
    out = []
    for r in records:
        v = r.get("gaussians_total")
        if not _number(v):
            g = r.get("gaussians")
            v = sum(g.values()) if isinstance(g, dict) else None
        if _number(v):
            out.append((float(r["step"]), float(v)))
    return out


def total_cap(records):
    out = []
    for r in records:
        m = r.get("max_gaussians")
        if isinstance(m, dict) and m and all(_number(v) for v in m.values()):
            out.append((float(r["step"]), float(sum(m.values()))))
    return out


# ----------------------------------------------------------------------------------------------
# A 5x7 bitmap font (upper-case letters; lower case is drawn as upper case).

_FONT_ROWS = {
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
    "D": "###..|#..#.|#...#|#...#|#...#|#..#.|###..",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
    "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
    "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
    "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
    "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    " ": ".....|.....|.....|.....|.....|.....|.....",
    ".": ".....|.....|.....|.....|.....|.##..|.##..",
    ",": ".....|.....|.....|.....|.##..|..#..|.#...",
    ":": ".....|.##..|.##..|.....|.##..|.##..|.....",
    "-": ".....|.....|.....|#####|.....|.....|.....",
    "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
    "=": ".....|.....|#####|.....|#####|.....|.....",
    "_": ".....|.....|.....|.....|.....|.....|#####",
    "(": "...#.|..#..|.#...|.#...|.#...|..#..|...#.",
    ")": ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
    "[": ".###.|.#...|.#...|.#...|.#...|.#...|.###.",
    "]": ".###.|...#.|...#.|...#.|...#.|...#.|.###.",
    "/": ".....|....#|...#.|..#..|.#...|#....|.....",
    "%": "##...|##..#|...#.|..#..|.#...|#..##|...##",
    "'": "..#..|..#..|.#...|.....|.....|.....|.....",
    "?": ".###.|#...#|....#|...#.|..#..|.....|..#..",
    "<": "...#.|..#..|.#...|#....|.#...|..#..|...#.",
    ">": ".#...|..#..|...#.|....#|...#.|..#..|.#...",
    "*": ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....",
}
FONT = {ch: [row for row in rows.split("|")] for ch, rows in _FONT_ROWS.items()}
SCALE = 2                 # each font pixel is SCALE x SCALE image pixels
CHAR_W = (5 + 1) * SCALE  # advance per character
CHAR_H = 7 * SCALE


def text_width(s):
    return len(s) * CHAR_W - SCALE if s else 0


# ----------------------------------------------------------------------------------------------
# An RGB canvas


class Canvas:
    def __init__(self, w, h, bg=(255, 255, 255)):
        self.w, self.h = w, h
        self.px = bytearray(bytes(bg) * (w * h))
        self.clip = (0, 0, w - 1, h - 1)

    def set(self, x, y, c):
        x0, y0, x1, y1 = self.clip
        if x0 <= x <= x1 and y0 <= y <= y1:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def fill_rect(self, x0, y0, x1, y1, c):
        x0, x1 = max(x0, 0), min(x1, self.w - 1)
        y0, y1 = max(y0, 0), min(y1, self.h - 1)
        if x0 > x1:
            return
        row = bytes(c) * (x1 - x0 + 1)
        for y in range(y0, y1 + 1):
            i = (y * self.w + x0) * 3
            self.px[i:i + len(row)] = row

    def hline(self, x0, x1, y, c):
        self.fill_rect(min(x0, x1), y, max(x0, x1), y, c)

    def vline(self, x, y0, y1, c):
        self.fill_rect(x, min(y0, y1), x, max(y0, y1), c)

    def line(self, xa, ya, xb, yb, c, width=2, dash=None, phase=0):
        """Bresenham line with a square brush; dash=(on, off) in pixels. Returns the phase."""
        xa, ya, xb, yb = int(round(xa)), int(round(ya)), int(round(xb)), int(round(yb))
        dx, dy = abs(xb - xa), -abs(yb - ya)
        sx, sy = (1 if xa < xb else -1), (1 if ya < yb else -1)
        err = dx + dy
        lo = -(width // 2)
        while True:
            on = dash is None or (phase % (dash[0] + dash[1])) < dash[0]
            if on:
                for oy in range(lo, lo + width):
                    for ox in range(lo, lo + width):
                        self.set(xa + ox, ya + oy, c)
            phase += 1
            if xa == xb and ya == yb:
                return phase
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                xa += sx
            if e2 <= dx:
                err += dx
                ya += sy

    def text(self, x, y, s, c, scale=SCALE):
        for ch in s:
            glyph = FONT.get(ch.upper(), FONT["?"])
            for gy, row in enumerate(glyph):
                for gx, bit in enumerate(row):
                    if bit == "#":
                        self.fill_rect(x + gx * scale, y + gy * scale,
                                       x + gx * scale + scale - 1, y + gy * scale + scale - 1, c)
            x += (5 + 1) * scale

    def png(self):
        raw = bytearray()
        stride = self.w * 3
        for y in range(self.h):
            raw.append(0)  # filter: none
            raw += self.px[y * stride:(y + 1) * stride]

        def chunk(kind, body):
            return (struct.pack(">I", len(body)) + kind + body +
                    struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

        ihdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


# ----------------------------------------------------------------------------------------------
# Axes


def nice_ticks(lo, hi, target=6, min_step=0.0):
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 x 10^k steps), step >= min_step."""
    if not (hi > lo):
        hi = lo + 1.0
    raw = max((hi - lo) / max(target, 1), min_step)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * mag
        if step >= raw:
            break
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    n = int(round((last - first) / step))
    return [first + i * step for i in range(n + 1)], step


def fmt_number(v, step):
    """Tick label: no float noise, as many decimals as the tick step needs."""
    decimals = 0
    while decimals < 6:
        scaled = abs(step) * 10 ** decimals
        if abs(scaled - round(scaled)) <= 1e-6 * max(1.0, scaled):
            break
        decimals += 1
    s = "%.*f" % (decimals, v)
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s


def fmt_count(v, step):
    if v == 0:
        return "0"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div or (v == 0 and step >= div):
            return fmt_number(v / div, step / div) + suffix
    return fmt_number(v, step)


def human_count(v):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return "%.3g%s" % (v / div, suffix)
    return "%d" % v


def byte_unit(vmax):
    for div, name in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if vmax >= div:
            return div, name
    return 1.0, "BYTES"


class Panel:
    def __init__(self, canvas, rect, xlim, ylim, xticks, yticks, xfmt, yfmt):
        self.c = canvas
        self.x0, self.y0, self.x1, self.y1 = rect
        self.xlim, self.ylim = xlim, ylim
        self.xticks, self.yticks = xticks, yticks
        self.xfmt, self.yfmt = xfmt, yfmt

    def map(self, x, y):
        (xa, xb), (ya, yb) = self.xlim, self.ylim
        px = self.x0 + (x - xa) / (xb - xa) * (self.x1 - self.x0)
        py = self.y1 - (y - ya) / (yb - ya) * (self.y1 - self.y0)
        return px, py

    def frame(self, title):
        c = self.c
        grid, axis, label = (232, 232, 232), (60, 60, 60), (40, 40, 40)
        for t in self.yticks[0]:
            _, py = self.map(self.xlim[0], t)
            py = int(round(py))
            if self.y0 <= py <= self.y1:
                c.hline(self.x0, self.x1, py, grid)
                c.hline(self.x0 - 5, self.x0 - 1, py, axis)
                s = self.yfmt(t, self.yticks[1])
                c.text(self.x0 - 9 - text_width(s), py - CHAR_H // 2, s, label)
        for t in self.xticks[0]:
            px, _ = self.map(t, self.ylim[0])
            px = int(round(px))
            if self.x0 <= px <= self.x1:
                c.vline(px, self.y0, self.y1, grid)
                c.vline(px, self.y1 + 1, self.y1 + 5, axis)
                s = self.xfmt(t, self.xticks[1])
                c.text(px - text_width(s) // 2, self.y1 + 10, s, label)
        c.hline(self.x0, self.x1, self.y0, axis)
        c.hline(self.x0, self.x1, self.y1, axis)
        c.vline(self.x0, self.y0, self.y1, axis)
        c.vline(self.x1, self.y0, self.y1, axis)
        c.text(self.x0, self.y0 - CHAR_H - 8, title, (0, 0, 0))

    def plot(self, pts, color, width=2, dash=None):
        if not pts:
            return
        c = self.c
        c.clip = (self.x0 + 1, self.y0 + 1, self.x1 - 1, self.y1 - 1)
        mapped = [self.map(x, y) for x, y in pts]
        if len(mapped) == 1:
            px, py = mapped[0]
            c.fill_rect(int(px) - 3, int(py) - 3, int(px) + 3, int(py) + 3, color)
        phase = 0
        for (xa, ya), (xb, yb) in zip(mapped, mapped[1:]):
            phase = c.line(xa, ya, xb, yb, color, width, dash, phase)
        c.clip = (0, 0, c.w - 1, c.h - 1)

    def marker_x(self, x, color):
        px, _ = self.map(x, self.ylim[0])
        px = int(round(px))
        y = self.y0 + 10
        self.c.line(px - 5, y - 5, px + 5, y + 5, color, 2)
        self.c.line(px - 5, y + 5, px + 5, y - 5, color, 2)


def legend(canvas, x, y, entries):
    """entries: (label, color, dash or None, kind) with kind 'line' or 'x'."""
    for label, color, dash, kind in entries:
        cy = y + CHAR_H // 2
        if kind == "x":
            canvas.line(x + 10, cy - 5, x + 20, cy + 5, color, 2)
            canvas.line(x + 10, cy + 5, x + 20, cy - 5, color, 2)
        else:
            canvas.line(x, cy, x + 30, cy, color, 3, dash)
        canvas.text(x + 40, y, label, (30, 30, 30))
        y += CHAR_H + 10


# ----------------------------------------------------------------------------------------------


NODE_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (23, 190, 207), (188, 189, 34)]


def short(s, n):
    return s if len(s) <= n else s[:n - 1] + "*"


def render(records, title):
    W, H = 1200, 860
    canvas = Canvas(W, H)
    left, right = 100, 880            # plot area x range; legend to the right
    top_rect = (left, 70, right, 390)
    bot_rect = (left, 470, right, 790)

    steps = [float(r["step"]) for r in records]
    s_lo, s_hi = min(steps), max(steps)
    if s_hi <= s_lo:
        s_lo, s_hi = s_lo - 1, s_hi + 1
    xt = nice_ticks(s_lo, s_hi, 8, min_step=1.0)  # steps are integers
    xlim = (xt[0][0], xt[0][-1])
    xfmt = fmt_count

    canvas.text(left, 14, short(title, 88), (0, 0, 0))

    # (a) Gaussians
    names = node_names(records)
    total = total_gaussians(records)
    cap = total_cap(records)
    per_node = [(n, series(records, "gaussians", n)) for n in names] if len(names) > 1 else []
    gmax = max([v for _, v in total] + [1.0])
    cmax = max([v for _, v in cap] + [0.0])
    # A growth limit far above the Gaussians (capacity not yet needed) would flatten their curve
    # to the axis: keep it off the scale and give its value in the legend instead.
    cap_on_scale = cmax <= 2.0 * gmax
    if cap_on_scale:
        gmax = max(gmax, cmax)
    yt = nice_ticks(0.0, gmax * 1.05, 6)
    top = Panel(canvas, top_rect, xlim, (0.0, yt[0][-1]), xt, yt, xfmt, fmt_count)
    top.frame("GAUSSIANS")
    entries = []
    if cap and cap_on_scale:
        top.plot(cap, (150, 150, 150), 2, (8, 6))
        entries.append(("GROWTH LIMIT", (150, 150, 150), (8, 6), "line"))
    elif cap:
        entries.append(("LIMIT %s (ABOVE)" % human_count(cmax), (150, 150, 150), (8, 6), "line"))
    for i, (n, pts) in enumerate(per_node):
        col = NODE_COLORS[i % len(NODE_COLORS)]
        top.plot(pts, col, 2)
        entries.append((short(n, 12), col, None, "line"))
    top.plot(total, (20, 20, 20), 3)
    entries.insert(0, ("TOTAL", (20, 20, 20), None, "line"))
    legend(canvas, right + 20, top_rect[1] + 4, entries)

    # (b) bytes
    budget = series(records, "budget_bytes")
    capb = [p for p in series(records, "cap_bytes") if p[1] > 0]
    predicted = series(records, "predicted_bytes")
    peak = series(records, "peak_bytes")
    accounted = series(records, "accounted_bytes")
    all_b = [v for _, v in budget + capb + predicted + peak + accounted]
    bmax = max(all_b + [1.0])
    div, unit = byte_unit(bmax)
    yt = nice_ticks(0.0, bmax * 1.05 / div, 6)
    yt = ([t * div for t in yt[0]], yt[1] * div)
    bot = Panel(canvas, bot_rect, xlim, (0.0, yt[0][-1]), xt, yt, xfmt,
                lambda v, step: fmt_number(v / div, step / div))
    bot.frame("MEMORY (%s)" % unit)
    entries = []
    if budget:
        bot.plot(budget, (0, 0, 0), 3)
        entries.append(("BUDGET", (0, 0, 0), None, "line"))
    if capb and any(abs(c - b) > 0.5 for (_, c), (_, b) in zip(capb, budget or capb)):
        bot.plot(capb, (150, 150, 150), 2, (8, 6))
        entries.append(("ALLOCATOR CAP", (150, 150, 150), (8, 6), "line"))
    if accounted:
        bot.plot(accounted, (44, 160, 44), 2)
        entries.append(("ACCOUNTED", (44, 160, 44), None, "line"))
    if peak:
        bot.plot(peak, (214, 39, 40), 2)
        entries.append(("MEASURED PEAK", (214, 39, 40), None, "line"))
    if predicted:
        bot.plot(predicted, (31, 119, 180), 2, (10, 5))
        entries.append(("PREDICTED", (31, 119, 180), (10, 5), "line"))
    ooms = [float(r["step"]) for r in records
            if any(isinstance(e, str) and "recovered OOM" in e for e in (r.get("events") or []))]
    for s in ooms:
        bot.marker_x(s, (220, 0, 0))
    if ooms:
        entries.append(("RECOVERED OOM", (220, 0, 0), None, "x"))
    legend(canvas, right + 20, bot_rect[1] + 4, entries)

    label = "STEP"
    canvas.text((left + right - text_width(label)) // 2, bot_rect[3] + 36, label, (40, 40, 40))
    return canvas


def main(argv):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Plot Gaussians and predicted/measured/budget bytes over steps "
        "from a gstrain memory.jsonl into a PNG (standard library only).")
    ap.add_argument("memory_jsonl", help="RUN_DIR/memory.jsonl written by gstrain")
    ap.add_argument("out_png", help="PNG file to write")
    args = ap.parse_args(argv)
    try:
        records = read_log(args.memory_jsonl)
        steps = [r["step"] for r in records]
        title = "%s: %d RECORDS, STEPS %g-%g" % (os.path.basename(args.memory_jsonl),
                                                  len(records), min(steps), max(steps))
        png = render(records, title).png()
    except LogError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    try:
        tmp = args.out_png + ".tmp"
        with open(tmp, "wb") as f:
            f.write(png)
        os.replace(tmp, args.out_png)
    except OSError as e:
        print("%s: error: cannot write '%s': %s" % (PROG, args.out_png, e.strerror or e),
              file=sys.stderr)
        return 1
    print("%s: wrote %s (%d records)" % (PROG, args.out_png, len(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
