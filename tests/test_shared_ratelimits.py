"""Issue 10: the rate limits hold across processes when they share Redis (CACHE_URL), and do not
when each process counts in its own memory.

Each side is a separate Python process with the project's settings, as two gunicorn workers or
two app servers are: threads in one process would share even the in-memory cache.
"""

import ipaddress
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SECURITY_REDIS_URL", "redis://127.0.0.1:6379/5")
LIMIT = 10  # our limit on signing, set for the processes below
# allauth's limit on wrong login codes, as the settings give it ("10/h/ip").
CODE_LIMIT = int(settings.ACCOUNT_RATE_LIMITS["login_code_failed"].split("/")[0])

# One process: `count` attempts at each limit, printing how many were let through.
ATTEMPTS = """
import json, os, sys
import django
django.setup()
from allauth.core import ratelimit
from django.test import RequestFactory
from signatories import ratelimits
from signatories.errors import RateLimited

ip, count = sys.argv[1], int(sys.argv[2])
allowed = {"sign": 0, "login_code_failed": 0}
for _ in range(count):
    try:
        ratelimits.consume("sign", ip=ip, link=ip)
        allowed["sign"] += 1
    except RateLimited:
        pass
    request = RequestFactory().post("/accounts/login/code/confirm/", REMOTE_ADDR=ip)
    if ratelimit.consume(request, action="login_code_failed"):
        allowed["login_code_failed"] += 1
print(json.dumps(allowed))
"""


def redis_or_skip() -> None:
    try:
        import redis
    except ModuleNotFoundError:
        pytest.skip("the redis package is missing: pip install redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}): start redis-server")


def new_client() -> str:
    """An IPv6 network of its own, so that no count left in Redis by another run applies."""
    return str(ipaddress.IPv6Address(int(uuid.uuid4().hex, 16) >> 64 << 64 | 1))


def start(client: str, count: int, *, cache_url: str) -> subprocess.Popen[str]:
    hidden = {"CACHE_URL", "SIGN_ON_RATE_LIMITS"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(
        DJANGO_SETTINGS_MODULE="coalition.project.settings",
        DEBUG="1",
        SECRET_KEY="test-only-secret-key",
        SIGN_ON_RATE_LIMITS=json.dumps({"sign": f"{LIMIT}/h/link"}),
    )
    if cache_url:
        env["CACHE_URL"] = cache_url
    return subprocess.Popen(
        [sys.executable, "-c", ATTEMPTS, client, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def allowed(process: subprocess.Popen[str]) -> dict[str, int]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def two_processes_at_once(*, cache_url: str) -> list[dict[str, int]]:
    client = new_client()
    processes = [start(client, max(LIMIT, CODE_LIMIT), cache_url=cache_url) for _ in range(2)]
    return [allowed(process) for process in processes]


def test_two_processes_share_one_count_in_redis():
    redis_or_skip()
    first, second = two_processes_at_once(cache_url=REDIS_URL)

    # Our limiter increments atomically in Redis: exactly the limit between the two.
    assert first["sign"] + second["sign"] == LIMIT
    # allauth's takes a lock in the cache; one it cannot take counts as refused: never more.
    assert 0 < first["login_code_failed"] + second["login_code_failed"] <= CODE_LIMIT


def test_a_later_process_sees_what_an_earlier_one_counted():
    redis_or_skip()
    client = new_client()
    assert allowed(start(client, max(LIMIT, CODE_LIMIT), cache_url=REDIS_URL)) == {
        "sign": LIMIT,
        "login_code_failed": CODE_LIMIT,
    }
    assert allowed(start(client, 3, cache_url=REDIS_URL)) == {"sign": 0, "login_code_failed": 0}


def test_without_a_shared_cache_each_process_counts_alone():
    """What CACHE_URL is for: in memory, two app servers let through twice the limit."""
    first, second = two_processes_at_once(cache_url="")

    assert first == second == {"sign": LIMIT, "login_code_failed": CODE_LIMIT}
