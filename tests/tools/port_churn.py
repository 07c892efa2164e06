"""Hold many short-lived loopback ports, as a second test suite on the machine does.

    python tests/tools/port_churn.py &        # for ten minutes, or until killed
    python -m pytest notebooks/00_setup_and_tour.ipynb notebooks/03_routing.ipynb --noconftest

Why: jupyter_client chooses a kernel's five TCP ports by binding and closing them, and the
kernel binds them again a second later. Beside this script, some kernels find a port
taken and die ("Kernel died before replying to kernel_info"): measured 3 of 15 kernel
starts, and a whole lesson lost in 3 of 7 nbval runs of three lessons. With the
repository's ``conftest.py`` (``--noconftest`` left out) nbval's kernels use Unix sockets:
none died in 4 such runs. Used to find that cause; no test runs it.
"""

from __future__ import annotations

import collections
import socket
import time

HELD_AT_ONCE = 4000
HELD_SECONDS = 3.0


def main(minutes: float = 10.0) -> None:
    held: collections.deque[tuple[float, socket.socket]] = collections.deque()
    end = time.monotonic() + 60 * minutes
    while time.monotonic() < end:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        held.append((time.monotonic(), sock))
        while held and (len(held) > HELD_AT_ONCE or time.monotonic() - held[0][0] > HELD_SECONDS):
            held.popleft()[1].close()
        time.sleep(0.0005)


if __name__ == "__main__":
    main()
