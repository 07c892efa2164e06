"""The lessons in a real browser: JupyterLab + headless Chromium, driven by Playwright.

For every ``notebooks/NN_*.ipynb``: open it, check that it renders (every cell shown, no
error or stderr output, the saved SVG pictures drawn) and take a screenshot. For lesson 07
also: Run All from the menu, wait for the app, type a message, press "Run workflow" and
wait for the reply and a DAG with completed nodes. Screenshots land in
``tests/artifacts/browser/`` (git-ignored): look at them.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install -y chromium``; never
``playwright install``). Without it the test is skipped, or fails when ``CI`` is set.

JupyterLab gets its own settings, workspace, checkpoint, data and runtime folders in a
temporary directory (no news, no update check, no autosave, every cell rendered), so it
neither reads nor changes the user's setup and writes nothing into notebooks/; the test
checks that lesson 07, which it runs, is byte-identical afterwards. Each lesson is
*trusted* in that private data folder just before it is opened: JupyterLab shows an
untrusted notebook's SVG outputs as their text fallback (a freshly cloned lesson shows
its pictures only once its cells run or the notebook is trusted).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 1000}
TALL = {"width": 1440, "height": 1800}
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
APP_LESSON = NOTEBOOKS / "07_whole_workflow_and_app.ipynb"
SVG_OUTPUT = '.jp-OutputArea-output[data-mime-type="image/svg+xml"]'
STDERR_OUTPUT = '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'
# The app (support_lib/app.py): its text box, found by placeholder, and its button.
APP_TEXTAREA = 'textarea[placeholder="Type what the customer wrote…"]'
APP_BUTTON = 'button.widget-button:has-text("Run workflow")'
APP_MESSAGE = (
    "Hi, I'm Priya. I'm choosing between the HomeHub Mini and the HomeHub Max for a small "
    "flat. Which one would you recommend?"
)

# JupyterLab user settings: no popups or toasts, no autosave, render every cell.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}


def need_browser() -> None:
    """Skip with a reason when the browser tools are missing; in CI, fail instead."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (install it with: apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {problem}")
        pytest.skip(f"browser test skipped: {problem}")


def trust(paths: list[Path], data_dir: Path) -> None:
    """Sign the lessons in the private data dir (the files themselves are not touched)."""
    from nbformat.sign import NotebookNotary

    data_dir.mkdir(parents=True, exist_ok=True)
    notary = NotebookNotary(data_dir=str(data_dir))
    for path in paths:
        notary.sign(nbformat.read(path, as_version=4))


