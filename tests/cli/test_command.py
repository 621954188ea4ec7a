"""The `pipework` command as a user runs it: subprocesses against a chaos server on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from pipework.testing import ChaosApp, serve

from .._chaos import ENV, chaos_process


def pipework(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m pipework.cli ARGS` with no proxy settings; capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "pipework.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        check=False,
    )


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A chaos server for this module's `get`/`post` runs."""
    with serve(ChaosApp()) as url:
        yield url


def row(output: str, label: str) -> list[str]:
    """The cells of the table row starting with `label` (one per client)."""
    for line in output.splitlines():
        if line.strip().startswith(label):
            return re.split(r"\s{2,}", line.strip())[1:]
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_demo_prints_the_table_with_full_success_and_no_duplicates() -> None:
    """At fail-rate 0.3 the default pipeline succeeds 100%, no retries does not, nothing is duplicated."""
    result = pipework("demo", "--requests", "200", "--seed", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    success = row(out, "success")
    assert success[1].startswith("100.0% (200/200)")
    assert not success[0].startswith("100.0%")
    assert row(out, "POST duplicates") == ["0", "0", "0"]
    attempts = [float(cell) for cell in row(out, "attempts per call")]
    assert attempts[0] == 1.0
    assert attempts[1] > 1.0
    assert "Traceback" not in result.stderr


def test_demo_figures_are_deterministic_for_a_seed() -> None:
    """Two runs with the same seed print the same success, attempts and histogram figures."""
    command = [sys.executable, "-m", "pipework.cli", "demo", "--requests", "40", "--seed", "5"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    # The first two clients decide nothing by the clock; the resilient one has a 0.5 s attempt timeout,
    # which a loaded machine can trip, so its column is left out.
    for label in ("success", "attempts per call", "POST executions", "calls with 1 attempt", "2 attempts"):
        assert row(outputs[0], label)[:2] == row(outputs[1], label)[:2], outputs


def test_get_retries_and_prints_status_body_and_history(base_url: str) -> None:
    """A 503 then a reset then 200: three attempts, shown in the history; the token is not printed."""
    url = f"{base_url}/fault?id=g1&script=503;retry-after-ms=10,reset-after,200"
    result = pipework("get", url, "--backoff", "0.01", "-H", "Authorization: Bearer s3cret", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/1.1 200 OK")
    assert '"key": "g1"' in result.stdout
    assert "# 3 attempt(s), 2 retried" in result.stderr
    assert "Retry attempt 1 for request [GET]" in result.stderr
    assert "authorization: REDACTED" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


def test_post_without_key_is_not_resent_after_a_lost_response(base_url: str) -> None:
    """The POST was executed, its answer lost: exit 1, one attempt, one execution on the server."""
    result = pipework(
        "post", f"{base_url}/fault?id=p1&script=reset-after,200", '{"a": 1}', "--backoff", "0.01"
    )
    assert result.returncode == 1
    assert "# 1 attempt(s), 0 retried" in result.stderr
    assert httpx.get(f"{base_url}/_counters", trust_env=False).json()["p1"]["executions"] == 1


def test_put_json_output_and_status_exit_code(base_url: str) -> None:
    """--json prints one document; a final 4xx exits with 4."""
    result = pipework("put", f"{base_url}/fault?id=u1&script=409", "hello", "--json")
    assert result.returncode == 4
    document = json.loads(result.stdout)
    assert document["status"] == 409
    assert [attempt["outcome"] for attempt in document["history"]] == ["success"]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["get", "http://127.0.0.1:9/", "--retry-total", "-1"], "--retry-total"),
        (["get", "http://127.0.0.1:9/", "--timeout", "0.1"], "--timeout"),
        (["get", "http://127.0.0.1:9/", "-H", "no-colon"], "--header"),
        (["get", "ftp://127.0.0.1/"], "url"),
        (["demo", "--fail-rate", "1.5"], "--fail-rate"),
    ],
)
def test_bad_arguments_give_one_line_naming_the_flag(args: list[str], flag: str) -> None:
    """Exit 2, one line on stderr that names the flag."""
    result = pipework(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert flag in lines[0]


def test_chaos_command_serves_on_loopback() -> None:
    """`pipework chaos --port P` answers on 127.0.0.1:P with the scripted status until stopped."""
    with chaos_process() as url:
        response = httpx.get(f"{url}/fault?id=c&script=418", trust_env=False)
        assert response.status_code == 418
        assert httpx.get(f"{url}/_counters", trust_env=False).json()["c"]["arrivals"] == 1
