"""Retries, keep-alive and failures, through a scripted front (support.Front) on the real gateway.

The front loses the gateway's answer after the gateway stored the publication
(what a gateway killed mid-request does to its caller), or answers 503: the
client must retry with the same idempotency key, and exactly one publication
must exist.
"""
import asyncio
import os
import socket
import unittest
import warnings

from support import Front, gateway, unique
from tidings import AsyncTidings, NetworkError, Tidings, Unavailable

FAST = {"timeout": 5, "backoff": 0.01, "max_backoff": 0.05}


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SyncRetryTest(unittest.TestCase):
    def setUp(self):
        self.url, self.key = gateway()
        self.direct = Tidings(self.url, self.key)

    def tearDown(self):
        self.direct.close()

    def front(self, script):
        front = Front(self.url, script)
        self.addCleanup(front.close)
        return front

    def test_a_lost_answer_and_503s_are_retried_with_one_key_and_publish_once(self):
        front = self.front(["lose_answer", "unavailable", "unavailable"])
        channel = unique("news:retry-")
        with Tidings(front.url, self.key, retries=3, **FAST) as client:
            position = client.publish(channel, {"job": 1})
        keys = front.keys()
        self.assertEqual(len(keys), 4)
        self.assertEqual(len(set(keys)), 1, keys)
        self.assertTrue(keys[0])
        self.assertEqual(front.forwarded, 2)  # the lost one and the last one reached the gateway
        history = self.direct.history(channel)
        self.assertEqual([p["data"] for p in history.publications], [{"job": 1}])
        self.assertEqual(position, (1, history.epoch))

    def test_a_retried_batch_sends_the_same_keys_and_publishes_each_item_once(self):
        front = self.front(["lose_answer", "unavailable"])
        a, b = unique("news:batch-retry-a-"), unique("news:batch-retry-b-")
        with Tidings(front.url, self.key, retries=3, **FAST) as client:
            results = client.publish_batch([{"channel": a, "data": 1}, {"channel": b, "data": 2}, {"user": "dave", "data": 3, "idempotency_key": "mine-b"}])
        sent = [[item["idempotencyKey"] for item in body["publications"]] for _, _, body, _ in front.requests]
        self.assertEqual(len(sent), 3)
        self.assertEqual(sent[0], sent[1])
        self.assertEqual(sent[0], sent[2])
        self.assertEqual(sent[0][2], "mine-b")
        self.assertEqual(len(set(sent[0])), 3)
        self.assertEqual([r.offset for r in results[:2]], [1, 1])
        self.assertEqual([p["data"] for p in self.direct.history(a).publications], [1])
        self.assertEqual([p["data"] for p in self.direct.history(b).publications], [2])

    def test_the_callers_key_is_the_one_retried(self):
        front = self.front(["unavailable"])
        with Tidings(front.url, self.key, retries=1, **FAST) as client:
            client.publish_to_user("dave", 1, idempotency_key="mine-1")
        self.assertEqual(front.keys(), ["mine-1", "mine-1"])

    def test_503_past_the_retries_raises_unavailable_with_the_code(self):
        front = self.front(["unavailable"] * 3)
        with Tidings(front.url, self.key, retries=2, **FAST) as client:
            with self.assertRaises(Unavailable) as caught:
                client.publish(unique("news:retry-"), 1)
        self.assertEqual((caught.exception.status, caught.exception.code, caught.exception.retry_after), (503, 113, 0.0))
        self.assertEqual(len(front.requests), 3)

    def test_one_connection_is_kept_alive_across_calls(self):
        front = self.front([])
        with Tidings(front.url, self.key, retries=0, **FAST) as client:
            channel = unique("news:keepalive-")
            for n in range(5):
                client.publish(channel, n)
            client.info()
        self.assertEqual((front.connections, len(front.requests)), (1, 6))

    def test_a_connection_the_server_closed_is_replaced_without_a_retry(self):
        front = self.front(["close_after", "forward", "reset"])
        with Tidings(front.url, self.key, retries=0, **FAST) as client:
            client.info()  # answered, then closed by the server while idle
            client.info()  # noticed before sending: a new connection
            client.info()  # reset as it is reused: sent once more on a fresh one
        self.assertEqual(front.connections, 3)
        self.assertEqual(len(front.requests), 4)

    def test_a_signal_whose_answer_was_lost_is_not_sent_again(self):
        front = self.front(["lose_answer"])
        with Tidings(front.url, self.key, retries=3, **FAST) as client:
            with self.assertRaises(NetworkError):
                client.signal("chat:py", {"once": True})
        self.assertEqual(len(front.requests), 1)

    def test_a_signal_on_a_reused_connection_that_drops_is_not_sent_again(self):
        # The second signal rides the kept-alive connection; the front forwards it, then drops the answer.
        front = self.front(["forward", "lose_answer"])
        with Tidings(front.url, self.key, retries=3, **FAST) as client:
            client.signal("chat:guard", 1)
            with self.assertRaises(NetworkError):
                client.signal("chat:guard", 2)
        self.assertEqual(len(front.requests), 2)

    def test_no_answer_within_the_timeout_is_a_network_error(self):
        front = self.front(["hang", "hang"])
        with Tidings(front.url, self.key, timeout=0.3, retries=1, backoff=0.01) as client:
            with self.assertRaises(NetworkError) as caught:
                client.info()
        self.assertIsNone(caught.exception.status)
        self.assertIn("timed out", str(caught.exception))
        self.assertEqual(len(front.requests), 2)

    def test_a_refused_connection_is_retried_then_raised(self):
        with Tidings(f"http://127.0.0.1:{closed_port()}", self.key, retries=2, **FAST) as client:
            with self.assertRaises(NetworkError) as caught:
                client.signal("chat:py", 1)  # never sent, so even a signal is retried
        self.assertIn("ConnectionRefusedError", str(caught.exception))


