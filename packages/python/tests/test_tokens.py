"""sign_token's JWTs, decoded here; the vitest driver also connects to the gateway with tokens printed by print_tokens.py."""
import base64
import hashlib
import hmac
import json
import time
import unittest

from tidings import sign_token

SECRET = "a-secret-of-at-least-32-characters!!"


def decode(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class SignTokenTest(unittest.TestCase):
    def test_an_hs256_jwt_with_sub_iat_exp_and_channels(self):
        before = int(time.time())
        token = sign_token(SECRET, "42", channels=["jobs:7"], info={"name": "Ann"}, aud="app")
        head, body, sig = token.split(".")
        self.assertNotIn("=", token)
        self.assertEqual(decode(head), {"alg": "HS256", "typ": "JWT"})
        claims = decode(body)
        self.assertEqual({k: claims[k] for k in ("sub", "channels", "info", "aud")}, {"sub": "42", "channels": ["jobs:7"], "info": {"name": "Ann"}, "aud": "app"})
        self.assertTrue(before <= claims["iat"] <= int(time.time()))
        self.assertEqual(claims["exp"], claims["iat"] + 3600)
        expected = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        self.assertEqual(base64.urlsafe_b64decode(sig + "="), expected)

    def test_ttl_none_means_no_exp_and_claims_override(self):
        self.assertNotIn("exp", decode(sign_token(SECRET, "u", ttl=None).split(".")[1]))
        self.assertNotIn("exp", decode(sign_token(SECRET.encode(), "u", ttl=0).split(".")[1]))
        self.assertEqual(decode(sign_token(SECRET, "u", exp=5).split(".")[1])["exp"], 5)
        self.assertNotIn("channels", decode(sign_token(SECRET, "u").split(".")[1]))

    def test_bad_arguments_are_refused(self):
        for args, kwargs in [((SECRET, ""), {}), (("", "u"), {}), ((SECRET, "u"), {"ttl": -1}), ((SECRET, "u"), {"ttl": 1.5}), ((SECRET, "u"), {"channels": "jobs:7"})]:
            with self.assertRaises(ValueError, msg=(args, kwargs)):
                sign_token(*args, **kwargs)


if __name__ == "__main__":
    unittest.main()
