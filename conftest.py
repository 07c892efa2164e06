"""pytest set-up for the whole repository (unit tests in tests/ and nbval on notebooks/).

Its one job: nbval's kernels talk to pytest over Unix sockets, not TCP ports, on Linux.

Why: jupyter_client picks five free TCP ports for a kernel by binding and closing them, and
the kernel binds them again a second or so later, once Python has started. When another
process takes one of those ports in between (a second test suite on the same machine, with
its servers and thousands of connections), the kernel exits and nbval fails every cell of
that notebook with "Kernel died before replying to kernel_info". Measured here: with a
process holding many short-lived loopback ports beside it, 3 of 15 kernel starts died over
TCP and 0 of 15 over Unix sockets (``transport="ipc"``, whose socket files are named after
the kernel's own connection file, so nothing can take them). Other systems keep TCP: Windows
has no Unix sockets for ZeroMQ, and macOS allows shorter socket paths than Jupyter's runtime
folder may need.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from jupyter_core.paths import jupyter_runtime_dir


def unix_sockets_work(runtime_dir: str | Path) -> bool:
    """Can kernels whose runtime folder is ``runtime_dir`` use Unix sockets here? Only on
    Linux, and only if "<runtime_dir>/kernel-<36-character id>-ipc-<n>" fits in the 107
    bytes Linux allows a socket path."""
    longest = len(str(runtime_dir).encode()) + len("/kernel-") + 36 + len("-ipc-99")
    return sys.platform.startswith("linux") and longest < 108


class UnixSocketKernelManager(KernelManager):
    """A kernel manager whose kernels listen on Unix sockets instead of loopback ports.

    The sockets' path is made absolute: jupyter_client's default ("kernel-ipc") is relative,
    and nbval starts the kernel in the notebook's folder, not in pytest's."""

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", **kwargs)
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        self.ip = str(runtime / f"kernel-{uuid.uuid4()}-ipc")


def pytest_configure(config) -> None:
    if unix_sockets_work(jupyter_runtime_dir()):
        import nbval.kernel

        nbval.kernel.KernelManager = UnixSocketKernelManager


@pytest.fixture(scope="session")
def kernels_on_unix_sockets():
    """:func:`unix_sockets_work`, for tests that start a Jupyter server of their own."""
    return unix_sockets_work
