"""Webhook secrets encrypted at rest with Fernet (``cryptography``): they sign notifications, so they are kept
recoverable, never hashed, and never stored or answered in clear.

The key is ENGMETRICS_ALERTS_KEY when set (a Fernet key: 32 url-safe base64 bytes), else the file
``<store>.alerts.key`` beside the store, created on first use with mode 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from engmetrics.config import Settings
from engmetrics.errors import DataError, InvalidInput


def key_file(settings: Settings) -> Path:
    """Where the key lives when ENGMETRICS_ALERTS_KEY is not set: beside the store."""
    db = Path(settings.db).expanduser()
    return db.with_name(db.name + ".alerts.key")


def load_fernet(settings: Settings) -> Fernet:
    """The Fernet of the configured key (or of the key file, created 0600 when missing)."""
    if settings.alerts_key is not None:
        try:
            return Fernet(settings.alerts_key.get_secret_value().encode())
        except ValueError:
            raise InvalidInput("ENGMETRICS_ALERTS_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one "
                               "with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
                               ".decode())'`).") from None
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    try:
        return Fernet(path.read_bytes().strip())
    except (OSError, ValueError):
        raise DataError(f"The alerts key file {path} is unreadable or not a Fernet key: restore it, or set "
                        "ENGMETRICS_ALERTS_KEY (webhook secrets encrypted with another key must be set again).") from None


def encrypt(fernet: Fernet, secret: str) -> str:
    """The Fernet token of ``secret`` (text)."""
    return fernet.encrypt(secret.encode()).decode()


def decrypt(fernet: Fernet, token: str) -> str:
    """The secret of a Fernet token; `DataError` when the key does not open it."""
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise DataError("A webhook secret cannot be decrypted with the current alerts key (ENGMETRICS_ALERTS_KEY or "
                        "the key file beside the store changed): delete the alert and create it again.") from None
