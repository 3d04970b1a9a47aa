"""Bearer-token validation: JWT + JWKS -> :class:`Principal`."""
