"""Stopping the processes a cxp command started and left running (one whose step ended early may
keep writing the warehouse and hold its lock)."""

from __future__ import annotations

import psutil


def child_pids() -> set[int]:
    """The process ids of this process's children and their descendants, now."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def stop_children(spare: set[int] = frozenset(), grace_seconds: float = 10.0) -> None:
    """Terminate this process's children but `spare` and multiprocessing's resource tracker (which
    the exit still needs); kill those still alive after the grace period."""
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    children = [child for child in psutil.Process().children(recursive=True) if child.pid not in spare and child.pid != tracker]
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
