"""Plain sentences for a risk score: what each signal says about the change, and the recommendation.

Every sentence is true to the change's value whichever way the model weighs it (a learned model may give
points to touching tests), names no feature code, and sizes things against **this repository's own past
changes**: "large" means larger than 80% of them (by the same measure), "small" smaller than 75% of them,
and a comparison with the typical change is a ratio to the median ("about twice the typical change here").
Nothing is called large in absolute terms.

What a change adds is said per file type: source lines (of source files, blank and comment-only lines left
out) are code; lines of documentation, tests, configuration, generated and vendored files are named as what
they are ("45 lines of Markdown documentation"), never as code. A change that touches no source file says so
first ("a documentation-only change").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engmetrics.areas.risk.metrics.changes import AddedLines, Change, sensitive_kinds, subsystem
from engmetrics.areas.risk.metrics.features import Floats
from engmetrics.filekinds import kind_of

LARGE = 0.8  # share of past changes below a value for it to be called large
SMALL = 0.25  # at most this share below: small
CODE_SIZED = ("sloc_added",)  # sized against the past changes that add code (see `Context.reference`)

_KIND_NAMES = {
    "docs": "documentation", "tests": "tests", "ci": "CI configuration", "metadata": "repository metadata",
    "generated": "generated files", "vendored": "vendored code", "config": "configuration files", "data": "data files",
    "source": "code",
}
# What lines of each kind are called: "45 lines of Markdown documentation", "3 lines of TOML configuration".
_LINES_OF = _KIND_NAMES | {"generated": "generated content", "config": "configuration", "data": "data"}


@dataclass
class Context:
    """What the sentences are built from: the change, its signal values, the repository's typical values and
    its past changes' values (one array per signal), and the lines it adds by file type (if known)."""

    change: Change
    values: Mapping[str, float]
    typical: Mapping[str, float]
    past: Mapping[str, Floats] = field(default_factory=dict)
    added: AddedLines | None = None

    def reference(self, name: str) -> Floats | None:
        """The past changes' values ``name`` is sized against: all past changes, except for source lines added
        of a change that adds code — then the past changes that add code (most changes of a repository with
        much documentation add none, and "bigger than most of them" would say little)."""
        arr = self.past.get(name)
        if arr is None or not len(arr):
            return None
        if name in CODE_SIZED and self.values.get(name, 0.0) > 0:
            code = arr[arr > 0]
            return code if len(code) else None
        return arr

    def usual(self, name: str) -> float:
        """The typical value ``name`` is compared with: the median of `reference` (else the model's typical)."""
        ref = self.reference(name)
        if name in CODE_SIZED and ref is not None and self.values.get(name, 0.0) > 0:
            return float(np.median(ref))
        return float(self.typical.get(name, 0.0))

    def below(self, name: str) -> float | None:
        """Share (0–1) of the `reference` changes with a lower value of ``name`` than this change (ties count
        half)."""
        arr = self.reference(name)
        if arr is None:
            return None
        v = self.values.get(name, 0.0)
        lower = float(np.count_nonzero(arr < v))
        ties = float(np.count_nonzero(arr == v))
        return (lower + ties / 2) / len(arr)

    def among(self, name: str) -> str:
        """How the reference changes are called: 'past changes' or 'past changes that add code'."""
        return "past changes that add code" if name in CODE_SIZED and self.values.get(name, 0.0) > 0 else "past changes"


def _n(v: float) -> str:
    """A count as text: 1,234."""
    return f"{round(v):,}"


def _plural(n: float, one: str, many: str | None = None) -> str:
    k = round(n)
    return f"{k:,} {one if k == 1 else (many or one + 's')}"


def compare(v: float, usual: float, unit: str = "", typical: str = "the typical change here") -> str:
    """``v`` against the repository's typical value ``usual``: 'about twice the typical change here (13)'."""
    shown = f" ({_n(usual)}{unit})" if usual >= 1 else ""
    if usual <= 0:
        return f"where {typical.removesuffix(' here')} has none" if v > 0 else f"like {typical}"
    ratio = v / usual
    if ratio >= 2.5:
        return f"about {ratio:.0f} times {typical}{shown}"
    if ratio >= 1.75:
        return f"about twice {typical}{shown}"
    if ratio > 1.25:
        return f"more than {typical}{shown}"
    if ratio >= 0.8:
        return f"about as much as {typical}{shown}"
    if ratio >= 0.4:
        return f"less than {typical}{shown}"
    return f"much less than {typical}{shown}"


