"""Random PNG images (the repositories' binary files), byte-stable across Python and zlib versions."""

from __future__ import annotations

import random
import struct
import zlib


def random_png(rng: random.Random, width: int, height: int) -> bytes:
    """A valid ``width`` × ``height`` pixel RGB PNG with random pixels, built with stored deflate blocks so the
    bytes never depend on zlib's compressor."""
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height))
    blocks = []
    for i in range(0, len(raw), 65535):
        piece = raw[i:i + 65535]
        final = 1 if i + 65535 >= len(raw) else 0
        blocks.append(struct.pack("<BHH", final, len(piece), 0xFFFF ^ len(piece)) + piece)
    idat = b"\x78\x01" + b"".join(blocks) + struct.pack(">I", zlib.adler32(raw))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
