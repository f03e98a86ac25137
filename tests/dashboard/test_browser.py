"""The dashboard in a real browser (headless Chromium) against a real agent over HTTP and Socket.IO."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from ultimate_agent.extensions import db
from ultimate_agent.models import Earning, TaskRecord

from .conftest import PHONE, LiveAgent, screenshot, sign_in

TRAINING_EPOCHS = 40


def open_view(page, name: str) -> None:
    """Follow a navigation link and wait for its view."""
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def api_task(agent: LiveAgent, config: dict) -> dict:
    """Start a training task through the API and wait until its reward is confirmed on chain."""
    client = agent.app.test_client()
    headers = {"Authorization": f"Bearer {agent.admin_key}"}
    task_id = client.post("/api/start_task", json={"type": "neural_network_training", "config": config},
                          headers=headers).get_json()["task_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()
        if record["status"] == "completed" and record.get("blockchain_tx"):
            return record
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not complete with a confirmed reward: {record}")


def task_count(agent: LiveAgent) -> int:
    """How many task records the agent holds."""
    with agent.app.app_context():
        return db.session.scalar(db.select(db.func.count(TaskRecord.id)))


def confirmed_earnings(agent: LiveAgent) -> float:
    """Sum of confirmed ETH rewards in the agent's database."""
    with agent.app.app_context():
        return sum(e.amount for e in db.session.scalars(db.select(Earning).where(Earning.status == "confirmed")))


def test_admin_signs_in_and_sees_the_agents_overview(page, live_agent: LiveAgent) -> None:
    """The overview shows the agent's id, counts, health components and network status from the API."""
    sign_in(page, live_agent, live_agent.admin_key)
    expect(page.locator("#ov-agent-id")).to_have_text(live_agent.app.config["AGENT_ID"])
    expect(page.locator("#ov-health-components li")).not_to_have_count(0)
    expect(page.locator("#ov-health-score")).to_have_text(re.compile(r"^\d+(\.\d)?$"))
    expect(page.locator("#ov-network")).to_contain_text("disconnected")
    expect(page.locator("#ov-models")).to_have_text("5")
    expect(page.locator("#who")).to_contain_text("admin")
    screenshot(page, "overview")


def test_training_started_from_the_form_reaches_100_percent_and_earnings_rise(page, live_agent: LiveAgent) -> None:
    """A task from the generated form moves its progress bar live to 100% and its reward raises the earnings."""
    sign_in(page, live_agent, live_agent.admin_key)
    expect(page.locator("#ov-earnings")).not_to_have_text("–")
    before = float(page.locator("#ov-earnings").inner_text())
    assert before == confirmed_earnings(live_agent)
    open_view(page, "Tasks")
    page.get_by_label("Task type").select_option("neural_network_training")
    # The form is generated from /api/v4/task_types: every documented key has a labelled field.
    for key in ("epochs", "batch_size", "learning_rate", "hidden_dim", "seed", "model_name"):
        expect(page.get_by_label(key, exact=True)).to_be_visible()
    page.get_by_label("epochs", exact=True).fill(str(TRAINING_EPOCHS))
    page.get_by_label("hidden_dim", exact=True).fill("256")
    # Every progress value the table shows while the task runs.
    page.evaluate("""() => {
        window.seenProgress = [];
        new MutationObserver(() => {
            for (const bar of document.querySelectorAll('#tasks-table progress')) window.seenProgress.push(bar.value);
        }).observe(document.querySelector('#tasks-table tbody'), {subtree: true, childList: true, attributes: true});
    }""")
    page.get_by_role("button", name="Start task").click()
    notice = page.locator(".notice.info", has_text="started")
    expect(notice).to_be_visible()
    task_id = re.search(r"Task (task-\S+) ", notice.inner_text()).group(1)
    row = page.locator(f'#tasks-table tr[data-task-id="{task_id}"]')
    expect(row).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 100 for value in seen), f"no intermediate progress shown: {seen}"
    expect(row.get_by_text("confirmed")).to_be_visible(timeout=30_000)
    screenshot(page, "tasks")

    open_view(page, "Overview")
    page.wait_for_function("before => Number(document.getElementById('ov-earnings').textContent) > before", arg=before)
    after = float(page.locator("#ov-earnings").inner_text())
    assert after == confirmed_earnings(live_agent) > before
    expect(page.locator("#ov-completed")).not_to_have_text("0")


