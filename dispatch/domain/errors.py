"""Domain errors that name the bad value and what is allowed."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the domain refuses; carries a stable code and the field at fault."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(DomainError):
    """A case was asked to make a move its current state does not allow."""

    code = "illegal_transition"

    def __init__(self, action: str, state: str, allowed_from: tuple[str, ...]) -> None:
        allowed = ", ".join(allowed_from) or "no state"
        super().__init__(
            f"cannot {action} a case that is {state}; {action} is allowed from: {allowed}",
            field="state",
        )
        self.action = action
        self.state = state
        self.allowed_from = allowed_from


class InvalidValue(DomainError):
    """A command carried a value the domain cannot accept."""

    code = "invalid_value"
