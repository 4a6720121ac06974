"""Real OpenAI clients against ember_server's HTTP API (--http_address).

- The official OpenAI Node SDK (npm `openai`, tests/deploy/node_openai, installed from the committed
  lockfile by the deploy_openai_sdk fixture): completions and chat, unary and streaming, models,
  and an error's status and param.
- `curl -N`: the raw server-sent events of a stream, as a shell script sees them.
- The same greedy request through gRPC (ember_cli) and HTTP returns the same text.

The model is the default one (models/kjv-llama) copied with a ChatML chat template added to its
tokenizer_config.json, so chat requests have a template to render.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import deploy_util as du

MODEL = "kjv-llama"
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


class OpenAiClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = du.require_tool("node", "apt-get install nodejs", "EMBER_NODE")
        cls.curl = du.require_tool("curl", "apt-get install curl")
        cls.node_modules = du.env("EMBER_OPENAI_NODE_MODULES")
        if not os.path.isdir(os.path.join(cls.node_modules, "openai")):
            raise AssertionError(f"{cls.node_modules} lacks openai: the deploy_openai_sdk fixture "
                                 "(npm ci) did not run or failed")
        cls.model = tempfile.mkdtemp(prefix="ember-openai-model-")
        model = os.path.join(cls.model, MODEL)
        shutil.copytree(du.model_dir(), model)
        with open(os.path.join(model, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"bos_token": "<s>", "eos_token": "</s>", "chat_template": CHATML}, f)
        cls.server = du.EmberServer(metrics=False, model=model,
                                    extra_args=["--http_address=127.0.0.1:0"])
        m = re.search(r"HTTP port (\d+)", cls.server.log.text())
        if not m:
            raise AssertionError(f"no HTTP port in the log:\n{cls.server.log.text()}")
        cls.base = f"http://127.0.0.1:{m.group(1)}"

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.server.stop()
            if rc != 0:
                raise AssertionError(f"ember_server exited {rc}:\n{cls.server.log.text()}")
        finally:
            cls.server.kill()
            shutil.rmtree(cls.model, ignore_errors=True)

    def test_openai_sdk(self):
        script = du.source_path("tests", "deploy", "node_openai", "openai_sdk_client.js")
        env = dict(os.environ, NODE_PATH=self.node_modules)
        result = du.run([self.node, script, f"{self.base}/v1", MODEL, "no-key"], env=env)
        out = json.loads(result.stdout)

        completion = out["completion"]
        self.assertEqual(completion["object"], "text_completion")
        self.assertIn(completion["finish_reason"], ("stop", "length"))
        self.assertGreater(len(completion["text"]), 0)
        self.assertEqual(completion["usage"]["total_tokens"],
                         completion["usage"]["prompt_tokens"] +
                         completion["usage"]["completion_tokens"])
        stream = out["completion_stream"]
        self.assertEqual(stream["text"], completion["text"])
        self.assertEqual(stream["finish_reason"], completion["finish_reason"])
        self.assertEqual(stream["usage"], completion["usage"])
        self.assertGreater(stream["chunks"], 2)

        chat = out["chat"]
        self.assertEqual(chat["role"], "assistant")
        self.assertIn(chat["finish_reason"], ("stop", "length"))
        self.assertEqual(chat["logprobs"], chat["usage"]["completion_tokens"])
        chat_stream = out["chat_stream"]
        self.assertEqual(chat_stream["role"], "assistant")
        self.assertEqual(chat_stream["content"], chat["content"])
        self.assertEqual(chat_stream["finish_reason"], chat["finish_reason"])

        self.assertEqual(out["models"], [MODEL])
        self.assertEqual(out["error"]["status"], 400)
        self.assertEqual(out["error"]["param"], "temperature")
        self.assertEqual(out["error"]["type"], "invalid_request_error")

    def test_curl_raw_sse(self):
        body = json.dumps({"model": MODEL, "prompt": "And God said", "max_tokens": 8,
                           "temperature": 0, "stream": True})
        result = du.run([self.curl, "-sS", "-N", "-i", "-H", "Content-Type: application/json",
                         "-d", body, f"{self.base}/v1/completions"])
        head, _, payload = result.stdout.replace("\r\n", "\n").partition("\n\n")
        self.assertRegex(head, r"^HTTP/1\.1 200")
        self.assertIn("content-type: text/event-stream", head.lower())
        events = [e for e in payload.split("\n\n") if e]
        self.assertGreater(len(events), 2, payload)
        for event in events:
            self.assertTrue(event.startswith("data: "), event)
        self.assertEqual(events[-1], "data: [DONE]")
        text = "".join(json.loads(e[6:])["choices"][0]["text"] for e in events[:-1])
        self.assertGreater(len(text), 0)

    def test_same_greedy_text_over_grpc_and_http(self):
        for prompt in ("In the beginning", "And the earth was", "Grüße, 世界!"):
            cli = self.server.cli("generate", f"--prompt={prompt}", "--max_new_tokens=20",
                                  "--temperature=0", "--json")
            grpc_text = json.loads(cli.stdout)["text"]
            body = json.dumps({"model": MODEL, "prompt": prompt, "max_tokens": 20,
                               "temperature": 0})
            result = du.run([self.curl, "-sS", "-H", "Content-Type: application/json", "-d", body,
                             f"{self.base}/v1/completions"])
            http_text = json.loads(result.stdout)["choices"][0]["text"]
            self.assertEqual(http_text, grpc_text, prompt)


if __name__ == "__main__":
    unittest.main()
