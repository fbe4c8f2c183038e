"""Errors the service answers, typed by status, carrying its `{ error: { code, message, details } }`."""

from typing import Any, Dict, List, Optional


class FlywheelError(Exception):
    """An error answer of the Flywheel api (or a failure to reach it: status 0, code ``UNREACHABLE``).

    ``code`` is the service's stable error code (``VALIDATION_FAILED``, ``CONFLICT``, ``RATE_LIMITED``, ...),
    ``details`` what it said about the problem: for a 400 a list of ``{"field", "problems"}``, otherwise a dict of
    facts. ``retry_after`` is the ``Retry-After`` header in seconds, when given (429, 503).
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None, retry_after: Optional[float] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.retry_after = retry_after

    @property
    def fields(self) -> List[str]:
        """The fields a validation error names, in the service's order (``candidates[17].features``)."""
        if not isinstance(self.details, list):
            return []
        return [d["field"] for d in self.details if isinstance(d, dict) and "field" in d]

    @property
    def problems(self) -> Dict[str, List[str]]:
        """Field -> what is wrong with it."""
        if not isinstance(self.details, list):
            return {}
        return {d["field"]: list(d.get("problems", [])) for d in self.details if isinstance(d, dict) and "field" in d}


class FlywheelValidationError(FlywheelError):
    """400: the request was refused; ``fields`` and ``problems`` say what to change. Nothing of it was applied."""


class FlywheelAuthError(FlywheelError):
    """401 (no or unknown key), 403 (a key of the wrong kind) or 410 (the project was deleted)."""


class FlywheelNotFoundError(FlywheelError):
    """404: no such set, model, publication or route in this project."""


class FlywheelConflictError(FlywheelError):
    """409: the request cannot apply now, e.g. no production reward model yet, or a set that is not ready."""


class FlywheelUnavailableError(FlywheelError):
    """429 or 5xx, or the api could not be reached: worth retrying later (``retry_after`` when the service says)."""


_BY_STATUS = {400: FlywheelValidationError, 401: FlywheelAuthError, 403: FlywheelAuthError, 404: FlywheelNotFoundError,
              409: FlywheelConflictError, 410: FlywheelAuthError}


def error_for(status: int, code: str, message: str, details: Any = None, retry_after: Optional[float] = None) -> FlywheelError:
    if status == 429 or status >= 500 or status == 0:
        cls = FlywheelUnavailableError
    else:
        cls = _BY_STATUS.get(status, FlywheelError)
    return cls(status, code, message, details, retry_after)
