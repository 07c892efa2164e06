"""Render the pictures the README shows, from real offline runs.

    python tests/tools/render_pictures.py

Writes notebooks/images/workflow.svg (the DAG after a run that regenerates its reply)
and notebooks/images/timeline.svg (that run's timeline).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from support_lib import arun, kit
from support_lib.draw import dag_svg, timeline_svg

IMAGES = Path(__file__).resolve().parents[2] / "notebooks" / "images"
MESSAGE = (
    "My order #10003 still hasn't arrived after two weeks and nobody answers my emails. "
    "I'm really disappointed."
)


async def main() -> None:
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(key, None)
    server = kit.start_mock()
    await arun("Warm-up: where is my parcel?", mock_url=server.url)  # first-call costs
    server.configure(latency_ms=40, per_token_ms=1)  # so the timeline shows real overlap
    trace = await arun(MESSAGE, mock_url=server.url)
    IMAGES.mkdir(exist_ok=True)
    (IMAGES / "workflow.svg").write_text(dag_svg(trace.graph, trace.to_dict()), encoding="utf-8")
    (IMAGES / "timeline.svg").write_text(timeline_svg(trace.to_dict(), trace.graph), "utf-8")
    server.stop()
    print(f"wrote {IMAGES / 'workflow.svg'} and {IMAGES / 'timeline.svg'}")


if __name__ == "__main__":
    asyncio.run(main())