def test_task_actions_pause_resume_reprioritise_and_cancel(page, live_agent: LiveAgent) -> None:
    """The row's buttons and priority picker act on the running task, and the row follows its state."""
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "Tasks")
    client = live_agent.app.test_client()
    headers = {"Authorization": f"Bearer {live_agent.admin_key}"}
    # Long enough to act on: a thousand epochs of single-sample batches; it ends by being cancelled.
    task_id = client.post("/api/start_task", headers=headers, json={
        "type": "neural_network_training", "config": {"epochs": 1000, "batch_size": 1, "hidden_dim": 8}},
    ).get_json()["task_id"]
    row = page.locator(f'#tasks-table tr[data-task-id="{task_id}"]')
    expect(row).to_have_attribute("data-status", "running")
    row.get_by_role("button", name=f"Pause {task_id}").click()
    expect(row).to_have_attribute("data-status", "paused")
    assert client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()["status"] == "paused"
    row.get_by_role("button", name=f"Resume {task_id}").click()
    expect(row).to_have_attribute("data-status", "running")
    row.get_by_label(f"Priority of {task_id}").select_option("9")
    expect(page.locator(".notice.info", has_text=f"Task {task_id}: priority 9")).to_be_visible()
    assert client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()["priority"] == 9
    row.get_by_role("button", name=f"Cancel {task_id}").click()
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row.get_by_role("button")).to_have_count(0)
    assert client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()["status"] == "cancelled"


def test_alerts_appear_on_the_overview_as_they_arrive(page, live_agent: LiveAgent) -> None:
    """A system_alert raised while the page is open is listed at once, with its time."""
    sign_in(page, live_agent, live_agent.admin_key)
    expect(page.locator("#ov-health-score")).not_to_have_text("–")
    thresholds = live_agent.app.config["ALERT_THRESHOLDS"]
    # Any disk is at least 0% full: the next sample starts a disk warning, announced as system_alert.
    live_agent.app.config["ALERT_THRESHOLDS"] = {**thresholds, "disk": {"warning": 0.0, "critical": 100.0}}
    try:
        alert = page.locator("#ov-alerts li.warning")
        expect(alert).to_contain_text("above 0%", timeout=5_000)
        expect(alert).not_to_contain_text("— active")  # the event's timestamp, not the report's list
        expect(page.locator("#ov-alerts-empty")).to_be_hidden()
        screenshot(page, "overview-alert")
    finally:
        live_agent.app.config["ALERT_THRESHOLDS"] = thresholds


