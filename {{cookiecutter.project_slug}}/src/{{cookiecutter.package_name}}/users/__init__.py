"""User accounts: self-service profile and administration."""
