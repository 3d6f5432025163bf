"""Every method of the blocking client against the real gateway.

The effects only a connected client can see (signal, publish_to_user,
unsubscribe_user, disconnect_user) are checked by the vitest driver on its
peers after this run: alice, bob-sync and carol-sync.
"""
import unittest

from support import gateway, unique
from tidings import BadRequest, BatchResult, BroadcastResult, History, NotFound, Position, Tidings, Unauthorized, personal_channel


class SyncApiTest(unittest.TestCase):
    def setUp(self):
        url, key = gateway()
        self.url = url
        self.client = Tidings(url, key, timeout=5, retries=1, backoff=0.01, max_backoff=0.05)

    def tearDown(self):
        self.client.close()

    def test_publish_returns_the_position_and_repeats_nothing_for_the_same_key(self):
        channel = unique("news:sync-")
        first = self.client.publish(channel, {"n": 1})
        self.assertIsInstance(first, Position)
        offset, epoch = first
        self.assertEqual(offset, 1)
        self.assertTrue(epoch)
        keyed = self.client.publish(channel, {"n": 2}, idempotency_key="order-7")
        self.assertEqual(keyed, Position(2, epoch))
        self.assertEqual(self.client.publish(channel, {"n": 2}, idempotency_key="order-7"), keyed)
        self.assertEqual([p["data"] for p in self.client.history(channel).publications], [{"n": 1}, {"n": 2}])

    def test_history_with_limit_and_since(self):
        channel = unique("news:sync-h-")
        for n in range(3):
            self.client.publish(channel, n)
        whole = self.client.history(channel)
        self.assertIsInstance(whole, History)
        self.assertEqual((whole.offset, [p["offset"] for p in whole.publications]), (3, [1, 2, 3]))
        self.assertEqual(len(self.client.history(channel, limit=2).publications), 2)
        for since in (Position(1, whole.epoch), (1, whole.epoch), {"offset": 1, "epoch": whole.epoch}):
            self.assertEqual([p["data"] for p in self.client.history(channel, since=since).publications], [1, 2])

    def test_broadcast_reports_each_channel(self):
        a, b = unique("news:sync-a-"), unique("news:sync-b-")
        results = self.client.broadcast([a, b, "nowhere:1"], {"hello": True})
        self.assertEqual([r.channel for r in results], [a, b, "nowhere:1"])
        self.assertTrue(all(isinstance(r, BroadcastResult) for r in results))
        self.assertEqual([(r.ok, r.offset) for r in results[:2]], [(True, 1), (True, 1)])
        self.assertFalse(results[2].ok)
        self.assertIsInstance(results[2].error, BadRequest)
        self.assertEqual(results[2].error.code, 102)
        self.assertEqual(self.client.history(a).publications[0]["data"], {"hello": True})

    def test_publish_batch_reports_each_publication_in_order(self):
        a, b = unique("news:batch-a-"), unique("news:batch-b-")
        results = self.client.publish_batch([
            {"channel": a, "data": {"progress": 10}},
            {"channel": b, "data": {"progress": 20}, "idempotency_key": "tick-1-b"},
            {"channel": a, "data": {"progress": 30}},
            {"channel": "bad channel!", "data": 1},
            {"user": "alice", "data": {"notice": "batch"}},
        ])
        self.assertTrue(all(isinstance(r, BatchResult) for r in results))
        self.assertEqual([(r.channel, r.user, r.ok) for r in results], [(a, None, True), (b, None, True), (a, None, True), ("bad channel!", None, False), (None, "alice", True)])
        self.assertEqual([r.offset for r in results[:3]], [1, 1, 2])
        self.assertIsInstance(results[3].error, BadRequest)
        self.assertEqual(results[3].error.code, 102)
        self.assertEqual([p["data"] for p in self.client.history(a).publications], [{"progress": 10}, {"progress": 30}])
        # The caller's key: the same item again publishes nothing new.
        again = self.client.publish_batch([{"channel": b, "data": {"progress": 20}, "idempotency_key": "tick-1-b"}])
        self.assertEqual((again[0].offset, again[0].epoch), (results[1].offset, results[1].epoch))
        self.assertEqual(len(self.client.history(b).publications), 1)
        history = self.client.history("#alice", since=(results[4].offset - 1, results[4].epoch))
        self.assertEqual(history.publications[0]["data"], {"notice": "batch"})

    def test_publish_batch_refuses_a_malformed_batch_before_sending(self):
        for bad in ([], [{"channel": "a"}], [{"channel": "a", "user": "b", "data": 1}], [{"channel": "a", "data": 1, "extra": 2}], "jobs:1", [1], [{"channel": "a", "data": 1}] * 1001):
            with self.assertRaises(ValueError, msg=repr(bad)[:60]):
                self.client.publish_batch(bad)

    def test_presence_lists_the_subscribers_with_their_info(self):
        clients = self.client.presence("chat:py")
        alice = [c for c in clients if c["user"] == "alice"]
        self.assertEqual(len(alice), 1, clients)
        self.assertEqual(alice[0]["info"], {"name": "Alice"})

    def test_publish_to_user_goes_to_the_personal_channel(self):
        offset, epoch = self.client.publish_to_user("alice", {"from": "sync"})
        self.assertGreaterEqual(offset, 1)
        self.assertEqual(self.client.history("#alice", since=(offset - 1, epoch)).publications[0]["data"], {"from": "sync"})

    def test_personal_channel_names_any_user_id_as_the_gateway_does(self):
        self.assertEqual(personal_channel("alice"), "#alice")
        self.assertEqual(personal_channel("x,y"), "#=eCx5")
        self.assertIsNone(personal_channel("\u00e9" * 200))
        for user in ("x,y", "J\u00fcrgen M\u00fcller", 'say "hi"'):
            offset, epoch = self.client.publish_to_user(user, {"to": user})
            history = self.client.history(personal_channel(user), since=(offset - 1, epoch))
            self.assertEqual([p["data"] for p in history.publications], [{"to": user}])

    def test_signal_disconnect_and_unsubscribe_are_accepted(self):
        self.assertIsNone(self.client.signal("chat:py", {"from": "sync"}))
        self.assertIsNone(self.client.unsubscribe_user("bob-sync", "chat:py"))
        self.assertIsNone(self.client.disconnect_user("carol-sync"))

    def test_info_and_channels(self):
        nodes = self.client.info()["nodes"]
        self.assertEqual(len(nodes), 1)
        self.assertIn("uptime", nodes[0])
        self.assertIn("chat:py", [c["channel"] for c in self.client.channels()])

    def test_errors_are_typed_with_the_api_code_and_status(self):
        with self.assertRaises(Unauthorized) as wrong_key, Tidings(self.url, "not-the-key", retries=0) as wrong:
            wrong.info()
        self.assertEqual((wrong_key.exception.status, wrong_key.exception.code), (401, 101))
        with self.assertRaises(BadRequest) as bad_channel:
            self.client.publish("not a channel", 1)
        self.assertEqual((bad_channel.exception.status, bad_channel.exception.code), (400, 102))
        self.assertIn("invalid channel name", str(bad_channel.exception))
        with self.assertRaises(BadRequest) as no_presence:
            self.client.presence("news:1")
        self.assertEqual(no_presence.exception.code, 108)
        with self.assertRaises(NotFound), Tidings(self.url + "/prefix", self.client._api_key, retries=0) as prefixed:
            prefixed.info()

    def test_bad_arguments_fail_before_any_request(self):
        with self.assertRaises(ValueError):
            self.client.publish("", 1)
        with self.assertRaises(ValueError):
            self.client.broadcast("news:1", 1)
        with self.assertRaises(ValueError):
            self.client.signal("chat:py", None)
        with self.assertRaises(TypeError):
            self.client.publish("news:1", object())
        with self.assertRaises(ValueError):
            Tidings("ftp://example", "key")
        with self.assertRaises(ValueError):
            Tidings(self.url, "key\r\nX-Injected: 1")
        with self.assertRaises(ValueError):
            Tidings(self.url, "key", retries=-1)
        for since in ("abc", (1,), {"offset": "1", "epoch": "e"}):
            with self.assertRaises(ValueError, msg=since):
                self.client.history("news:1", since=since)


if __name__ == "__main__":
    unittest.main()
