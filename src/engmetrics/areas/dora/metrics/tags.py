"""Release tags: which tags are releases (deployments when a repository has no explicit events), and versions."""

from __future__ import annotations

import re
from functools import lru_cache

from engmetrics.errors import InvalidInput

#: Default release-tag rule: an optional ``v``/``V`` or ``release-``/``release_``/``release/`` prefix
#: (itself optionally followed by ``v``), then 2 or 3 dot-separated numbers, and nothing after. Anything
#: with a suffix — ``-rc1``, ``rc1``, ``a1``, ``b2``, ``.dev0``, ``-alpha``, ``-beta``, ``-pre``,
#: ``-anything``, ``+build`` — is not a release (pre-releases excluded).
DEFAULT_TAG_PATTERN = r"(?:[vV]|release[-_/][vV]?)?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
DEFAULT_TAG_DESCRIPTION = "semantic versions such as v1.2.3 or 1.2 (pre-releases like -rc1, a1, b2, .dev0 excluded)"
_LOOSE_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@lru_cache(maxsize=64)
def compile_tag_pattern(pattern: str | None = None) -> re.Pattern[str]:
    """The compiled release-tag regex (None → `DEFAULT_TAG_PATTERN`); `InvalidInput` when it is not a regex.

    The whole tag name must match (``re.fullmatch``). A custom pattern replaces the default rule
    entirely, including the pre-release exclusion.
    """
    try:
        return re.compile(pattern or DEFAULT_TAG_PATTERN)
    except re.error as exc:
        raise InvalidInput(
            f"tag pattern {pattern!r} is not a valid regular expression ({exc}); "
            f"e.g. the default {DEFAULT_TAG_PATTERN!r}.",
            param="tag_pattern",
        ) from None


def is_release_tag(name: str, pattern: str | None = DEFAULT_TAG_PATTERN) -> bool:
    """Whether tag ``name`` is a release (a deployment when a repository has no explicit events).

    Default: ``v1.2.3``, ``1.2``, ``release-1.4.0`` are releases; ``v1.2.3-rc1``, ``1.2.0rc1``, ``2.0a1``,
    ``2.0b2``, ``1.0.dev0``, ``v1.0-beta``, ``v1.0.0-anything`` and non-versions are not.
    """
    return compile_tag_pattern(pattern).fullmatch(name.strip()) is not None


def parse_version(name: str, pattern: str | None = None) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a release tag (patch 0 when absent), or None.

    Uses the pattern's ``major``/``minor``/``patch`` groups when it has them, else the first
    ``N.N[.N]`` in the name.
    """
    m = compile_tag_pattern(pattern).fullmatch(name.strip())
    if m is not None and "major" in m.re.groupindex and m.group("major") is not None:
        patch = m.group("patch") if "patch" in m.re.groupindex else None
        return int(m.group("major")), int(m.group("minor") or 0), int(patch or 0)
    loose = _LOOSE_VERSION.search(name)
    if loose is None:
        return None
    return int(loose.group(1)), int(loose.group(2)), int(loose.group(3) or 0)


def is_patch_release(prev_name: str | None, name: str | None, pattern: str | None = None) -> bool:
    """Whether ``name`` is a patch release after ``prev_name``: same major.minor, higher patch."""
    if not prev_name or not name:
        return False
    a, b = parse_version(prev_name, pattern), parse_version(name, pattern)
    return a is not None and b is not None and a[:2] == b[:2] and b[2] > a[2]
