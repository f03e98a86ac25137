"""The progress line: redrawn in place on a terminal, one line per step in a log."""

from __future__ import annotations

import io

from ultimate_agent.cli.progress import ProgressLine, render


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


EVENTS = [{"task_id": "t", "progress": p, "status": "running", "details": {"epoch": e, "total_epochs": 4,
                                                                         "training_loss": 1 / (e + 1)}}
          for p, e in ((25.0, 1), (25.4, 1), (50.0, 2))]


def test_render_shows_bar_percent_status_and_informative_details_first():
    line = render(50.0, "running", {"accuracy": 0.91234, "dataset": "digits", "epoch": 2, "total_epochs": 4})
    assert line.startswith("[" + "#" * 12 + "-" * 12 + "]  50.0% running")
    assert line.endswith("epoch=2 total_epochs=4 accuracy=0.9123 dataset=digits")


def test_a_terminal_gets_one_line_redrawn_in_place():
    stream = Terminal()
    line = ProgressLine("t", stream)
    for event in EVENTS:
        line.update(event)
    line.finish()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and text.endswith("\n")
    assert "50.0% running" in text.rsplit("\r", 1)[1]


def test_a_log_gets_a_line_per_whole_percent_or_status_change():
    stream = io.StringIO()
    line = ProgressLine("t", stream)
    for event in [*EVENTS, {**EVENTS[-1], "status": "paused"}]:
        line.update(event)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # 25.4% repeats 25% and is skipped
    assert "paused" in lines[-1] and "\r" not in stream.getvalue()
