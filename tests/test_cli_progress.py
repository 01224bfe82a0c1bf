"""Progress output: a redrawn bar with count, share, rate and ETA on a terminal; plain
lines in a log."""

from __future__ import annotations

import io

from websession.cli.progress import Progress


def test_a_terminal_gets_a_bar_with_rate_and_eta() -> None:
    out = io.StringIO()
    progress = Progress("records", out, total=1000, tty=True)
    progress.update(250)
    line = progress.line()
    assert line.startswith("[######..................] 250/1,000 records (25%)")
    assert "/s" in line
    assert "ETA 0:" in line
    progress.finish()
    assert out.getvalue().startswith("\r\x1b[K[")
    assert out.getvalue().endswith("\n")


def test_a_log_gets_plain_lines_without_a_bar() -> None:
    out = io.StringIO()
    progress = Progress("records", out, tty=False, every=3600)
    progress.update(10)  # the first update shows
    progress.update(20)  # too soon for another
    progress.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("10 records ")
    assert lines[1].startswith("20 records ")
    assert "[" not in out.getvalue()
