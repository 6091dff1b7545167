"""The two demo repositories' profiles: language, length of history (days), commit target, people, scopes
(source directories) and initial dependency pins."""

from __future__ import annotations

from dataclasses import dataclass

from engmetrics.demo.contents import Lang
from engmetrics.demo.people import AISHA, DANIEL, ELENA, JONAS, MARCUS, PRIYA, RAVI, SOFIA, Person


@dataclass(frozen=True)
class RepoProfile:
    """What one demo repository is like."""

    name: str
    lang: Lang
    days: int  # length of the history, in days before ``as_of``
    target_commits: int  # about how many commits main gets
    people: list[Person]
    areas: dict[str, str]  # scope → directory of its sources
    ext: str  # source file extension
    test_dir: str
    deps: dict[str, str]  # initial dependency → version pins (package.json or requirements.txt)


WEBAPP = RepoProfile(
    "webapp", "ts", 730, 1500, [PRIYA, MARCUS, SOFIA, JONAS, AISHA, DANIEL],
    {"api": "src/api", "ui": "src/ui", "payments": "src/payments", "utils": "src/utils"}, ".ts", "tests",
    {"lodash": "4.17.20", "axios": "1.6.2", "react": "18.2.0", "react-dom": "18.2.0", "zod": "3.22.2",
     "date-fns": "2.30.0", "express": "4.18.2", "jest": "29.6.4", "typescript": "5.2.2"})
PAYMENTS = RepoProfile(
    "payments-api", "py", 365, 600, [ELENA, MARCUS, RAVI],
    {"charges": "app/charges", "refunds": "app/refunds", "webhooks": "app/webhooks", "ledger": "app/ledger"},
    ".py", "tests",
    {"fastapi": "0.110.0", "pydantic": "2.6.1", "sqlalchemy": "2.0.27", "httpx": "0.26.0", "stripe": "8.2.0",
     "uvicorn": "0.27.1", "pytest": "8.0.1"})
