"""Step logs: what an attempt's command writes, kept per attempt as masked, timestamped lines.

Each attempt gets an ``AttemptLog``, the ``context.log`` sink of ``engine.processors``. Bytes
become lines as they come, per stream, each stamped when its newline arrived and masked with
the run's Redactor before anything sees it: a secret is masked in a whole line, never across
the cuts of a pipe's reads. Each line then goes

- to a listener at once, on the writing thread: the live view's last line, a pod's own
  stdout/stderr (which therefore get lines, not arbitrary pieces of them);
- to the store, in batches: one thread per run writes whatever came every ``FLUSH_EVERY``
  seconds in one transaction, so a chatty command costs a few commits a second, and
  ``flowspec logs -f`` sees its lines while it runs. ``close`` writes the rest, and the
  executor closes the book before it records the run's end: whoever sees the end sees every
  line.

An attempt keeps at most ``MAX_BYTES`` in the store: the first half as it comes (the head:
how the command started), then its latest lines up to the other half (the tail: how it ended,
the error). Once the tail is full its oldest lines are dropped, and one line of the stream
``flowspec`` stands where they were: ``[log cut: N bytes in M lines dropped]``.

The lines are not written under the run's lease: only the process running an attempt writes
its lines, and a run taken over runs new attempts. A store that fails a batch loses it (the
run's own next write fails alike and stops the run); a store that keeps nothing
(``MemoryStore``) is given no lines at all.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from engine.processors import DISCARD, LogSink
from engine.secrets import Redactor
from engine.store.errors import StoreError
from engine.store.records import LogCut, LogLine

#: Most bytes of one attempt's log the store keeps: half from its start, half from its end.
MAX_BYTES = 1024 * 1024
#: Seconds between two writes of the lines that came meanwhile.
FLUSH_EVERY = 0.25
#: A longer line is kept in pieces of this size: output without newlines is not held in memory.
MAX_LINE = 64 * 1024
#: The stream of the lines flowspec itself adds to a log.
NOTE = "flowspec"

#: Told of every line as it is made: (node, attempt, stream, text), on the writing thread.
Listener = Callable[[str, int, str, str], None]


class LogStore(Protocol):
    """What the book needs of a store (``SqlStore.write_logs``)."""

    def write_logs(self, run_id: str, lines: Sequence[LogLine],
                   cuts: Sequence[LogCut]) -> None: ...


class LogBook:
    """A run's logs: one AttemptLog per attempt, one thread writing them to the store."""

    def __init__(self, store: LogStore | None, run_id: str, redactor: Redactor,
                 listener: Listener | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.store = store
        self.run_id = run_id
        self.redactor = redactor
        self.listener = listener
        self.head = max_bytes // 2
        self.tail = max_bytes - self.head
        self.lock = threading.Lock()
        #: held from taking a batch to having written it: batches are written in turn
        self._writing = threading.Lock()
        self._open: dict[tuple[str, int], _Sink] = {}
        #: attempts with lines not yet written, in the order they got them
        self._dirty: dict[AttemptLog, None] = {}
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    def attempt(self, node: str, attempt: int) -> LogSink:
        """The sink of one attempt; one that keeps nothing when no one would read its lines."""
        if self.store is None and self.listener is None:
            return DISCARD
        sink = self._open[(node, attempt)] = _Sink(self, node, attempt)
        return sink

    def ended(self, node: str, attempt: int) -> None:
        """The attempt is over: its unfinished last lines are lines, later writes are dropped
        (a thread abandoned on a timeout may still be writing)."""
        sink = self._open.pop((node, attempt), None)
        if sink is not None:
            sink.end()

    def close(self) -> None:
        """End every attempt and write every line that is left; the book can be closed again."""
        for key in list(self._open):
            self.ended(*key)
        if self._writer is not None:
            self._stop.set()
            self._writer.join()
            self._writer = None
        self.flush()

    def queue(self, log: AttemptLog) -> None:
        """Called with the lock held: ``log`` has lines to write."""
        self._dirty[log] = None
        if self._writer is None and not self._stop.is_set():
            self._writer = threading.Thread(target=self._run, name="flowspec:logs", daemon=True)
            self._writer.start()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_EVERY):
            self.flush()

    def flush(self) -> None:
        """Write the lines that came since the last write (the log thread calls it every
        FLUSH_EVERY seconds)."""
        if self.store is None:
            return
        with self._writing:
            lines: list[LogLine] = []
            cuts: list[LogCut] = []
            with self.lock:
                for log in self._dirty:
                    log.take(lines, cuts)
                self._dirty.clear()
            if lines:
                with contextlib.suppress(StoreError):  # a failed batch is lost: see the module
                    self.store.write_logs(self.run_id, lines, cuts)


