"""Schemas for agent status, system, health and performance."""

from __future__ import annotations

from marshmallow import Schema, fields


class StatsSchema(Schema):
    """GET /api/stats."""

    agent_id = fields.String()
    running = fields.Boolean()
    registered = fields.Boolean()
    current_tasks = fields.Integer()
    tasks_completed = fields.Integer()
    tasks_failed = fields.Integer()
    total_earnings = fields.Float()
    uptime_hours = fields.Float()
    ai_models_loaded = fields.Integer()
    modular_architecture = fields.Boolean()


class _TaskStatsSchema(Schema):
    tasks_completed = fields.Integer()
    tasks_failed = fields.Integer()
    total_earnings = fields.Float()
    start_time = fields.Integer()


class _AIStatusSchema(Schema):
    models_loaded = fields.Integer()
    gpu_available = fields.Boolean()
    training_engine_active = fields.Boolean()
    active_training_sessions = fields.Integer()


class _ChainStatusSchema(Schema):
    wallet_initialized = fields.Boolean()
    smart_contracts_enabled = fields.Boolean()
    connected_networks = fields.Integer()
    transaction_pool_size = fields.Integer()


class EnhancedStatsSchema(Schema):
    """GET /api/v3/stats/enhanced."""

    agent_id = fields.String()
    running = fields.Boolean()
    registered = fields.Boolean()
    current_tasks = fields.Integer()
    stats = fields.Nested(_TaskStatsSchema)
    ai_status = fields.Nested(_AIStatusSchema)
    blockchain_status = fields.Nested(_ChainStatusSchema)
    modular_architecture = fields.Boolean()
    advanced_features = fields.Boolean()
    dashboard_connected = fields.Boolean()


class SystemSchema(Schema):
    """GET /api/system."""

    cpu_percent = fields.Float()
    memory_percent = fields.Float()
    memory_mb = fields.Float(metadata={"description": "System memory in use, MB"})
    memory_total_mb = fields.Float()
    process_memory_mb = fields.Float(metadata={"description": "Resident memory of the agent process, MB"})
    cpu_count = fields.Integer()
    status = fields.String()
    platform = fields.String()
    python_version = fields.String()
    architecture = fields.String()


class CapabilitiesSchema(Schema):
    """GET /api/capabilities."""

    agent_id = fields.String()
    name = fields.String()
    host = fields.String()
    version = fields.String()
    agent_type = fields.String()
    capabilities = fields.List(fields.String())
    ai_models = fields.List(fields.String())
    gpu_available = fields.Boolean()
    blockchain_enabled = fields.Boolean()
    enhanced_features = fields.Boolean()
    task_types = fields.List(fields.String())
    dashboard_enabled = fields.Boolean()
    websocket_enabled = fields.Boolean()
    api_version = fields.String()
    modular_architecture = fields.Boolean()


class ActivitySchema(Schema):
    """GET /api/activity."""

    tasks_running = fields.Integer()
    tasks_queued = fields.Integer()
    tasks_completed = fields.Integer()
    tasks_failed = fields.Integer()
    activity_level = fields.String(metadata={"description": "idle, low, medium or high"})
    uptime_hours = fields.Float()


class NetworkSchema(Schema):
    """GET /api/network."""

    node_url = fields.String()
    registered = fields.Boolean()
    network_status = fields.String(metadata={"description": "connected, connecting, disconnected or standalone"})
    agent_id = fields.String()
    node_id = fields.String(allow_none=True)
    connection_quality = fields.String(metadata={
        "description": "excellent, good, fair or poor from the median round trip and failure rate of the "
                       "last 20 exchanges; unknown before any, none when standalone"})
    last_heartbeat = fields.String(allow_none=True, metadata={"description": "Last heartbeat the node accepted"})
    node_version = fields.String(allow_none=True)
    api_version = fields.String(allow_none=True, metadata={"description": "Node API in use: v4, v3 or legacy"})
    round_trip_ms = fields.Float(allow_none=True, metadata={"description": "Median round trip to the node"})
    failure_rate = fields.Float(allow_none=True)
    heartbeat_interval = fields.Float(allow_none=True)
    assignments_connected = fields.Boolean(metadata={"description": "In the node's Socket.IO agent room"})
    last_error = fields.String(allow_none=True)


class AlertSchema(Schema):
    """One active alert."""

    type = fields.String()
    severity = fields.String()
    message = fields.String()
    value = fields.Float()
    threshold = fields.Float()


class HealthSchema(Schema):
    """GET /api/health."""

    status = fields.String(metadata={"description": "healthy, degraded or critical"})
    health_score = fields.Float()
    components = fields.Dict(keys=fields.String(), values=fields.Float())
    alerts = fields.List(fields.Nested(AlertSchema))
    uptime_seconds = fields.Integer()
    last_updated = fields.String()


class _NetworkIOSchema(Schema):
    bytes_sent = fields.Integer()
    bytes_recv = fields.Integer()


class _ProcessSchema(Schema):
    cpu_percent = fields.Float()
    memory_mb = fields.Float()
    threads = fields.Integer()
    open_files = fields.Integer()


class _GpuSchema(Schema):
    available = fields.Boolean()
    name = fields.String(allow_none=True)
    count = fields.Integer()
    memory_used_mb = fields.Integer()
    memory_total_mb = fields.Integer()
    temperature = fields.Integer(allow_none=True)


class PerformanceMetricsSchema(Schema):
    """GET /api/performance/metrics."""

    timestamp = fields.String()
    cpu_percent = fields.Float()
    memory_percent = fields.Float()
    gpu_percent = fields.Float()
    disk_usage_percent = fields.Float()
    network_io = fields.Nested(_NetworkIOSchema)
    process = fields.Nested(_ProcessSchema)
    gpu = fields.Nested(_GpuSchema)
    tasks_running = fields.Integer()
    health_score = fields.Float()
