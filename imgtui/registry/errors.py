"""What can go wrong talking to a registry, in words a user can act on (never with a password in them)."""

from __future__ import annotations


class RegistryError(Exception):
    """One sentence for the UI; `status` is the HTTP status when the registry answered."""

    def __init__(self, message: str, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthRequired(RegistryError):
    """401: the registry wants credentials (none were given, or they were refused)."""

    def __init__(self, message: str, realm: str = "", refused: bool = False) -> None:
        super().__init__(message, 401, "UNAUTHORIZED")
        self.realm = realm
        self.refused = refused


class DeleteDisabled(RegistryError):
    """405 on DELETE: the registry was started without storage.delete.enabled."""


class NotFound(RegistryError):
    """404: no such repository, tag or manifest."""
