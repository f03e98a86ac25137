"""Authentication, permissions and request guards."""

from .auth import Principal, current_principal, public, requires

__all__ = ["Principal", "current_principal", "public", "requires"]
