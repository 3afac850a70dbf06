"""A small Faust app for the embedded-broker integration tests (run as a worker subprocess).

    python -m tests.integration.faust_app worker --without-web -l info

Configuration comes from the environment (set by the test):

    GP_IT_BROKER      bootstrap "127.0.0.1:PORT"                    (required)
    GP_IT_APP_ID      Faust app id / consumer group                 (default "gp-it")
    GP_IT_DATADIR     Faust datadir (RocksDB tables live below it)  (required)
    GP_IT_STATUS      JSON status file, rewritten every 0.2 s       (required)
    GP_IT_COMPAT      "1" (default): faust_app_settings(embedded=True); "0": only the fast-join settings,
                      without the end-offset workaround (to show the defect)
    GP_IT_PARTITIONS  partitions of the source topic and of the table changelog (default 4)
    GP_IT_EXTRA       JSON object of extra Faust settings (for measurements), optional
    GP_IT_FANOUT      records the agent also sends to the "<app id>-out" topic per event (default 0)

The agent stores the latest ``n`` per key in a RocksDB table (``rocksdb-capped://`` store); the status file
holds ``{"recovered": bool, "processed": int, "table": {key: n}}`` so the test can poll it.
"""
from __future__ import annotations

import json
import os
import time

import faust

import streams.rocksdb_store  # noqa: F401  (registers rocksdb-capped://)
from streams.broker_compat import FAST_JOIN_SETTINGS, faust_app_settings

BROKER = os.environ["GP_IT_BROKER"]
APP_ID = os.environ.get("GP_IT_APP_ID", "gp-it")
DATADIR = os.environ["GP_IT_DATADIR"]
STATUS = os.environ["GP_IT_STATUS"]
COMPAT = os.environ.get("GP_IT_COMPAT", "1") == "1"
PARTITIONS = int(os.environ.get("GP_IT_PARTITIONS", "4"))
EXTRA = json.loads(os.environ.get("GP_IT_EXTRA", "{}"))
FANOUT = int(os.environ.get("GP_IT_FANOUT", "0"))

SOURCE_TOPIC = f"{APP_ID}-updates"
TABLE_NAME = "latest"

settings = {
    "broker": f"kafka://{BROKER}",
    "store": streams.rocksdb_store.STORE_URL,
    "datadir": DATADIR,
    "topic_partitions": PARTITIONS,
    "processing_guarantee": "at_least_once",
    "web_enabled": False,
    "autodiscover": False,
}
settings.update(faust_app_settings(embedded=True) if COMPAT else FAST_JOIN_SETTINGS)
settings.update(EXTRA)

app = faust.App(APP_ID, **settings)

source = app.topic(SOURCE_TOPIC, key_type=str, value_type=bytes, value_serializer="raw",
                   partitions=PARTITIONS)
out = app.topic(f"{APP_ID}-out", key_type=str, value_type=bytes, value_serializer="raw", partitions=PARTITIONS)
latest = app.Table(TABLE_NAME, default=int, key_type=str, value_type=int, partitions=PARTITIONS)

_state = {"processed": 0, "started": time.time()}


@app.agent(source, concurrency=1)
async def apply_updates(stream):
    async for event in stream.events():
        value = json.loads(event.value)
        latest[event.key] = int(value["n"])
        for i in range(FANOUT):
            await out.send(key=event.key, value=event.value)
        _state["processed"] += 1


def _write_status() -> None:
    recovered = app.tables.recovery.completed.is_set()
    table = {k: v for k, v in latest.items()} if recovered else {}
    doc = {"recovered": recovered, "processed": _state["processed"], "table": table,
           "pid": os.getpid(), "t": time.time() - _state["started"]}
    tmp = f"{STATUS}.tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh)
    os.replace(tmp, STATUS)


@app.timer(interval=0.2)
async def report_status():
    _write_status()


if __name__ == "__main__":
    app.main()
