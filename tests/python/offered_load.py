"""An open-loop load of API calls at a set rate, spread round-robin over what a Service routes to,
as callers of a connection would offer it: requests start on schedule whatever the answers, so
throttling shows as 429s rather than as a slower caller. Records every answer per second."""

from __future__ import annotations

import http.client
import itertools
import math
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable


class OfferedLoad:
    def __init__(self, endpoints: Callable[[], list[tuple[str, str]]], path: str, token: str, workers: int = 32) -> None:
        """`endpoints()` gives (pod, base URL) pairs; `path` is requested with the client token."""
        self.endpoints = endpoints
        self.path = path
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        self.rate = 0.0
        self.started = time.time()
        # Whole seconds since start -> answers ("200", "429", "error: ...").
        self.answers: dict[int, Counter] = defaultdict(Counter)
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._schedule, daemon=True, name="load-schedule")
        self.thread.start()

    def set_rate(self, per_second: float) -> None:
        self.rate = per_second

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.pool.shutdown(wait=True)

    def _schedule(self) -> None:
        next_at = time.monotonic()
        turn = itertools.count()
        while not self.stopping.is_set():
            if self.rate <= 0:
                time.sleep(0.05)
                next_at = time.monotonic()
                continue
            next_at += 1 / self.rate
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            targets = self.endpoints()
            if not targets:
                self._record("error: no endpoints")
                continue
            _, url = targets[next(turn) % len(targets)]
            self.pool.submit(self._call, url)

    def _call(self, base_url: str) -> None:
        url = urllib.parse.urlsplit(base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("GET", self.path, headers=self.headers)
            response = conn.getresponse()
            response.read()
            self._record(str(response.status))
        except (OSError, http.client.HTTPException) as error:
            self._record(f"error: {type(error).__name__}: {error}")
        finally:
            conn.close()

    def _record(self, answer: str) -> None:
        second = int(time.time() - self.started)
        with self.lock:
            self.answers[second][answer] += 1

    def whole_seconds(self, since: float, until: float) -> range:
        """The recorded seconds that lie wholly between two wall-clock times (not the running one)."""
        first = max(0, math.ceil(since - self.started))
        last = math.floor(min(until, time.time()) - self.started)
        return range(first, max(first, last))

    def totals(self, since: float = 0.0, until: float = float("inf")) -> Counter:
        """Answers of the whole seconds between two wall-clock times."""
        seconds = self.whole_seconds(since, until)
        with self.lock:
            total = Counter()
            for second in seconds:
                total.update(self.answers.get(second, {}))
        return total

    def rate_of(self, answer: str, since: float, until: float) -> float:
        """Answers of one kind per second over the whole seconds between two wall-clock times."""
        return self.totals(since, until)[answer] / max(1, len(self.whole_seconds(since, until)))