def _vs(ctx: Context, name: str, unit: str = "", typical: str | None = None) -> str:
    """`compare` of the change's ``name`` with the repository's typical change (or ``typical``, e.g. 'the typical
    author here')."""
    if typical is None:
        typical = "the typical code change here" if ctx.among(name) != "past changes" else "the typical change here"
    return compare(ctx.values.get(name, 0.0), ctx.usual(name), unit, typical)


def _times(n: float) -> str:
    k = round(n)
    return "once" if k == 1 else "twice" if k == 2 else f"{k:,} times"


def size_word(ctx: Context, name: str) -> str | None:
    """'large' or 'small' for this repository (by the share of past changes below the value), else None."""
    below = ctx.below(name)
    if below is None:
        return None
    if below >= 0.97:
        return "very large"
    if below >= LARGE:
        return "large"
    if below <= SMALL:
        return "small"
    return None


def _sized(ctx: Context, name: str) -> str:
    """', a large change for this repository (more than 85% of past changes are smaller)' or ''."""
    word = size_word(ctx, name)
    below = ctx.below(name)
    if word is None or below is None:
        return ""
    if word == "small":
        return f", a small change for this repository ({100 * (1 - below):.0f}% of {ctx.among(name)} are bigger)"
    return f", a {word} change for this repository (bigger than {100 * below:.0f}% of {ctx.among(name)})"


def _list(items: list[str], limit: int = 3) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 2 more'."""
    if not items:
        return ""
    if len(items) > limit:
        items = [*items[:limit], f"{len(items) - limit} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def touched_kinds(change: Change) -> list[str]:
    """The file kinds (`engmetrics.filekinds`) the change touches, most files first."""
    counts: dict[str, int] = {}
    for f in change.files:
        k = kind_of(f.path)
        counts[k] = counts.get(k, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))


def change_kind(change: Change) -> str | None:
    """'a documentation-only change', 'a tests-only change'… when the change touches no source file."""
    kinds = touched_kinds(change)
    if not kinds or "source" in kinds:
        return None
    if len(kinds) == 1:
        return {"docs": "a documentation-only change", "tests": "a tests-only change",
                "ci": "a CI-configuration-only change", "metadata": "a repository-metadata-only change"}.get(
            kinds[0], f"a change to {_KIND_NAMES[kinds[0]]} only")
    return f"a change to {_list([_KIND_NAMES[k] for k in kinds])} only, with no source code"


def added_by_type(added: AddedLines | None, *, source: bool) -> list[str]:
    """'26 lines of Python' (source) or '45 lines of Markdown documentation' (everything else), most first."""
    if added is None:
        return []
    rows = [(k, t, v[0]) for (k, t), v in added.by_type.items() if (k == "source") == source and v[0] > 0]
    rows.sort(key=lambda r: (-r[2], r[1]))
    out = []
    for kind, ftype, lines in rows:
        if kind == "source":
            out.append(f"{_plural(lines, 'line')} of {ftype}")
        else:
            what = _LINES_OF.get(kind, kind)
            out.append(f"{_plural(lines, 'line')} of {ftype} {what}" if ftype not in ("file", what) else
                       f"{_plural(lines, 'line')} of {what}")
    return out


# ---------------------------------------------------------------------------------------------------
# One sentence per signal (each starts with a capital and has no final full stop)


def _sloc_added(ctx: Context) -> str:
    v = ctx.values.get("sloc_added", 0.0)
    others = added_by_type(ctx.added, source=False)
    if v <= 0:
        kind = change_kind(ctx.change)
        if kind:
            what = f" ({_list(others)})" if others else ""
            return f"It adds no code: {kind}{what}"
        return "It adds no new lines of code (its edits to code only delete or re-indent lines)"
    by_lang: dict[str, int] = {}
    for (kind, ftype), (lines, _files) in (ctx.added.by_type.items() if ctx.added else ()):
        if kind == "source" and lines > 0:
            by_lang[ftype] = by_lang.get(ftype, 0) + lines
    langs = sorted(by_lang, key=lambda t: (-by_lang[t], t))
    of = f"of {_list(langs, 2)}" if langs else "of code"
    text = f"It adds {_plural(v, 'line')} {of}, {_vs(ctx, 'sloc_added')}{_sized(ctx, 'sloc_added')}"
    if others:
        text += f"; besides the code, {_list(others)}"
    return text


