"""Connecting to a Ray cluster: ``auto`` (the running cluster this machine belongs to), ``host:port`` (a
head node's address, or ``ray://host:10001`` for Ray Client) or ``local`` (start a one-machine cluster in
this process, stopped when the command ends). ray is imported here and only here, at call time."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from insight_search.errors import InsightSearchError

logger = logging.getLogger(__name__)

LOCAL = "local"
CONNECT_TIMEOUT_S = 10.0  # a head that does not answer in this time is not there (Ray retries for minutes)
INSTALL_HINT = "pip install 'insight-search[ray]'"


class ClusterError(InsightSearchError):
    """Ray is missing, the cluster cannot be reached, or work on it failed beyond Ray's retries."""


def import_ray() -> ModuleType:
    """The ray module, or ClusterError saying what to install."""
    try:
        import ray
    except ImportError as exc:
        raise ClusterError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from exc
    return ray


@contextlib.contextmanager
def connected(address: str, **local_options: Any) -> Iterator[ModuleType]:
    """Ray, connected to the cluster at ``address`` for the block (``local_options``, e.g. ``num_cpus``,
    only for ``local``). A process already connected (a test's cluster, a Ray job) is used as it is and
    left connected; a connection made here is closed at the end (a ``local`` cluster stops with it)."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    check_reachable(address)
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address == LOCAL:
            ray.init(include_dashboard=False, **options, **local_options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from exc
    logger.info("connected to Ray: %s", ray.cluster_resources())
    try:
        yield ray
    finally:
        ray.shutdown()


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """ClusterError at once when ``address`` is a ``host:port`` (or ``ray://host:port``) nobody listens on
    (``auto`` and ``local`` are left to Ray)."""
    if address in (LOCAL, "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray {address!r}: expected auto, local or host:port")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address!r}: {exc.strerror or exc} (is `ray start --head` "
            "running there?)"
        ) from exc


def describe_failure(exc: BaseException) -> str:
    """One line for a Ray failure (its last line: Ray's own messages carry a traceback)."""
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__
