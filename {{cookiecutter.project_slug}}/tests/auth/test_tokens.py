"""Token verification refuses every malformed, forged, stale or misused token."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.auth import tokens
from {{ cookiecutter.package_name }}.auth.tokens import (
    NUMERIC_DATE_CLAIMS,
    REQUIRED_CLAIMS,
    TokenCodec,
    TokenType,
)
from {{ cookiecutter.package_name }}.core.errors import NotAuthenticated
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, TEST_SECRET, Account
from tests.problem_assertions import assert_problem

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def codec(settings: Settings) -> TokenCodec:
    return TokenCodec(settings)


def issue(codec: TokenCodec, token_type: TokenType = TokenType.ACCESS, **kwargs: Any) -> str:
    return codec.issue(
        token_type, user_id=uuid.uuid4(), session_id=uuid.uuid4(), now=kwargs.pop("now", NOW)
    )


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": "{{ cookiecutter.project_slug }}",
        "aud": "{{ cookiecutter.project_slug }}-api",
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "jti": str(uuid.uuid4()),
        "type": "access",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
    }
    return {key: value for key, value in (base | overrides).items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_rejected(codec: TokenCodec, token: str, code: str = "invalid_token") -> None:
    with pytest.raises(NotAuthenticated) as caught:
        codec.verify(token, TokenType.ACCESS)
    assert caught.value.code == code
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}


def test_a_fresh_token_round_trips(codec: TokenCodec) -> None:
    user_id, session_id, token_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = codec.issue(
        TokenType.ACCESS, user_id=user_id, session_id=session_id, token_id=token_id, now=NOW
    )

    verified = codec.verify(token, TokenType.ACCESS)

    assert (verified.user_id, verified.session_id, verified.token_id) == (
        user_id,
        session_id,
        token_id,
    )
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 15 * 60


def test_every_required_claim_is_present(codec: TokenCodec) -> None:
    payload = jwt.decode(issue(codec), options={"verify_signature": False})

    assert set(REQUIRED_CLAIMS) <= set(payload)
    assert {"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "type"} <= set(REQUIRED_CLAIMS)


def test_alg_none_is_rejected(codec: TokenCodec) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(iat=None, nbf=None, exp=None)).encode())

    assert_rejected(codec, f"{header}.{payload}.")


def test_an_rs256_header_on_an_hmac_signature_is_rejected(codec: TokenCodec) -> None:
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "x"}).encode())
    signature = hmac.new(TEST_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256)

    assert_rejected(codec, f"{header}.{payload}.{b64(signature.digest())}")


def test_another_hmac_algorithm_than_the_pinned_one_is_rejected(codec: TokenCodec) -> None:
    assert_rejected(codec, jwt.encode(claims(), TEST_SECRET, algorithm="HS512"))


def test_a_tampered_signature_is_rejected(codec: TokenCodec) -> None:
    header, _, signature = issue(codec).split(".")
    forged = b64(json.dumps(claims(sub=str(uuid.uuid4()))).encode())

    assert_rejected(codec, f"{header}.{forged}.{signature}")
    assert_rejected(codec, jwt.encode(claims(), "another-secret-of-at-least-32-bytes!!"))


def test_an_expired_token_is_rejected_with_its_own_code(codec: TokenCodec) -> None:
    assert_rejected(codec, issue(codec, now=NOW - timedelta(hours=1)), code="token_expired")


def test_a_remembered_token_still_expires_and_keeps_its_type(settings: Settings) -> None:
    clock = [NOW.timestamp()]
    codec = TokenCodec(settings, clock=lambda: clock[0])
    token = issue(codec)
    first = codec.verify(token, TokenType.ACCESS)

    assert codec.verify(token, TokenType.ACCESS) is first  # remembered, not decoded again
    with pytest.raises(NotAuthenticated):
        codec.verify(token, TokenType.REFRESH)
    clock[0] = (NOW + codec.ttl[TokenType.ACCESS]).timestamp()
    assert_rejected(codec, token, code="token_expired")


def test_the_memory_of_verified_tokens_is_bounded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REMEMBERED_TOKENS", 2)
    codec = TokenCodec(settings)
    first, second, third = (issue(codec) for _ in range(3))
    for token in (first, second):
        codec.verify(token, TokenType.ACCESS)
    remembered = codec.verify(first, TokenType.ACCESS)

    codec.verify(third, TokenType.ACCESS)  # over the bound: the memory starts afresh

    assert codec.verify(first, TokenType.ACCESS) == remembered
    assert codec.verify(first, TokenType.ACCESS) is not remembered


def test_a_token_not_yet_valid_is_rejected(codec: TokenCodec) -> None:
    later = int((NOW + timedelta(minutes=5)).timestamp())

    assert_rejected(codec, jwt.encode(claims(nbf=later), TEST_SECRET))


@pytest.mark.parametrize(
    "override",
    [{"iss": "someone-else"}, {"aud": "another-api"}, {"type": "id"}],
    ids=["wrong-iss", "wrong-aud", "unknown-type"],
)
def test_wrong_issuer_audience_or_type_is_rejected(
    codec: TokenCodec, override: dict[str, str]
) -> None:
    assert_rejected(codec, jwt.encode(claims(**override), TEST_SECRET))


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_a_missing_claim_is_rejected(codec: TokenCodec, claim: str) -> None:
    token = jwt.encode(claims(**{claim: None}), TEST_SECRET)

    assert_rejected(codec, token)


def test_a_far_future_expiry_verifies_without_overflowing(codec: TokenCodec) -> None:
    token = jwt.encode(claims(exp=10**20), TEST_SECRET)

    assert codec.verify(token, TokenType.ACCESS).type is TokenType.ACCESS


def test_a_malformed_subject_is_rejected(codec: TokenCodec) -> None:
    assert_rejected(codec, jwt.encode(claims(sub="admin@example.com"), TEST_SECRET))


def test_refresh_and_access_tokens_are_not_interchangeable(codec: TokenCodec) -> None:
    refresh = issue(codec, TokenType.REFRESH)

    assert_rejected(codec, refresh)
    with pytest.raises(NotAuthenticated, match="Expected a token of type 'refresh'"):
        codec.verify(issue(codec), TokenType.REFRESH)


def test_a_token_from_another_key_is_rejected(settings: Settings, codec: TokenCodec) -> None:
    other = TokenCodec(
        settings.model_copy(update={"secret_key": SecretStr("a-different-secret-of-enough-bytes")})
    )

    assert_rejected(codec, issue(other))


@pytest.mark.parametrize(
    "value",
    ["9999999999", "1", True, None, [9999999999], {"at": 9999999999}],
    ids=["string", "string-in-the-past", "bool", "null", "list", "object"],
)
@pytest.mark.parametrize("claim", NUMERIC_DATE_CLAIMS)
def test_a_time_claim_that_is_not_a_json_number_is_invalid(
    codec: TokenCodec, claim: str, value: object
) -> None:
    assert_rejected(codec, jwt.encode(claims() | {claim: value}, TEST_SECRET))


def test_a_fractional_numeric_date_is_a_number_too(codec: TokenCodec) -> None:
    token = jwt.encode(claims(exp=NOW.timestamp() + 60.5), TEST_SECRET)

    assert codec.verify(token, TokenType.ACCESS).type is TokenType.ACCESS


async def test_a_string_expiry_on_a_live_session_is_a_401(user: Account) -> None:
    forged = claims(sub=str(user.id), sid=str(user.session_id), exp="9999999999")
    headers = {"Authorization": f"Bearer {jwt.encode(forged, TEST_SECRET)}"}

    response = await user.client.get(ME_URL, headers=headers)

    assert_problem(response, 401, "invalid_token")
