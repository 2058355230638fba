"""The plan alone: no threads, no disk, times passed in by hand."""

from __future__ import annotations

import math

import lazycron
from lazycron import Registry
from lazycron._plan import MAX_SLEEP, Plan

NOW = 1_767_614_400.0  # a wall-clock time
MONO = 1000.0  # a monotonic time


def make(registry: Registry, check_interval: float = 0.0) -> tuple[Plan, list[float]]:
    published: list[float] = []
    return Plan(registry, check_interval, published.append), published


def declare(registry: Registry, *names: str) -> None:
    for name in names:
        lazycron.job(every=60, name=name, registry=registry)(lambda: None)


def test_a_new_plan_wakes_at_once_and_looks_at_every_declared_job() -> None:
    registry = Registry()
    declare(registry, "a", "b")
    plan, published = make(registry)
    assert published == [-math.inf]
    assert plan.has_ready(NOW)
    assert sorted(plan.pop_ready(NOW)) == ["a", "b"]
    assert plan.pop_ready(NOW) == []


def test_jobs_come_back_at_their_planned_time_only() -> None:
    registry = Registry()
    declare(registry, "a")
    plan, _ = make(registry)
    plan.pop_ready(NOW)
    plan.put("a", NOW + 60)
    assert not plan.has_ready(NOW + 59)
    assert plan.pop_ready(NOW + 60) == ["a"]


def test_a_job_handed_out_is_not_popped_again_until_taken_back() -> None:
    registry = Registry()
    declare(registry, "a")
    plan, _ = make(registry)
    plan.pop_ready(NOW)
    plan.hand_out("a")
    declare(registry, "b")  # a registry change re-plans what is missing, not "a"
    assert plan.pop_ready(NOW) == ["b"]
    plan.take_back("a", NOW + 5)
    assert plan.pop_ready(NOW + 5) == ["a"]


def test_a_removed_job_is_forgotten() -> None:
    registry = Registry()
    declare(registry, "a", "b")
    plan, _ = make(registry)
    plan.pop_ready(NOW)
    plan.put("a", NOW + 1)
    plan.put("b", NOW + 1)
    registry.remove("a")
    assert plan.pop_ready(NOW + 1) == ["b"]


def test_wake_at_follows_the_earliest_tick_within_the_throttle_and_max_sleep() -> None:
    registry = Registry()
    declare(registry, "a")

    def wake_for(due: float) -> float:
        plan, published = make(registry, check_interval=30)
        plan.pop_ready(NOW)
        plan.checked(MONO)
        assert published[-1] == MONO + 30  # a check: nothing sooner than the throttle
        plan.put("a", due)
        wake_at = plan.rearm(NOW, MONO)
        assert published[-1] == wake_at
        return wake_at

    assert wake_for(NOW + 5) == MONO + 30  # due in 5 s, but the throttle says 30
    assert math.isclose(wake_for(NOW + 100), MONO + 100, abs_tol=0.01)
    assert wake_for(NOW + 10_000) == MONO + MAX_SLEEP  # in case the wall clock jumps