def _la(ctx: Context) -> str:
    v = ctx.values.get("la", 0.0)
    if v <= 0:
        return "It adds no lines (it only deletes or renames)"
    return (f"It adds {_plural(v, 'line')} across all its files (code, tests, documentation and the rest), "
            f"{_vs(ctx, 'la')}{_sized(ctx, 'la')}")


def _ld(ctx: Context) -> str:
    v = ctx.values.get("ld", 0.0)
    if v <= 0:
        return "It deletes no lines"
    return f"It deletes {_plural(v, 'line')}, {_vs(ctx, 'ld')}"


def _nf(ctx: Context) -> str:
    v = ctx.values.get("nf", 0.0)
    return f"It touches {_plural(v, 'file')}, {_vs(ctx, 'nf')}"


def _nd(ctx: Context) -> str:
    v = ctx.values.get("nd", 0.0)
    if v <= 1:
        return "It touches files in a single directory"
    return f"It touches files in {_plural(v, 'directory', 'directories')}, {_vs(ctx, 'nd')}"


def _ns(ctx: Context) -> str:
    subs = sorted({subsystem(f.path) for f in ctx.change.files})
    names = [("the root folder" if s == "." else f"{s}/") for s in subs]
    v = ctx.values.get("ns", float(len(subs)))
    if v <= 1:
        return f"It stays within one top-level folder ({names[0]})" if names else "It stays within one top-level folder"
    return f"It spans {_plural(v, 'top-level folder')} ({_list(names)})"


def _entropy(ctx: Context) -> str:
    v = ctx.values.get("entropy", 0.0)
    if v < 0.2:
        return "It puts almost all of its edits in one file"
    below = ctx.below("entropy")
    if below is not None and below >= 0.5:
        return "It spreads its edits over its files more evenly than most changes here"
    return "It spreads its edits over its files less evenly than most changes here"


def _lt(ctx: Context) -> str:
    v = ctx.values.get("lt", 0.0)
    if v <= 0:
        return "It edits only new or empty files"
    return f"It edits files that already held {_plural(v, 'line')}, {_vs(ctx, 'lt')}"


def _fix(ctx: Context) -> str:
    if ctx.values.get("fix", 0.0) >= 0.5:
        return "It is a bug fix (its message says so), and fixes often need follow-up fixes"
    return "It is not a bug fix"


def _ndev(ctx: Context) -> str:
    v = ctx.values.get("ndev", 0.0)
    if v <= 0:
        return "Nobody has changed its files before"
    return f"{_plural(v, 'person', 'people')} changed its files before, {_vs(ctx, 'ndev')}"


def _age(ctx: Context) -> str:
    if ctx.values.get("nuc", 0.0) <= 0:
        return "Its files are all new"
    v = ctx.values.get("age", 0.0)
    when = "less than a day" if v < 1 else _plural(v, "day")
    return f"Its files were last changed {when} before it on average, {_vs(ctx, 'age', ' days')}"


def _nuc(ctx: Context) -> str:
    v = ctx.values.get("nuc", 0.0)
    if v <= 0:
        return "Its files were never changed before"
    return f"Its files were changed {_times(v)} before, {_vs(ctx, 'nuc')}"


def _exp(ctx: Context) -> str:
    v = ctx.values.get("exp", 0.0)
    if v <= 0:
        return "It is its author's first change to this repository"
    return (f"Its author made {_plural(v, 'change')} to this repository before, "
            f"{_vs(ctx, 'exp', typical='the typical author here')}")


def _rexp(ctx: Context) -> str:
    v, usual = ctx.values.get("rexp", 0.0), ctx.typical.get("rexp", 0.0)
    if v <= 0:
        return "Its author has no earlier changes here"
    more = "more" if v > usual else "less"
    return f"Its author has been {more} active here recently than the typical author of a change"


