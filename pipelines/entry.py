"""The `fengqiao` executable: the collector's run thresholds set before the command line's code is
imported (a demo `score` imports in 2.4 s with them, 3.0 s with Python's: each collection while modules
load traverses every object loaded so far), then the command line."""

from __future__ import annotations

import gc

# The collector's thresholds while a command loads and works: a young collection after 10,000 new container
# objects (Python's default: 700), the older generations as before relative to it. A demo `score`, 4
# interleaved runs each, thresholds set once its code was loaded: Python's thresholds, nothing frozen
# 9.31 s; imports frozen (`cli_base.ready_to_run`), Python's thresholds about 8.85 s; frozen and these
# 8.30 s; frozen and (50,000, 20, 20) 8.20 s, which keeps cyclic garbage 20 times longer.
RUN_GC_THRESHOLDS = (10_000, 10, 10)


def main() -> None:
    """Run the command line with `RUN_GC_THRESHOLDS` from its first import on."""
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    from pipelines.cli import app

    app()