class Lab:
    """A JupyterLab server in its own process group, with private folders.

    It picks its own port (``--port=0``) and the test reads it back from the server's info
    file: a port chosen here and handed over would stay free only until something else on
    the machine took it, and JupyterLab would then quietly move to another. Its kernels use
    Unix sockets for the same reason (see the repository's ``conftest.py``)."""

    def __init__(self, tmp: Path, unix_socket_kernels: bool):
        self.tmp = tmp
        self.url = ""  # known once the server has written its info file
        settings = tmp / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        self.env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        }
        for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_KIT_MODEL"):
            self.env.pop(key, None)  # the lessons run offline, as in nbval
        self.data_dir = tmp / "data"
        self.command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--LabApp.news_url=None",
            "--ServerApp.ip=127.0.0.1",
            "--port=0",
            f"--ServerApp.root_dir={NOTEBOOKS}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
            f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",  # not in notebooks/
            "--LabApp.expose_app_in_browser=True",
        ]
        if unix_socket_kernels:
            self.command.append("--KernelManager.transport=ipc")
        self.log_path = tmp / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kernels stop with it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log()}")
            if not self.url:
                self.url = self.served_url()
                if not self.url:
                    time.sleep(0.2)
                    continue
            try:
                with urllib.request.urlopen(self.url + "/api/status", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log()}")

    def served_url(self) -> str:
        """The server's address from its info file (``jpserver-<pid>.json``), once written."""
        info = self.tmp / "runtime" / f"jpserver-{self.proc.pid}.json"
        try:
            return f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
        except (OSError, ValueError, KeyError):
            return ""  # not written yet, or half-written

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory, kernels_on_unix_sockets):
    need_browser()
    if not LESSONS:
        pytest.skip("no lesson notebooks yet")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    server = Lab(tmp, unix_socket_kernels=kernels_on_unix_sockets(tmp / "runtime"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(90_000)  # waits for states; generous for a busy machine
            page.goto(lab.url + "/lab?reset")
            page.wait_for_selector("#jp-main-dock-panel", state="visible")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands")
            page.evaluate("async () => { await window.jupyterapp.restored; }")
            yield page
        finally:
            browser.close()


def run_command(page, command: str, args: dict | None = None) -> None:
    """Execute a JupyterLab command (what a menu item or shortcut does) and await it."""
    page.evaluate(
        "async ([command, args]) => { await window.jupyterapp.commands.execute(command, args); }",
        [command, args or {}],
    )


def open_notebook(page, name: str, cells: int):
    """Close every tab, open one notebook with JupyterLab's own command, wait until all
    its cells are in the page, and return the notebook panel."""
    run_command(page, "application:close-all")
    # A notebook opened under another Python than the one that saved it (3.13, saved by
    # 3.11) gets new language_info from its kernel, so JupyterLab asks whether to save it.
    # The test never saves a lesson: it answers "Discard", and waits until no panel is left.
    panels, discard = page.locator(".jp-NotebookPanel"), page.locator(".jp-Dialog .jp-mod-warn")
    deadline = time.monotonic() + 90
    while panels.count():
        if discard.count() and discard.first.is_visible():
            discard.first.click()
        assert time.monotonic() < deadline, "the open notebooks did not close within 90 s"
        page.wait_for_timeout(100)
    run_command(page, "docmanager:open", {"path": name})
    panel = page.locator(".jp-NotebookPanel").first
    panel.locator(".jp-Cell").nth(cells - 1).wait_for(state="attached")
    accept_kernel_dialog(page)
    return panel


def snapshot(page, element, name: str) -> None:
    """Scroll an element to the top of the notebook and screenshot the window."""
    element.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)  # let lazy SVG images paint
    page.screenshot(path=str(ARTIFACTS / name))


def shutdown_kernels(page) -> None:
    """Stop every kernel this page started (opening a notebook starts one)."""
    page.evaluate("async () => { await window.jupyterapp.serviceManager.sessions.shutdownAll(); }")


def accept_kernel_dialog(page) -> None:
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        page.locator(".jp-Dialog button.jp-mod-accept").first.click()


RUN_ALL_LIMIT_S = 300
CURRENT_KERNEL = """() => {
    const widget = window.jupyterapp.shell.currentWidget;
    const kernel = widget?.sessionContext?.session?.kernel;
    return kernel ? kernel.status : 'none';
}"""


def kernel_status(page) -> str:
    """The status of the current notebook's kernel ('idle', 'busy', 'starting'...), or 'none'."""
    return page.evaluate(CURRENT_KERNEL)


def wait_for_idle_kernel(page, limit_s: float = RUN_ALL_LIMIT_S) -> None:
    """Wait until the open notebook's kernel has started and is idle, accepting a "Select
    Kernel" dialog if one comes up meanwhile.

    Why: Run All clicked while the kernel is still being chosen or started can run nothing
    (the once-seen 300 s hang under load fits that); a learner, too, sees the kernel become
    idle before running. This waits for that state, never a fixed time."""
    deadline = time.monotonic() + limit_s
    while kernel_status(page) != "idle":
        accept_kernel_dialog(page)
        assert time.monotonic() < deadline, f"kernel still {kernel_status(page)} after {limit_s} s"
        page.wait_for_timeout(250)


def prompts(panel) -> str:
    """The cells' execution prompts in a short form ("[1] [2] [*] [ ] ..."), for messages."""
    texts = panel.locator(".jp-InputPrompt").all_inner_texts()
    return " ".join(t.strip() or "[ ]" for t in texts)[:400]


def saved_svg_outputs(nb) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/svg+xml" in out.get("data", {})
    )


