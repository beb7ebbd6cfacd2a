"""The API as a Ray Serve deployment: ``replicas`` copies of the FastAPI app (``api.app.create_app``) behind
Ray Serve's HTTP proxy, all over one index folder on storage every node sees.

Each replica builds its app when it starts (``serve.ingress`` with a builder) and opens the index in the
app's lifespan, as ``insight-search serve`` does; its watcher (``live.LiveSearcher``, every
``index_reload_seconds``) loads a rebuilt version and swaps it in with one reference assignment, so every
replica follows a rebuild without a restart and no request fails during the swap. Versions are immutable
folders and the pointer to the current one changes atomically (``store``), so replicas reading the folder
while a build writes the next version never see half of one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from insight_search import store
from insight_search.config import Settings
from insight_search.distributed.cluster import ClusterError, connected, describe_failure, import_ray
from insight_search.errors import IndexNotFound

logger = logging.getLogger(__name__)

AppBuilder = Callable[[], Any]  # () -> an ASGI app, called on each replica (a function, not a partial)
APP_NAME = "insight-search"
REPLICA_CPUS = 1.0


def build_app(settings: Settings) -> Any:
    """On a replica: the API app over ``settings.index_dir`` (the index is opened in its lifespan)."""
    from insight_search.api.app import create_app
    from insight_search.memory import limit_arenas

    limit_arenas()
    return create_app(settings)


class _Replica:
    """One replica: the ASGI app ``serve.ingress`` gives it is the whole of it."""


def start_replicas(
    settings: Settings,
    replicas: int,
    *,
    app_builder: AppBuilder | None = None,
    replica_cpus: float = REPLICA_CPUS,
    proxy_location: str = "EveryNode",
) -> str:
    """Deploy ``replicas`` replicas of the API on the connected Ray cluster, listening on
    ``settings.host:settings.port`` (on every node, or only the head with ``proxy_location="HeadOnly"``).
    Returns the base URL once every replica is up (their lifespans ran: the index is loaded). Raises
    ClusterError when the deployment fails (e.g. a replica cannot open the index)."""
    ray = import_ray()
    from ray import serve

    def default_builder() -> Any:
        return build_app(settings)

    # A plain function: Ray Serve calls a function to build the app, and takes any other callable (a
    # functools.partial too) for the ASGI app itself.
    builder = app_builder or default_builder
    deployment = serve.deployment(
        name=APP_NAME, num_replicas=replicas, ray_actor_options={"num_cpus": replica_cpus}
    )(serve.ingress(builder)(_Replica))
    try:
        serve.start(
            proxy_location=proxy_location,
            http_options={"host": settings.host, "port": settings.port},
        )
        serve.run(deployment.bind(), name=APP_NAME, route_prefix="/")
    except (ray.exceptions.RayError, RuntimeError) as exc:
        raise ClusterError(f"the Ray Serve deployment failed: {describe_failure(exc)}") from exc
    return f"http://{settings.host}:{settings.port}"


def stop_replicas() -> None:
    """Remove the deployment and Ray Serve's proxy and controller."""
    from ray import serve

    serve.shutdown()


def serve_until_stopped(stop: threading.Event | None = None, poll_s: float = 1.0) -> None:
    """Block until ``stop`` is set or the process is interrupted (Ctrl-C), then stop the replicas."""
    stop = stop or threading.Event()
    try:
        while not stop.wait(poll_s):
            pass
    except KeyboardInterrupt:
        logger.info("stopping the replicas")
    finally:
        stop_replicas()


def serve_on_ray(
    settings: Settings,
    address: str,
    replicas: int,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """``insight-search serve --ray ADDRESS --replicas N``: connect, deploy the replicas over
    ``settings.index_dir`` (IndexNotFound first when it holds no index), call ``on_ready`` with the URL,
    and serve until stopped."""
    if store.read_manifest(settings.index_dir) is None:
        raise IndexNotFound(f"no index in {settings.index_dir}: run `insight-search index PATH...`")
    with connected(address):
        url = start_replicas(settings, replicas)
        if on_ready:
            on_ready(url)
        serve_until_stopped(stop)
