"""Who claims a row several processes share (a sync job, an alert delivery): a name unique to one claimant in one
process on one host, ``host:pid:n``, stored with the claim beside its lease (Unix seconds) so another process can tell
a live claim from a dead one's and a claimant can tell its own claim from one taken again after its lease ran out."""

from __future__ import annotations

import os
import socket
from itertools import count

_numbers = count(1)


def claimant_name() -> str:
    """A new claimant's name, ``host:pid:n`` (n counts the claimants made in this process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{next(_numbers)}"
