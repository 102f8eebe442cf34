"""Errors with messages a user can read.

Pages catch :class:`AwsomeError` and show ``str(error)``; anything else is logged with its
traceback and shown as a generic message. The CLI turns an :class:`AwsomeError` into one line
and exit code 1.
"""

from __future__ import annotations


class AwsomeError(Exception):
    """Base class: ``str(error)`` is safe and useful to show to a user."""


class ConfigError(AwsomeError):
    """A setting is missing or invalid."""


class StorageUnavailable(AwsomeError):
    """The database cannot be reached right now."""

    def __init__(self, message: str = "The database is unavailable right now. Please try again in a moment.") -> None:
        super().__init__(message)


class AuthError(AwsomeError):
    """Registration, login or password change was refused."""


class AccountLocked(AuthError):
    """Too many wrong passwords: the account is locked for a while."""


class InvalidImage(AwsomeError):
    """The uploaded bytes are not an image we can read (corrupt, empty, too large)."""


class NoFaceFound(AwsomeError):
    """The image holds no face we could find."""


class ModelError(AwsomeError):
    """The emotion model is missing or does not match this code."""


class MusicProviderError(AwsomeError):
    """The music catalog or the Spotify API could not answer."""


class NotFound(AwsomeError):
    """What was asked for does not exist, or is not the signed-in user's (the two are not told apart)."""


class InvalidInput(AwsomeError):
    """A request's values are out of range or malformed; the message says which and why."""


class RateLimited(AwsomeError):
    """Too many requests in a short time; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
