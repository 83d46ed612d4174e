"""Settings refuse unsafe secrets outside development and test."""

import pytest
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.package_name }}.settings import Settings, get_settings
from tests.conftest import TEST_SECRET, http_client, own_app
from tests.problem_assertions import assert_problem


@pytest.mark.parametrize("secret", ["change-me", "CHANGEME", "short-but-random-x9"])
def test_production_refuses_a_placeholder_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be a random value"):
        Settings(_env_file=None, environment="production", secret_key=SecretStr(secret))


@pytest.mark.parametrize("token", ["change-me", "short-but-random-x9"])
def test_production_refuses_a_placeholder_or_short_metrics_token(token: str) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be a random value"):
        Settings(
            _env_file=None,
            environment="production",
            secret_key=SecretStr(TEST_SECRET),
            metrics_token=SecretStr(token),
        )


def test_production_accepts_a_long_random_secret() -> None:
    settings = Settings(_env_file=None, environment="production", secret_key=SecretStr(TEST_SECRET))

    assert settings.show_docs is False


def test_development_replaces_the_placeholder_with_a_random_key() -> None:
    first, second = Settings(_env_file=None), Settings(_env_file=None, secret_key=SecretStr(""))

    assert first.environment == "development"
    assert first.secret_key.get_secret_value() != "change-me"
    assert len(first.secret_key.get_secret_value()) >= 43
    assert first.secret_key != second.secret_key


def test_a_real_development_key_is_kept() -> None:
    settings = Settings(_env_file=None, secret_key=SecretStr(TEST_SECRET))

    assert settings.secret_key.get_secret_value() == TEST_SECRET


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "11")
    monkeypatch.setenv("DOCS_ENABLED", "false")
    get_settings.cache_clear()

    settings = get_settings()

    assert settings.database_pool_size == 11
    assert settings.show_docs is False
    get_settings.cache_clear()


async def test_docs_are_off_in_production(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production"})
    async with own_app(production) as app, http_client(app) as client:
        docs = await client.get("/docs")
        schema = await client.get("/openapi.json")

    assert (docs.status_code, schema.status_code) == (404, 404)


async def test_cors_is_explicit_and_off_by_default(settings: Settings) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    allowed = settings.model_copy(update={"cors_allow_origins": ["https://app.example.com"]})

    for current, expected in ((settings, None), (allowed, "https://app.example.com")):
        async with own_app(current) as app, http_client(app) as client:
            response = await client.options("/api/v1/items", headers=preflight)
        assert response.headers.get("access-control-allow-origin") == expected


def test_credentials_for_any_origin_are_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="CORS_ALLOW_CREDENTIALS=true cannot be combined"):
        Settings(_env_file=None, cors_allow_origins=["*"], cors_allow_credentials=True)


def test_a_malformed_rate_limit_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="'ten a minute' is not a rate limit"):
        Settings(_env_file=None, rate_limit_login="ten a minute")


async def test_a_refused_cors_preflight_is_a_problem(settings: Settings) -> None:
    allowed = settings.model_copy(update={"cors_allow_origins": ["https://app.example.com"]})
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}

    async with own_app(allowed) as app, http_client(app) as client:
        response = await client.options("/api/v1/items", headers=preflight)

    assert_problem(response, 400, "cors_refused")
    assert "access-control-allow-origin" not in response.headers