class _Sink:
    """An attempt's sink, which makes the attempt's log at its first write: most attempts
    (no-op and in-process steps) write nothing, and a run of thousands of them should not
    build and then collect thousands of empty logs."""

    __slots__ = ("_book", "_ended", "_log", "attempt", "node")

    def __init__(self, book: LogBook, node: str, attempt: int) -> None:
        self._book = book
        self.node = node
        self.attempt = attempt
        self._log: AttemptLog | None = None
        self._ended = False

    def write(self, stream: str, data: bytes) -> None:
        log = self._log
        if log is None:
            with self._book.lock:
                if self._ended:
                    return
                log = self._log = self._log or AttemptLog(self._book, self.node, self.attempt)
        log.write(stream, data)

    def end(self) -> None:
        with self._book.lock:
            self._ended = True
            log = self._log
        if log is not None:
            log.end()


class AttemptLog:
    """One attempt's lines: split per stream, masked, numbered, capped (see the module)."""

    __slots__ = ("_book", "_cut", "_cut_changed", "_ended", "_head", "_lines", "_partial",
                 "_seq", "_tail", "_tail_bytes", "attempt", "node")

    def __init__(self, book: LogBook, node: str, attempt: int) -> None:
        self._book = book
        self.node = node
        self.attempt = attempt
        self._partial: dict[str, bytes] = {}
        self._seq = 0
        self._head = 0  # bytes kept from the start
        self._tail: deque[tuple[int, int, float]] = deque()  # (seq, bytes, at) after the head
        self._tail_bytes = 0
        self._cut: _Cut | None = None
        self._cut_changed = False
        self._lines: list[LogLine] = []  # not yet written
        self._ended = False

    def write(self, stream: str, data: bytes) -> None:
        """Take what a stream wrote; every line it completes is made at once."""
        now = time.time()
        with self._book.lock:
            if self._ended or not data:
                return
            *complete, rest = (self._partial.get(stream, b"") + data).split(b"\n")
            for raw in complete:
                self._line(stream, raw, now)
            while len(rest) > MAX_LINE:
                self._line(stream, rest[:MAX_LINE], now)
                rest = rest[MAX_LINE:]
            self._partial[stream] = rest

    def end(self) -> None:
        """What each stream wrote after its last newline is its last line."""
        with self._book.lock:
            if self._ended:
                return
            self._ended = True
            now = time.time()
            for stream, rest in self._partial.items():
                if rest:
                    self._line(stream, rest, now)
            self._partial.clear()

    def _line(self, stream: str, raw: bytes, at: float) -> None:
        book = self._book
        text = raw.decode("utf-8", errors="replace").removesuffix("\r")
        if "\x00" in text:  # no PostgreSQL text can hold it
            text = text.replace("\x00", "\ufffd")
        text = book.redactor.scrub(text)
        if book.listener is not None:
            book.listener(self.node, self.attempt, stream, text)
        if book.store is None:
            return
        self._seq += 1
        self._lines.append(LogLine(self.node, self.attempt, self._seq, stream, at, text))
        book.queue(self)
        size = len(raw) + 1
        if not self._tail and self._cut is None and self._head + size <= book.head:
            self._head += size
            return
        self._tail.append((self._seq, size, at))
        self._tail_bytes += size
        while self._tail_bytes > book.tail:
            seq, size, at = self._tail.popleft()
            self._tail_bytes -= size
            if self._cut is None:
                self._cut = _Cut(seq, at)
            self._cut.drop(seq, size)
            self._cut_changed = True

    def take(self, lines: list[LogLine], cuts: list[LogCut]) -> None:
        """Called with the lock held: hand over the lines to write, and the cut if it grew
        (the dropped lines not yet written are simply left out)."""
        taken, self._lines = self._lines, []
        if not self._cut_changed or self._cut is None:
            lines += taken
            return
        self._cut_changed = False
        cut = self._cut
        lines += [line for line in taken if not cut.first <= line.seq <= cut.last]
        lines.append(LogLine(self.node, self.attempt, cut.first, NOTE, cut.at,
                             f"[log cut: {cut.bytes} bytes in {cut.lines} lines dropped]"))
        cuts.append((self.node, self.attempt, cut.first, cut.last))


class _Cut:
    """The lines an attempt's cap dropped: consecutive numbers, from the tail's oldest on."""

    __slots__ = ("at", "bytes", "first", "last", "lines")

    def __init__(self, first: int, at: float) -> None:
        self.first = self.last = first
        self.at = at  # when the first dropped line was written: where the cut's line stands
        self.bytes = 0
        self.lines = 0

    def drop(self, seq: int, size: int) -> None:
        self.last = seq
        self.bytes += size
        self.lines += 1