def test_invalid_config_shows_the_servers_error_next_to_the_field(page, live_agent: LiveAgent) -> None:
    """The server's validation message lands beside the field it names, and no task is started."""
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "Tasks")
    tasks_before = task_count(live_agent)
    page.get_by_label("Task type").select_option("neural_network_training")
    page.get_by_label("epochs", exact=True).fill("0")
    page.get_by_role("button", name="Start task").click()
    expect(page.locator("#cfg-epochs-error")).to_contain_text("greater than or equal to 1")
    expect(page.get_by_label("epochs", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#start-error")).to_contain_text("Invalid task configuration")
    expect(page.get_by_label("epochs", exact=True)).to_be_focused()
    # A cross-field rule the schema applies (too few features for the classes) is placed the same way.
    page.get_by_label("epochs", exact=True).fill("2")
    page.get_by_label("input_dim", exact=True).fill("2")
    page.get_by_label("output_dim", exact=True).fill("100")
    page.get_by_role("button", name="Start task").click()
    expect(page.locator("#cfg-input_dim-error")).to_contain_text("Too few input features")
    expect(page.locator("#cfg-epochs-error")).to_be_empty()
    assert task_count(live_agent) == tasks_before
    screenshot(page, "tasks-validation-error")


def test_task_detail_shows_loss_and_accuracy_per_epoch_and_the_result(page, live_agent: LiveAgent) -> None:
    """A finished training task's page draws its per-epoch curves and shows its result and reward."""
    record = api_task(live_agent, {"epochs": 4})
    sign_in(page, live_agent, live_agent.admin_key)
    page.goto(f"{live_agent.url}/#/tasks/{record['task_id']}")
    expect(page.locator("#task-title")).to_have_text(f"Task {record['task_id']}")
    expect(page.locator("#task-summary")).to_contain_text("completed")
    for chart, series in (("#chart-loss", ("training_loss", "validation_loss")), ("#chart-accuracy", ("accuracy",))):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
        for name in series:
            expect(page.locator(f"{chart} .u-legend")).to_contain_text(name)
    expect(page.locator("#task-curves-empty")).to_be_hidden()
    expect(page.locator("#task-ai-result")).to_contain_text(str(record["ai_result"]["accuracy"]))
    expect(page.locator("#task-result")).to_contain_text('"test_accuracy"')
    expect(page.locator("#task-summary")).to_contain_text(f"{record['reward']} ETH")
    screenshot(page, "task-detail")


def test_inference_box_shows_the_sentiment_and_its_scores(page, live_agent: LiveAgent) -> None:
    """The AI view lists the models with their metrics and runs a sentence through the sentiment model."""
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "AI")
    expect(page.locator('#models-table tr[data-model="classification"]')).to_contain_text("accuracy: 0.")
    expect(page.locator('#models-table tr[data-model="sentiment"]')).to_contain_text("loaded")
    page.get_by_label("Model").select_option("sentiment")
    sentence = "I love how clear and wonderful this dashboard is!"
    page.get_by_label("Input").fill(sentence)
    page.get_by_role("button", name="Run inference").click()
    expect(page.locator(".prediction-label")).to_have_text("positive")
    expected = live_agent.app.test_client().post(
        "/api/ai/inference", json={"model": "sentiment", "input": sentence},
        headers={"Authorization": f"Bearer {live_agent.admin_key}"}).get_json()["sentiment_scores"]
    shown = {label: float(page.locator(f'.score-value[data-label="{label}"]').inner_text()) for label in expected}
    assert shown == expected
    screenshot(page, "ai")


def test_wallet_shows_balances_transactions_and_earnings_over_time(page, live_agent: LiveAgent) -> None:
    """The wallet view lists the reward transaction with its hash, gas, block and task, and the earnings curve."""
    record = api_task(live_agent, {"epochs": 2})
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "Wallet")
    expect(page.locator("#wallet-address")).to_have_text(live_agent.app.extensions["chain"].wallet.address)
    expect(page.locator('.balance[data-currency="PAIN"]')).to_have_text("1,000")
    row = page.locator(f'#tx-table tr[data-hash="{record["blockchain_tx"]}"]')
    expect(row).to_contain_text(record["task_id"])
    expect(row).to_contain_text("reward_claim")
    expect(row.locator(".tx-hash")).to_have_attribute("title", record["blockchain_tx"])
    expect(row.locator('td[data-label="Gas"]')).to_have_text(re.compile(r"^[\d,]+$"))
    expect(row.locator('td[data-label="Block"]')).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#earnings-empty")).to_be_hidden()
    expect(page.locator("#chart-earnings canvas")).to_have_count(1)
    screenshot(page, "wallet")


def test_monitoring_draws_live_samples_and_stored_history(page, live_agent: LiveAgent) -> None:
    """Live charts fill from real_time_data events; the history chart from /api/database/performance."""
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "Monitoring")
    expect(page.locator("#chart-load canvas")).to_have_count(1)
    expect(page.locator("#mon-latest")).to_contain_text("CPU")
    first = page.locator("#mon-latest").inner_text()
    page.wait_for_function("first => document.getElementById('mon-latest').textContent !== first", arg=first)
    page.get_by_label("Window").select_option("1")
    page.get_by_role("button", name="Load").click()
    expect(page.locator("#history-summary")).to_contain_text(re.compile(r"[1-9]\d* stored samples"))
    expect(page.locator("#chart-history canvas")).to_have_count(1)
    screenshot(page, "monitoring")


