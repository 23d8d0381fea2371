"""The console in a real browser: the request's whole scenario, at 1280 px and 390 px wide."""

from __future__ import annotations

import json

import httpx
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.conftest import drgero
from tests.http.test_runs_api import _capital_rows

WAIT = 30
# WCAG 2.1 A and AA: labels, names, contrast, landmarks, focusable controls, valid ARIA.
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(result => done(result.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))))
  .catch(error => done(["axe failed: " + error]));
"""


class Checked:
    """Runs the accessibility checker on each page the scenario reaches."""

    def __init__(self, driver, axe_source: str) -> None:
        self.driver, self.axe, self.pages = driver, axe_source, []

    def __call__(self) -> None:
        self.driver.execute_script(self.axe)
        violations = self.driver.execute_async_script(AXE_RUN)
        assert violations == [], (self.driver.current_url, violations)
        self.pages.append(self.driver.current_url)


def _wait(driver, condition, timeout: float = WAIT):
    # An element read while the next page replaces it is stale: read again on the new page.
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(condition)


def _text(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def _fill(driver, field_id: str, value: str) -> None:
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def _sign_in(driver, server, check=None) -> None:
    link = drgero("console-url", "--workspace", "acme", env=server.env).stdout.strip().splitlines()[-1]
    driver.get(link)
    if check:
        check()
    driver.find_element(By.ID, "continue").click()
    _wait(driver, ready.title_contains("Leaderboards"))


def _create_push_leaderboard(driver, server, check) -> str:
    check()
    driver.find_element(By.LINK_TEXT, "New leaderboard").click()
    check()
    _fill(driver, "f-name", "Capitals in the browser")
    Select(driver.find_element(By.ID, "f-dataset_type")).select_by_value("PUSH")
    _fill(driver, "f-model_prompt", "Name the capital.\n{input}")
    driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    _wait(driver, ready.title_contains("Capitals in the browser"))
    return driver.current_url.rstrip("/").rsplit("/", 1)[1]


def _push_rows(driver, check) -> None:
    driver.find_element(By.LINK_TEXT, "Push dataset").click()
    check()
    assert driver.find_element(By.ID, "quota-today").get_attribute("value") == "0"
    rows = "\n".join(json.dumps({"input": r["input"], "expected": r["expected"]}) for r in _capital_rows())
    driver.find_element(By.ID, "f-rows").send_keys(rows)
    driver.find_element(By.ID, "push-rows").click()
    _wait(driver, ready.presence_of_element_located((By.ID, "push-result")))
    assert driver.find_element(By.ID, "quota-today").get_attribute("value") == "10"
    assert driver.find_element(By.ID, "quota-month").get_attribute("value") == "10"
    driver.find_element(By.ID, "consolidate").click()
    _wait(driver, lambda d: _text(d, "#dataset-version").startswith("1"))


def _add_candidate(driver, name: str, url: str) -> None:
    details = driver.find_element(By.ID, "add-candidate")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    form = details.find_element(By.TAG_NAME, "form")
    form.find_element(By.NAME, "name").send_keys(name)
    Select(form.find_element(By.NAME, "platform")).select_by_value("Custom")
    form.find_element(By.NAME, "model_url").send_keys(url)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver, lambda d: any(e.text == name for e in d.find_elements(By.CSS_SELECTOR, "#candidates th[scope=row]")))


def _run_and_watch(driver, check) -> None:
    driver.find_element(By.ID, "start-run").click()
    _wait(driver, ready.presence_of_element_located((By.CSS_SELECTOR, "[data-run]")))
    driver.execute_script("window.stillTheSamePage = true")
    _wait(driver, lambda d: _text(d, '[data-run] [data-field="status"]') == "completed", timeout=60)
    assert driver.execute_script("return window.stillTheSamePage") is True  # progress came without a reload
    driver.find_element(By.ID, "refresh-ranking").click()
    chart = _wait(driver, ready.presence_of_element_located((By.CSS_SELECTOR, "#ranking-chart svg")))
    assert len(chart.find_elements(By.CSS_SELECTOR, "g.entry")) == 2
    check()


def _filter_failures(driver, check) -> None:
    driver.find_element(By.CSS_SELECTOR, "[data-run] a").click()
    _wait(driver, ready.presence_of_element_located((By.ID, "matrix")))
    assert _text(driver, "#matches") == "10 of 10 rows"
    driver.find_element(By.CSS_SELECTOR, "label[for=filter-failures]").click()
    _wait(driver, lambda d: "filter=failures" in d.current_url)
    assert _text(driver, "#matches") == "9 of 10 rows"
    assert "France" not in _text(driver, "#matrix tbody")
    check()
    driver.find_element(By.CSS_SELECTOR, "#matrix tbody tr a").click()
    _wait(driver, ready.title_contains("Row"))
    check()


def _human_run(server, upstream) -> tuple[str, str]:
    """A human-evaluated leaderboard with a run waiting for scores, arranged through the API."""
    with server.client() as api:
        board = api.post("/api/leaderboards", json={"name": "Human", "dataset_type": "PUSH", "eval_type": "human",
                                                    "system_prompt": "{input}"}).json()["leaderboard"]["id"]
        api.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": _capital_rows()[:2]})
        api.post(f"/v1/leaderboard/{board}/dataset/consolidate")
        for name, behaviour in (("echo", "echo"), ("paris", "const-Paris")):
            api.post(f"/api/leaderboards/{board}/models", json={"name": name, "platform": "Custom",
                                                                "model_url": upstream.model_url(behaviour)})
        run = api.post(f"/api/leaderboards/{board}/run", json={}).json()["id"]
        for _ in range(300):
            if api.get(f"/api/leaderboards/{board}/runs/{run}").json()["status"] == "awaiting_human":
                return board, run
            httpx.Client().close()
            import time  # noqa: PLC0415

            time.sleep(0.1)
    raise AssertionError("the human run never reached awaiting_human")


def _annotate_with_the_keyboard(driver, server, upstream, check) -> None:
    board, run = _human_run(server, upstream)
    driver.get(f"{server.base_url}/leaderboards/{board}/runs/{run}/annotate")
    check()
    for done in range(4):
        _wait(driver, lambda d, n=done: f"{n} of 4 scored" in _text(d, ".quota label"))
        ActionChains(driver).send_keys("5" if done % 2 == 0 else "1").perform()
        ActionChains(driver).send_keys("\ue007").perform()  # Enter
    _wait(driver, ready.presence_of_element_located((By.ID, "annotations-done")))
    assert "4 of 4 scored" in _text(driver, ".quota label")


def _create_and_revoke_a_token(driver, server, check) -> None:
    driver.find_element(By.LINK_TEXT, "Settings").click()
    check()
    _fill(driver, "f-name", "from the browser")
    driver.find_element(By.ID, "create-token").click()
    value = _wait(driver, ready.presence_of_element_located((By.ID, "new-api-token"))).text.strip()
    assert value.startswith("drgero_")
    assert httpx.get(f"{server.base_url}/api/leaderboards", headers={"Authorization": f"Bearer {value}"}
                     ).status_code == 200
    driver.get(f"{server.base_url}/settings")
    assert value not in driver.page_source
    row = driver.find_element(By.XPATH, "//tr[th[text()='from the browser']]")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    _wait(driver, lambda d: "revoked" in d.find_element(By.XPATH, "//tr[th[text()='from the browser']]").text)
    assert httpx.get(f"{server.base_url}/api/leaderboards", headers={"Authorization": f"Bearer {value}"}
                     ).status_code == 401


def _sign_out(driver, server) -> None:
    driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    _wait(driver, ready.title_contains("Sign in"))
    driver.get(f"{server.base_url}/")
    assert "/sign-in" in driver.current_url


def test_the_whole_console_scenario_in_chromium(chromium, console_server, browser_upstream, axe_source):
    driver, check = chromium, Checked(chromium, axe_source)
    driver.set_window_size(1280, 900)
    _sign_in(driver, console_server, check)
    board = _create_push_leaderboard(driver, console_server, check)
    _push_rows(driver, check)
    driver.get(f"{console_server.base_url}/leaderboards/{board}")
    _add_candidate(driver, "always right", browser_upstream.model_url("echo"))
    _add_candidate(driver, "always Paris", browser_upstream.model_url("const-Paris"))
    _run_and_watch(driver, check)
    _filter_failures(driver, check)
    driver.get(f"{console_server.base_url}/leaderboards/{board}/traces")
    check()
    _annotate_with_the_keyboard(driver, console_server, browser_upstream, check)
    _create_and_revoke_a_token(driver, console_server, check)
    _sign_out(driver, console_server)
    check()
    assert len(check.pages) == 11  # every screen the scenario crossed passed the checker


def test_pages_fit_a_390_px_phone(chromium, console_server):
    driver = chromium
    _sign_in(driver, console_server)
    driver.set_window_size(390, 844)
    try:
        for path in ("/", "/leaderboards/new", "/settings"):
            driver.get(f"{console_server.base_url}{path}")
            width = driver.execute_script("return document.documentElement.scrollWidth")
            inner = driver.execute_script("return window.innerWidth")
            assert width <= inner, (path, width, inner)
    finally:
        driver.set_window_size(1280, 900)
