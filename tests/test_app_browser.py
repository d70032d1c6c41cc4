"""End to end: ``asdsim app`` on a free localhost port, driven in headless Chromium.

The app is the one a user gets: a wheel of this checkout installed (not editable) in a fresh
virtual environment outside the source tree (tests/installed.py), started from another folder,
so the test also shows the scenario library travels with the package.

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs both) are driven through
Selenium with the driver's path given, so nothing is downloaded. Skipped, with the reason, where
either is missing. The server is started in its own process group and stopped at the end of the
module whatever happens.

``ASDSIM_UPDATE_SCREENSHOT=1`` also writes the screenshot, reduced, to docs/app.png.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("streamlit", reason="the app extra is not installed (pip install asdsim[app])")

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

import asdsim  # noqa: E402
from asdsim.analysis.bottleneck import describe_bottleneck  # noqa: E402
from asdsim.reporting.summary import summarise_design  # noqa: E402
from asdsim.scenario.library import shipped_scenarios  # noqa: E402
from tests.installed import installed  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
REPLICATIONS = 2
NEW_WTE = 2.0  # school_age_mdt psychologist, from 1.65

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(DRIVER is None,
                       reason="chromedriver is not installed (apt-get install chromium-driver)"),
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``asdsim app`` of the installed wheel on 127.0.0.1 and a free port; killed with its
    workers at the end."""
    app = installed().asdsim
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"ASDSIM_APP_WORKERS": "2"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [app, "app", "--host", "127.0.0.1",
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, cwd=tmp_path_factory.mktemp("cwd"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"asdsim app did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (the server, its forkserver and workers): TERM, then KILL."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[webdriver.Chrome, Path]]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f"chromium could not be started by chromedriver: {exc.msg}")
    try:
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        yield driver, downloads
    finally:
        driver.quit()


def wait_for(what: str, check, timeout: float = 120.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except WebDriverException:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def element(driver: webdriver.Chrome, css: str):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found and found[0].is_displayed() else None


def click(driver: webdriver.Chrome, css: str, what: str, timeout: float = 120.0) -> None:
    """Click an element once it is shown (the page reruns and redraws as it goes)."""
    def attempt() -> bool:
        found = element(driver, css)
        if found is None:
            return False
        found.click()
        return True

    wait_for(what, attempt, timeout)


def type_number(driver: webdriver.Chrome, key: str, value: float | int) -> None:
    """Type into a number input found by its widget key, and commit it as a user would."""
    def attempt() -> bool:
        box = element(driver, f".st-key-{key} input")
        if box is None:
            return False
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(value), Keys.ENTER)
        return True

    wait_for(key, attempt)
    wait_for(f"{key} = {value}", lambda: float(element(driver, f".st-key-{key} input")
                                               .get_attribute("value")) == float(value))


def test_pick_change_run_check_the_summary_download_and_screenshot(server, browser):
    driver, downloads = browser
    driver.get(server)
    wait_for("the page", lambda: element(driver, ".st-key-run button"), timeout=180)
    # the title comes first: no stray text above it (Streamlit shows a bare string literal)
    main = driver.find_element(By.CSS_SELECTOR, "[data-testid=stMain]").text.strip()
    assert main.startswith("Autism assessment pathway: what would change the waits?"), main[:200]
    # every shipped scenario is offered (the installed library), then pick nice_mdt
    click(driver, ".st-key-scenario input", "the scenario box")
    offered = wait_for("the scenario list", lambda: [
        o.text.strip() for o in driver.find_elements(By.CSS_SELECTOR, "[role=option]")])
    assert sorted(offered) == sorted(shipped_scenarios()), offered
    option = wait_for("the scenario list", lambda: next(
        (o for o in driver.find_elements(By.CSS_SELECTOR, "[role=option]")
         if o.text.strip() == "nice_mdt"), None))
    option.click()
    wait_for("nice_mdt", lambda: element(driver, ".st-key-scenario input")
             .get_attribute("value") == "nice_mdt")
    wait_for("its levers", lambda: element(
        driver, ".st-key-lever-wte-school_age_mdt-psychologist input"))
    type_number(driver, "lever-wte-school_age_mdt-psychologist", NEW_WTE)
    wait_for("the change named", lambda: "school_age_mdt psychologist: 1.65 to 2 WTE"
             in driver.find_element(By.TAG_NAME, "body").text)
    type_number(driver, "replications", REPLICATIONS)
    wait_for("run enabled", lambda: element(driver, ".st-key-run button").is_enabled())
    click(driver, ".st-key-run button", "Run")
    summary = wait_for("the summary", lambda: (e := element(driver, ".st-key-summary"))
                       and "NICE MDT (edited)" in e.text and e, timeout=900, every=2)
    shown = summary.text

    # the summary's figures are those of asdsim.simulate with the same inputs
    base = asdsim.load_scenario(REPO / "scenarios" / "nice_mdt.yaml")
    data = base.model_dump(mode="json")
    data["teams"]["school_age_mdt"]["staff"]["psychologist"]["wte"] = NEW_WTE
    data["name"] = "NICE MDT (edited)"
    edited = asdsim.scenario_from_dict(data)
    for scenario in (base, edited):
        res = asdsim.simulate(scenario, replications=REPLICATIONS, seed=asdsim.DEFAULT_SEED,
                              jobs=2)
        design = summarise_design(scenario.name, res.kpis, scenario)
        assert design.figures
        for figure in design.figures:
            assert figure.text in shown, (scenario.name, figure.kpi, figure.text, shown)
    # and says where children pile up, as the run's own summary does
    _, pile_up = describe_bottleneck(res.patients, 7.0 * edited.horizon_weeks)
    assert pile_up in shown, (pile_up, shown)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Compared with the base scenario, NICE MDT" in body
    assert body.index("In short") < body.index("Compared with the base scenario")

    # the edited scenario downloads as YAML that asdsim loads (and so runs)
    click(driver, ".st-key-dl_yaml button", "the YAML download")
    yaml_file = wait_for("the YAML download", lambda: next(
        (p for p in downloads.glob("*.yaml") if p.stat().st_size > 0), None), timeout=60)
    time.sleep(0.5)  # let the browser finish writing
    loaded = asdsim.load_scenario(yaml_file)
    assert loaded.name == "NICE MDT (edited)"
    assert loaded.teams["school_age_mdt"].staff["psychologist"].wte == NEW_WTE
    assert asdsim.scenario_hash(loaded) == asdsim.scenario_hash(edited)

    # a screenshot of the answer that is not blank
    heading = driver.find_element(By.XPATH, "//h2[contains(., 'Answer')]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", heading)
    time.sleep(1.0)
    png = driver.get_screenshot_as_png()
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    stat = ImageStat.Stat(image)
    assert image.size[0] >= 800 and stat.stddev[0] > 20, "the screenshot is blank"
    dark = sum(image.histogram()[:128]) / (image.size[0] * image.size[1])
    assert dark > 0.005, "the screenshot has no text"
    if os.environ.get("ASDSIM_UPDATE_SCREENSHOT") == "1":
        # the documentation's picture: the charts under the answer, in a taller window
        charts = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stVegaLiteChart']")
        driver.set_window_size(1280, 2200)
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});",
                              charts[0] if charts else heading)
        time.sleep(1.5)
        png = driver.get_screenshot_as_png()
        small = Image.open(io.BytesIO(png)).convert("RGB")
        small = small.resize((small.width * 3 // 4, small.height * 3 // 4), Image.LANCZOS)
        small.quantize(colors=64).save(REPO / "docs" / "app.png", optimize=True)
