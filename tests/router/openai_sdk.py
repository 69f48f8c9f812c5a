"""The official OpenAI Python SDK, unchanged, against the router: a plain request, an image
request, a streaming request and a structured-output request. The router and two fake
providers (the one fake: an LLM provider cannot exist here) run as their own processes on
loopback, started here and stopped by PID.

    python tests/router/openai_sdk.py TARGET_DIR   # TARGET_DIR/debug/{review-router,fake-llm}
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import openai

TARGET = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.expanduser("~/.cache/review-station/target")
BIN = os.path.join(TARGET, "debug")
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "grocery", "queries", "Packages")


def start(args, tag):
    """Starts a process that prints `listening on ADDR`; returns it and the address."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        if line.startswith("listening on "):
            return proc, line.split()[-1]
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"{tag} did not start")


class OpenAiSdk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.dir = tempfile.mkdtemp(prefix="router-sdk-")
        gemini, g = start([os.path.join(BIN, "fake-llm"), "--provider", "gemini", "--model", "gemini-2.5-flash"], "gemini fake")
        bedrock, b = start([os.path.join(BIN, "fake-llm"), "--provider", "openai", "--model", "qwen3-32b"], "bedrock fake")
        cls.procs += [gemini, bedrock]
        config = os.path.join(cls.dir, "router.toml")
        with open(config, "w") as f:
            f.write(f"""listen = "127.0.0.1:0"
database = "router.db"
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = 100000
spill_rps10 = 100000
spill_share = 0.5
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "http://{g}/v1"
max_in_flight = 8
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "http://{b}/v1"
max_in_flight = 8
[[models]]
name = "reasoning"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50 }}]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
""")
        router = os.path.join(BIN, "review-router")
        key = subprocess.run([router, "--config", config, "keys", "create", "sdk"], check=True, capture_output=True, text=True).stdout.strip()
        proc, address = start([router, "--config", config], "router")
        cls.procs.append(proc)
        cls.client = openai.OpenAI(base_url=f"http://{address}/v1", api_key=key, max_retries=0, timeout=30)

    @classmethod
    def tearDownClass(cls):
        for proc in cls.procs:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)

    def test_plain(self):
        answer = self.client.chat.completions.create(model="reasoning", messages=[{"role": "user", "content": "Is the shelf full?"}])
        self.assertTrue(answer.choices[0].message.content)
        self.assertGreater(answer.usage.prompt_tokens, 0)
        self.assertEqual([m.id for m in self.client.models.list()], ["reasoning"])

    def test_image(self):
        photo = sorted(os.listdir(FIXTURE))[0]
        with open(os.path.join(FIXTURE, photo), "rb") as f:
            url = "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()
        answer = self.client.chat.completions.create(model="reasoning", messages=[{"role": "user", "content": [
            {"type": "text", "text": "Which product category is this?"},
            {"type": "image_url", "image_url": {"url": url}}]}])
        self.assertTrue(answer.choices[0].message.content)
        self.assertGreaterEqual(answer.usage.prompt_tokens, 258, "the image was counted")

    def test_stream(self):
        chunks = list(self.client.chat.completions.create(model="reasoning", stream=True,
            stream_options={"include_usage": True}, messages=[{"role": "user", "content": "Stream a short answer."}]))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        self.assertTrue(text)
        self.assertTrue(any(c.usage and c.usage.completion_tokens > 0 for c in chunks), "the usage chunk came through")

    def test_structured_output(self):
        schema = {"type": "object", "additionalProperties": False, "required": ["valid", "reasons"],
                  "properties": {"valid": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}}}}
        answer = self.client.chat.completions.create(model="reasoning", messages=[{"role": "user", "content": "Is the price tag visible?"}],
            response_format={"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}})
        verdict = json.loads(answer.choices[0].message.content)
        self.assertIsInstance(verdict["valid"], bool)
        self.assertIsInstance(verdict["reasons"], list)

    def test_errors_surface_as_the_sdks_exceptions(self):
        with self.assertRaises(openai.NotFoundError) as caught:
            self.client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
        self.assertEqual(caught.exception.code, "unknown_model")


if __name__ == "__main__":
    unittest.main(verbosity=2)
