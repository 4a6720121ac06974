"""Three gRPC implementations against one ember_server, greedy: the same text and tokens.

- ember_cli (C++ gRPC, the project's client library), Generate and GenerateStream;
- @grpc/grpc-js with @grpc/proto-loader from npm (tests/deploy/node, installed from the committed
  lockfile by the deploy_grpc_js fixture), loading proto/ember/v1/generation.proto at run time;
- deploy/examples/python/ember_generate.py on Debian's python3-grpcio, with stubs generated here
  from proto/ by deploy/examples/python/make_stubs.sh (protoc + grpc_python_plugin).

Greedy decoding with ignore_eos is deterministic, so every client must get exactly max_new_tokens
tokens, finish reason LENGTH, and the same text and token ids; a client that drops the
explicitly-set temperature 0 (a proto3 optional field) would sample instead and differ.
"""
import json
import os
import shutil
import tempfile
import unittest

import deploy_util as du

MAX_NEW_TOKENS = 24
PROMPTS = ["Once upon a time", "The quick brown fox", "Grüße aus Köln, 世界!"]


class ClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = du.require_tool("node", "apt-get install nodejs", "EMBER_NODE")
        cls.node_modules = du.env("EMBER_GRPC_JS_NODE_MODULES")
        if not os.path.isdir(os.path.join(cls.node_modules, "@grpc", "grpc-js")):
            raise AssertionError(f"{cls.node_modules} lacks @grpc/grpc-js: the deploy_grpc_js "
                                 "fixture (npm ci) did not run or failed")
        cls.stubs = tempfile.mkdtemp(prefix="ember-python-stubs-")
        du.run(["bash", du.source_path("deploy", "examples", "python", "make_stubs.sh"),
                cls.stubs])
        cls.server = du.EmberServer(metrics=False)

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.server.stop()
            if rc != 0:
                raise AssertionError(f"ember_server exited {rc}:\n{cls.server.log.text()}")
        finally:
            cls.server.kill()
            shutil.rmtree(cls.stubs, ignore_errors=True)

    def greedy_args(self, prompt):
        return [f"--prompt={prompt}", f"--max_new_tokens={MAX_NEW_TOKENS}", "--temperature=0",
                "--ignore_eos", "--json"]

    def cli(self, prompt, stream):
        result = self.server.cli("generate", *self.greedy_args(prompt),
                                 *(["--stream"] if stream else []))
        if not stream:
            response = json.loads(result.stdout)
            # The CLI has no flag for return_token_ids: the unary text is compared, the stream
            # carries the ids.
            return {"text": response["text"], "token_ids": None,
                    "finish_reason": response["finish_reason"]}
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return {"text": "".join(m["text"] for m in messages),
                "token_ids": [t for m in messages for t in m["token_ids"]],
                "finish_reason": messages[-1]["finish_reason"]}

    def python(self, prompt, stream):
        env = {**os.environ, "PYTHONPATH": self.stubs}
        # The streaming call goes the way a client of the headless Service would: a dns:/// name
        # and round-robin balancing.
        target = [f"--target={self.server.target}"] if not stream else [
            f"--target=dns:///{self.server.target}", "--lb_policy=round_robin", "--stream"]
        result = du.run(["/usr/bin/python3",
                         du.source_path("deploy", "examples", "python", "ember_generate.py"),
                         *target, *self.greedy_args(prompt)], env=env)
        response = json.loads(result.stdout)
        return {k: response[k] for k in ("text", "token_ids", "finish_reason")}

    def grpc_js(self):
        env = {**os.environ, "NODE_PATH": self.node_modules}
        result = du.run([self.node, du.source_path("tests", "deploy", "node", "grpc_js_client.js"),
                         du.source_path("proto"), self.server.target, str(MAX_NEW_TOKENS),
                         *PROMPTS], env=env)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        self.assertEqual([line["prompt"] for line in lines], PROMPTS)
        return {line["prompt"]: line for line in lines}

    def test_cli_grpc_js_and_python_agree(self):
        node = self.grpc_js()
        for prompt in PROMPTS:
            with self.subTest(prompt=prompt):
                reference = self.cli(prompt, stream=True)
                self.assertEqual(reference["finish_reason"], "FINISH_REASON_LENGTH")
                self.assertEqual(len(reference["token_ids"]), MAX_NEW_TOKENS)
                self.assertTrue(reference["text"])
                results = {
                    "ember_cli Generate": self.cli(prompt, stream=False),
                    "grpc-js Generate": node[prompt]["unary"],
                    "grpc-js GenerateStream": node[prompt]["stream"],
                    "python Generate": self.python(prompt, stream=False),
                    "python GenerateStream": self.python(prompt, stream=True),
                }
                for name, result in results.items():
                    self.assertEqual(result["text"], reference["text"], name)
                    self.assertEqual(result["finish_reason"], "FINISH_REASON_LENGTH", name)
                    if result["token_ids"] is not None:
                        self.assertEqual(result["token_ids"], reference["token_ids"], name)
        # Prompts differ, so do their completions: the comparison is not vacuous.
        texts = {self.cli(p, stream=False)["text"] for p in PROMPTS}
        self.assertEqual(len(texts), len(PROMPTS))


if __name__ == "__main__":
    unittest.main(verbosity=2)
