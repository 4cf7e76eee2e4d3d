#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""results.csv (from trail-bench) -> an SVG bar chart, standard library only.

Panels: records/s of every throughput row (longer is faster), labelled with
the ratio to raw sd_journal_sendv; the caller's CPU per record; latency
percentiles; ns per disabled call (shorter is faster), on a log scale since
they span three decades.
"""
import csv
import math
import sys
from xml.sax.saxutils import escape

COLOURS = {"trail": "#2b7a3d", "libsystemd": "#555555", "glib": "#3b6ab0",
           "glibc": "#a0522d", "spdlog": "#b03b8c"}
LABEL_W, BAR_W, ROW_H, PAD = 330, 420, 22, 12


def bar_panel(rows, y, title, value, label, log=False):
    out = [f'<text x="{PAD}" y="{y + 16}" class="h">{escape(title)}</text>']
    y += 28
    vals = [value(r) for r in rows]
    top = max(vals) if vals else 1
    lo = min(v for v in vals if v > 0) if any(v > 0 for v in vals) else 1
    for r, v in zip(rows, vals):
        if log:
            span = math.log10(top) - math.log10(lo) + 1
            w = BAR_W * (math.log10(max(v, lo)) - math.log10(lo) + 1) / span
        else:
            w = BAR_W * v / top if top else 0
        colour = COLOURS.get(r["peer"], "#888888")
        name = r["name"]
        out.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 15}">{escape(label(r))}</text>')
        y += ROW_H
    return out, y + PAD


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    thr = [r for r in rows if r["kind"] == "throughput"]
    micro = [r for r in rows if r["kind"] == "ns_per_call"]

    def thr_label(r):
        s = f'{float(r["records_per_s"]):,.0f}/s'
        if float(r["vs_raw_sendv"]) >= 0:
            s += f' ({float(r["vs_raw_sendv"]):.2f}x raw)'
        if float(r["arrived"]) >= 0 and float(r["arrived"]) < 0.999:
            s += f' arrived {float(r["arrived"]) * 100:.1f}%'
        return s

    body = []
    y = PAD
    part, y = bar_panel(thr, y, "journald / syslog throughput, records/s (longer is faster)",
                        lambda r: float(r["records_per_s"]), thr_label)
    body += part
    part, y = bar_panel(thr, y, "caller CPU per record, ns (shorter is cheaper)",
                        lambda r: float(r["cpu_ns_per_record"]),
                        lambda r: f'{float(r["cpu_ns_per_record"]):,.0f} ns'
                                  + (f' ({float(r["cpu_vs_raw_sendv"]):.2f}x raw)'
                                     if float(r["cpu_vs_raw_sendv"]) >= 0 else ''))
    body += part
    fmt = [r for r in rows if r["kind"] == "format"]
    if fmt:
        part, y = bar_panel(fmt, y, "formatting into memory, records/s (longer is faster)",
                            lambda r: float(r["records_per_s"]),
                            lambda r: f'{float(r["records_per_s"]) / 1e6:.2f} M/s')
        body += part
    lat = [r for r in rows if r["kind"] == "latency"]
    if lat:
        body.append(f'<text x="{PAD}" y="{y + 16}" class="h">caller latency per call</text>')
        y += 28
        for r in lat:
            body.append(f'<text x="{PAD}" y="{y + 15}">{escape(r["name"])} ({r["threads"]} '
                        f'thread(s)): p50 {float(r["p50_ns"]):,.0f} ns, p99 '
                        f'{float(r["p99_ns"]):,.0f} ns, p99.9 {float(r["p999_ns"]):,.0f} ns</text>')
            y += ROW_H
        y += PAD
    part, y = bar_panel(micro, y, "disabled-level call, ns/call (log scale, shorter is faster)",
                        lambda r: float(r["ns_per_call"]),
                        lambda r: f'{float(r["ns_per_call"]):.2f} ns', log=True)
    body += part
    width = LABEL_W + BAR_W + 260
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
           f'font-family="sans-serif" font-size="12">',
           '<style>.h { font-weight: bold; font-size: 13px }</style>',
           f'<rect width="{width}" height="{y}" fill="white"/>'] + body + ["</svg>"]
    with open(dst, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
