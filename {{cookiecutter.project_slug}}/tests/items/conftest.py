"""These tests act as a logged-in plain user."""

from tests.conftest import client_acting_as_user

client = client_acting_as_user()
