"""Service errors: each has a stable code, a message a user can act on, and the field."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class ValidationError(ServiceError):
    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class IdempotencyMismatch(ServiceError):
    """The same Idempotency-Key arrived with a different request body."""

    code = "idempotency_key_reused"
    status = 422
