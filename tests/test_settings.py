import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    hidden = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in hidden}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="letters.example.org",
        CACHE_URL="redis://127.0.0.1:6379/1",
        EVENT_CHECKPOINTS="/var/lib/letters-checkpoints/heads.jsonl",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_a_checkpoint_log_the_deployment_check_warns():
    result = run_manage(
        "check",
        "--deploy",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="letters.example.org",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert result.returncode == 0, result.stderr
    assert "project.W001" in result.stderr + result.stdout
    assert "EVENT_CHECKPOINTS is not set" in result.stderr + result.stdout


def test_a_secret_key_is_required_when_debug_is_off():
    result = run_manage("check")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_malformed_boolean_is_named():
    result = run_manage("check", DEBUG="maybe")

    assert "DEBUG must be true or false, not 'maybe'" in result.stderr
