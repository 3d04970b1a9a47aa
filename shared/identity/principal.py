"""The verified caller."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """Who is calling, from verified claims only."""

    issuer_name: str
    issuer: str
    subject: str
    tenant_id: str | None = None
    object_id: str | None = None
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    username: str | None = None
    email: str | None = None
    expires_at: int | None = None
    groups_omitted: bool = False  # the IdP left the groups out (Entra group overage): none could be matched
    extra: dict = field(
        default_factory=dict, compare=False, hash=False
    )  # verified claims other modules may map (e.g. VAST uid)

    @property
    def key(self) -> str:
        """Stable identity for caches and ledgers: issuer and subject together."""
        return f"{self.issuer}|{self.subject}"

    def placeholder_values(self) -> dict[str, str]:
        values = {
            "sub": self.subject,
            "oid": self.object_id,
            "tid": self.tenant_id,
            "preferred_username": self.username,
            "email": self.email,
        }
        return {k: v for k, v in values.items() if isinstance(v, str) and v}

    def audit_fields(self) -> dict:
        return {
            "issuer": self.issuer,
            "subject": self.subject,
            "tenant_id": self.tenant_id,
            "object_id": self.object_id,
        }
