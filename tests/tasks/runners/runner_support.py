"""Shared helpers for the runner tests: contexts, progress checks, cancel and resume."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from ultimate_agent.errors import InvalidRequest
from ultimate_agent.tasks.context import TaskCancelled, TaskContext, TaskInterrupted, TaskOutcome
from ultimate_agent.tasks.registry import TaskType

Hook = Callable[[TaskContext, dict[str, Any] | None], None]


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Run torch on one thread (tiny models are fastest so; the task manager sets threads in production)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def make_ctx(task_type: TaskType, tmp_path: Path, cfg: dict[str, Any], seen: list,
             hook: Hook | None = None, task_id: str = "t-test") -> TaskContext:
    """A context that records progress and optionally calls `hook(ctx, details)` on each report."""
    def on_progress(percent: float, details: dict[str, Any] | None) -> None:
        seen.append((percent, details))
        if hook is not None:
            hook(ctx, details)

    ctx = TaskContext(task_id=task_id, task_type=task_type.name, config=cfg, instance_path=tmp_path,
                      on_progress=on_progress)
    return ctx


def run_task(task_type: TaskType, tmp_path: Path, config: dict[str, Any], hook: Hook | None = None,
             task_id: str = "t-test") -> tuple[TaskOutcome, list]:
    """Validate `config` and run the task; returns the outcome and the progress reports."""
    cfg = task_type.validate(config)
    seen: list = []
    ctx = make_ctx(task_type, tmp_path, cfg, seen, hook, task_id)
    try:
        return task_type.run(ctx, cfg), seen
    finally:
        ctx.flush_checkpoint()  # as the task manager does when a task ends or is interrupted


def assert_progress_complete(seen: list) -> None:
    """Progress never goes backwards, ends at 100 and carries JSON-able details."""
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)
    assert percents[-1] == 100.0
    assert all(isinstance(d, dict) for _, d in seen)


def assert_invalid(task_type: TaskType, config: dict[str, Any], field: str) -> None:
    """Validation rejects `config`, naming `field`."""
    with pytest.raises(InvalidRequest) as info:
        task_type.validate(config)
    assert info.value.details["field"] == field


def assert_cancels(task_type: TaskType, tmp_path: Path, config: dict[str, Any]) -> None:
    """Cancelling at the first progress report stops the run with TaskCancelled."""
    def cancel(ctx: TaskContext, details: dict[str, Any] | None) -> None:
        ctx.control.cancel()

    with pytest.raises(TaskCancelled):
        run_task(task_type, tmp_path, config, cancel)


def interrupt_then_resume(task_type: TaskType, tmp_path: Path, config: dict[str, Any],
                          after_epoch: int = 2) -> tuple[TaskOutcome, list]:
    """Interrupt after `after_epoch` epochs, then rerun the same task id to completion."""
    def interrupt(ctx: TaskContext, details: dict[str, Any] | None) -> None:
        if details and details.get("epoch") == after_epoch and "batch" not in details:
            ctx.control.interrupt()

    with pytest.raises(TaskInterrupted):
        run_task(task_type, tmp_path, config, interrupt)
    return run_task(task_type, tmp_path, config)
