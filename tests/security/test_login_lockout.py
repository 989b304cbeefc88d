"""The login lockout cannot be side-stepped: not by respelling the name, not by another web process, not
through the admin login, and one address cannot spray names. (Security probe, issue 18.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tests.support.teams import give_role
from tests.support.worker import REPO_ROOT, database_url

PASSWORD = "correct-horse-battery"


def make_account(username: str, role: str = "viewer", **fields) -> User:
    user = User.objects.create_user(username, password=PASSWORD, **fields)
    give_role(user, role)
    return user


@pytest.fixture
def sec_viewer(db):
    return make_account("sec_viewer")


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast: many logins here
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    cache.clear()  # so that no test can pass or fail on counts an earlier one left in a per-process cache


def log_in(client: Client, username: str, password: str, url: str = "/accounts/login/", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def fail_five_times(client: Client, username: str = "sec_viewer", **extra) -> None:
    for _ in range(5):
        assert log_in(client, username, "wrong", **extra).status_code == 200


@pytest.mark.parametrize("spelling", ["sec_viewer ", " sec_viewer", "ｓec_viewer", "sec_viewer\u3000", "ｓｅｃ＿ｖｉｅｗｅｒ"])
def test_it_refuses_a_locked_username_in_any_spelling_the_login_accepts(client, sec_viewer, spelling):
    assert log_in(Client(), spelling, PASSWORD).status_code == 302, "the spelling logs in when not locked"
    fail_five_times(client)
    response = log_in(client, spelling, PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed logins for this username" in response.content
    assert client.get("/").status_code == 302


def test_failures_in_different_spellings_add_up(client, sec_viewer):
    for spelling in ["sec_viewer", "sec_viewer ", "ｓec_viewer", " sec_viewer", "ｓｅｃ_viewer"]:
        assert log_in(client, spelling, "wrong").status_code == 200
    assert log_in(client, "sec_viewer", PASSWORD).status_code == 429


def test_case_stays_significant_as_in_the_backend(client, sec_viewer):
    fail_five_times(client, "SEC_VIEWER")
    assert log_in(client, "sec_viewer", PASSWORD).status_code == 302


def test_the_lockout_says_when_to_try_again(client, sec_viewer, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    fail_five_times(client)
    response = log_in(client, "sec_viewer", PASSWORD)
    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 601
    assert b"Try again after" in response.content and b"(in 10 minutes)" in response.content


def test_one_address_cannot_spray_many_usernames(sec_viewer, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    sprayer = Client(REMOTE_ADDR="198.51.100.7")
    for name in ["root", "admin", "alice", "bob"]:
        assert log_in(sprayer, name, "guess").status_code == 200
    response = log_in(sprayer, "sec_viewer", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed logins for your network address" in response.content
    assert log_in(Client(REMOTE_ADDR="198.51.100.8"), "sec_viewer", PASSWORD).status_code == 302


def test_a_locked_username_stays_locked_from_another_address(sec_viewer):
    fail_five_times(Client(REMOTE_ADDR="198.51.100.7"))
    assert log_in(Client(REMOTE_ADDR="203.0.113.9"), "sec_viewer", PASSWORD).status_code == 429


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(sec_viewer, settings):
    settings.BEHIND_PROXY = True
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for name, spoofed in [("root", "1.1.1.1"), ("admin", "2.2.2.2"), ("bob", "3.3.3.3")]:
        forwarded = f"{spoofed}, 198.51.100.7"  # the client sent the first entry; the proxy appended the second
        assert log_in(Client(**proxy), name, "guess", HTTP_X_FORWARDED_FOR=forwarded).status_code == 200
    locked = log_in(Client(**proxy), "sec_viewer", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    other = log_in(Client(**proxy), "sec_viewer", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302, "another client behind the same proxy is not locked out"


def test_without_the_proxy_setting_x_forwarded_for_is_ignored(rf, settings):
    from webapp.accounts import throttle

    settings.BEHIND_PROXY = False
    request = rf.post("/accounts/login/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert throttle.client_address(request) == "198.51.100.7"


def test_a_good_login_forgets_the_usernames_failures(client, sec_viewer):
    for _ in range(4):
        log_in(client, "sec_viewer", "wrong")
    assert log_in(client, "sec_viewer", PASSWORD).status_code == 302
    for _ in range(4):
        assert log_in(Client(), "sec_viewer", "wrong").status_code == 200
    assert log_in(Client(), "sec_viewer", PASSWORD).status_code == 302


def test_a_new_window_starts_once_the_old_one_has_passed(client, sec_viewer, settings):
    from webapp.accounts.models import LoginFailures

    fail_five_times(client)
    LoginFailures.objects.update(window_start=LoginFailures.objects.first().window_start.replace(year=2000))
    assert log_in(client, "sec_viewer", PASSWORD).status_code == 302


def test_the_counters_are_in_the_database_not_in_process_memory(client, sec_viewer):
    from webapp.accounts.models import LoginFailures

    fail_five_times(client)
    cache.clear()
    assert LoginFailures.objects.filter(scope="username", failures=5).exists()
    assert log_in(Client(), "sec_viewer", PASSWORD).status_code == 429
    stored = set(LoginFailures.objects.values_list("key_digest", flat=True))
    assert not any("sec_viewer" in key for key in stored), "usernames are stored as digests"


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_another_process_lock_this_one(settings, tmp_path):
    make_account("sec_viewer")
    from django.db import connection

    code = ("import django; django.setup()\n"
            "from webapp.accounts import throttle\n"
            "for _ in range(5): throttle.record_failure('sec_viewer ', '192.0.2.1')\n")
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict),
           "DJANGO_SETTINGS_MODULE": "webapp.settings", "SKERRY_VAR_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True, timeout=120)
    response = log_in(Client(REMOTE_ADDR="203.0.113.9"), "sec_viewer", PASSWORD)
    assert response.status_code == 429


@pytest.fixture
def staff(db):
    return make_account("sec_admin", role="admin", is_staff=True, is_superuser=True)


def test_the_admin_login_is_throttled_too(client, staff):
    unlocked = Client()
    assert log_in(unlocked, "sec_admin", PASSWORD, url="/admin/login/").status_code == 302
    assert unlocked.get("/admin/").status_code == 200
    for _ in range(5):
        assert log_in(client, "sec_admin", "wrong", url="/admin/login/").status_code == 200
    response = log_in(client, "sec_admin ", PASSWORD, url="/admin/login/")
    assert response.status_code == 429
    assert b"Too many failed logins for this username" in response.content
    assert int(response["Retry-After"]) > 0
    assert client.get("/admin/").status_code == 302


def test_failures_on_either_login_page_count_for_both(client, staff):
    for url in ["/accounts/login/", "/admin/login/"] * 2 + ["/accounts/login/"]:
        assert log_in(client, "sec_admin", "wrong", url=url).status_code == 200
    assert log_in(client, "sec_admin", PASSWORD, url="/admin/login/").status_code == 429
