"""The default model writes English: of a 200-token sampled continuation (temperature 0.8, fixed
seeds) of KJV-style prompts, at least 95 % of the whitespace-separated words occur in the training
text (models/kjv-llama/README.md; Debian's bible-kjv, held-out books excluded).

A word is compared without the punctuation around it and without case ("said," and "Said" are the
training text's "said"); a word the model made up ("begatteth"), or glued from pieces that never
meet in the text, counts against it. The server runs in f32, so every machine samples the same
tokens.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
import deploy_util as du  # noqa: E402

sys.path.insert(0, du.source_path("tools", "train_default_model"))
import kjv_corpus  # noqa: E402

PROMPTS = ["And God said", "In the beginning"]
SEEDS = [7, 8]
NEW_TOKENS = 200
MIN_KNOWN = 0.95

_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


def normalize(word):
    return _EDGE.sub("", word).lower()


class DefaultModelEnglishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        du.require_tool("bible", "apt-get install bible-kjv")
        train, _ = kjv_corpus.split_text(kjv_corpus.read_books())
        cls.vocabulary = {normalize(w) for w in train.split()} - {""}
        cls.server = du.EmberServer(metrics=False)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.kill()
        if rc != 0:
            raise AssertionError(f"ember_server exited {rc}:\n{cls.server.log.text()}")

    def test_sampled_continuations_are_words_of_the_training_text(self):
        for prompt in PROMPTS:
            for seed in SEEDS:
                with self.subTest(prompt=prompt, seed=seed):
                    out = self.server.cli(
                        "generate", f"--prompt={prompt}", f"--max_new_tokens={NEW_TOKENS}",
                        "--temperature=0.8", f"--seed={seed}", "--ignore_eos").stdout
                    words = [normalize(w) for w in out.split()]
                    words = [w for w in words if w]
                    self.assertGreater(len(words), 100, out)
                    unknown = [w for w in words if w not in self.vocabulary]
                    known = 1 - len(unknown) / len(words)
                    print(f"{prompt!r} seed {seed}: {known:.1%} of {len(words)} words known; "
                          f"unknown: {unknown[:20]}", file=sys.stderr)
                    self.assertGreaterEqual(known, MIN_KNOWN, f"{out}\nunknown: {unknown}")


if __name__ == "__main__":
    unittest.main()
