"""Bot API request parameters from JSON, url-encoded forms, multipart forms and the query string.

Form fields carry every value as a string (clients JSON-encode numbers, booleans and objects), so the
getters coerce on read and answer malformed values with the 400s Telegram gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from simulator.errors import ApiError, bad_request


@dataclass(slots=True, frozen=True)
class Upload:
    """A file sent in a multipart request."""

    data: bytes
    filename: str
    content_type: str | None


class Params:
    """The parameters of one Bot API call, with typed getters."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        """Read parameters from the query string and the body, whatever its content type."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise bad_request("can't parse JSON body") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON body must be an object")
                values.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, FileField):
                        uploads[key] = Upload(value.file.read(), value.filename or key, value.content_type)
                    else:
                        values[key] = value
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        """True when the parameter is present and not empty."""
        return self.values.get(name) not in (None, "") or name in self.uploads

    def raw(self, name: str) -> Any:
        """Return the value as sent."""
        return self.values.get(name)

    def text(self, name: str, default: str | None = None) -> str | None:
        """Return a string parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int | float) else json.dumps(value)

    def integer(self, name: str, default: int | None = None, error: str | None = None) -> int | None:
        """Return an integer parameter; a malformed value answers 400."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(error or f"invalid {name} specified") from None

    def number(self, name: str, default: float | None = None) -> float | None:
        """Return a number parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter ("true"/"false"/"1"/"0" in forms)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        return str(value).strip().lower() in ("true", "1", "yes", "on")

    def obj(self, name: str, error: str | None = None) -> Any:
        """Return an object/array parameter, decoding it when it came as a JSON string."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str | None:
        """Return a chat id: an integer, or an "@username" string."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def input_file(self, name: str) -> Upload | str | None:
        """Return an uploaded file (also via "attach://name") or the file_id/URL string given instead."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"file attachment {value} not found")
            return upload
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ApiError(400, f"Bad Request: invalid file for {name}")
        return value
