"""`residents-bot demo` as a user runs it, and its web chat page driven in headless Chromium.

One demo process serves the whole module (seeding takes ~15 s); the tests run in file order and the
last one stops it with Ctrl-C and starts it again with --keep while the page stays open.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.demo import BUILDING_CHATS, STAFF_CHAT

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The README's picture is refreshed only on request (UPDATE_SCREENSHOT=1), so a test run leaves the tree clean.
SCREENSHOT = (
    ROOT / "docs" / "screenshot-demo.png"
    if os.environ.get("UPDATE_SCREENSHOT")
    else Path(tempfile.gettempdir()) / "residents-bot-screenshot-demo.png"
)
RESIDENT = 1001  # 张大爷, 3栋
VOLUNTEER = 4001  # 李明
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
INSTALL_HINT = (
    "the browser test needs Chromium and its driver: apt-get install chromium chromium-driver "
    "(and Selenium: .venv/bin/pip install -e '.[dev]')"
)


@dataclass
class DemoProcess:
    """A running `residents-bot demo` with its output collected line by line."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line of output (stdout, then stderr) matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in [*self.lines, *self.errors]:
                found = re.search(pattern, line)
                if found:
                    return found
            if self.process.poll() is not None and not self._readers_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r}; stdout={self.lines} stderr={self.errors[-20:]}")

    def _readers_alive(self) -> bool:
        """True while output may still arrive."""
        return any(t.is_alive() for t in threading.enumerate() if t.name.startswith("demo-reader"))

    def interrupt(self, timeout: float = 30) -> int:
        """Press Ctrl-C and wait for the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)


def start_demo(cwd: Path, *args: str) -> DemoProcess:
    """Start `residents-bot demo` the way a user does, in ``cwd`` (its ./data is the demo's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL")}
    process = subprocess.Popen(
        [str(BIN / "residents-bot"), "demo", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )
    demo = DemoProcess(process)
    for stream, sink in ((process.stdout, demo.lines), (process.stderr, demo.errors)):
        threading.Thread(target=_pump, args=(stream, sink), name="demo-reader", daemon=True).start()
    return demo


def _pump(stream: Any, sink: list[str]) -> None:
    """Collect a stream's lines as they come."""
    for line in stream:
        sink.append(line.rstrip("\n"))


def get_json(url: str) -> Any:
    """GET a /_sim/ endpoint and return its result."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["result"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the demo runs in."""
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def demo(workdir: Path) -> Iterator[tuple[DemoProcess, str]]:
    """One demo on a free port, ready (its history played); yields it and its URL."""
    running = start_demo(workdir, "--port", "0")
    try:
        running.wait_for(r"Demo ready", timeout=90)
        url = running.wait_for(r"(http://127\.0\.0\.1:\d+)/").group(1)
        yield running, url
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through Selenium and Debian's chromedriver; skipped (failed under CI) without them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        chromium = None
    if chromium is None or driver_path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    import tempfile

    profile = tempfile.mkdtemp(prefix="demo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1400,860")
    options.add_argument("--lang=zh-CN")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------------------- the process


def test_demo_prints_its_url_and_serves_the_page_and_the_seeded_community(demo: tuple[DemoProcess, str]) -> None:
    _, url = demo
    request = urllib.request.Request(url + "/", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode("utf-8")
    assert "/web/app.js" in page and "我是" in page
    people = get_json(url + "/_sim/people")
    labels = {p["user"]["first_name"]: p["label"] for p in people}
    assert labels["王芳"] == "3栋 · 楼栋长" and labels["李明"] == "值班志愿者"
    titles = {c.get("title") for c in get_json(url + "/_sim/chats")}
    assert {"1栋业主群", "2栋业主群", "3栋业主群", "4栋业主群", "值班群"} <= titles
    staff_texts = [m.get("text", "") for m in get_json(f"{url}/_sim/messages?chat_id={STAFF_CHAT}")]
    assert any("已办结 #1" in t for t in staff_texts), staff_texts
    admin_status = get_json(f"{url}/_sim/messages?chat_id=-1001000000202")[-1]["text"]
    assert "幸福里社区" in admin_status


def test_a_second_demo_on_the_same_port_says_so_clearly(demo: tuple[DemoProcess, str], tmp_path: Path) -> None:
    running, url = demo
    port = url.rsplit(":", 1)[1]
    second = start_demo(tmp_path, "--port", port)
    assert second.process.wait(30) == 1
    second.wait_for(rf"port {port} is already in use by another demo", timeout=5)
    assert any(f"--port {int(port) + 1}" in line for line in second.errors), second.errors
    assert not (tmp_path / "data").exists()  # it touched nothing
    assert running.process.poll() is None  # and the first one still runs


# ---------------------------------------------------------------------------------------- the page


def until(driver: Any, what: Callable[[Any], Any], timeout: float = 20, message: str = "") -> Any:
    """Wait until ``what(driver)`` is truthy, tolerating elements the page re-rendered meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
        what, message
    )


def be(driver: Any, user_id: int) -> None:
    """Pick who I am."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "me")).select_by_value(str(user_id))


def open_chat(driver: Any, chat_id: int) -> None:
    """Click a chat in the list."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f'.chat-item[data-chat-id="{chat_id}"]').click()
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".chat-item.active").get_attribute("data-chat-id") == str(chat_id))


def write(driver: Any, text: str) -> None:
    """Type a message and send it."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "composer-text")
    until(driver, lambda d: box.is_enabled())
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()


def bot_message(driver: Any, pattern: str, button: str | None = None, timeout: float = 20) -> Any:
    """The newest bot message on screen whose text matches ``pattern`` (and carries ``button``)."""
    from selenium.webdriver.common.by import By

    def find(d: Any) -> Any:
        for message in reversed(d.find_elements(By.CSS_SELECTOR, ".msg.bot")):
            text = message.find_element(By.CSS_SELECTOR, ".bubble > .text").text
            if re.search(pattern, text) and (button is None or buttons_of(message).get(button)):
                return message
        return False

    return until(driver, find, timeout, f"no bot message matching {pattern!r} with button {button!r}")


def buttons_of(message: Any) -> dict[str, Any]:
    """The inline buttons of a rendered message, by label."""
    from selenium.webdriver.common.by import By

    return {b.text: b for b in message.find_elements(By.CSS_SELECTOR, ".kb button")}


def test_resident_reports_volunteer_claims_and_resolves_resident_sees_the_echo(
    demo: tuple[DemoProcess, str], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    _, url = demo
    driver = browser
    driver.get(url + "/")
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".chat-item"))
    until(driver, lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "open")

    be(driver, RESIDENT)
    open_chat(driver, BUILDING_CHATS["3栋"])
    write(driver, "3栋电梯坏了")
    card = bot_message(driver, r"已登记 #\d+ · 报修 · 3栋")
    assert "3栋电梯坏了" in card.find_element(By.CSS_SELECTOR, ".quote").text  # it replies to the resident
    number = re.search(r"#(\d+)", card.find_element(By.CSS_SELECTOR, ".bubble > .text").text).group(1)  # type: ignore[union-attr]

    be(driver, VOLUNTEER)
    open_chat(driver, STAFF_CHAT)
    dispatch = bot_message(driver, rf"#{number} · 报修 · 3栋", button="接单")
    buttons_of(dispatch)["接单"].click()
    until(driver, lambda d: "接单成功" in d.find_element(By.ID, "toast").text, message="no toast for the claim")
    claimed = bot_message(driver, rf"#{number} · 报修[\s\S]*已接单（李明）", button="办结")
    buttons_of(claimed)["办结"].click()
    bot_message(driver, rf"李明，请回复本消息.*#{number}")
    until(driver, lambda d: d.find_element(By.ID, "reply-bar").is_displayed(), message="reply not armed")
    write(driver, "已联系电梯公司，电梯已修好")
    bot_message(driver, rf"已办结 #{number}")

    be(driver, RESIDENT)
    open_chat(driver, BUILDING_CHATS["3栋"])
    echo = bot_message(driver, rf"回音 #{number} · 报修 · 3栋[\s\S]*电梯已修好", button="满意")
    assert set(buttons_of(echo)) == {"满意", "基本满意", "不满意"}
    assert "3栋电梯坏了" in echo.find_element(By.CSS_SELECTOR, ".quote").text
    assert driver.find_element(By.ID, "sent").text != "—"  # the limits panel follows the simulator
    SCREENSHOT.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))

    driver.set_window_size(420, 820)  # a phone: the list, then one conversation with a way back
    try:
        driver.find_element(By.ID, "back").click()
        until(driver, lambda d: d.find_element(By.ID, "chat-list").is_displayed())
        open_chat(driver, STAFF_CHAT)
        until(driver, lambda d: not d.find_element(By.ID, "chat-list").is_displayed())
        assert driver.find_element(By.ID, "back").is_displayed()
        bot_message(driver, rf"已办结 #{number}")
    finally:
        driver.set_window_size(1400, 860)


