"""The dashboard's server side: the page, its static files, its headers, and what it must not contain."""

from __future__ import annotations

from pathlib import Path

from ultimate_agent.dashboard.views import CONTENT_SECURITY_POLICY, STATIC_DIR, VENDOR_FILES, missing_vendor_files


def test_dashboard_page_is_public_and_served_at_the_root(client) -> None:
    """GET / answers the HTML shell without credentials, loading its modules from this origin."""
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<script type="module" src="/dashboard/static/js/main.js">' in html
    assert 'id="signin-form"' in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from another host


def test_dashboard_page_carries_a_self_only_content_security_policy(client) -> None:
    """The page and its assets are locked to this origin: no inline script, no third party, no framing."""
    for path in ("/", "/dashboard/static/js/main.js", "/dashboard/static/css/dashboard.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert policy == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_dashboard_html_has_no_inline_script_or_style(client) -> None:
    """The CSP forbids inline code, so the page must not rely on any."""
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html and " onclick=" not in html


def test_dashboard_page_embeds_no_secret(app, client, admin_key: str) -> None:
    """Neither the admin key nor the app's signing secrets appear in the public page or its scripts."""
    html = client.get("/").get_data(as_text=True)
    scripts = "".join(client.get(f"/dashboard/static/js/{p.relative_to(STATIC_DIR / 'js')}").get_data(as_text=True)
                      for p in (STATIC_DIR / "js").rglob("*.js"))
    for secret in (admin_key, app.config["SECRET_KEY"], app.config["JWT_SECRET_KEY"]):
        assert secret and secret not in html and secret not in scripts


def test_dashboard_modules_are_served_as_javascript(client) -> None:
    """Browsers run ES modules only with a JavaScript MIME type."""
    for path in (STATIC_DIR / "js").rglob("*.js"):
        response = client.get(f"/dashboard/static/js/{path.relative_to(STATIC_DIR / 'js').as_posix()}")
        assert response.status_code == 200, path
        assert response.mimetype in ("text/javascript", "application/javascript"), path


def test_vendor_bundles_installed_by_make_install_are_served(client) -> None:
    """socket.io-client and uPlot come from this agent (copied by `make install`), never from a CDN."""
    assert missing_vendor_files() == []
    for name in VENDOR_FILES:
        response = client.get(f"/dashboard/static/vendor/{name}")
        assert response.status_code == 200, name
        assert len(response.get_data()) > 1000, name


def test_missing_vendor_bundles_are_named(tmp_path: Path) -> None:
    """An installation without the copied bundles says which are missing (the page tells to run make install)."""
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "uPlot.esm.js").write_text("export default 1;")
    assert missing_vendor_files(tmp_path) == ["socket.io.esm.min.js", "uPlot.min.css"]


def test_dashboard_keeps_the_host_allow_list(client) -> None:
    """A DNS-rebinding Host is refused for the page too."""
    response = client.get("/", headers={"Host": "attacker.example"})
    assert response.status_code == 400
    assert response.get_json()["details"]["host"] == "attacker.example"


def test_dashboard_is_not_counted_against_the_api_rate_limit(client) -> None:
    """Loading the page and its files spends none of the caller's API budget."""
    response = client.get("/dashboard/static/js/main.js")
    assert "X-RateLimit-Limit" not in response.headers
    assert client.get("/").status_code == 200


def test_api_still_needs_credentials_beside_the_public_page(client) -> None:
    """The public page does not open the API: its data still needs a token."""
    assert client.get("/").status_code == 200
    assert client.get("/api/stats").status_code == 401
