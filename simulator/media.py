"""Files as the simulator stores them: image sizes from headers, MIME guesses, generated pictures."""

from __future__ import annotations

import functools
import mimetypes
import struct
import zlib


def image_size(data: bytes) -> tuple[int, int] | None:
    """Read (width, height) from a PNG, GIF or JPEG header; None if the bytes are not one of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + length
    return None


def looks_like_image(data: bytes) -> bool:
    """True for the picture formats Telegram accepts as a photo (JPEG, PNG, GIF, WEBP, BMP)."""
    return (
        image_size(data) is not None
        or data.startswith(b"\xff\xd8")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or data[:2] == b"BM"
    )


@functools.cache
def solid_png(width: int, height: int, rgb: tuple[int, int, int] = (120, 170, 220)) -> bytes:
    """Return a valid PNG of one colour, used as the picture a simulated user sends."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def guess_mime(file_name: str, default: str = "application/octet-stream") -> str:
    """Guess a MIME type from a file name."""
    return mimetypes.guess_type(file_name)[0] or default


def extension_for(file_name: str | None, mime_type: str | None, default: str) -> str:
    """Pick the file extension Telegram would use in a file_path."""
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()[:8]
    if mime_type:
        guessed = mimetypes.guess_extension(mime_type)
        if guessed:
            return guessed.lstrip(".")
    return default
