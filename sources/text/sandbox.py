"""Run one parsing function in a worker process with a time and a memory bound.

A crafted attachment (a decompression bomb, a DOCX of a million empty
paragraphs, a PDF with a pathological content stream) can make a parser use
gigabytes or minutes. ``run_bounded`` runs such work in a forked child
process (copy-on-write: cheap, nothing re-imported) whose address space may
grow by at most ``memory`` bytes (``RLIMIT_AS`` set to what it had at the
fork plus ``memory``), killed after ``seconds``. The caller gets the result,
or ``Exceeded`` saying which bound was hit; an error raised by the function
comes back as ``ParseError`` (its message kept). The child only parses bytes
it was given; should it hang on a lock another thread held at the fork, the
time bound ends it like any other stall.

On a platform without ``fork`` / ``resource`` (Windows) the function runs in
this process, unbounded.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Callable
from typing import Any, TypeVar

from sources.errors import ParseError

__all__ = ["Exceeded", "run_bounded"]

T = TypeVar("T")

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]


class Exceeded(ParseError):
    """The work went over its time or memory bound and was stopped."""


def _child(
    conn: multiprocessing.connection.Connection,
    memory: int,
    func: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    limit = _address_space() + memory
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(("ok", func(*args)))
    except MemoryError:
        conn.send(("memory", ""))
    except Exception as exc:  # noqa: BLE001 - any parser failure is a parse error
        # C libraries (lxml) report a failed allocation as their own error: judge by
        # the peak address space whether the memory bound was the cause.
        # (a failed large allocation can leave the peak well below the limit)
        if _peak_address_space() > limit - min(memory // 2, 256 * 2**20):
            conn.send(("memory", ""))
        elif isinstance(exc, ParseError):
            conn.send(("parse", exc.message))
        else:
            conn.send(("parse", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def _address_space() -> int:
    """This process's virtual size in bytes (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _peak_address_space() -> int:
    """This process's peak virtual size in bytes (``VmPeak``; 0 when unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _context() -> Any:
    if resource is None or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def run_bounded(
    func: Callable[..., T], *args: Any, seconds: float, memory: int, what: str = "the work"
) -> T:
    """``func(*args)`` in a worker limited to ``seconds`` and ``memory`` bytes.

    ``func`` and its arguments must be picklable (a module-level function).
    """
    context = _context()
    if context is None:
        return func(*args)
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_child, args=(send, memory, func, args), daemon=True)
    try:
        worker.start()
    except OSError as exc:  # no process could be made: say so, do not read unbounded
        receive.close()
        send.close()
        raise Exceeded(f"{what}: no worker process could start ({exc})") from None
    send.close()
    try:
        if not receive.poll(seconds):
            raise Exceeded(f"{what} took longer than {seconds:g} s and was stopped")
        try:
            status, value = receive.recv()
        except EOFError:  # the worker died: out of memory in C code, or killed
            raise Exceeded(
                f"{what} needed more than {memory // 2**20} MB of memory and was stopped"
            ) from None
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)
    if status == "ok":
        result: T = value
        return result
    if status == "memory":
        raise Exceeded(f"{what} needed more than {memory // 2**20} MB of memory and was stopped")
    raise ParseError(str(value))
