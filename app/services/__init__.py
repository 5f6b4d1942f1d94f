"""The use cases: run a command in one transaction (load the stream -> decide -> append ->
project), and the jobs: the deadline job (``deadlines``). The API, the CLI and the demo all
come through here.

May import: ``app.domain``, ``app.runtime``, ``app.events``.
"""