def test_admin_runs_commands_confirms_disruptive_ones_and_reads_logs_and_audit(page, live_agent: LiveAgent) -> None:
    """Admin: parameter forms from the capabilities, results, field errors, a confirmation, logs and audit."""
    sign_in(page, live_agent, live_agent.admin_key)
    open_view(page, "Admin")
    commands = live_agent.app.extensions["remote_service"].registry.names()
    expect(page.locator("form.command")).to_have_count(len(commands))
    page.locator('form[data-command="get_status"]').get_by_role("button").click()
    expect(page.locator('#command-results li[data-command="get_status"]')).to_contain_text("success")

    cpu = page.locator('form[data-command="set_cpu_limit"]')
    cpu.get_by_label("percent").fill("0")
    cpu.get_by_role("button").click()
    expect(cpu.locator("#cmd-set_cpu_limit-percent-error")).to_contain_text("greater than or equal to 1")

    restart = page.locator('form[data-command="restart_agent"]')
    restart.get_by_role("button", name=re.compile("Run restart_agent")).click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("restart")
    screenshot(page, "admin-confirm")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(restart.locator(".form-error")).to_have_text("Not run: cancelled.")

    # A required flag is never preselected: run without choosing and the agent's error lands beside it.
    gpu = page.locator('form[data-command="enable_gpu"]')
    expect(gpu.get_by_label("enabled (required)")).to_have_value("")
    gpu.get_by_role("button").click()
    expect(gpu.locator("#cmd-enable_gpu-enabled-error")).to_contain_text("required")

    expect(page.locator("#cmd-get_logs-level")).to_have_value("")  # null allowed: "(none)" comes first
    expect(page.locator("#logs-entries .log-entry").first).to_be_visible()
    expect(page.locator("#logs-entries")).to_contain_text("ready")
    expect(page.locator('#audit-table tr[data-command="get_status"]').first).to_contain_text("success")
    expect(page.locator('#audit-table tr[data-command="restart_agent"]')).to_have_count(0)
    assert live_agent.app.extensions["remote_lifecycle"] is not None
    screenshot(page, "admin")


def test_read_only_token_sees_no_admin_or_write_controls(page, live_agent: LiveAgent) -> None:
    """A read key's session shows data but no admin section, start form, or task actions."""
    api_task(live_agent, {"epochs": 1})
    sign_in(page, live_agent, live_agent.read_key)
    expect(page.locator("#who")).to_have_text("signed in: read")
    expect(page.get_by_role("link", name="Admin")).to_be_hidden()
    open_view(page, "Tasks")
    expect(page.locator("#tasks-table tbody tr").first).to_be_visible()
    expect(page.locator("#start-form")).to_be_hidden()
    expect(page.locator("#tasks-table select, #tasks-table button")).to_have_count(0)
    page.goto(f"{live_agent.url}/#/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#admin-content *")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Run "))).to_have_count(0)
    screenshot(page, "read-only")


def test_wrong_key_is_refused_and_sign_in_works_from_the_keyboard(page, live_agent: LiveAgent) -> None:
    """A bad key shows the agent's refusal; Tab, typing and Enter alone sign in and reach a view."""
    page.goto(live_agent.url + "/")
    page.get_by_label("API key").fill("not-a-key")
    page.keyboard.press("Enter")
    expect(page.locator("#signin-error")).to_contain_text("UNAUTHORIZED")
    page.get_by_label("API key").fill("")
    page.locator("body").focus()
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "api-key":
            break
    page.keyboard.type(live_agent.admin_key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#nav:not([hidden])")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Wallet":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#view-wallet")).to_be_visible()
    stored = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert live_agent.admin_key not in stored


def test_sign_out_forgets_the_token(page, live_agent: LiveAgent) -> None:
    """After signing out the session storage is empty and the sign-in form is back."""
    sign_in(page, live_agent, live_agent.admin_key)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.locator("#nav")).to_be_hidden()


def test_every_view_fits_a_phone_screen(browser, live_agent: LiveAgent, page_errors) -> None:
    """At phone width no view scrolls sideways; tables turn into labelled cards."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.messages.append(f"uncaught: {exc}"))
    try:
        sign_in(page, live_agent, live_agent.admin_key)
        # Each view with something that shows its data arrived.
        loaded = {"Overview": "#ov-health-components li", "Monitoring": "#chart-load canvas",
                  "Tasks": "#start-config .field", "AI": "#models-table tbody tr",
                  "Wallet": "#wallet-balances dd", "Admin": "form.command"}
        for view, ready in loaded.items():
            open_view(page, view)
            expect(page.locator(f"#view-{view.lower()}")).to_be_visible()
            expect(page.locator(ready).first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view} scrolls sideways by {overflow}px at phone width"
            screenshot(page, f"phone-{view.lower()}")
    finally:
        context.close()
    assert page_errors.unexpected() == []
