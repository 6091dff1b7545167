"""The report's Markdown (the subset report composition writes: headings, bullets, paragraphs, **bold**,
[links](url)) as Slack mrkdwn, email-safe HTML (inline styles, one table) or a standalone HTML document; and
its word count."""

from __future__ import annotations

import html
import re

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """The Markdown subset we write: ('h1'|'h2'|'h3'|'ul'|'p', lines)."""
    out: list[tuple[str, list[str]]] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip():
            out.append(("blank", []))
            continue
        if m := re.match(r"^(#{1,3})\s+(.*)$", line):
            out.append((f"h{len(m.group(1))}", [m.group(2)]))
        elif m := re.match(r"^\s*[-*•]\s+(.*)$", line):
            if out and out[-1][0] == "ul":
                out[-1][1].append(m.group(1))
            else:
                out.append(("ul", [m.group(1)]))
        elif out and out[-1][0] == "p":
            out[-1][1].append(line.strip())
        else:
            out.append(("p", [line.strip()]))
    return [b for b in out if b[0] != "blank"]


def _inline_html(text: str) -> str:
    t = html.escape(text, quote=False)
    t = _BOLD.sub(r"<strong>\1</strong>", t)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', t)


def to_slack(markdown: str) -> str:
    """Slack mrkdwn: *bold* headings and emphasis, • bullets, <url|text> links, &<> escaped."""
    out = []
    for kind, lines in _blocks(markdown):
        esc = [line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines]
        esc = [_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", _BOLD.sub(r"*\1*", line)) for line in esc]
        if kind.startswith("h"):
            out.append(f"*{esc[0].replace('*', '')}*")
        elif kind == "ul":
            out.append("\n".join(f"• {line}" for line in esc))
        else:
            out.append(" ".join(esc))
    return "\n\n".join(out) + "\n"


def to_html(markdown: str, title: str, charts: str = "") -> str:
    """A standalone HTML document; ``charts`` (inline SVG, `engmetrics.areas.reports.metrics.charts`) go after the
    title."""
    body = []
    for kind, lines in _blocks(markdown):
        if kind.startswith("h"):
            body.append(f"<{kind}>{_inline_html(lines[0])}</{kind}>")
            if charts and kind == "h1":
                body.append(charts)
                charts = ""
        elif kind == "ul":
            body.append("<ul>\n" + "\n".join(f"  <li>{_inline_html(x)}</li>" for x in lines) + "\n</ul>")
        else:
            body.append(f"<p>{_inline_html(' '.join(lines))}</p>")
    if charts:  # no title line: the charts lead
        body.insert(0, charts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def to_email(markdown: str, title: str) -> str:
    """Email-safe HTML: one presentation table, inline styles only, no <style>, <script> or external assets."""
    font = "font-family:Arial,Helvetica,sans-serif;color:#1f2328;"
    styles = {"h1": "font-size:22px;margin:0 0 12px;", "h2": "font-size:17px;margin:20px 0 8px;",
              "h3": "font-size:15px;margin:16px 0 6px;"}
    rows = []
    for kind, lines in _blocks(markdown):
        if kind.startswith("h"):
            rows.append(f'<{kind} style="{font}{styles[kind]}">{_inline_html(lines[0])}</{kind}>')
        elif kind == "ul":
            items = "".join(f'<li style="margin:0 0 4px;">{_inline_html(x)}</li>' for x in lines)
            rows.append(f'<ul style="{font}font-size:14px;line-height:20px;margin:0 0 12px;padding-left:20px;">{items}</ul>')
        else:
            rows.append(f'<p style="{font}font-size:14px;line-height:20px;margin:0 0 12px;">{_inline_html(" ".join(lines))}</p>')
    return (
        f"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}</title>\n</head>\n"
        '<body style="margin:0;padding:0;background:#ffffff;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">\n<tr>\n'
        '<td style="padding:24px;max-width:640px;">\n' + "\n".join(rows) + "\n</td>\n</tr>\n</table>\n</body>\n</html>\n"
    )


def render(markdown: str, fmt_name: str, title: str, charts: str = "") -> str:
    """The report in ``fmt_name``: markdown (as is), slack, email or html (with ``charts``, inline SVG)."""
    if fmt_name == "slack":
        return to_slack(markdown)
    if fmt_name == "html":
        return to_html(markdown, title, charts)
    if fmt_name == "email":
        return to_email(markdown, title)
    return markdown


def word_count(markdown: str) -> int:
    """Words in the Markdown text, markup excluded."""
    plain = _LINK.sub(r"\1", markdown).replace("**", "")
    return len(re.findall(r"[A-Za-z0-9][\w'’.%/+-]*", plain))
