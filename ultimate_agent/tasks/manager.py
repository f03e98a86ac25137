"""TaskManager: a priority queue in front of a thread pool that runs task runners for real."""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from ..errors import APIError, Conflict, ServiceUnavailable, TaskNotFound
from ..extensions import db
from ..models import ACTIVE_STATES, FINISHED_STATES, AITrainingSession, TaskRecord
from ..models.base import utcnow
from ..realtime.bus import AGENT_ROOM, emit_event, task_room
from .context import TaskCancelled, TaskContext, TaskControl, TaskInterrupted, TaskOutcome
from .estimates import estimate_duration
from .hooks import TaskHooks
from .progress import ProgressReporter
from .registry import TaskType, TaskTypeRegistry

log = logging.getLogger(__name__)
CANCEL_WAIT_SECONDS = 2.0
# Pool size: threads start only as tasks need them, so concurrency can be raised live up to this.
MAX_WORKER_THREADS = 64


def new_task_id() -> str:
    """A task id in the seed's shape: task-<unix time>-<random>."""
    return f"task-{int(time.time())}-{secrets.token_hex(3)}"


def describe_failure(exc: Exception) -> str:
    """The error text stored on a failed task; a domain error keeps the field it is about."""
    if isinstance(exc, APIError) and exc.details.get("field"):
        return f"{exc.message}: {exc.details['field']}: {exc.details.get('message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


class _Running:
    """Book-keeping for one task on a worker thread."""

    def __init__(self, control: TaskControl) -> None:
        self.control = control
        self.reporter: ProgressReporter | None = None
        self.training = False
        self.done = threading.Event()


