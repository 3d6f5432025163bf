"""The in-tree build backend (_build/tidings_build.py): the wheel holds the package and a valid RECORD."""
import base64
import hashlib
import os
import re
import sys
import tempfile
import unittest
import zipfile

import tidings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "_build"))
import tidings_build  # noqa: E402


class PackagingTest(unittest.TestCase):
    def test_the_version_is_the_one_in_pyproject(self):
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
            self.assertEqual(re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1), tidings.__version__)

    def test_the_wheel_holds_every_module_with_matching_hashes(self):
        with tempfile.TemporaryDirectory() as out:
            name = tidings_build.build_wheel(out)
            self.assertEqual(name, f"tidings-{tidings.__version__}-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(out, name)) as wheel:
                names = set(wheel.namelist())
                modules = {f"tidings/{m}" for m in os.listdir(os.path.join(ROOT, "tidings")) if m.endswith(".py")}
                self.assertTrue(modules | {"tidings/py.typed"} <= names, names)
                record = wheel.read(f"tidings-{tidings.__version__}.dist-info/RECORD").decode().splitlines()
                for line in record:
                    path, digest, size = line.rsplit(",", 2)
                    if path.endswith("RECORD"):
                        continue
                    data = wheel.read(path)
                    self.assertEqual(digest, "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode())
                    self.assertEqual(int(size), len(data))
                self.assertIn("Requires-Python: >=3.9", wheel.read(f"tidings-{tidings.__version__}.dist-info/METADATA").decode())


if __name__ == "__main__":
    unittest.main()
