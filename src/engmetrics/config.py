"""Settings from environment variables ``ENGMETRICS_*`` and an optional ``engmetrics.toml``.

Precedence: explicit arguments > environment > ``engmetrics.toml`` (``ENGMETRICS_CONFIG`` or
``./engmetrics.toml``) > defaults. Secrets are `SecretStr`: never printed, logged or echoed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from engmetrics.errors import InvalidInput
from engmetrics.validation import describe_error


def default_db_path() -> Path:
    """The store in the user's data directory (e.g. ~/.local/share/engmetrics/engmetrics.db)."""
    return Path(platformdirs.user_data_dir("engmetrics", appauthor=False)) / "engmetrics.db"


def config_file() -> Path | None:
    """The TOML configuration file in force, if any."""
    explicit = os.environ.get("ENGMETRICS_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path.cwd() / "engmetrics.toml"
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Everything engmetrics reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="ENGMETRICS_", extra="ignore", populate_by_name=True)

    db: Path = Field(default_factory=default_db_path, description="SQLite store path (ENGMETRICS_DB)")
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL store for a team server, postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE "
        "(ENGMETRICS_DATABASE_URL); without it the SQLite store at ENGMETRICS_DB",
    )
    repos: list[str] = Field(default_factory=list, description="Repositories to serve (paths), ENGMETRICS_REPOS as JSON")
    tag_pattern: str | None = Field(default=None, description="Regex for release tags that count as deployments")
    sync_max_age_seconds: float = Field(default=300.0, ge=0, description="Re-sync when data is older than this")
    benchmark_year: int = Field(default=2024, description="DORA report year for ratings")
    http_token: SecretStr | None = Field(default=None, description="Bearer token for `serve --transport http`")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    toolsets: str | None = Field(
        default=None, description="MCP toolsets to offer, comma-separated: 'default', 'all' or names (ENGMETRICS_TOOLSETS)"
    )
    task_after_seconds: float = Field(
        default=1.0, ge=0, le=60,
        description="A sync or report not done within this many seconds becomes an MCP task for clients with tasks",
    )
    # Remote mode
    api_url: str | None = Field(default=None, description="Remote engmetrics/Upshot/Koalr API base URL")
    api_key: SecretStr | None = Field(default=None, description="API key for the remote API")
    provider: Literal["engmetrics", "upshot", "koalr"] = "engmetrics"
    remote_deadline_seconds: float = Field(
        default=20.0, gt=0, le=3600,
        description="Longest a remote call may take, retries included (ENGMETRICS_REMOTE_DEADLINE_SECONDS)",
    )
    # GitHub source and teams (engmetrics.sources.github, engmetrics.teams)
    github_token: SecretStr | None = Field(default=None, description="GitHub token (ENGMETRICS_GITHUB_TOKEN, else GITHUB_TOKEN)")
    github_api_url: str | None = Field(default=None, description="GitHub API base URL (else GITHUB_API_URL, else api.github.com)")
    github_repos: list[str] = Field(
        default_factory=list, description="GitHub repositories to sync: 'owner/name' or 'owner/name=<local repo name>'"
    )
    incident_label: str = Field(default="incident", description="GitHub issue label that marks an incident")
    github_max_wait_seconds: float = Field(default=3600.0, ge=0, description="Longest rate-limit wait before failing")
    risk_fix_pattern: str | None = Field(
        default=None, description="Regex of fix-commit messages for SZZ risk labels (ENGMETRICS_RISK_FIX_PATTERN)"
    )
    scorecard_thresholds: dict[str, list[float]] = Field(
        default_factory=dict,
        description='Scorecard [green, amber] thresholds of catalogue metrics, e.g. {"test_coverage": [85, 70]} '
        "(ENGMETRICS_SCORECARD_THRESHOLDS as JSON; [scorecard_thresholds] in engmetrics.toml)",
    )
    health_weights: dict[str, float] = Field(
        default_factory=dict,
        description='Weights of the health score\'s signals by metric, e.g. {"change_failure_rate": 3} (others keep '
        "their defaults; 0 leaves a signal out)",
    )
    alerts_key: SecretStr | None = Field(
        default=None, description="Fernet key encrypting alert webhook secrets (default: a 0600 key file beside the store)"
    )
    alerts_every_seconds: float = Field(
        default=300.0, ge=0, description="Seconds between alert evaluations inside `serve` and `api` (0: only after syncs)"
    )
    alerts_retry_seconds: list[float] = Field(
        default_factory=lambda: [1.0, 5.0, 30.0],
        description="Waits before each webhook retry (seconds); a delivery is tried once more than this list is long",
    )
    alerts_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Timeout of one webhook request")
    # AI-assisted code (engmetrics.areas.ai, engmetrics.sources.cursor, engmetrics.sources.copilot)
    cursor_api_key: SecretStr | None = Field(
        default=None, description="Cursor Admin API key for the AI Code Tracking API (ENGMETRICS_CURSOR_API_KEY)"
    )
    cursor_api_url: str = Field(default="https://api.cursor.com", description="Cursor API base URL (ENGMETRICS_CURSOR_API_URL)")
    cursor_first_sync_days: int = Field(
        default=90, ge=1, le=3650, description="Days of Cursor tracking data the first `ai sync` reads"
    )
    ai_max_wait_seconds: float = Field(
        default=3600.0, ge=0, description="Longest total wait on AI sources' rate limits in one sync before giving up"
    )
    copilot_org: str | None = Field(default=None, description="GitHub organisation whose Copilot usage metrics to read")
    copilot_enterprise: str | None = Field(default=None, description="GitHub enterprise whose Copilot usage metrics to read")
    copilot_minutes_per_line: float = Field(
        default=0.5, ge=0, le=60,
        description="Minutes saved per line Copilot added, for estimated_hours_saved (an assumption: set your own)",
    )
    ai_markers: list[str] = Field(
        default_factory=list,
        description="AI tool names that AI co-author trailers and 'Generated with' lines may name (replaces the default list)",
    )
    teams: dict[str, Any] = Field(default_factory=dict, description="[teams.<name>] repos=[…] people=[…]")
    people: dict[str, Any] = Field(default_factory=dict, description="[people.<id>] emails=[…] logins=[…]")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Settings with explicit overrides (None values are ignored).

    A malformed value or configuration file raises `InvalidInput` naming the setting (never its value,
    which may be a secret).
    """
    given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{describe_error(e, echo=False)[1]} ({_env_name(e['loc'])})" for e in exc.errors()[:5]
        )
        where = f" or {config_file()}" if config_file() else ""
        raise InvalidInput(f"Invalid configuration: {problems}. Fix the environment variable{where}.") from None
    except SettingsError as exc:  # e.g. a list or table variable that is not JSON; the message names the field
        raise InvalidInput(f"Invalid configuration: {exc}. Lists and tables in ENGMETRICS_* variables are JSON.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{config_file()} is not valid TOML ({exc}); fix it or set ENGMETRICS_CONFIG to another file.") from None


def _env_name(loc: tuple[Any, ...]) -> str:
    return f"ENGMETRICS_{str(loc[0]).upper()}" if loc else "ENGMETRICS_*"
