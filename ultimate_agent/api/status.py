"""Status API: agent status, capabilities, system, health and performance."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..monitoring import status
from ..schemas.status import (
    ActivitySchema,
    CapabilitiesSchema,
    EnhancedStatsSchema,
    HealthSchema,
    NetworkSchema,
    PerformanceMetricsSchema,
    StatsSchema,
    SystemSchema,
)
from ..security import public
from .routing import api_route

blp = Blueprint("status", __name__, description="Agent status and monitoring")


@api_route(blp, "/stats")
@blp.response(200, StatsSchema)
def get_stats() -> dict[str, Any]:
    """Basic agent status."""
    return status.stats()


@api_route(blp, "/v3/stats/enhanced")
@blp.response(200, EnhancedStatsSchema)
def get_enhanced_stats() -> dict[str, Any]:
    """Agent status with AI, blockchain and dashboard state."""
    return status.enhanced_stats()


@api_route(blp, "/system")
@blp.response(200, SystemSchema)
def get_system() -> dict[str, Any]:
    """Machine load and platform."""
    return status.system_info()


@api_route(blp, "/capabilities")
@blp.response(200, CapabilitiesSchema)
def get_capabilities() -> dict[str, Any]:
    """What this agent offers."""
    return status.capabilities()


@api_route(blp, "/activity")
@blp.response(200, ActivitySchema)
def get_activity() -> dict[str, Any]:
    """How busy the agent is."""
    return status.activity()


@api_route(blp, "/network")
@blp.response(200, NetworkSchema)
def get_network() -> dict[str, Any]:
    """Registration with the network node."""
    return status.network_state()


@api_route(blp, "/health")
@blp.response(200, HealthSchema)
@public
def get_health() -> dict[str, Any]:
    """Health score, components and alerts (no authentication needed)."""
    return status.health_report()


@api_route(blp, "/performance/metrics")
@blp.response(200, PerformanceMetricsSchema)
def get_performance_metrics() -> dict[str, Any]:
    """System, process and GPU load with the health score."""
    return status.performance_metrics()
