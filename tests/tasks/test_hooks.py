"""Task hooks: a failing hook is logged and skipped; a served model and a booked reward land on the record."""

from __future__ import annotations

from ultimate_agent.extensions import db
from ultimate_agent.models import TaskRecord
from ultimate_agent.tasks.hooks import TaskHooks


def add_record(app) -> TaskRecord:
    with app.app_context():
        record = TaskRecord(id="rec-hooks", task_id="task-hooks", task_type="data_processing", status="completed",
                            result={"rows": 3})
        db.session.add(record)
        db.session.commit()
    return record


def fail(*_args):
    raise RuntimeError("hook bug")


def test_the_first_reward_a_hook_grants_is_booked_on_the_record_after_a_failing_hook(app, caplog):
    add_record(app)
    hooks = TaskHooks()
    hooks.reward += [fail, lambda *_: None, lambda *_: 0.25, lambda *_: 9.0]
    with app.app_context():
        record = db.session.get(TaskRecord, "rec-hooks")
        assert hooks.book_reward(record) == 0.25
        assert db.session.get(TaskRecord, "rec-hooks").reward == 0.25
    assert "could not be booked" in caplog.text


def test_no_reward_hook_books_nothing(app):
    add_record(app)
    with app.app_context():
        assert TaskHooks().book_reward(db.session.get(TaskRecord, "rec-hooks")) == 0.0


def test_a_completion_hook_naming_a_served_model_adds_it_to_the_result(app):
    add_record(app)
    hooks = TaskHooks()
    hooks.completion += [fail, lambda record: f"model-of-{record.task_id}"]
    with app.app_context():
        hooks.run_completion(db.session.get(TaskRecord, "rec-hooks"))
        assert db.session.get(TaskRecord, "rec-hooks").result == {"rows": 3, "served_as": "model-of-task-hooks"}


def test_every_end_hook_hears_of_the_end_even_after_one_fails(app):
    add_record(app)
    heard = []
    hooks = TaskHooks()
    hooks.end += [fail, lambda record: heard.append(record.task_id)]
    with app.app_context():
        hooks.run_end(db.session.get(TaskRecord, "rec-hooks"))
    assert heard == ["task-hooks"]
