"""Every method of AsyncTidings against the real gateway (the vitest driver checks alice, bob-async, carol-async)."""
import asyncio
import unittest

from support import Front, gateway, unique
from tidings import AsyncTidings, BadRequest, Position, Unauthorized


class AsyncApiTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        url, key = gateway()
        self.url, self.key = url, key
        self.client = AsyncTidings(url, key, timeout=5, retries=1, backoff=0.01, max_backoff=0.05)

    async def asyncTearDown(self):
        await self.client.aclose()

    async def test_publish_history_and_idempotency(self):
        channel = unique("news:async-")
        offset, epoch = await self.client.publish(channel, {"n": 1})
        self.assertEqual(offset, 1)
        keyed = await self.client.publish(channel, {"n": 2}, idempotency_key="order-8")
        self.assertEqual(await self.client.publish(channel, {"n": 2}, idempotency_key="order-8"), keyed)
        self.assertEqual(keyed, Position(2, epoch))
        history = await self.client.history(channel, limit=10, since=(1, epoch))
        self.assertEqual((history.offset, [p["data"] for p in history.publications]), (2, [{"n": 2}]))

    async def test_concurrent_calls_share_the_client(self):
        channel = unique("news:async-many-")
        positions = await asyncio.gather(*(self.client.publish(channel, n) for n in range(10)))
        self.assertEqual(sorted(p.offset for p in positions), list(range(1, 11)))
        self.assertEqual(len((await self.client.history(channel)).publications), 10)

    async def test_broadcast(self):
        a = unique("news:async-a-")
        results = await self.client.broadcast([a, "nowhere:2"], "hi")
        self.assertEqual([(r.channel, r.ok) for r in results], [(a, True), ("nowhere:2", False)])
        self.assertEqual(results[1].error.code, 102)

    async def test_publish_batch(self):
        a = unique("news:batch-async-")
        results = await self.client.publish_batch([{"channel": a, "data": 1}, {"channel": "nowhere:2", "data": 2}, {"channel": a, "data": 3}])
        self.assertEqual([(r.channel, r.ok, r.offset) for r in results], [(a, True, 1), ("nowhere:2", False, None), (a, True, 2)])
        self.assertEqual(results[1].error.code, 102)

    async def test_presence_publish_to_user_and_signal(self):
        users = [c["user"] for c in await self.client.presence("chat:py")]
        self.assertIn("alice", users)
        offset, epoch = await self.client.publish_to_user("alice", {"from": "async"})
        since = (offset - 1, epoch)
        self.assertEqual((await self.client.history("#alice", since=since)).publications[0]["data"], {"from": "async"})
        self.assertIsNone(await self.client.signal("chat:py", {"from": "async"}))

    async def test_unsubscribe_and_disconnect_users(self):
        self.assertIsNone(await self.client.unsubscribe_user("bob-async", "chat:py"))
        self.assertIsNone(await self.client.disconnect_user("carol-async", reconnect=True, reason="maintenance"))

    async def test_info_and_channels(self):
        self.assertEqual(len((await self.client.info())["nodes"]), 1)
        self.assertIn("chat:py", [c["channel"] for c in await self.client.channels()])

    async def test_errors_are_typed(self):
        wrong = AsyncTidings(self.url, "not-the-key", retries=0)
        with self.assertRaises(Unauthorized) as caught:
            await wrong.info()
        self.assertEqual((caught.exception.status, caught.exception.code), (401, 101))
        await wrong.aclose()
        with self.assertRaises(BadRequest) as bad:
            await self.client.history("news:1", limit=-1)
        self.assertEqual((bad.exception.status, bad.exception.code), (400, 107))

    async def test_chunked_answers_are_read(self):
        front = Front(self.url, ["chunked", "chunked"])
        client = AsyncTidings(front.url, self.key, timeout=5, retries=0)
        try:
            channel = unique("news:async-chunked-")
            self.assertEqual((await client.publish(channel, {"big": "x" * 5000})).offset, 1)
            history = await client.history(channel)
            self.assertEqual(history.publications[0]["data"], {"big": "x" * 5000})
            self.assertEqual(front.connections, 1)  # a chunked answer keeps the connection
        finally:
            await client.aclose()
            front.close()


if __name__ == "__main__":
    unittest.main()
