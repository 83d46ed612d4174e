"""These tests act as a logged-in plain user."""

import pytest
from httpx import AsyncClient

from tests.conftest import Account


@pytest.fixture
def client(user: Account) -> AsyncClient:
    """The plain user's client, sending their access token."""
    return user.client
