"""Contributor summaries count one person's several identities (same name, different emails)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitrepo import GitRepo

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.activity.models import ContributorQuery


async def test_two_emails_under_one_name_are_one_contributor(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    repo = GitRepo(tmp_path / "r")
    repo.commit({"a.py": "1\n"}, "feat: a", author=("Priya Raman", "priya@acme.io"), when=now - timedelta(days=3))
    repo.commit({"a.py": "1\n2\n3\n"}, "feat: b", author=("Priya Raman", "priya@gmail.com"), when=now - timedelta(days=2))
    repo.commit({"b.py": "x\n"}, "feat: c", author=("Sam Other", "sam@acme.io"), when=now - timedelta(days=1))
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    by_email = await engine.activity.get_contributor_summary(ContributorQuery(contributor="priya@gmail.com", period="7d"))
    assert by_email.contributor == "priya@gmail.com"
    assert sorted(by_email.emails) == ["priya@acme.io", "priya@gmail.com"]
    assert by_email.commits == 2 and by_email.lines_added == 3 and by_email.files_touched == 1
    by_name = await engine.activity.get_contributor_summary(ContributorQuery(contributor="priya raman", period="7d"))
    assert by_name.commits == 2 and by_name.names == ["Priya Raman"]
    sam = await engine.activity.get_contributor_summary(ContributorQuery(contributor="sam@acme.io", period="7d"))
    assert sam.commits == 1 and sam.emails == ["sam@acme.io"]
    engine.store.close()
