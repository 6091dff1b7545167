"""Commit messages as git reads them: subject and body (``%s``/``%b``), and the trailers of the last paragraph."""

from __future__ import annotations

_TRAILER_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")


def _separator(line: str) -> int:
    """Index of the ':' of a 'Token: value' line as `git interpret-trailers` sees it, else -1."""
    whitespace = False
    for i, c in enumerate(line):
        if c == ":":
            return i
        if not whitespace and (c.isascii() and c.isalnum() or c == "-"):
            continue
        if i and c in " \t":
            whitespace = True
            continue
        break
    return -1


def parse_trailers(message: str) -> list[tuple[str, str]]:
    """The trailers ('Key: value' lines of the last paragraph) of a commit message, as git finds them.

    Follows `git interpret-trailers --parse --no-divider` (and ``%(trailers)``): the subject paragraph
    never holds trailers; the last paragraph is a trailer block when all its lines are trailers, or at
    least 25% are and one starts with a git-generated prefix (``Signed-off-by: ``); indented lines
    continue the previous trailer (unfolded with one space); comment lines ('#') are ignored.
    """
    first_break = message.find("\n")
    if first_break < 0 or ":" not in message[first_break:]:
        return []  # fast path: a trailer needs a ':' after the title line
    lines = message.split("\n")
    while lines and (not lines[-1].strip() or lines[-1].startswith("#")):
        lines.pop()
    # The first paragraph is the title and cannot hold trailers.
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or lines[i].strip()):
        i += 1
    end_of_title = i
    only_spaces, recognized, trailer_lines, non_trailer, continuation = True, False, 0, 0, 0
    start = None
    for j in range(len(lines) - 1, end_of_title - 1, -1):
        line = lines[j]
        if line.startswith("#"):
            non_trailer += continuation
            continuation = 0
            continue
        if not line.strip():
            if only_spaces:
                continue
            non_trailer += continuation
            if (recognized and trailer_lines * 3 >= non_trailer) or (trailer_lines and not non_trailer):
                start = j + 1
            break
        only_spaces = False
        if line.startswith(_TRAILER_PREFIXES):
            trailer_lines += 1
            continuation = 0
            recognized = True
            continue
        if _separator(line) >= 1 and not line[0].isspace():
            trailer_lines += 1
            continuation = 0
        elif line[0].isspace():
            continuation += 1
        else:
            non_trailer += 1 + continuation
            continuation = 0
    if start is None:
        return []
    items: list[list[str]] = []  # [token, value] or [line] for non-trailer lines
    for line in lines[start:]:
        if line.startswith("#"):
            continue
        if items and line[:1].isspace():
            items[-1][-1] += "\n" + line
            continue
        items.append([line])
    out: list[tuple[str, str]] = []
    for item in items:
        text = item[0]
        pos = _separator(text)
        if pos < 1:
            continue
        value = " ".join(part.strip() for part in text[pos + 1 :].split("\n"))
        out.append((text[:pos].strip(), " ".join(value.split(" ")).strip()))
    return out


def split_message(message: str) -> tuple[str, str]:
    """(subject, body) as git's %s and %b: the first paragraph joined with spaces, and the rest."""
    nl = message.find("\n")
    if nl > 0 and not message[0].isspace() and not message[nl - 1].isspace():
        # Fast path for the usual shapes: "title\n" and "title\n\nbody…" (a one-line first paragraph).
        rest = message[nl + 1 :]
        if not rest.strip():
            return message[:nl], ""
        if rest[0] == "\n" and len(rest) > 1 and not rest[1].isspace():
            return message[:nl], rest[1:].rstrip()
    lines = message.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    subject_lines: list[str] = []
    while i < len(lines) and lines[i].strip():
        subject_lines.append(lines[i].strip())
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return " ".join(subject_lines), "\n".join(lines[i:]).rstrip()
