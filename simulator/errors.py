"""Bot API error answers, shaped and worded the way Telegram words them."""

from __future__ import annotations

from typing import Any

_PREFIX = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API call that Telegram would refuse; becomes `{"ok": false, ...}` with this HTTP status."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.context: dict[str, Any] = {}  # chat_id / scope, for statistics; never sent

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def api_error(code: int, detail: str | None = None, parameters: dict[str, Any] | None = None) -> ApiError:
    """Build an error whose description is "<status phrase>: <detail>", or the bare phrase."""
    prefix = _PREFIX.get(code, "Error")
    return ApiError(code, f"{prefix}: {detail}" if detail else prefix, parameters)


def bad_request(detail: str) -> ApiError:
    """Build a 400 "Bad Request: <detail>"."""
    return api_error(400, detail)


def forbidden(detail: str) -> ApiError:
    """Build a 403 "Forbidden: <detail>"."""
    return api_error(403, detail)


def too_many_requests(retry_after: int) -> ApiError:
    """Build a 429 with `retry_after`, as Telegram sends on flood control."""
    return api_error(429, f"retry after {retry_after}", {"retry_after": retry_after})


def migrated(new_chat_id: int) -> ApiError:
    """Build the 400 Telegram sends to a group that became a supergroup."""
    return api_error(400, "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id})


class SimError(Exception):
    """A refused test-side (`/_sim/`) request, e.g. pressing a button that is not on the message."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