def check_rendered(panel, nb, name: str) -> None:
    cells = panel.locator(".jp-Cell")
    assert cells.count() == len(nb.cells), f"{name}: {cells.count()} of {len(nb.cells)} cells shown"
    expected_svgs = saved_svg_outputs(nb)
    if expected_svgs:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        last_image = panel.locator(f"{SVG_OUTPUT} img").nth(expected_svgs - 1)
        with contextlib.suppress(PlaywrightTimeout):  # the count below says what is missing
            last_image.wait_for(state="attached", timeout=30_000)
    shown = panel.locator(SVG_OUTPUT).count()
    assert shown == expected_svgs, f"{name}: {shown} of {expected_svgs} SVG outputs drawn"
    broken = panel.locator(f"{SVG_OUTPUT} img").evaluate_all(
        "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length"
    )
    assert broken == 0, f"{name}: {broken} SVG image(s) did not load"
    stderr = panel.locator(STDERR_OUTPUT).all_inner_texts()
    assert not stderr, f"{name}: error/stderr output shown: {stderr[0][:500]}"
    assert panel.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_renders(page, lab, path):
    nb = nbformat.read(path, as_version=4)
    trust([path], lab.data_dir)  # just before opening: lessons may be re-executed meanwhile
    panel = open_notebook(page, path.name, len(nb.cells))
    check_rendered(panel, nb, path.name)
    page.screenshot(path=str(ARTIFACTS / f"{path.stem}.png"))
    svgs = panel.locator(SVG_OUTPUT)
    if svgs.count():  # the first picture, in a window tall enough for a whole DAG
        page.set_viewport_size(TALL)
        snapshot(page, svgs.first, f"{path.stem}_first_svg.png")
        page.set_viewport_size(VIEWPORT)
    shutdown_kernels(page)


@pytest.mark.skipif(not APP_LESSON.exists(), reason="lesson 07 is not written yet")
def test_lesson_07_runs_and_the_app_answers(page, lab):
    before = APP_LESSON.read_bytes()
    nb = nbformat.read(APP_LESSON, as_version=4)
    trust([APP_LESSON], lab.data_dir)
    panel = open_notebook(page, APP_LESSON.name, len(nb.cells))
    wait_for_idle_kernel(page)
    page.locator("#jp-menu-panel, .lm-MenuBar").first.wait_for()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()

    # A "Select Kernel" dialog may appear at any moment, and the lesson may finish before a
    # queued "[*]" is ever seen, so wait for what only a live kernel produces: the app's
    # text box. Then wait until no prompt shows a star (every queued cell has run).
    # The limits are generous on purpose: on 2 cores shared with another test suite, Run All
    # once took over 60 s to start the kernel and reach the app (a waited-for state, so a
    # long limit costs nothing when things are quick).
    textarea = panel.locator(APP_TEXTAREA)
    deadline = time.monotonic() + RUN_ALL_LIMIT_S
    while not textarea.count():
        accept_kernel_dialog(page)
        late = time.monotonic() >= deadline
        if late:  # keep what the page showed: this once happened under load, cause unknown
            page.screenshot(path=str(ARTIFACTS / "07_run_all_timed_out.png"), full_page=True)
        assert not late, (
            f"Run All did not bring the app to life in {RUN_ALL_LIMIT_S} s; "
            f"kernel {kernel_status(page)}, prompts {prompts(panel)}"
        )
        page.wait_for_timeout(250)
    page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-InputPrompt')]
                  .some(p => p.textContent.includes('*'))""",
        timeout=RUN_ALL_LIMIT_S * 1000,
    )
    assert not panel.locator(STDERR_OUTPUT).all_inner_texts()

    textarea.wait_for(state="visible")
    app = panel.locator(".widget-vbox", has=page.locator(APP_TEXTAREA)).last
    page.set_viewport_size(TALL)  # the app is taller than a laptop screen
    snapshot(page, app, "07_app_after_run_all.png")

    textarea.fill(APP_MESSAGE)
    textarea.blur()  # ipywidgets syncs the text box on input and on blur
    app.locator(APP_BUTTON).click()

    # the reply tab shows the new answer, the status line says done, the DAG is finished
    app.locator(".widget-tab .widget-html pre", has_text="Hi Priya").first.wait_for()
    status = app.locator(".widget-html", has_text="Done in").first
    status.wait_for()
    assert "product" in status.inner_text(), status.inner_text()
    app.locator('g.skdag-node.skdag-completed[data-node="log_interaction"]').wait_for(
        state="attached"
    )
    assert app.locator("g.skdag-node.skdag-completed").count() >= 10
    assert app.locator("g.skdag-node.skdag-running").count() == 0
    from playwright.sync_api import expect

    expect(app.locator(APP_BUTTON)).to_be_enabled()  # waits for that state, not a fixed time
    assert panel.locator(STDERR_OUTPUT).count() == 0
    snapshot(page, app, "07_app_after_click.png")

    for tab in ("Nodes", "Metrics", "Timeline"):
        app.locator(".widget-tab .lm-TabBar-tab", has_text=tab).click()
        tabs = app.locator(".widget-tab").first
        tabs.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"07_app_tab_{tab.lower()}.png"))
    page.set_viewport_size(VIEWPORT)
    shutdown_kernels(page)
    assert APP_LESSON.read_bytes() == before, "JupyterLab saved lesson 07"
