"""A fresh clone has no var/: the commands that use the embedded defaults make the folders they need, and a
folder that cannot be made or written is one line naming it and its setting, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from webapp.env import ImproperSetting, writable_dir

ROOT = Path(settings.BASE_DIR)
EMBEDDED = ("DATABASE_URL", "REDIS_URL", "SKERRY_MEDIA_ROOT", "SKERRY_BROKER_DIR")


def run(args: list[str], var_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`args` in a fresh process on the embedded defaults (SQLite, filesystem broker) under `var_dir`."""
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED}
    env.update(SKERRY_VAR_DIR=str(var_dir), DJANGO_DEBUG="1")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_migrate_on_a_fresh_clone_makes_var_and_the_database(tmp_path):
    var = tmp_path / "clone" / "var"
    result = run(["manage.py", "migrate", "--verbosity", "0"], var)
    assert result.returncode == 0, result.stderr
    assert (var / "skerry.sqlite3").stat().st_size > 0
    assert (var / "media").is_dir()
    assert (var / "broker").is_dir()


def test_a_worker_on_the_filesystem_broker_makes_its_folders(tmp_path):
    var = tmp_path / "var"
    result = run(["-c", "import workers.celery_app"], var)
    assert result.returncode == 0, result.stderr
    assert (var / "broker" / "out").is_dir() and (var / "broker" / "processed").is_dir()


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["manage.py", "migrate"], ["manage.py", "runserver", "--noreload"],
                                     ["-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu"]])
def test_a_folder_that_cannot_be_made_is_one_line_naming_it_and_its_setting(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = one_line_error(run(command, blocker / "var", timeout=60))
    assert line == (f"skerry: cannot create the folder {blocker / 'var'} (Not a directory): "
                    "set SKERRY_VAR_DIR to a writable folder")


def test_a_read_only_place_is_one_line_too(tmp_path):
    # /sys refuses new folders even to root (CI runs as root, where file modes do not stop writes).
    line = one_line_error(run(["manage.py", "migrate"], Path("/sys/skerry-var"), timeout=60))
    assert line.startswith("skerry: cannot create the folder /sys/skerry-var (")
    assert line.endswith("set SKERRY_VAR_DIR to a writable folder")


def test_an_existing_folder_this_user_cannot_write_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a non-root user on a 0555 folder
    with pytest.raises(ImproperSetting, match=f"the folder {tmp_path} is not writable by this user: set SKERRY_MEDIA_ROOT"):
        writable_dir(tmp_path, "SKERRY_MEDIA_ROOT")


def test_the_setting_named_is_the_one_that_chose_the_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env_media = run(["manage.py", "check"], tmp_path / "var", timeout=60)
    assert env_media.returncode == 0, env_media.stderr
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED}
    env.update(SKERRY_VAR_DIR=str(tmp_path / "var"), SKERRY_MEDIA_ROOT=str(blocker / "media"), DJANGO_DEBUG="1")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert one_line_error(result).endswith("set SKERRY_MEDIA_ROOT to a writable folder")