def _sexp(ctx: Context) -> str:
    v = ctx.values.get("sexp", 0.0)
    if v <= 0:
        return "Its author has not changed these parts of the code before"
    return f"Its author made {_plural(v, 'change')} in these parts of the code before"


def _author_file_exp(ctx: Context) -> str:
    n = len(ctx.change.files)
    k = round(ctx.values.get("author_file_exp", 0.0) * n)
    if n == 0:
        return "It touches no files"
    if k == 0:
        return f"Its author has not changed {'this file' if n == 1 else f'any of these {n} files'} before"
    if k == n:
        return f"Its author has changed {'this file' if n == 1 else f'all {n} of these files'} before"
    return f"Its author has changed {k} of these {n} files before"


def _test_share(ctx: Context) -> str:
    v = ctx.values.get("test_share", 0.0)
    if v <= 0:
        return "None of its changed lines are in tests"
    return f"{100 * v:.0f}% of its changed lines are in tests"


def _tests_touched(ctx: Context) -> str:
    return "It changes tests" if ctx.values.get("tests_touched", 0.0) >= 0.5 else "It changes no tests"


def _hotspot(ctx: Context) -> str:
    v = ctx.values.get("hotspot", 0.0)
    if v <= 0:
        return "None of its files changed in the 90 days before it"
    return f"One of its files changed {_times(v)} in the 90 days before it"


def _coupling_missed(ctx: Context) -> str:
    v = ctx.values.get("coupling_missed", 0.0)
    if v <= 0:
        return "It leaves out none of the files that usually change together with these"
    verb = "changes" if round(v) == 1 else "change"
    return f"It leaves out {_plural(v, 'file')} that usually {verb} together with these"


def _sensitive(ctx: Context) -> str:
    v = ctx.values.get("sensitive", 0.0)
    if v <= 0:
        return "It touches no sensitive paths (migrations, dependencies, CI, infrastructure, auth)"
    kinds = sorted({k for f in ctx.change.files for k in sensitive_kinds(f.path)})
    return f"It touches {_plural(v, 'file')} on sensitive paths" + (f" ({_list(kinds, 5)})" if kinds else "")


def _ai_share(ctx: Context) -> str:
    v = ctx.values.get("ai_share", 0.0)
    if v <= 0:
        return "None of its lines come from AI-assisted commits"
    return f"{100 * v:.0f}% of its changed lines come from AI-assisted commits"


def _owner_coverage(ctx: Context) -> str:
    v = ctx.values.get("owner_coverage", 0.0)
    if v <= 0:
        return "None of its files has an owner in CODEOWNERS"
    return f"{100 * v:.0f}% of its files have an owner in CODEOWNERS"


def _owner_involved(ctx: Context) -> str:
    if ctx.values.get("owner_involved", 0.0) >= 0.5:
        return "A code owner of these files authored or co-authored it"
    return "No code owner of these files authored or co-authored it"


def _recent_fixes(ctx: Context) -> str:
    v = ctx.values.get("recent_fixes", 0.0)
    if v <= 0:
        return "None of its files was fixed in the past year"
    return f"Its files were fixed {_times(v)} in the past year"


SENTENCES: dict[str, Callable[[Context], str]] = {
    "ns": _ns, "nd": _nd, "nf": _nf, "entropy": _entropy, "la": _la, "ld": _ld, "lt": _lt, "fix": _fix,
    "ndev": _ndev, "age": _age, "nuc": _nuc, "exp": _exp, "rexp": _rexp, "sexp": _sexp,
    "test_share": _test_share, "tests_touched": _tests_touched, "hotspot": _hotspot,
    "coupling_missed": _coupling_missed, "sensitive": _sensitive, "ai_share": _ai_share,
    "author_file_exp": _author_file_exp, "owner_coverage": _owner_coverage, "owner_involved": _owner_involved,
    "recent_fixes": _recent_fixes, "sloc_added": _sloc_added,
}
SIZE_SIGNALS = ("sloc_added", "la", "nf", "ns", "nd")

_ACTIONS = {
    "low": "A normal review is enough.",
    "medium": "Review with care.",
    "high": "Review carefully before merging",
    "critical": "Hold it for a careful review by an owner of this code",
}


def sentence(name: str, ctx: Context) -> str:
    """The plain sentence for signal ``name`` of the change (no final full stop)."""
    return SENTENCES[name](ctx)


