"""Who is asking. Every domain function that touches learner data takes an Actor and scopes by it."""

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    anon_key: str | None = None
    role: str = "learner"

    def __post_init__(self) -> None:
        if self.user_id is None and not self.anon_key:
            raise ValueError("an actor is either a signed-in user or an anonymous browser session")

    @classmethod
    def anonymous(cls, key: str | None = None) -> "Actor":
        return cls(anon_key=key or secrets.token_urlsafe(24))

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


class AccessDenied(PermissionError):
    """The actor asked for something that is not theirs."""
