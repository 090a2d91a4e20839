"""Child processes for the kill -9 tests: started in the repository's root, always reaped, and a
send run killed again and again at random moments while its journal shows progress."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from conftest import child_env

import smscampaign as sc

ROOT = Path(__file__).resolve().parents[1]


def spawn(*args: str, **popen: Any) -> subprocess.Popen:
    """``python *args`` in the repository's root, with this process's environment (SMSCAMPAIGN_HOME
    included) unless ``env=`` is given."""
    popen.setdefault("env", child_env())
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, **popen)


@contextlib.contextmanager
def python_child(*args: str, **popen: Any) -> Iterator[subprocess.Popen]:
    """:func:`spawn` for a ``with`` block: on the way out the child is killed if it still runs, reaped,
    and its pipes are closed, whatever the test asserted."""
    child = spawn(*args, **popen)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def kill_9(child: subprocess.Popen) -> None:
    """SIGKILL ``child`` and reap it."""
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)


def accepted_in(journal: Path) -> int:
    """Messages the journal at ``journal`` has accepted so far (0 before it exists)."""
    try:
        with sc.Journal(journal, readonly=True) as book:
            return book.accepted_total()
    except sc.JournalError:
        return 0


def wait_for_progress(child: subprocess.Popen, journal: Path, target: int, timeout: float = 120) -> bool:
    """Wait until ``journal`` has accepted ``target`` messages (True) or ``child`` has exited (False);
    the waits are the child's own (``Popen.wait``), bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while accepted_in(journal) < target:
        assert time.monotonic() < deadline, "the campaign makes no progress"
        try:
            child.wait(timeout=0.01)
            return False
        except subprocess.TimeoutExpired:
            pass
    return True


def kill_at_random(child: subprocess.Popen, rng: random.Random, within: float = 0.03) -> bool:
    """SIGKILL ``child`` at a random moment of the next ``within`` seconds, unless it exits first;
    True if it was killed."""
    try:
        child.wait(timeout=rng.uniform(0, within))
        return False
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait()
        return True


def send_killing_runs(
    argv: Sequence[str],
    journal: Path,
    rng: random.Random,
    *,
    env: dict[str, str],
    kills: int,
    runs: int,
    batch_size: int,
    batches: int,
    within: float = 0.03,
    after_kill: Callable[[], None] = lambda: None,
) -> int:
    """Run ``python argv`` (a send into ``journal``) at most ``runs`` times, until a run ends by
    itself, and assert that run exited 0. Each of the first runs is SIGKILLed, until ``kills`` kills,
    once the journal has accepted 1 to ``batches`` more batches of ``batch_size`` (drawn from
    ``rng``), at a random moment of the next ``within`` seconds: mid-request. ``after_kill()`` runs
    after each kill. Returns the number of kills; a run that finished before its kill counts none
    and ends the loop, so the caller asserts the number."""
    killed, returncode = 0, None
    for _ in range(runs):
        with python_child(*argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
            if killed < kills:
                target = accepted_in(journal) + batch_size * rng.randint(1, batches)
                if wait_for_progress(child, journal, target) and kill_at_random(child, rng, within):
                    killed += 1
                    after_kill()
                    continue
            else:
                child.wait(timeout=120)
        returncode = child.returncode
        if returncode != -signal.SIGKILL:
            break
    assert returncode == 0, f"last run exited {returncode}"
    return killed
