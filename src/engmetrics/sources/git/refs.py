"""A repository's refs: its branches, tags, remote-tracking branches and HEAD, and the commits they end at.

One `git for-each-ref` reads them all (with peeled tags and times); when a ref's object is missing or
corrupt they are read object by object instead, leaving out the unreadable ones. Times are Unix seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from engmetrics.errors import DataError
from engmetrics.sources.git.run import decode_text, git_error, run_git

log = logging.getLogger(__name__)

_REF_FORMAT = (
    "%(refname)%1f%(objectname)%1f%(objecttype)%1f%(*objectname)%1f%(*objecttype)"
    "%1f%(taggerdate:unix)%1f%(*committerdate:unix)%1f%(committerdate:unix)%1f%(symref)"
)


@dataclass(frozen=True, slots=True)
class Ref:
    """One ref as `git for-each-ref` describes it (times: Unix seconds as text, '' when unknown)."""

    name: str
    oid: str
    type: str
    peeled_oid: str
    peeled_type: str
    tagger_time: str
    peeled_commit_time: str
    commit_time: str
    symref: str

    @property
    def commit(self) -> str | None:
        """The commit this ref ends at, when known without another lookup."""
        if self.type == "commit":
            return self.oid
        if self.type == "tag" and self.peeled_type == "commit":
            return self.peeled_oid
        return None


def read_refs(path: str, skipped: list[str] | None = None) -> list[Ref]:
    """Every branch, tag and remote-tracking ref, in one `git for-each-ref`.

    When that fails (a ref's object is missing or corrupt) the refs are read again object by object
    with `git cat-file --batch`, leaving out the unreadable ones (noted in ``skipped``).
    """
    proc = run_git(path, "for-each-ref", f"--format={_REF_FORMAT}", "refs/heads", "refs/tags", "refs/remotes")
    if proc.returncode == 0:
        refs = []
        for line in proc.stdout.split(b"\n"):
            parts = line.split(b"\x1f")
            if len(parts) == 9:
                refs.append(Ref(*(decode_text(x) for x in parts)))
        return refs
    log.warning("git for-each-ref failed in %s: %s", path, git_error(proc.stderr))
    return _read_refs_slowly(path, skipped if skipped is not None else [])


def _cat_file(path: str, oids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """oid → (type, content) for the readable objects among ``oids``, in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    proc = run_git(path, "cat-file", "--batch", input="".join(f"{o}\n" for o in wanted).encode())
    out: dict[str, tuple[str, bytes]] = {}
    data, pos = proc.stdout, 0
    while pos < len(data):
        eol = data.find(b"\n", pos)
        if eol < 0:
            break
        head = data[pos:eol].split()
        pos = eol + 1
        if len(head) != 3:  # "<oid> missing" / "ambiguous"
            continue
        size = int(head[2])
        out[decode_text(head[0])] = (decode_text(head[1]), data[pos : pos + size])
        pos += size + 1
    return out


def _header_time(content: bytes, key: bytes) -> str:
    """Unix seconds of the ``committer``/``tagger`` header line of a commit or tag object, or ''."""
    for line in content.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(key + b" "):
            parts = line.rsplit(b" ", 2)
            return decode_text(parts[1]) if len(parts) == 3 and parts[1].isdigit() else ""
    return ""


def _tag_target(content: bytes) -> tuple[str, str]:
    oid = kind = ""
    for line in content.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"object "):
            oid = decode_text(line[7:]).strip()
        elif line.startswith(b"type "):
            kind = decode_text(line[5:]).strip()
    return oid, kind


