"""ChaosApp in-process (httpx.ASGITransport): scripted faults, counters, idempotency, random mode."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from pipework import AsyncPipelineClient, ConfigurationError, RetryConfig, history
from pipework.testing import ChaosApp, VirtualClock
from pipework.testing._chaos_faults import OK, FaultModel, parse_script

pytestmark = pytest.mark.anyio


@pytest.fixture
async def chaos() -> AsyncIterator[tuple[ChaosApp, httpx.AsyncClient]]:
    """A ChaosApp and a plain httpx client talking to it in-process."""
    app = ChaosApp()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://chaos") as client:
        yield app, client


async def test_script_steps_are_served_in_order_and_the_last_repeats(
    chaos: tuple[ChaosApp, httpx.AsyncClient],
) -> None:
    """Arrival n of a key gets step n; then the last step."""
    _, client = chaos
    statuses = [(await client.get("/fault?id=k&script=503,502,200")).status_code for _ in range(4)]
    assert statuses == [503, 502, 200, 200]


async def test_retry_after_headers_in_seconds_date_and_ms(chaos: tuple[ChaosApp, httpx.AsyncClient]) -> None:
    """The three Retry-After forms a client must honour are sent as scripted."""
    _, client = chaos
    seconds = await client.get("/fault?id=a&script=503;retry-after=2")
    assert seconds.headers["retry-after"] == "2"
    millis = await client.get("/fault?id=b&script=429;retry-after-ms=50")
    assert millis.status_code == 429
    assert millis.headers["retry-after-ms"] == "50"
    dated = await client.get("/fault?id=c", headers={"x-chaos-script": "503;retry-after-date=30"})
    when = email.utils.parsedate_to_datetime(dated.headers["retry-after"]).timestamp()
    assert 25 <= when - time.time() <= 31


async def test_counters_separate_arrivals_executions_and_faults(
    chaos: tuple[ChaosApp, httpx.AsyncClient],
) -> None:
    """A reset before reading is not executed; one after reading is; DELETE /_counters forgets."""
    _, client = chaos
    with pytest.raises(httpx.ReadError):
        await client.post("/fault?id=p&script=reset-before,reset-after,201", content=b"x")
    with pytest.raises(httpx.ReadError):
        await client.post("/fault?id=p&script=reset-before,reset-after,201", content=b"x")
    assert (await client.post("/fault?id=p&script=reset-before,reset-after,201")).status_code == 201
    counters = (await client.get("/_counters")).json()
    assert counters["p"] == {"method": "POST", "arrivals": 3, "executions": 2, "replays": 0, "faults": 2}
    await client.delete("/_counters")
    assert (await client.get("/_counters")).json() == {}


async def test_truncated_body_is_a_protocol_error(chaos: tuple[ChaosApp, httpx.AsyncClient]) -> None:
    """A truncated body fails the read after the request was executed."""
    app, client = chaos
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/fault?id=t&script=truncate")
    assert app.counters["t"]["executions"] == 1


async def test_idempotency_key_replays_instead_of_executing(
    chaos: tuple[ChaosApp, httpx.AsyncClient],
) -> None:
    """A second POST with the same Idempotency-Key gets the stored answer, marked as a replay."""
    app, client = chaos
    headers = {"idempotency-key": "abc"}
    first = await client.post("/orders?id=o", headers=headers, content=b"{}")
    second = await client.post("/orders?id=o", headers=headers, content=b"{}")
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert app.counters["o"]["executions"] == 1
    assert app.counters["o"]["replays"] == 1


async def test_redirect_auth_and_echo_routes(chaos: tuple[ChaosApp, httpx.AsyncClient]) -> None:
    """Redirects point to local paths; /auth challenges without the token; /echo hides secrets."""
    _, client = chaos
    redirect = await client.get("/redirect?to=/echo&status=308")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/echo")
    assert (await client.get("/redirect?to=http://elsewhere.example/")).status_code == 400
    scripted = await client.get("/fault?id=r&script=redirect=301")
    assert (scripted.status_code, scripted.headers["location"]) == (301, "/echo?id=r")
    denied = await client.get("/auth", headers={"authorization": "Bearer wrong"})
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"].startswith("Bearer ")
    assert (await client.get("/auth", headers={"authorization": "Bearer chaos-token"})).status_code == 200
    echoed = (await client.get("/echo", headers={"authorization": "Bearer s3cret"})).json()
    assert echoed["headers"]["authorization"] == "REDACTED"


async def test_slow_headers_wait_before_answering(chaos: tuple[ChaosApp, httpx.AsyncClient]) -> None:
    """slow=MS delays the response by about MS milliseconds."""
    _, client = chaos
    started = time.perf_counter()
    assert (await client.get("/fault?id=s&script=slow=100")).status_code == 200
    assert time.perf_counter() - started >= 0.09


async def test_pipeline_never_repeats_an_executed_post_without_a_key(clock: VirtualClock) -> None:
    """Through the pipeline: an unkeyed POST whose response was lost is not resent; a keyed one is, once."""
    app = ChaosApp()
    async with AsyncPipelineClient("http://chaos", transport=httpx.ASGITransport(app)) as client:
        with pytest.raises(httpx.ReadError) as caught:
            await client.post("/fault?id=plain&script=reset-after,200", content=b"{}")
        assert len(history(caught.value)) == 1
        keyed = await client.post(
            "/fault?id=keyed&script=reset-after,200", content=b"{}", headers={"idempotency-key": "k1"}
        )
        assert keyed.status_code == 200
        assert len(history(keyed)) == 2
    assert app.counters["plain"]["executions"] == 1
    assert (app.counters["keyed"]["executions"], app.counters["keyed"]["replays"]) == (1, 1)


async def test_random_mode_is_deterministic_and_transient(clock: VirtualClock) -> None:
    """Same seed, same faults; at most max_faults per key, so the default retries always get through."""
    results = []
    for _ in range(2):
        app = ChaosApp(fail_rate=0.5, seed=7, max_faults=3)
        async with AsyncPipelineClient(
            "http://chaos", transport=httpx.ASGITransport(app), retry_policy=RetryConfig()
        ) as client:
            statuses = []
            for index in range(30):
                response = await client.get(f"/items/{index}?id=k{index}")
                statuses.append((response.status_code, len(history(response))))
        results.append(statuses)
    assert results[0] == results[1]
    assert all(status == 200 for status, _ in results[0])
    assert any(attempts > 1 for _, attempts in results[0])


def test_unkeyed_posts_only_get_faults_the_server_owns() -> None:
    """A POST without an Idempotency-Key is only ever answered 429/503 with a Retry-After."""
    model = FaultModel(fail_rate=1.0, seed=3)
    for n in range(200):
        fault, _ = model.draw(f"k{n}", 1, safe_to_retry=False)
        assert fault.kind == "status"
        assert fault.status in (429, 503)
        assert fault.headers
    assert model.draw("k", 4, safe_to_retry=True)[0] == OK


def test_bad_scripts_and_settings_name_the_culprit() -> None:
    """Unknown steps and out-of-range settings raise ConfigurationError naming them."""
    assert [str(step) for step in parse_script("503;retry-after=1, reset, slow=5")] == [
        "503;retry-after=1",
        "reset-before",
        "slow=5",
    ]
    with pytest.raises(ConfigurationError, match="'boom'"):
        parse_script("200,boom")
    with pytest.raises(ConfigurationError, match="fail_rate"):
        ChaosApp(fail_rate=2)
