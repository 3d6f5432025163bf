"""verify_webhook on the format the gateway's webhooks use (docs/python.md, "Verify webhooks")."""
import hashlib
import hmac
import json
import time
import unittest

from tidings import WebhookVerificationError, verify_webhook

SECRET = "whsec-0123456789-abcdefghijklmnop"
BODY = json.dumps({"events": [{"type": "channel.occupied", "channel": "chat:1"}]}).encode()


def signature(secret, t, body):
    return hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()


def headers(t, *sigs):
    return {"Tidings-Webhook-Id": "wh_1", "Tidings-Signature": f"t={t}," + ",".join(f"v1={s}" for s in sigs)}


class VerifyWebhookTest(unittest.TestCase):
    def setUp(self):
        self.now = int(time.time())

    def rejects(self, body, hdrs, secret=SECRET, **kw):
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(secret, body, hdrs, **kw)
        return str(caught.exception)

    def test_a_good_signature_returns_the_parsed_body(self):
        self.assertEqual(verify_webhook(SECRET, BODY, headers(self.now, signature(SECRET, self.now, BODY))), json.loads(BODY))

    def test_header_names_are_case_insensitive_and_str_bodies_work(self):
        hdrs = {k.lower(): v for k, v in headers(self.now, signature(SECRET, self.now, BODY)).items()}
        self.assertEqual(verify_webhook(SECRET, BODY.decode(), hdrs)["events"][0]["channel"], "chat:1")
        self.assertEqual(verify_webhook(SECRET, BODY, list(hdrs.items()))["events"][0]["type"], "channel.occupied")

    def test_any_of_several_signatures_passes_during_rotation(self):
        old = "whsec-old-0123456789-abcdefghijklm"
        hdrs = headers(self.now, signature(old, self.now, BODY), signature(SECRET, self.now, BODY))
        self.assertTrue(verify_webhook(SECRET, BODY, hdrs))
        self.assertTrue(verify_webhook([old, "another-secret"], BODY, headers(self.now, signature(old, self.now, BODY))))

    def test_a_bad_signature_is_rejected(self):
        self.assertIn("no signature matches", self.rejects(BODY, headers(self.now, signature("wrong-secret", self.now, BODY))))
        self.assertIn("no signature matches", self.rejects(BODY, headers(self.now, "00" * 32)))
        self.assertIn("no signature matches", self.rejects(BODY, headers(self.now, "zz\u00e9")))

    def test_a_tampered_body_is_rejected(self):
        tampered = BODY.replace(b"chat:1", b"chat:2")
        self.assertIn("no signature matches", self.rejects(tampered, headers(self.now, signature(SECRET, self.now, BODY))))

    def test_an_old_or_future_timestamp_is_rejected(self):
        old = self.now - 301
        self.assertIn("tolerance", self.rejects(BODY, headers(old, signature(SECRET, old, BODY))))
        future = self.now + 301
        self.assertIn("tolerance", self.rejects(BODY, headers(future, signature(SECRET, future, BODY))))
        within = self.now - 250
        self.assertTrue(verify_webhook(SECRET, BODY, headers(within, signature(SECRET, within, BODY))))
        self.assertIn("tolerance", self.rejects(BODY, headers(within, signature(SECRET, within, BODY)), tolerance=60))

    def test_a_signature_moved_to_another_timestamp_is_rejected(self):
        sig = signature(SECRET, self.now - 1000, BODY)
        self.assertIn("no signature matches", self.rejects(BODY, headers(self.now, sig)))

    def test_malformed_headers_are_rejected(self):
        self.assertIn("missing", self.rejects(BODY, {}))
        self.assertIn("no t=", self.rejects(BODY, {"Tidings-Signature": "v1=abc"}))
        self.assertIn("no v1=", self.rejects(BODY, {"Tidings-Signature": f"t={self.now}"}))
        self.assertIn("malformed timestamp", self.rejects(BODY, {"Tidings-Signature": "t=soon,v1=abc"}))
        self.assertIn("malformed timestamp", self.rejects(BODY, {"Tidings-Signature": f"t={self.now},t={self.now},v1=abc"}))

    def test_a_signed_body_that_is_not_json_is_rejected(self):
        body = b"not json"
        self.assertIn("not JSON", self.rejects(body, headers(self.now, signature(SECRET, self.now, body))))

    def test_an_empty_secret_is_a_usage_error(self):
        with self.assertRaises(ValueError) as caught:
            verify_webhook("", BODY, headers(self.now, "00"))
        self.assertNotIsInstance(caught.exception, WebhookVerificationError)


if __name__ == "__main__":
    unittest.main()