class ProcessesAndLoopsTest(unittest.TestCase):
    def setUp(self):
        self.url, self.key = gateway()

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_a_forked_worker_opens_its_own_connection(self):
        front = Front(self.url, [])
        self.addCleanup(front.close)
        with Tidings(front.url, self.key, retries=0, **FAST) as client:
            client.info()
            with warnings.catch_warnings():
                # 3.12+ warns that this test process has threads (the front's); the child uses none of them.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the child: like a Celery prefork worker
                code = 1
                try:
                    code = 0 if client.info()["nodes"] else 1
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8, 0)
            client.info()  # the parent's connection is still its own
        self.assertEqual((front.connections, len(front.requests)), (2, 3))

    def test_an_async_client_outlives_its_event_loop(self):
        front = Front(self.url, [])
        self.addCleanup(front.close)
        client = AsyncTidings(front.url, self.key, retries=0, **FAST)
        asyncio.run(client.info())
        asyncio.run(client.info())  # the first loop's connection is dropped, not reused
        asyncio.run(client.aclose())
        self.assertEqual((front.connections, len(front.requests)), (2, 2))


class AsyncRetryTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.url, self.key = gateway()

    def front(self, script):
        front = Front(self.url, script)
        self.addCleanup(front.close)
        return front

    async def test_a_lost_answer_and_503s_are_retried_with_one_key_and_publish_once(self):
        front = self.front(["lose_answer", "unavailable"])
        channel = unique("news:aretry-")
        async with AsyncTidings(front.url, self.key, retries=2, **FAST) as client:
            position = await client.publish(channel, {"job": 2})
        async with AsyncTidings(self.url, self.key) as direct:
            history = await direct.history(channel)
        keys = front.keys()
        self.assertEqual((len(keys), len(set(keys))), (3, 1))
        self.assertEqual([p["data"] for p in history.publications], [{"job": 2}])
        self.assertEqual(position, (1, history.epoch))

    async def test_keep_alive_and_a_server_closed_connection(self):
        front = self.front(["forward", "forward", "close_after", "forward", "reset"])
        async with AsyncTidings(front.url, self.key, retries=0, **FAST) as client:
            for _ in range(3):
                await client.info()  # one connection, closed by the server after the third
            await asyncio.sleep(0.05)
            await client.info()  # noticed closed before sending: a new connection
            await client.info()  # reset as it is reused: once more on a fresh one
        self.assertEqual(front.connections, 3)
        self.assertEqual(len(front.requests), 6)

    async def test_timeout_and_refused(self):
        front = self.front(["hang"])
        async with AsyncTidings(front.url, self.key, timeout=0.3, retries=0) as client:
            with self.assertRaises(NetworkError) as caught:
                await client.info()
        self.assertIn("timed out", str(caught.exception))
        async with AsyncTidings(f"http://127.0.0.1:{closed_port()}", self.key, retries=1, **FAST) as client:
            with self.assertRaises(NetworkError):
                await client.info()

    async def test_a_signal_whose_answer_was_lost_is_not_sent_again(self):
        front = self.front(["lose_answer"])
        async with AsyncTidings(front.url, self.key, retries=3, **FAST) as client:
            with self.assertRaises(NetworkError):
                await client.signal("chat:py", {"once": True})
        self.assertEqual(len(front.requests), 1)

    async def test_a_signal_on_a_reused_connection_that_drops_is_not_sent_again(self):
        front = self.front(["forward", "lose_answer"])
        async with AsyncTidings(front.url, self.key, retries=3, **FAST) as client:
            await client.signal("chat:guard", 1)
            with self.assertRaises(NetworkError):
                await client.signal("chat:guard", 2)
        self.assertEqual(len(front.requests), 2)


if __name__ == "__main__":
    unittest.main()
