"""The benchmark harness's report: issue 13's targets, their ratios and spreads, the
end-to-end sweep, and the Flask subjects with refresh on and off. No timing is asserted:
the timings here are made up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench import __main__ as harness
from bench import apps, e2e, floors, load, readme
from bench.measure import Timings, prepare
from bench.names import (
    FLASK_DEFAULT,
    FLASK_SESSION,
    FLASK_SESSION_NO_REFRESH,
    STARLETTE,
    WS_FLASK_REDIS,
    WS_FLASK_SQLITE,
    WS_MEMORY,
    WS_POSTGRES,
    WS_REDIS,
    WS_SQLITE,
)
from bench.report import Results, render
from bench.targets import Target, issue_targets, ratio
from tests.conftest import server_url

US = 1e-6


def _timings(
    overheads: dict[tuple[str, str], list[float]], floor: dict[str, list[float]]
) -> Timings:
    timings = Timings()
    for key, values in overheads.items():
        timings.overhead[key] = [v * US for v in values]
        timings.per_request[key] = [(v + 1) * US for v in values]
    for name, values in floor.items():
        timings.per_request[(name, "floor")] = [v * US for v in values]
    return timings


def _by_name(targets: list[Target]) -> dict[str, Target]:
    return {target.name: target for target in targets}


def test_ratio_is_median_over_median_with_per_repetition_quartiles() -> None:
    found = ratio([1.0, 2.0, 3.0, 4.0, 100.0], [2.0, 2.0, 2.0, 2.0, 2.0])
    assert found.value == pytest.approx(1.5)
    assert found.spread == "1.00 to 2.00"


def test_ratio_of_an_unmeasured_side_is_none() -> None:
    assert ratio(None, [1.0]).value is None
    assert ratio([1.0], [0.0]).value is None


def test_targets_state_the_goals_of_issue_13() -> None:
    names = {WS_MEMORY, WS_SQLITE, WS_REDIS, STARLETTE}
    targets = issue_targets(Timings(), names, [], (1, 8, 64))
    goals = {(t.name, t.goal, t.at_most) for t in targets}
    expected = {
        ("ASGI untouched: websession memory / Starlette overhead", 0.5, True),
        ("ASGI read: websession SQLite / Starlette overhead", 0.5, True),
        ("ASGI write: websession memory / starsessions memory overhead", 0.5, True),
        ("ASGI write: websession SQLite / Starlette overhead", 0.8, True),
        ("Redis read: websession overhead / raw GET", 1.15, True),
        ("Redis write: websession overhead / (raw GET + raw pipelined write)", 1.1, True),
        ("Redis read: starsessions / websession overhead", 3.0, False),
        ("PostgreSQL read: websession overhead / raw psycopg async PK SELECT", 1.2, True),
        ("PostgreSQL write: websession overhead / (raw SELECT + raw patch UPDATE)", 1.2, True),
        ("Flask Redis read: websession / Flask-Session (refresh off) overhead", 1.0, True),
        ("Flask Redis write: websession / Flask-Session overhead", 0.8, True),
        ("Flask SQLite read: websession / Flask signed-cookie session overhead", 0.5, True),
        ("Flask SQLite write: websession / Flask signed-cookie session overhead", 0.5, True),
        ("e2e read, 64 conn: websession-memory / bare requests/s", 0.85, False),
        ("e2e read, 8 conn: websession-sqlite / bare requests/s", 0.85, False),
        ("e2e write, 1 conn: websession-sqlite / bare requests/s", 0.65, False),
        ("e2e read, 8 conn: websession-redis / bare requests/s", 0.7, False),
        ("e2e write, 64 conn: websession-redis / bare requests/s", 0.5, False),
    }
    assert expected <= goals
    django = [t for t in targets if t.name.startswith("Django")]
    assert len(django) == 6  # two engines x three cases
    assert all(t.strict and t.goal == 1.0 and t.at_most for t in django)


def test_no_target_keeps_the_old_goals() -> None:
    targets = issue_targets(Timings(), set(), [], (8,))
    flask = [t for t in targets if t.name.startswith("Flask")]
    assert all(t.goal != 0.4 for t in flask)
    assert not any("MariaDB" in t.name for t in targets)  # not a goal of issue 13


def test_redis_and_postgres_writes_are_over_the_sum_of_two_floors() -> None:
    timings = _timings(
        {(WS_REDIS, "write"): [220.0, 220.0], (WS_POSTGRES, "write"): [300.0, 300.0]},
        {
            floors.REDIS_GET: [100.0, 100.0],
            floors.REDIS_WRITE: [100.0, 100.0],
            floors.PG_SELECT: [100.0, 100.0],
            floors.PG_PATCH: [150.0, 150.0],
        },
    )
    found = _by_name(issue_targets(timings, {WS_REDIS, WS_POSTGRES}, [], ()))
    redis = found["Redis write: websession overhead / (raw GET + raw pipelined write)"]
    assert redis.value == pytest.approx(1.1)
    assert redis.verdict() == "met"
    postgres = found["PostgreSQL write: websession overhead / (raw SELECT + raw patch UPDATE)"]
    assert postgres.value == pytest.approx(1.2)


def test_flask_read_is_against_flask_session_with_refresh_off() -> None:
    timings = _timings(
        {
            (WS_FLASK_REDIS, "read"): [150.0],
            (FLASK_SESSION_NO_REFRESH, "read"): [100.0],
            (FLASK_SESSION, "read"): [300.0],
            (WS_FLASK_REDIS, "write"): [280.0],
            (FLASK_SESSION, "write"): [400.0],
            (WS_FLASK_SQLITE, "read"): [20.0],
            (FLASK_DEFAULT, "read"): [50.0],
        },
        {},
    )
    names = {WS_FLASK_REDIS, FLASK_SESSION_NO_REFRESH, FLASK_SESSION, WS_FLASK_SQLITE}
    found = _by_name(issue_targets(timings, names | {FLASK_DEFAULT}, [], ()))
    read = found["Flask Redis read: websession / Flask-Session (refresh off) overhead"]
    assert read.value == pytest.approx(1.5)
    assert read.verdict() == "**missed**"
    write = found["Flask Redis write: websession / Flask-Session overhead"]
    assert write.value == pytest.approx(0.7)
    sqlite = found["Flask SQLite read: websession / Flask signed-cookie session overhead"]
    assert sqlite.value == pytest.approx(0.4)


def test_a_strict_target_is_missed_when_equal() -> None:
    assert Target("ahead", 1.0, 1.0, strict=True).verdict() == "**missed**"
    assert Target("ahead", 0.99, 1.0, strict=True).goal_text() == "< 1"
    assert Target("at least", 0.9, 0.85, at_most=False).verdict() == "met"
    assert Target("none", None, 1.0).verdict() == "not measured"


def _rates() -> list[e2e.Rate]:
    out = []
    for count, bare, ours in (
        (1, [1000.0, 1200.0, 1100.0], [900.0, 1080.0, 1045.0]),
        (64, [2000.0, 2000.0, 2000.0], [1000.0, 800.0, 1200.0]),
    ):
        out += [
            e2e.Rate("bare", "read", sorted(bare)[1], "wrk", count, bare, 0.05),
            e2e.Rate("websession-redis", "read", sorted(ours)[1], "wrk", count, ours, 0.1),
        ]
    return out


def test_e2e_ratios_are_medians_over_the_bare_app_in_the_same_rounds() -> None:
    rates = _rates()
    assert e2e.bare_rps(rates, "read", 1) == pytest.approx(1100.0)
    assert e2e.round_ratios(rates, "websession-redis", "read", 1) == pytest.approx([0.9, 0.9, 0.95])
    found = _by_name(issue_targets(Timings(), set(), rates, (1, 64)))
    one = found["e2e read, 1 conn: websession-redis / bare requests/s"]
    assert one.value == pytest.approx(0.95)
    assert one.verdict() == "met"
    assert one.spread == "0.90 to 0.93, wrk ±10%"
    many = found["e2e read, 64 conn: websession-redis / bare requests/s"]
    assert many.value == pytest.approx(0.5)
    assert many.verdict() == "**missed**"


def test_an_e2e_rate_spread_is_the_iqr_of_its_rounds() -> None:
    rate = e2e.Rate("x", "read", 100.0, "wrk", 8, [90.0, 100.0, 110.0])
    assert rate.spread() == pytest.approx(0.1)
    assert e2e.Rate("x", "read", 100.0, "wrk", 8, [100.0]).spread() is None


def test_wrk_rate_numbers_with_suffixes() -> None:
    assert load.number("8.95k") == pytest.approx(8950.0)
    assert load.number("345.12") == pytest.approx(345.12)
    assert load.number("1.2M") == pytest.approx(1.2e6)


def test_report_shows_spread_noise_and_the_concurrency_sweep() -> None:
    timings = _timings(
        {("bare ASGI app", case): [0.0, 0.0, 0.0] for case in ("untouched", "read", "write")}
        | {(WS_MEMORY, case): [10.0, 12.0, 14.0] for case in ("untouched", "read", "write")}
        | {(STARLETTE, case): [20.0, 20.0, 20.0] for case in ("untouched", "read", "write")},
        {floors.REDIS_GET: [100.0, 110.0, 120.0]},
    )
    rates = _rates()
    results = Results(
        timings=timings,
        asgi=[WS_MEMORY],
        wsgi=[],
        asgi_peers=[STARLETTE],
        wsgi_peers=[],
        bare={"asgi": "bare ASGI app"},
        ops={},
        floors={floors.REDIS_GET: 110 * US},
        targets=issue_targets(timings, {WS_MEMORY, STARLETTE}, rates, (1, 64)),
        reps=3,
        rates=rates,
        connections=(1, 64),
        e2e_seconds=3.0,
        command="python -m bench --quick",
    )
    text = render(results)
    assert "- noise: " in text
    assert "| IQR µs |" in text
    assert "| target | measured | spread | goal | verdict |" in text
    assert "| subject | case | c=1 | c=64 |" in text
    assert "(`python -m bench --quick`)" in text
    assert (
        "| ASGI read: websession memory / Starlette overhead | 0.60 | 0.55 to 0.65 | ≤ 0.5 |"
        in text
    )


def test_quick_mode_and_the_connections_option() -> None:
    args = harness._arguments(["--quick", "--connections", "1,64"])
    assert args.reps == 5
    assert args.e2e_seconds == 1.0
    assert args.rounds == 1
    assert args.connections == (1, 64)
    assert harness._arguments([]).connections == (1, 8, 64)


async def _cookie_on_read(build: Callable[[bool], apps.Subject]) -> dict[bool, bool]:
    """For refresh off and on: whether a read request sets a cookie."""
    seen = {}
    for refresh in (False, True):
        subject = build(refresh)
        prepared = await prepare(subject)
        read = await prepared.drivers["read"].once()
        assert read.body == apps.USER.encode()
        seen[refresh] = bool(read.set_cookies())
        await subject.close()
    return seen


async def test_flask_refresh_each_request_sets_a_cookie_on_reads(tmp_path: Path) -> None:
    def build(refresh: bool) -> apps.Subject:
        url = f"sqlite:///{tmp_path / f'{refresh}.db'}"
        return apps.websession_flask("ws", url, "sqlite", refresh=refresh)

    assert await _cookie_on_read(build) == {False: False, True: True}


@pytest.mark.redis
async def test_flask_session_refresh_off_reads_without_a_set_cookie() -> None:
    redis_url = server_url("redis")

    def build(refresh: bool) -> apps.Subject:
        return apps.flask_session_redis("fs", redis_url, refresh=refresh)

    assert await _cookie_on_read(build) == {False: False, True: True}


def test_readme_block_is_replaced_between_its_markers(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(f"# Title\n\n{readme.BEGIN}\nold table\n{readme.END}\n\nkept\n")
    assert readme.update(page, "new table")
    text = page.read_text()
    assert "old table" not in text
    assert f"{readme.BEGIN}\nnew table\n{readme.END}\n\nkept\n" in text


def test_readme_without_markers_is_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text("# Title\n")
    assert not readme.update(page, "new table")
    assert page.read_text() == "# Title\n"


def test_readme_summary_folds_the_sweep_into_one_row_per_goal() -> None:
    rates = _rates()
    results = Results(
        timings=Timings(),
        asgi=[],
        wsgi=[],
        asgi_peers=[],
        wsgi_peers=[],
        bare={},
        ops={},
        floors={},
        targets=issue_targets(Timings(), set(), rates, (1, 64)),
        reps=15,
        command="python -m bench --readme README.md",
    )
    text = readme.summary(results, "bench/results/x.md")
    row = "| e2e read: websession-redis / bare requests/s (1 / 64 connections) | 0.95 / 0.50 |"
    assert row in text
    assert "[bench/results/x.md](bench/results/x.md)" in text


def test_a_missed_target_says_by_how_much() -> None:
    assert Target("over", 0.6, 0.5).verdict_text() == "**missed** (20% over)"
    assert Target("under", 0.6, 0.8, at_most=False).verdict_text() == "**missed** (25% under)"
    assert Target("met", 0.4, 0.5).verdict_text() == "met"