def _read_refs_slowly(path: str, skipped: list[str]) -> list[Ref]:
    proc = run_git(path, "for-each-ref", "--format=%(refname)%1f%(objectname)%1f%(symref)", "refs/heads", "refs/tags", "refs/remotes")
    if proc.returncode != 0:
        raise DataError(f"Cannot list the refs of {path!r} ({git_error(proc.stderr)}). Run `git fsck` there.")
    rows = [[decode_text(x) for x in line.split(b"\x1f")] for line in proc.stdout.split(b"\n") if line.count(b"\x1f") == 2]
    objects = _cat_file(path, (oid for _, oid, _ in rows))
    targets = _cat_file(path, (_tag_target(o[1])[0] for o in objects.values() if o[0] == "tag"))
    refs, unreadable = [], []
    for name, oid, symref in rows:
        if oid not in objects:
            unreadable.append(name)
            continue
        kind, content = objects[oid]
        if kind == "tag":
            target, target_kind = _tag_target(content)
            target_time = _header_time(targets[target][1], b"committer") if target in targets and target_kind == "commit" else ""
            if target not in targets:
                target_kind = "missing"
            refs.append(Ref(name, oid, kind, target, target_kind, _header_time(content, b"tagger"), target_time, "", symref))
        else:
            commit_time = _header_time(content, b"committer") if kind == "commit" else ""
            refs.append(Ref(name, oid, kind, "", "", "", "", commit_time, symref))
    if unreadable:
        skipped.append(f"{len(unreadable)} ref(s) point to missing objects and were ignored: {', '.join(unreadable[:5])}")
    return refs


def head_commit(path: str) -> str | None:
    """The commit HEAD points at; None for an unborn branch."""
    proc = run_git(path, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    sha = decode_text(proc.stdout).strip()
    return sha if proc.returncode == 0 and sha else None


def _peel(path: str, oids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """oid → (fully peeled oid, its type) for tags of tags, in one `git cat-file --batch-check`."""
    oids = list(oids)
    if not oids:
        return {}
    proc = run_git(path, "cat-file", "--batch-check", input="".join(f"{o}^{{}}\n" for o in oids).encode())
    out: dict[str, tuple[str, str]] = {}
    for oid, line in zip(oids, decode_text(proc.stdout).splitlines(), strict=False):
        parts = line.split()
        if len(parts) >= 2 and parts[1] != "missing":
            out[oid] = (parts[0], parts[1])
    return out


@dataclass(slots=True)
class TagRow:
    """A tag that ends at a commit; ``time`` (Unix seconds) None until looked up in the store."""

    name: str
    sha: str
    time: int | None
    annotated: bool


def tag_rows(path: str, refs: list[Ref], skipped: list[str]) -> list[TagRow]:
    """The tags that end at a commit, with their time (None: look it up in the store)."""
    tags: list[TagRow] = []
    nested: list[Ref] = []
    non_commit = 0
    for r in refs:
        if not r.name.startswith("refs/tags/"):
            continue
        if r.type == "tag" and r.peeled_type == "tag":
            nested.append(r)
            continue
        sha = r.commit
        if sha is None:
            non_commit += 1
            continue
        name = r.name.removeprefix("refs/tags/")
        if r.type == "tag":
            t = r.tagger_time or r.peeled_commit_time
            tags.append(TagRow(name, sha, int(t) if t else None, True))
        else:
            tags.append(TagRow(name, sha, int(r.commit_time) if r.commit_time else None, False))
    peeled = _peel(path, (r.oid for r in nested))
    for r in nested:
        target = peeled.get(r.oid)
        if target is None or target[1] != "commit":
            non_commit += 1
            continue
        tags.append(TagRow(r.name.removeprefix("refs/tags/"), target[0], int(r.tagger_time) if r.tagger_time else None, True))
    if non_commit:
        skipped.append(f"{non_commit} tag(s) point to a tree, a blob or a missing object, not a commit; ignored")
    return tags


def ref_tips(refs: list[Ref], head: str | None, path: str) -> dict[str, str]:
    """ref name → the commit it ends at (HEAD included as 'HEAD'); refs ending at non-commits are left out."""
    tips: dict[str, str] = {}
    nested = [r for r in refs if r.type == "tag" and r.peeled_type == "tag"]
    peeled = _peel(path, (r.oid for r in nested))
    for r in refs:
        sha = r.commit
        if sha is None and r.oid in peeled and peeled[r.oid][1] == "commit":
            sha = peeled[r.oid][0]
        if sha is not None:
            tips[r.name] = sha
    if head is not None:
        tips["HEAD"] = head
    return tips
