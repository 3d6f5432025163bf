"""Document worker for the Tidings showcase (seed 002): the standard library and the Tidings SDK.

Reads jobs as JSON lines on stdin. Each job runs in its own thread and goes
through the checkpoints started 5%, chunking 10%, processing 15-75% (one per
chunk), merging 75%, then done 100% (or failed). Every checkpoint is written
to the app's SQLite database and published through the gateway's HTTP API on
the user's channel jobs:#<user>, which nobody else may subscribe to.

Publishing goes through the Tidings Python SDK (packages/python): a publish
that fails because the gateway is restarting is retried with the same
idempotency key, so it is stored exactly once. The showcase server puts the
SDK on PYTHONPATH; in your own worker, `pip install ./packages/python`.
"""
import json
import os
import sqlite3
import sys
import threading
import time

from tidings import Tidings

GATEWAY = os.environ.get("TIDINGS_URL", "http://127.0.0.1:7070")
API_KEY = os.environ["TIDINGS_API_KEY"]
DB_FILE = os.environ["SHOWCASE_DB"]
STEP = int(os.environ.get("SHOWCASE_STEP_MS", "600")) / 1000.0
# About a minute of retries (backoff doubling from 0.1 s up to 1 s, full jitter) rides out a gateway restart.
gateway = Tidings(GATEWAY, API_KEY, timeout=5.0, retries=120, backoff=0.1, max_backoff=1.0)


def record(job_id, status, stage, progress, error=None):
    with sqlite3.connect(DB_FILE, timeout=5) as db:
        db.execute(
            "UPDATE jobs SET status = ?, stage = ?, progress = ?, error = ?, updated = ? WHERE id = ?",
            (status, stage, progress, error, int(time.time() * 1000), job_id),
        )


def run(job):
    channel = "jobs:#" + job["user"]
    seq = 0
    last = 0

    def checkpoint(status, stage, progress, **extra):
        nonlocal seq, last
        seq += 1
        last = progress
        record(job["id"], status, stage, progress, extra.get("error"))
        data = {"job": job["id"], "name": job["name"], "status": status, "stage": stage, "progress": progress, "chunks": job["chunks"], **extra}
        gateway.publish(channel, data, idempotency_key="%s:%d" % (job["id"], seq))

    chunks = job["chunks"]
    try:
        checkpoint("running", "started", 5)
        time.sleep(STEP)
        checkpoint("running", "chunking", 10)
        time.sleep(STEP)
        for i in range(chunks):
            checkpoint("running", "processing", round(15 + 60 * i / chunks, 1), chunk=i + 1)
            time.sleep(STEP)
            if job.get("fail") and i + 1 == (chunks + 1) // 2:
                raise RuntimeError("chunk %d of %d could not be parsed" % (i + 1, chunks))
        checkpoint("running", "merging", 75)
        time.sleep(STEP)
        checkpoint("done", "done", 100)
    except Exception as err:  # the job fails, the worker keeps serving
        checkpoint("failed", "failed", last, error=str(err))


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            job = json.loads(line)
        except ValueError:
            print("worker: ignoring a line that is not JSON", file=sys.stderr)
            continue
        threading.Thread(target=run, args=(job,), daemon=True).start()


if __name__ == "__main__":
    main()