class TaskManager:
    """Schedules tasks by priority (higher first, FIFO within one) onto `max_concurrent` worker threads."""

    def __init__(self, app: Flask, registry: TaskTypeRegistry) -> None:
        self.app = app
        self.registry = registry
        self.max_concurrent = int(app.config["MAX_CONCURRENT_TASKS"])
        self._lock = threading.RLock()
        self._heap: list[tuple[int, int, str]] = []
        self._seq = itertools.count()
        self._queued: dict[str, int] = {}  # task_id -> sequence number of its live heap entry
        self._held: dict[str, int] = {}  # paused before they started: task_id -> priority
        self._running: dict[str, _Running] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._accepting = False
        # Remote management narrows these: cores the tasks may use (a CPU limit) and a calibrated
        # torch thread count (else the cores split over the worker slots).
        self.cpu_cores = os.cpu_count() or 1
        self.torch_threads: int | None = None
        # Each returns why new tasks must wait (a memory limit), or None.
        self.admission_checks: list[Callable[[], str | None]] = []
        # The model registry, the chain service and the network client hook into a task's end here.
        self.hooks = TaskHooks()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start accepting work and re-queue what the last process left unfinished."""
        with self._lock:
            if self._executor is not None:
                return
            self._executor = ThreadPoolExecutor(MAX_WORKER_THREADS, thread_name_prefix="task-worker")
            self._accepting = True
        with self.app.app_context():
            self._recover()

    def shutdown(self, wait: bool = True, timeout: float = 30.0) -> None:
        """Stop taking work; running tasks checkpoint and become `interrupted` (resumed at next start)."""
        with self._lock:
            self._accepting = False
            running = list(self._running.values())
            executor, self._executor = self._executor, None
            self._heap.clear()
            self._queued.clear()
            self._held.clear()
        for entry in running:
            entry.control.interrupt()
        if wait:
            deadline = time.monotonic() + timeout
            for entry in running:
                entry.done.wait(max(0.0, deadline - time.monotonic()))
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    @property
    def accepting(self) -> bool:
        """Whether new tasks are taken."""
        return self._accepting

    def _recover(self) -> None:
        """Tasks pending or running when the previous process died are interrupted and re-queued."""
        leftovers = db.session.scalars(
            db.select(TaskRecord).where(TaskRecord.status.in_((*ACTIVE_STATES, "interrupted")))
            .order_by(TaskRecord.priority.desc(), TaskRecord.created_at)
        ).all()
        for record in leftovers:
            if record.task_type not in self.registry:
                record.status, record.error, record.success = "failed", "Task type no longer available", False
                record.end_time = utcnow()
                continue
            was_paused = record.status == "paused"
            record.restarts = (record.restarts or 0) + 1
            record.status = "paused" if was_paused else "queued"
            log.info("Re-queueing task %s (%s) left unfinished by the previous run", record.task_id,
                     record.task_type)
            with self._lock:
                if was_paused:
                    self._held[record.task_id] = record.priority
                else:
                    self._push(record.task_id, record.priority)
        db.session.commit()
        with self._lock:
            self._dispatch()

    # -- queue ------------------------------------------------------------------------------------

    def _push(self, task_id: str, priority: int) -> None:
        seq = next(self._seq)
        self._queued[task_id] = seq
        heapq.heappush(self._heap, (-priority, seq, task_id))

    def _dispatch(self) -> None:
        """Start queued tasks while worker slots are free (call with the lock held)."""
        while self._executor is not None and len(self._running) < self.max_concurrent and self._heap:
            _, seq, task_id = heapq.heappop(self._heap)
            if self._queued.get(task_id) != seq:
                continue  # stale entry: re-prioritised, paused or cancelled since it was pushed
            del self._queued[task_id]
            entry = _Running(TaskControl())
            self._running[task_id] = entry
            self._executor.submit(self._execute, task_id, entry)

    # -- public operations -----------------------------------------------------------------------

    def submit(self, task_type: str, config: dict[str, Any] | None = None, priority: int = 5,
               node_task_id: str | None = None) -> dict[str, Any]:
        """Validate and queue a task; it starts at once when a worker slot is free."""
        ttype = self.registry.get(task_type)
        validated = ttype.validate(config)
        if not self._accepting:
            raise ServiceUnavailable("The agent is not accepting tasks", {"reason": "shutting down or stopped"})
        for check in self.admission_checks:
            reason = check()
            if reason:
                raise ServiceUnavailable("The agent is not accepting tasks", {"reason": reason})
        record = TaskRecord(
            id=f"rec-{uuid.uuid4().hex[:12]}", task_id=new_task_id(), task_type=ttype.name, status="queued",
            priority=priority, config=validated, ai_workload=ttype.ai_workload,
            estimated_duration=estimate_duration(ttype, validated), node_task_id=node_task_id,
        )
        db.session.add(record)
        db.session.commit()
        with self._lock:
            self._push(record.task_id, priority)
            self._dispatch()
            started = record.task_id in self._running
        return {
            "task_id": record.task_id,
            "task_type": record.task_type,
            "status": "started" if started else "queued",
            "estimated_duration": record.estimated_duration,
            "priority": priority,
        }

    def _record(self, task_id: str) -> TaskRecord:
        record = db.session.scalar(db.select(TaskRecord).where(TaskRecord.task_id == task_id))
        if record is None:
            raise TaskNotFound(details={"task_id": task_id})
        return record

    def _end_pending(self, record: TaskRecord, status: str) -> None:
        record.status, record.end_time = status, utcnow()
        db.session.commit()
        self.hooks.run_end(record)
        emit_event(self.app, "task_progress", {"task_id": record.task_id, "progress": record.progress,
                                               "status": status, "details": record.details},
                   rooms=(AGENT_ROOM, task_room(record.task_id)))

    def cancel(self, task_id: str) -> dict[str, Any]:
        """Cancel a queued, paused or running task; 409 when it already ended."""
        record = self._record(task_id)
        if record.status in FINISHED_STATES:
            raise Conflict("Task has already finished", {"task_id": task_id, "status": record.status})
        with self._lock:
            entry = self._running.get(task_id)
            pending = self._queued.pop(task_id, None) is not None or self._held.pop(task_id, None) is not None
        if entry is None:
            if pending or record.status in (*ACTIVE_STATES, "interrupted"):
                record.success = False
                self._end_pending(record, "cancelled")
            return {"task_id": task_id, "status": "cancelled"}
        entry.control.cancel()
        entry.done.wait(CANCEL_WAIT_SECONDS)
        db.session.refresh(record)
        return {"task_id": task_id, "status": record.status if entry.done.is_set() else "cancelling"}

    def pause(self, task_id: str) -> dict[str, Any]:
        """Pause a task: a running one blocks at its next check(), a queued one is held back."""
        record = self._record(task_id)
        if record.status in FINISHED_STATES:
            raise Conflict("Task has already finished", {"task_id": task_id, "status": record.status})
        with self._lock:
            entry = self._running.get(task_id)
            if entry is None and self._queued.pop(task_id, None) is not None:
                self._held[task_id] = record.priority
        if entry is not None:
            entry.control.pause()
            if entry.reporter is not None:
                entry.reporter.state("paused")
        else:
            record.status = "paused"
            db.session.commit()
        return {"task_id": task_id, "status": "paused"}

    def resume(self, task_id: str) -> dict[str, Any]:
        """Resume a paused task."""
        record = self._record(task_id)
        if record.status != "paused":
            raise Conflict("Task is not paused", {"task_id": task_id, "status": record.status})
        with self._lock:
            entry = self._running.get(task_id)
            held_priority = self._held.pop(task_id, None)
        if entry is not None:
            entry.control.resume()
            if entry.reporter is not None:
                entry.reporter.state("running")
            return {"task_id": task_id, "status": "running"}
        record.status = "queued"
        db.session.commit()
        with self._lock:
            self._push(task_id, held_priority if held_priority is not None else record.priority)
            self._dispatch()
            status = "running" if task_id in self._running else "queued"
        return {"task_id": task_id, "status": status}

    def set_priority(self, task_id: str, priority: int) -> dict[str, Any]:
        """Change a task's priority; a queued task moves in the queue at once."""
        record = self._record(task_id)
        if record.status in FINISHED_STATES:
            raise Conflict("Task has already finished", {"task_id": task_id, "status": record.status})
        record.priority = priority
        db.session.commit()
        with self._lock:
            if task_id in self._queued:
                self._push(task_id, priority)
            elif task_id in self._held:
                self._held[task_id] = priority
        return {"task_id": task_id, "priority": priority, "status": record.status}

    def get(self, task_id: str) -> TaskRecord:
        """The record of one task."""
        return self._record(task_id)

    def detail(self, task_id: str) -> dict[str, Any]:
        """A task's record with its per-epoch training history (empty for tasks that do not train)."""
        record = self._record(task_id)
        session = db.session.scalar(
            db.select(AITrainingSession).where(AITrainingSession.task_id == task_id)
            .order_by(AITrainingSession.id.desc()).limit(1)
        )
        columns = {column.key: getattr(record, column.key) for column in TaskRecord.__table__.columns}
        return {**columns, "history": (session.history or []) if session is not None else []}

    def current(self) -> list[TaskRecord]:
        """Tasks that are queued, running or paused, highest priority first."""
        return db.session.scalars(
            db.select(TaskRecord).where(TaskRecord.status.in_(ACTIVE_STATES))
            .order_by(TaskRecord.priority.desc(), TaskRecord.created_at)
        ).all()

    def scheduler_status(self) -> dict[str, Any]:
        """Live figures of the scheduler."""
        with self._lock:
            return {
                "current_tasks": len(self._running),
                "queued_tasks": len(self._queued) + len(self._held),
                "max_concurrent_tasks": self.max_concurrent,
                "scheduler_running": self._executor is not None and self._accepting,
            }

    def set_concurrency(self, max_concurrent: int) -> None:
        """Change how many tasks run at once: extra running ones finish, freed slots fill at once."""
        with self._lock:
            self.max_concurrent = max(1, min(int(max_concurrent), MAX_WORKER_THREADS))
            self._dispatch()

    def running_task_ids(self) -> list[str]:
        """Tasks on a worker thread now (paused ones included)."""
        with self._lock:
            return list(self._running)

    def active_training_count(self) -> int:
        """Running tasks that train a model."""
        with self._lock:
            return sum(1 for entry in self._running.values() if entry.training)

    def task_types(self) -> list[str]:
        """Names of the task types this agent runs."""
        return self.registry.names()

    def wait(self, task_id: str, timeout: float | None = None) -> bool:
        """Block until a running task ends (True) or the timeout passes (False); for tests and tools."""
        with self._lock:
            entry = self._running.get(task_id)
        return True if entry is None else entry.done.wait(timeout)

    # -- worker -----------------------------------------------------------------------------------

    @property
    def threads_per_task(self) -> int:
        """Torch threads each worker gets: the cores split over the worker slots.

        A fixed split, not one recomputed from how many tasks run now: every worker thread keeps its own
        OpenMP pool, and pools that together hold more threads than there are cores slow every task
        down (measured here: an MLP run took 3x as long once a second worker thread had used 2 threads).
        """
        if self.torch_threads is not None:
            return self.torch_threads
        return max(1, self.cpu_cores // self.max_concurrent)

    def _execute(self, task_id: str, entry: _Running) -> None:
        """Run one task on a worker thread, inside an app context, and record how it ended."""
        with self.app.app_context():
            try:
                self._run_task(task_id, entry)
            except Exception:
                log.exception("Task %s could not be run", task_id)
            finally:
                db.session.remove()
                with self._lock:
                    self._running.pop(task_id, None)
                    entry.done.set()
                    self._dispatch()

    def _run_task(self, task_id: str, entry: _Running) -> None:
        import torch  # here, not at import: the API imports this module, maintenance commands skip torch

        from ..ai.networks import preferred_device

        record = self._record(task_id)
        if record.status not in ("queued", "interrupted"):
            return  # cancelled or paused between dispatch and start
        ttype = self.registry.get(record.task_type)
        threads = self.threads_per_task
        torch.set_num_threads(threads)
        record.status = "running"
        record.start_time = record.start_time or utcnow()
        record.error = None
        db.session.commit()
        training = None
        if ttype.training:
            entry.training = True
            training = AITrainingSession(task_id=task_id, model_type=ttype.name, status="running")
            db.session.add(training)
            db.session.commit()
        reporter = ProgressReporter(self.app, task_id, status="running", progress=record.progress or 0.0)
        entry.reporter = reporter
        # A resumed task's progress continues from where it was.
        ctx = TaskContext(task_id, ttype.name, dict(record.config), self.app.instance_path, entry.control,
                          on_progress=reporter.progress, on_state=reporter.state,
                          device=preferred_device(self.app.config["GPU_ENABLED"]), num_threads=threads,
                          start_progress=reporter.percent)
        reporter.state("running")
        started = time.monotonic()
        try:
            outcome = ttype.run(ctx, dict(record.config))
        except TaskCancelled:
            self._finish(record, ttype, reporter, ctx, started, "cancelled", training=training)
        except TaskInterrupted:
            self._finish(record, ttype, reporter, ctx, started, "interrupted", training=training)
        except Exception as exc:
            log.exception("Task %s (%s) failed", task_id, ttype.name)
            self._finish(record, ttype, reporter, ctx, started, "failed", error=describe_failure(exc),
                         training=training)
        else:
            self._finish(record, ttype, reporter, ctx, started, "completed", outcome=outcome, training=training)

    def _finish(self, record: TaskRecord, ttype: TaskType, reporter: ProgressReporter, ctx: TaskContext,
                started: float, status: str, outcome: TaskOutcome | None = None, error: str | None = None,
                training: AITrainingSession | None = None) -> None:
        """Write the final state, close the training session and announce the end."""
        reporter.flush()
        db.session.refresh(record)
        active = time.monotonic() - started - ctx.paused_seconds
        record.duration = round((record.duration or 0.0) + active, 3)
        record.status = status
        if status == "interrupted":
            ctx.flush_checkpoint()  # keep the checkpoint, on disk: the next start resumes from it
            db.session.commit()
            if training is not None:
                training.status = "interrupted"
                db.session.commit()
            return
        record.end_time = utcnow()
        record.success = status == "completed"
        record.error = error
        if outcome is not None:
            record.result = outcome.result
            record.ai_result = outcome.ai_result
            record.progress = 100.0
            reporter.percent = 100.0
        if training is not None:
            self._close_training(training, status, outcome)
        db.session.commit()
        ctx.clear_checkpoint()
        if record.success:
            self.hooks.run_completion(record)
        reward = self.hooks.book_reward(record) if record.success else 0.0
        reporter.state(status)
        emit_event(self.app, "task_completed", {
            "task_id": record.task_id,
            "task_type": record.task_type,
            "success": bool(record.success),
            "status": status,
            "result": record.result if record.success else None,
            "error": record.error,
            "duration": record.duration,
            "reward": reward,
        }, rooms=(AGENT_ROOM, task_room(record.task_id)))
        self.hooks.run_end(record)

    @staticmethod
    def _close_training(training: AITrainingSession, status: str, outcome: TaskOutcome | None) -> None:
        training.status = status
        training.finished_at = utcnow()
        if outcome is not None:
            ai = outcome.ai_result or {}
            training.history = outcome.history
            training.epochs = int(ai.get("epochs") or len(outcome.history))
            training.final_loss = ai.get("final_loss")
            training.accuracy = ai.get("accuracy")


def task_manager() -> TaskManager:
    """The running app's task manager; 503 when the agent runs without one."""
    from flask import current_app

    manager = current_app.extensions.get("task_manager")
    if manager is None:
        raise ServiceUnavailable("The task engine is not running")
    return manager
