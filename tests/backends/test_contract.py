"""The claim protocol (lazycron/backends/base.py), checked the same way on every store.

Only base.py's operations are used, so a backend that passes here can stand in for any
other. Two backend objects on one store play two hosts. Where a peer's scheduler broke
for its users, the test names the report it reproduces.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import pytest

from lazycron._threads import start_thread
from lazycron.backends.base import (
    Backend,
    BackendError,
    CheckMark,
    CheckRecorder,
    Lease,
    StateUnreadableError,
)
from lazycron.state import JobState, Pause, Run

from .helpers import Store, claim, claimed, done, first_sight, new_state

SHORT_LEASE = 0.5


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Expiry is judged by the store's clock, so this waits in real time (polling)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the store never got there"
        time.sleep(0.05)


def lease_expired(backend: Backend, job: str) -> Callable[[], bool]:
    def check() -> bool:
        snapshot = backend.read(job)
        return snapshot is not None and not snapshot.lease_live

    return check


def test_first_sight_creates_the_record_once(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    assert host_a.read(job) is None
    assert host_a.write(job, new_state(), expected=None)
    assert not host_b.write(job, new_state(), expected=None), "a second first sight won"
    snapshot = host_b.read(job)
    assert snapshot is not None
    assert snapshot.state == new_state()
    assert not snapshot.lease_live


def test_a_pause_and_a_skipped_runs_reason_are_kept_for_every_host(store: Store, job: str) -> None:
    """``lazycron pause`` is an ordinary conditional write: every host reads it back."""
    host_a, host_b = store.backend(), store.backend()
    snapshot = first_sight(host_a, job)
    paused = copy.deepcopy(snapshot.state)
    paused.paused = Pause(since=1_060.0, by="alice@ops")
    skipped = Run(run_id="s", tick=1_060.0, started=1_061.0, pid=1, host="h", outcome="skipped")
    skipped.reason = "paused"
    paused.record(skipped, limit=50)
    assert host_a.write(job, paused, expected=snapshot.version)
    seen = host_b.read(job)
    assert seen is not None and seen.state == paused


def test_a_write_with_a_stale_version_fails_and_changes_nothing(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    stale = first_sight(host_a, job)
    moved = new_state()
    moved.schedule = "every 30s"
    assert host_a.write(job, moved, expected=stale.version)
    after_a = host_b.read(job)
    assert after_a is not None and after_a.version != stale.version

    lost = new_state()
    lost.schedule = "stale"
    assert not host_b.write(job, lost, expected=stale.version)
    assert host_b.read(job) == after_a


def test_two_hosts_claiming_one_tick_one_wins(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    snapshot = first_sight(host_a, job)
    lease_a = host_a.claim(job, claimed(snapshot, 60.0), expected=snapshot.version)
    lease_b = host_b.claim(job, claimed(snapshot, 60.0), expected=snapshot.version)
    assert lease_a is not None and lease_b is None
    now = host_b.read(job)
    assert now is not None and now.lease_live
    assert now.state.current is not None and now.state.current.run_id == lease_a.token


def test_two_hosts_claiming_a_new_job_one_wins(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    lease_a = host_a.claim(job, claimed(None, 60.0), expected=None)
    lease_b = host_b.claim(job, claimed(None, 60.0), expected=None)
    assert lease_a is not None and lease_b is None


def test_a_live_lease_blocks_claims_and_writes(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    first_sight(host_a, job)
    lease = claim(host_a, job, 60.0)
    assert lease is not None
    snapshot = host_b.read(job)
    assert snapshot is not None and snapshot.lease_live
    # Even with the current version, nobody may claim or write under a live lease.
    assert host_b.claim(job, claimed(snapshot, 120.0), expected=snapshot.version) is None
    assert not host_b.write(job, new_state(), expected=snapshot.version)
    assert host_b.read(job) == snapshot


def test_finish_records_the_run_and_frees_the_job(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    first_sight(host_a, job)
    lease = claim(host_a, job, 60.0)
    assert lease is not None
    assert lease.finish(done)
    snapshot = host_b.read(job)
    assert snapshot is not None and not snapshot.lease_live
    assert snapshot.state.current is None and snapshot.state.last_tick == 60.0
    assert [run.outcome for run in snapshot.state.history] == ["ok"]
    assert claim(host_b, job, 120.0) is not None, "the next tick could not be claimed"


def test_release_frees_the_job_without_writing(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    first_sight(host_a, job)
    lease = claim(host_a, job, 60.0)
    assert lease is not None
    held = host_b.read(job)
    lease.release()
    snapshot = host_b.read(job)
    assert snapshot is not None and held is not None
    assert not snapshot.lease_live
    assert (snapshot.state, snapshot.version) == (held.state, held.version)
    assert claim(host_b, job, 120.0) is not None


def test_a_claim_never_moves_the_tick_backwards(store: Store, job: str) -> None:
    host = store.backend()
    first_sight(host, job)
    lease = claim(host, job, 120.0)
    assert lease is not None and lease.finish(done)
    assert claim(host, job, 60.0) is None
    assert claim(host, job, 180.0) is not None


def test_an_expired_lease_lets_the_next_claimer_in(store: Store, job: str) -> None:
    if not store.lease_can_expire:
        pytest.skip(f"the {store.name} backend's lease ends only with its holder")
    host_a, host_b = store.backend(lease=SHORT_LEASE), store.backend(lease=SHORT_LEASE)
    first_sight(host_a, job)
    lease_a = claim(host_a, job, 60.0)
    assert lease_a is not None
    wait_until(lease_expired(host_b, job))
    lease_b = claim(host_b, job, 120.0)
    assert lease_b is not None, "an expired lease still blocked the next claimer"
    snapshot = host_b.read(job)
    assert snapshot is not None and snapshot.lease_live
    assert snapshot.state.last_tick == 120.0


def test_renew_keeps_a_lease_alive(store: Store, job: str) -> None:
    if not store.lease_can_expire:
        pytest.skip(f"the {store.name} backend's lease never expires")
    lease_seconds = 1.0  # renewed every 0.2 s: a stall of 0.8 s would still be fine
    host_a, host_b = store.backend(lease=lease_seconds), store.backend(lease=lease_seconds)
    first_sight(host_a, job)
    lease = claim(host_a, job, 60.0)
    assert lease is not None
    assert lease.renew_every == pytest.approx(lease_seconds / 3)
    deadline = time.monotonic() + 2.5 * lease_seconds
    while time.monotonic() < deadline:
        assert lease.renew()
        snapshot = host_b.read(job)
        assert snapshot is not None and snapshot.lease_live
        time.sleep(lease_seconds / 5)
    assert claim(host_b, job, 120.0) is None
    assert lease.finish(done)


def test_a_heartbeat_thread_can_renew_while_the_claiming_thread_runs(
    store: Store, job: str
) -> None:
    """The job's function blocks its thread, so renewals come from another one; finish
    then comes from the claiming thread again."""
    if not store.lease_can_expire:
        pytest.skip(f"the {store.name} backend's lease never expires")
    host = store.backend(lease=SHORT_LEASE)
    first_sight(host, job)
    lease = claim(host, job, 60.0)
    assert lease is not None
    renewed: list[bool] = []
    # A thread of lazycron's own, as the runner's heartbeat is (its connection is closed
    # when it ends).
    heartbeat = start_thread(lambda: renewed.append(lease.renew()), "heartbeat")
    heartbeat.join(30)
    assert renewed == [True]
    assert lease.finish(done)


def lost_lease(store: Store, job: str) -> tuple[Backend, Lease, Lease]:
    """Host A's lease on tick 60 expired and host B claimed tick 120: A's is stale."""
    host_a, host_b = store.backend(lease=SHORT_LEASE), store.backend(lease=SHORT_LEASE)
    first_sight(host_a, job)
    stale = claim(host_a, job, 60.0)
    assert stale is not None
    wait_until(lease_expired(host_b, job))
    current = claim(host_b, job, 120.0)
    assert current is not None
    return host_b, stale, current


def test_renew_with_a_stale_token_changes_nothing(store: Store, job: str) -> None:
    """laravel/framework#53342: a process whose lock had expired extended (or released)
    the lock another process had taken since."""
    if not store.lease_can_expire:
        pytest.skip(f"the {store.name} backend's lease never expires")
    host_b, stale, current = lost_lease(store, job)
    before = host_b.read(job)
    assert not stale.renew()
    stale.release()
    after = host_b.read(job)
    assert after == before
    assert after is not None and after.lease_live
    assert current.renew() and current.finish(done)


def test_finish_with_a_stale_token_is_rejected_and_changes_nothing(store: Store, job: str) -> None:
    if not store.lease_can_expire:
        pytest.skip(f"the {store.name} backend's lease never expires")
    host_b, stale, current = lost_lease(store, job)
    before = host_b.read(job)
    applied: list[JobState] = []
    assert not stale.finish(applied.append), "a stale finish was accepted"
    assert applied == [], "finish applied its change to a record it no longer owns"
    assert host_b.read(job) == before
    assert current.finish(done)
    snapshot = host_b.read(job)
    assert snapshot is not None and snapshot.state.last_tick == 120.0


def test_a_claim_that_raises_means_no_run(store: Store, job: str) -> None:
    """celery-redbeat#238: the lock could not be taken, and the task ran anyway. Here a
    store that cannot be reached makes claim() raise, an OSError the runner turns into
    "do not run", and it leaves nothing behind for the next claimer to trip on."""
    host = store.backend()
    first_sight(host, job)
    down = store.unreachable()
    # BackendError for a network store; the file backend's own OSError (not a directory,
    # a full disk) is what the runner catches for both.
    with pytest.raises(BackendError if store.lease_can_expire else OSError) as raised:
        down.claim(job, claimed(host.read(job), 60.0), expected=1)
    assert isinstance(raised.value, OSError)
    # Files: a state file that cannot be opened reads as unreadable (reset, never run).
    with pytest.raises((OSError, StateUnreadableError) if store.name == "file" else OSError):
        down.read(job)
    with pytest.raises(OSError):
        down.prepare()
    assert claim(host, job, 60.0) is not None


def test_a_record_lost_mid_run_is_seen_afresh_and_the_holder_cannot_write(
    store: Store, job: str
) -> None:
    """The store lost the record while tick 60 ran (Redis restarted empty, FLUSHALL, the
    row deleted). The holder's renew and finish are rejected and do not re-create the
    record; a snapshot from before the loss claims nothing, and the record made afresh
    has a version no old snapshot carries."""
    holder, other = store.backend(), store.backend()
    before = first_sight(other, job)
    lease = claim(holder, job, 60.0)
    assert lease is not None
    during = other.read(job)
    assert during is not None
    store.lose(job)

    assert not lease.renew()
    assert not lease.finish(done)
    assert other.read(job) is None, "the stale finish re-created the record"
    for snapshot in (before, during):
        assert other.claim(job, claimed(snapshot, 60.0), expected=snapshot.version) is None
        assert not other.write(job, new_state(), expected=snapshot.version)
    fresh = first_sight(other, job)
    assert fresh.version not in {before.version, during.version}
    assert not lease.finish(done)
    assert other.read(job) == fresh


def test_an_unreadable_record_can_be_reset(store: Store, job: str) -> None:
    host = store.backend()
    first_sight(host, job)
    store.corrupt(job, b"\x00 not a lazycron state")
    with pytest.raises(StateUnreadableError) as unreadable:
        host.read(job)
    # Files keep the version inside the undecodable bytes: a reset there expects "absent".
    assert (unreadable.value.version is not None) == (store.name != "file")
    assert host.write(job, new_state(), expected=unreadable.value.version)
    snapshot = host.read(job)
    assert snapshot is not None and snapshot.state == new_state()


def test_prepare_and_location(store: Store) -> None:
    backend = store.backend()
    backend.prepare()
    assert backend.location


def test_the_last_check_mark_is_shared_and_last_writer_wins(store: Store, job: str) -> None:
    host_a, host_b = store.backend(), store.backend()
    assert isinstance(host_a, CheckRecorder) and isinstance(host_b, CheckRecorder)
    first_sight(host_a, job)  # a job's record and the mark never touch each other
    host_a.mark_check(CheckMark(at=1_000.0, host="a", pid=1))
    assert host_b.last_check() == CheckMark(at=1_000.0, host="a", pid=1)
    host_b.mark_check(CheckMark(at=1_001.5, host="b", pid=2))
    assert host_a.last_check() == CheckMark(at=1_001.5, host="b", pid=2)
    snapshot = host_a.read(job)
    assert snapshot is not None and snapshot.state == new_state()
