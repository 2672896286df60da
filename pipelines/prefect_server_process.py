"""The shared local Prefect server's process (`python -m pipelines.prefect_server_process`): Prefect's API, as
its temporary server runs it, that ends by itself once no command using it is alive and nobody has called
it for `--idle-seconds`. Started by `pipelines.prefect_shared_server`."""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from pipelines.prefect_shared_server import live_clients, lock_of, read_record

CHECK_EVERY_SECONDS = 2.0

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class IdleWatch:
    """Knows when the server was last called, and ends it once idle with no command alive."""

    def __init__(self, folder: Path, idle_seconds: float) -> None:
        self.folder = folder
        self.idle_seconds = idle_seconds
        self.last_call = time.monotonic()

    def wrap(self, app: App) -> App:
        """`app`, noting the time of every HTTP call."""

        async def watched(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.last_call = time.monotonic()
            await app(scope, receive, send)

        return watched

    def should_end(self) -> bool:
        """Idle long enough and no command alive that uses the server; when so, the record is removed (if it
        is still this process's) so that the next command starts a new server."""
        if time.monotonic() - self.last_call < self.idle_seconds:
            return False
        with lock_of(self.folder):
            if live_clients(self.folder):
                return False
            record = read_record(self.folder)
            if record is not None and record.pid == os.getpid():
                (self.folder / "server.json").unlink(missing_ok=True)
            return True

    def run(self, server: Any) -> None:
        """Check until the server should end, then ask uvicorn's `server` to exit."""
        while not server.should_exit:
            time.sleep(CHECK_EVERY_SECONDS)
            if self.should_end():
                server.should_exit = True


# Prefect's settings for this server where the user set none: as the temporary server runs it (no UI, no
# services), and without filling the database with Prefect's catalogue of block types at its first start
# (2.2 s of a new Prefect home's 11.3 s start on 2 cores): with no UI nothing lists them, Fengqiao uses no
# block, and a block saved from code registers its own type.
SERVER_DEFAULTS = {"PREFECT__SERVER_EPHEMERAL": "1", "PREFECT_API_BLOCKS_REGISTER_ON_START": "false"}


def server_defaults(environ: MutableMapping[str, str]) -> None:
    """Put `SERVER_DEFAULTS` in the environment, a variable the user set winning."""
    for name, value in SERVER_DEFAULTS.items():
        environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True, help="the shared server's folder")
    parser.add_argument("--idle-seconds", type=float, required=True)
    args = parser.parse_args(argv)
    server_defaults(os.environ)
    import uvicorn
    from prefect.server.api.server import create_app

    from pipelines.prefect_database import prepare_database

    prepare_database()  # a new Prefect home's database copied from a kept, migrated one

    watch = IdleWatch(args.state, args.idle_seconds)
    app = watch.wrap(create_app(final=True))
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="error")
    server = uvicorn.Server(config)
    threading.Thread(target=watch.run, args=(server,), name="idle-watch", daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
