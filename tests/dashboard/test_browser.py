"""The dashboard in a real browser (headless Chromium) against a real agent over HTTP and Socket.IO."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import PHONE, LiveAgent, screenshot, sign_in


def test_admin_signs_in_and_sees_the_agents_overview(page, live_agent: LiveAgent) -> None:
    """The overview shows the agent's id, counts, health components and network status from the API."""
    sign_in(page, live_agent, live_agent.admin_key)
    agent_id = live_agent.app.config["AGENT_ID"]
    expect(page.locator("#ov-agent-id")).to_have_text(agent_id)
    expect(page.locator("#ov-health-components li")).not_to_have_count(0)
    expect(page.locator("#ov-network")).to_contain_text("disconnected")
    expect(page.locator("#who")).to_contain_text("admin")
    screenshot(page, "overview")