def _clause(text: str) -> str:
    """A sentence as a clause after a colon or semicolon ('It adds…' → 'it adds…'; names keep their capital)."""
    first = text.split(" ", 1)[0]
    if first in ("It", "Its", "None", "Nobody", "One", "No", "A"):
        return text[0].lower() + text[1:]
    return text


def recommendation(level: str, points: Mapping[str, float], ctx: Context, *, product: bool = True) -> str:
    """What the score means in plain words, with an action for the tier.

    It opens with the change's kind when it touches no source file ("a documentation-only change"); a low
    score then names what lowers it most, a higher one the signals adding the most points (each phrased by
    its actual value) and, for a medium one, what lowers it most. ``product``: False for a change that touches
    no product file (scored 0 by rule), which says so instead.
    """
    if not product:
        kind = change_kind(ctx.change) or "a change to no product file"
        others = added_by_type(ctx.added, source=False)
        what = f" ({_list(others)})" if others else ""
        return (f"{level.capitalize()} risk: {kind}{what}; it changes no product file, so no bug in the code can "
                f"be traced to it. {_ACTIONS[level]}")
    raising = [k for k, v in sorted(points.items(), key=lambda kv: -kv[1]) if v >= 1.0 and k in SENTENCES]
    if "sloc_added" in raising and "la" in raising:  # lines added says the same thing less precisely
        raising.remove("la")
    lowering = [k for k, v in sorted(points.items(), key=lambda kv: kv[1]) if v <= -1.0 and k in SENTENCES]
    what_kind = change_kind(ctx.change)
    parts: list[str] = []
    if what_kind:
        others = added_by_type(ctx.added, source=False)
        parts.append(f"{what_kind}{f' ({_list(others)})' if others else ''}")
        if ctx.values.get("sloc_added", 0.0) <= 0:  # its sentence would say the kind again
            raising = [k for k in raising if k != "sloc_added"]
            lowering = [k for k in lowering if k != "sloc_added"]
    if level == "low":
        parts += [_clause(sentence(k, ctx)) for k in lowering[:2]]
    else:
        parts += [_clause(sentence(k, ctx)) for k in raising[:3]]
        if level == "medium" and lowering:
            parts.append(f"what keeps it lower: {_clause(sentence(lowering[0], ctx))}")
    action = _ACTIONS[level]
    if level in ("high", "critical"):
        top = raising[:3]
        large = any(size_word(ctx, k) in ("large", "very large") for k in SIZE_SIGNALS if k in top)
        subs = sorted({subsystem(f.path) for f in ctx.change.files if kind_of(f.path) == "source"} - {"."})
        where = f" for {subs[0]}/" if subs else ""
        if ctx.values.get("tests_touched", 0.0) < 0.5 and ("tests_touched" in top or "test_share" in top):
            action += f"; add tests{where}"
        elif large:
            action += "; consider splitting it"
        elif "coupling_missed" in top:
            action += "; check the files that usually change with these"
        action += "."
    text = "; ".join(parts) if parts else "nothing stands out against this repository's typical change"
    return f"{level.capitalize()} risk: {text}. {action}"


#: A short plain name for each signal (tables and lists; the keys of `signals` stay the API's identifiers).
LABELS: dict[str, str] = {
    "ns": "top-level folders touched", "nd": "directories touched", "nf": "files touched",
    "entropy": "how evenly edits spread over files", "la": "lines added (all files)", "ld": "lines deleted",
    "lt": "lines in the touched files before", "fix": "is a bug fix", "ndev": "people who changed these files",
    "age": "days since the files last changed", "nuc": "earlier changes to these files",
    "exp": "author's earlier changes", "rexp": "author's recent changes", "sexp": "author's changes in these folders",
    "test_share": "share of changed lines in tests", "tests_touched": "changes tests",
    "hotspot": "most changes to one file in 90 days", "coupling_missed": "usual companion files left out",
    "sensitive": "files on sensitive paths", "ai_share": "share of lines from AI-assisted commits",
    "author_file_exp": "share of files the author changed before", "owner_coverage": "share of files with a code owner",
    "owner_involved": "a code owner took part", "recent_fixes": "fixes to these files in the past year",
    "sloc_added": "source lines added (code only)",
}
