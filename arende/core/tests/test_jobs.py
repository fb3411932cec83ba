"""Jobs: the heartbeat, health checks, the status page, and Redis with several workers."""

from __future__ import annotations

import datetime
import os
import threading
import uuid

import pytest
from django.utils import timezone

from arende.core import jobs
from arende.core.models import Heartbeat
from arende.core.tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


def test_heartbeat_job_records_its_run():
    jobs.heartbeat.call_local()
    jobs.heartbeat.call_local()
    beat = Heartbeat.objects.get(name="heartbeat")
    assert beat.runs == 2
    assert timezone.now() - beat.last_run_at < datetime.timedelta(seconds=10)


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["jobs"]["ok"]
    assert body["heartbeat"]["fresh"] is False
    jobs.heartbeat.call_local()
    assert client.get("/healthz").json()["heartbeat"]["fresh"] is True


def test_healthz_fails_when_the_queue_does_not_answer(client, monkeypatch):
    def broken():
        raise ConnectionError("queue down")

    monkeypatch.setattr(jobs, "queue_pending", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["jobs"]["ok"] is False


def test_status_page_shows_the_last_heartbeat(client):
    manager = grant(UserFactory(), "manager")
    client.force_login(manager)
    jobs.heartbeat.call_local()
    beat = Heartbeat.objects.get()
    html = client.get("/status/").content.decode()
    local = timezone.localtime(beat.last_run_at).strftime("%Y-%m-%d %H:%M:%S")
    assert local in html


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("ARENDE_REQUIRE_REDIS"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def test_several_workers_on_redis_run_each_job_exactly_once():
    from huey import RedisHuey

    store = _redis_or_skip()
    name = f"arende-test-{uuid.uuid4().hex}"
    done_key = f"{name}:done"
    producer = RedisHuey(name, url=REDIS_URL)

    @producer.task()
    def record(number):
        # Each worker has its own connection, as on separate machines.
        store.rpush(done_key, number)

    for number in range(60):
        record(number)
    assert producer.pending_count() == 60

    def worker():
        consumer = RedisHuey(name, url=REDIS_URL)
        consumer._registry = producer._registry
        while True:
            task = consumer.dequeue()
            if task is None:
                return
            consumer.execute(task)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        done = sorted(int(value) for value in store.lrange(done_key, 0, -1))
        assert done == list(range(60))
        assert producer.pending_count() == 0
    finally:
        store.delete(done_key)
        producer.storage.flush_all()
