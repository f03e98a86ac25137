"""Ultimate Agent: a compute-node agent for a decentralised AI network."""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402

__all__ = ["create_app", "__version__"]
