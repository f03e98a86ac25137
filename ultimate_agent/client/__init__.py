"""Python SDK of the agent: `UltimateAgentClient`, its typed errors and live events.

Importing it loads requests and python-socketio only: no Flask app, torch or web3.
"""

from .agent_client import UltimateAgentClient
from .credentials import resolve_api_key
from .errors import (
    AgentError,
    CommandFailed,
    Conflict,
    ConnectionFailed,
    Forbidden,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    ModelNotFound,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TaskNotFound,
    TaskWaitTimeout,
    Unauthorized,
)
from .events import FINAL_STATES, EventStream
from .http import RetryPolicy

__all__ = [
    "FINAL_STATES", "AgentError", "CommandFailed", "Conflict", "ConnectionFailed", "EventStream", "Forbidden",
    "InternalError", "InvalidRequest", "MethodNotAllowed", "ModelNotFound", "NotFound", "PayloadTooLarge",
    "RateLimited", "RetryPolicy", "ServiceUnavailable", "TaskNotFound", "TaskWaitTimeout", "Unauthorized",
    "UltimateAgentClient", "resolve_api_key",
]
