"""Where and as whom the GitHub source reaches GitHub: the token, the API URLs, the repository slugs.

The token (``ENGMETRICS_GITHUB_TOKEN``, else ``GITHUB_TOKEN``) is sent only in the ``Authorization``
header; it is never logged, stored or put in an error message. ``GITHUB_API_URL`` (or
``github_api_url``) points at GitHub Enterprise (``https://host/api/v3``; its GraphQL endpoint is
``https://host/api/graphql``).
"""

from __future__ import annotations

import os
import re

from engmetrics.config import Settings
from engmetrics.errors import InvalidInput

DEFAULT_API_URL = "https://api.github.com"


def resolve_token(settings: Settings | None = None) -> str | None:
    """The GitHub token: settings.github_token (ENGMETRICS_GITHUB_TOKEN), else GITHUB_TOKEN; None if unset."""
    secret = settings.github_token if settings is not None else None
    if secret is not None and secret.get_secret_value().strip():
        return secret.get_secret_value().strip()
    env = os.environ.get("ENGMETRICS_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN")
    return env.strip() if env and env.strip() else None


def resolve_api_url(settings: Settings | None = None) -> str:
    """The REST base URL: settings.github_api_url, else GITHUB_API_URL, else https://api.github.com."""
    url = (settings.github_api_url if settings is not None else None) or os.environ.get("GITHUB_API_URL")
    return (url or DEFAULT_API_URL).rstrip("/")


def graphql_url(api_url: str) -> str:
    """GraphQL endpoint for a REST base URL (GitHub Enterprise: …/api/v3 → …/api/graphql)."""
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def parse_slug(value: str) -> tuple[str, str | None]:
    """``owner/name`` or ``owner/name=<local repo name>`` → (owner/name, local name or None)."""
    slug, _, local = value.strip().partition("=")
    slug = slug.strip().removeprefix("https://github.com/").removesuffix(".git").strip("/")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", slug):
        raise InvalidInput(f"GitHub repository {value!r} must look like 'owner/name' (optionally 'owner/name=local-repo').")
    return slug, (local.strip() or None)
