"""Authentication (JWT access and refresh tokens, sessions) and role-based permissions."""
