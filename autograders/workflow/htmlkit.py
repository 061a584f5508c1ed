"""A tiny HTML toolkit for feedback and reports: escaping everywhere, one stylesheet, no dependencies."""
from __future__ import annotations

import html

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ddd;padding:.35rem .5rem;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}
.passed{color:#176f2c}.partial{color:#8a6100}.failed,.error,.not_run{color:#b00020}.manual{color:#3949ab}
.muted{color:#666;font-size:.9em}pre{white-space:pre-wrap;margin:.2rem 0;font-size:.85em;background:#f8f8f8;padding:.3rem}
.total{font-size:1.2rem;font-weight:600}img{max-width:100%}
"""


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def num(x) -> str:
    if x is None:
        return "&ndash;"
    return f"{float(x):g}"


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def table(headers: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    "`rows` hold HTML already escaped by the caller; `classes` one CSS class per row (or '')."
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
