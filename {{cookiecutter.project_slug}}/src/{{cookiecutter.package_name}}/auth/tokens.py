"""JSON Web Tokens: issue and verify access and refresh tokens with pinned algorithms."""

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from {{ cookiecutter.package_name }}.core.errors import NotAuthenticated
from {{ cookiecutter.package_name }}.settings import Settings

REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "type", "sid"]
# How many verified tokens a codec remembers, so that a client's token is decoded and its
# signature checked once, not on every request: decoding costs about 60 µs.
REMEMBERED_TOKENS = 4096
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def _is_numeric_date(value: object) -> bool:
    """A JSON number (RFC 7519, section 2): not a string, a boolean, null or NaN."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


class _NumericDateJWT(jwt.PyJWT):
    """PyJWT, except that a time claim must be a JSON number.

    PyJWT reads `"exp": "9999999999"` as a number. The check runs after the signature is
    verified and before the times are compared, so such a token is invalid, not expired.
    """

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        # PyJWT's documented extension point for payload decoding.
        payload = super()._decode_payload(decoded)
        for claim in NUMERIC_DATE_CLAIMS:
            if claim in payload and not _is_numeric_date(payload[claim]):
                raise jwt.InvalidTokenError(f"The '{claim}' claim is not a NumericDate.")
        return payload


class TokenType(StrEnum):
    """What a token may be used for; one is never accepted as the other."""

    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified claims the service relies on."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    token_id: uuid.UUID
    type: TokenType


class TokenCodec:
    """Signs and verifies tokens for one issuer and audience with one pinned algorithm.

    A token that passed verification is remembered with its expiry until the memory holds
    `REMEMBERED_TOKENS`, then the memory starts afresh. Only the exact same string is
    recognised, and its expiry is still enforced; whether its session is still open is
    checked on every request by `auth.service.authenticate`, remembered or not.
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._verified: dict[str, tuple[TokenClaims, float]] = {}
        self._jwt = _NumericDateJWT()
        self._key = settings.secret_key.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.ttl = {
            TokenType.ACCESS: timedelta(seconds=settings.access_token_ttl_seconds),
            TokenType.REFRESH: timedelta(seconds=settings.refresh_token_ttl_seconds),
        }

    def issue(
        self,
        token_type: TokenType,
        *,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        now: datetime,
        token_id: uuid.UUID | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        """A signed token; `sub` is the user's immutable id. It lives `ttl` unless told."""
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": str(token_id or uuid.uuid4()),
            "type": token_type.value,
            "iat": now,
            "nbf": now,
            "exp": expires_at or now + self.ttl[token_type],
        }
        return jwt.encode(payload, self._key, algorithm=self._algorithm)

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """The claims of a valid token of the `expected` type; `NotAuthenticated` otherwise."""
        remembered = self._verified.get(token)
        if remembered is None:
            claims = self._decode(token)
        elif self._clock() < remembered[1]:
            claims = remembered[0]
        else:
            raise NotAuthenticated("The token has expired.", code="token_expired")
        if claims.type is not expected:
            raise NotAuthenticated(
                f"Expected a token of type '{expected.value}', got '{claims.type.value}'.",
                code="invalid_token",
            )
        return claims

    def _decode(self, token: str) -> TokenClaims:
        """Check the token in full; remember it once it passed."""
        try:
            payload = self._jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
            )
            claims = TokenClaims(
                user_id=uuid.UUID(payload["sub"]),
                session_id=uuid.UUID(payload["sid"]),
                token_id=uuid.UUID(payload["jti"]),
                type=TokenType(payload["type"]),
            )
        except jwt.ExpiredSignatureError as error:
            raise NotAuthenticated("The token has expired.", code="token_expired") from error
        except (jwt.InvalidTokenError, ValueError, TypeError) as error:
            raise NotAuthenticated("The token is invalid.", code="invalid_token") from error
        if len(self._verified) >= REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (claims, float(payload["exp"]))
        return claims