def test_ctrl_c_stops_the_demo_and_an_open_page_reconnects_to_the_kept_demo(
    demo: tuple[DemoProcess, str], workdir: Path, request: pytest.FixtureRequest
) -> None:
    try:
        browser = request.getfixturevalue("browser")
    except pytest.skip.Exception:
        browser = None  # without Chromium this still checks Ctrl-C and --keep, not the page
    else:
        from selenium.webdriver.common.by import By
    running, url = demo
    if browser is not None and not browser.current_url.startswith(url):
        browser.get(url + "/")
    assert running.interrupt() == 0, running.errors[-20:]
    running.wait_for(r"demo stopped")
    if browser is not None:
        until(browser, lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "lost")

    port = url.rsplit(":", 1)[1]
    again = start_demo(workdir, "--port", port, "--keep")
    try:
        again.wait_for(r"Demo ready", timeout=60)
        assert not any("preparing" in line for line in again.lines)  # kept, not seeded again
        messages = get_json(f"{url}/_sim/messages?chat_id={BUILDING_CHATS['1栋']}")
        assert any(m.get("text", "").startswith("回音 #1 ") for m in messages)  # the seeded history is back
        if browser is not None:
            until(browser, lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "open", timeout=30)
            be(browser, RESIDENT)
            open_chat(browser, BUILDING_CHATS["3栋"])
            bot_message(browser, r"回音 #\d+ · 报修 · 3栋", button="满意")  # the kept chat, history and all
    finally:
        assert again.interrupt() == 0, again.errors[-20:]
