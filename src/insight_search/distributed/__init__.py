"""Scaling out on Ray (the optional ``[ray]`` extra): ``build`` runs reading, chunking and embedding of an
index build on a Ray cluster and streams the results into the local index writer; ``serve`` runs the API as
a Ray Serve deployment with several replicas over one index folder. Nothing here imports ray at import time:
``import ray`` happens only when a command is given ``--ray``."""
