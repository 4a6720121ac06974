#!/usr/bin/env python3
"""Writes the committed seed inputs of the fuzz targets (fuzz/corpus/<target>/seed-*) and the fixed
tokenizers the tokenize and detokenize targets load (fuzz/data/).

  fuzz/make_seeds.py --make-model <build>/tools/ember_make_model

Valid seeds come from the project's own generator (tools/make_model: small checkpoints, their
config.json, index and tokenizer.json), the tokenizer tests' data (tests/core/tokenizer/testdata)
and, when the Debian `sentencepiece` package is installed, tiny spm_train models; broken seeds are
written here, one per rule the parsers enforce. Deterministic: re-running rewrites the same bytes.
Only files named seed-* are replaced; inputs the fuzzers found (crash-*, kept as regression inputs)
and merged corpora (named by libFuzzer's hash) are left alone.
"""
import argparse
import glob
import json
import os
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTDATA = os.path.join(ROOT, "tests", "core", "tokenizer", "testdata")


def corpus_dir(target):
    path = os.path.join(HERE, "corpus", target)
    os.makedirs(path, exist_ok=True)
    return path


def clear_seeds(target):
    for old in glob.glob(os.path.join(corpus_dir(target), "seed-*")):
        os.remove(old)


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(corpus_dir(target), "seed-" + name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- generator output -------------------------------------------------------------------------

def generate(make_model, work):
    """Runs ember_make_model: the default tiny presets (their tokenizers become fuzz/data) and small
    variants whose checkpoints are a few kilobytes (seeds)."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    small = ["--hidden_size=8", "--intermediate_size=16", "--num_heads=2"]
    runs = {
        "tiny-gpt2": ["--preset=tiny-gpt2"],
        "tiny-llama": ["--preset=tiny-llama"],
        "tiny-qwen2": ["--preset=tiny-qwen2"],
        "small-llama": ["--preset=tiny-llama", "--num_layers=1", "--num_kv_heads=1",
                        "--max_positions=32", "--vocab_size=340", "--rope_scaling=linear"] + small,
        "small-gpt2": ["--preset=tiny-gpt2", "--dtype=bf16", "--num_layers=1", "--num_kv_heads=2",
                       "--max_positions=16", "--vocab_size=280"] + small,
        "small-qwen2": ["--preset=tiny-qwen2", "--dtype=f16", "--shards=2", "--num_layers=2",
                        "--num_kv_heads=2", "--max_positions=32", "--vocab_size=300",
                        "--rope_scaling=llama3"] + small,
    }
    for name, flags in runs.items():
        subprocess.run([make_model, "--seed=1", "--out=" + os.path.join(work, name)] + flags,
                       check=True, env=env, stdout=subprocess.DEVNULL)
    return {name: os.path.join(work, name) for name in runs}


# --- safetensors ------------------------------------------------------------------------------

SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1, "BOOL": 1, "I32": 4, "F64": 8,
         "F8_E4M3": 1, "C64": 8}


def safetensors(header, data=b"", length=None):
    text = header if isinstance(header, (bytes, str)) else json.dumps(header)
    if isinstance(text, str):
        text = text.encode("utf-8")
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


def tiled(tensors, metadata=None):
    """A valid file: tensors (name, dtype, shape) laid end to end, data filled with a pattern."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        n = SIZES[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    return header, bytes(i % 251 for i in range(offset))


def safetensors_seeds(models):
    seeds = {}
    seeds["gen-llama-f32"] = read(os.path.join(models["small-llama"], "model.safetensors"))
    seeds["gen-gpt2-bf16"] = read(os.path.join(models["small-gpt2"], "model.safetensors"))
    seeds["gen-qwen2-f16-shard1"] = read(
        os.path.join(models["small-qwen2"], "model-00001-of-00002.safetensors"))
    h, d = tiled([("a", "F32", [2, 3]), ("empty", "F32", [0, 4]), ("scalar", "F32", []),
                  ("ids", "I64", [3]), ("mask", "BOOL", [5]), ("h", "F16", [2]),
                  ("b", "BF16", [1, 1]), ("f8", "F8_E4M3", [3]), ("c", "C64", [1])],
                 metadata={"format": "pt", "note": "x"})
    seeds["every-dtype"] = safetensors(h, d)
    text = json.dumps(h).encode()
    seeds["padded-header"] = safetensors(text + b" " * (8 - len(text) % 8), d)
    seeds["no-tensors"] = safetensors({})
    h1, d1 = tiled([("w", "F32", [4])])

    def with_entry(**changes):
        h = json.loads(json.dumps(h1))
        h["w"].update(changes)
        return h

    broken = {
        "short": b"\x05\x00\x00",
        "length-zero": struct.pack("<Q", 0) + b"{}",
        "length-huge": safetensors(h1, d1, length=2**63 + 5),
        "length-past-end": safetensors(h1, b"", length=4096),
        "leading-space": safetensors(b" " + json.dumps(h1).encode(), d1),
        "not-json": safetensors(b"{\"w\": [1, 2", d1),
        "invalid-utf8": safetensors(b"{\"w\xff\": {}}", d1),
        "nul-byte": safetensors(json.dumps(h1).encode() + b"\x00", d1),
        "duplicate-name": safetensors(
            b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
            b'"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', d1[:8]),
        "unknown-dtype": safetensors(with_entry(dtype="F33"), d1),
        "subbyte-dtype": safetensors(with_entry(dtype="F4"), d1),
        "negative-dim": safetensors(with_entry(shape=[-4]), d1),
        "fractional-dim": safetensors(with_entry(shape=[4.0]), d1),
        "overflow-shape": safetensors(with_entry(shape=[2**32, 2**32, 2**8]), d1),
        "reversed-offsets": safetensors(with_entry(data_offsets=[16, 0]), d1),
        "nonzero-start": safetensors(with_entry(data_offsets=[4, 20]), d1 + b"1234"),
        "size-mismatch": safetensors(with_entry(data_offsets=[0, 12]), d1[:12]),
        "truncated-data": safetensors(h1, d1[:10]),
        "trailing-bytes": safetensors(h1, d1 + b"tail"),
        "unknown-key": safetensors(with_entry(extra=1), d1),
        "metadata-not-string": safetensors({"__metadata__": {"a": 1}}),
        "deep-nesting": safetensors("{\"w\": " + "[" * 40 + "]" * 40 + "}"),
    }
    two = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    broken["overlap"] = safetensors(two, bytes(12))
    two["b"]["data_offsets"] = [12, 20]
    broken["gap"] = safetensors(two, bytes(20))
    for name, data in broken.items():
        seeds["bad-" + name] = data
    for target in ("safetensors_header", "safetensors_file"):
        clear_seeds(target)
        for name, data in seeds.items():
            write(target, name + ".safetensors", data)


# --- shard index ------------------------------------------------------------------------------

def index_seeds(models):
    clear_seeds("safetensors_index")
    write("safetensors_index", "gen-qwen2.json",
          read(os.path.join(models["small-qwen2"], "model.safetensors.index.json")))
    ok = {"metadata": {"total_size": 16, "nested": {"a": [1, {"b": None}]}},
          "weight_map": {"a": "model-00001-of-00002.safetensors",
                         "b": "model-00002-of-00002.safetensors",
                         "c": "model-00001-of-00002.safetensors"}}
    write("safetensors_index", "minimal.json", json.dumps(ok))
    bad = {
        "traversal": {"weight_map": {"a": "../model.safetensors"}},
        "absolute": {"weight_map": {"a": "/etc/passwd"}},
        "subdir": {"weight_map": {"a": "sub/model.safetensors"}},
        "dot": {"weight_map": {"a": "."}},
        "dotdot": {"weight_map": {"a": ".."}},
        "empty-name": {"weight_map": {"a": ""}},
        "nul-name": {"weight_map": {"a": "x\u0000y"}},
        "not-string": {"weight_map": {"a": 3}},
        "empty-map": {"weight_map": {}},
        "no-map": {"metadata": {}},
        "map-array": {"weight_map": ["a"]},
        "top-array": [1, 2],
    }
    for name, doc in bad.items():
        write("safetensors_index", "bad-" + name + ".json", json.dumps(doc))
    write("safetensors_index", "bad-duplicate-key.json",
          '{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}')
    write("safetensors_index", "bad-invalid-utf8.json", b'{"weight_map": {"a\xc0\xaf": "x"}}')


# --- config.json ------------------------------------------------------------------------------

def config_seeds(models):
    clear_seeds("model_config")
    for name in ("tiny-gpt2", "tiny-llama", "tiny-qwen2", "small-llama", "small-gpt2",
                 "small-qwen2"):
        write("model_config", "gen-" + name + ".json",
              read(os.path.join(models[name], "config.json")))
    llama = json.loads(read(os.path.join(models["tiny-llama"], "config.json")))
    gpt2 = json.loads(read(os.path.join(models["tiny-gpt2"], "config.json")))

    def variant(base, **changes):
        doc = json.loads(json.dumps(base))
        for key, value in changes.items():
            if value is ...:
                doc.pop(key, None)
            else:
                doc[key] = value
        return json.dumps(doc)

    good = {
        "mistral-window": variant(llama, model_type="mistral", sliding_window=16),
        "mistral-null-window": variant(llama, model_type="mistral", sliding_window=None),
        "qwen2-window": variant(llama, model_type="qwen2", use_sliding_window=True),
        "llama-head-dim": variant(llama, head_dim=32, attention_bias=True, mlp_bias=True),
        "llama-eos-list": variant(llama, eos_token_id=[1, 2, 3], bos_token_id=None),
        "llama-rope-parameters": variant(llama, rope_parameters={"rope_type": "default",
                                                                 "rope_theta": 500000.0}),
        "llama-dtype": variant(llama, torch_dtype=..., dtype="bfloat16"),
        "gpt2-n-ctx": variant(gpt2, n_positions=..., n_ctx=64, n_inner=None),
    }
    bad = {
        "no-model-type": variant(llama, model_type=...),
        "unknown-model-type": variant(llama, model_type="bert"),
        "float-size": variant(llama, hidden_size=64.0),
        "negative-heads": variant(llama, num_attention_heads=-2),
        "kv-not-dividing": variant(llama, num_key_value_heads=3),
        "odd-head-dim": variant(llama, head_dim=7),
        "bos-outside-vocab": variant(llama, bos_token_id=10**9),
        "rope-factor-small": variant(llama, rope_scaling={"rope_type": "linear", "factor": 0.5}),
        "rope-llama3-missing": variant(llama, rope_scaling={"rope_type": "llama3", "factor": 8}),
        "rope-unknown": variant(llama, rope_scaling={"type": "yarn", "factor": 2}),
        "activation-unknown": variant(llama, hidden_act="gelu_fast"),
        "eps-zero": variant(llama, rms_norm_eps=0),
        "dtype-unknown": variant(llama, torch_dtype="int8"),
        "gpt2-layer-scaling": variant(gpt2, scale_attn_by_inverse_layer_idx=True),
        "wrong-type-bool": variant(llama, tie_word_embeddings="yes"),
        "top-array": "[1, 2]",
        "duplicate-key": '{"model_type": "llama", "model_type": "gpt2"}',
        "truncated": json.dumps(llama)[:40],
    }
    for name, text in good.items():
        write("model_config", name + ".json", text)
    for name, text in bad.items():
        write("model_config", "bad-" + name + ".json", text)


# --- tokenizer.json ---------------------------------------------------------------------------

def tokenizer_json_seeds(models):
    clear_seeds("tokenizer_json")
    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    for family in ("gpt2", "llama", "qwen2"):
        text = read(os.path.join(models["tiny-" + family], "tokenizer.json"))
        write("tokenizer_json", "gen-" + family + ".json", text)
        if family != "qwen2":  # its NFC normalizer is not supported: a seed only
            with open(os.path.join(data, family + ".tokenizer.json"), "wb") as f:
                f.write(text)
    # Every component case of the tokenizer tests: the bases with their placeholders filled in.
    cases = json.loads(read(os.path.join(TESTDATA, "component_cases.json")))["cases"]
    for case in cases:
        base = read(os.path.join(TESTDATA, case["base"])).decode("utf-8")
        s = case["snippets"]

        def snippet(key, fallback):
            return json.dumps(s[key], ensure_ascii=False) if key in s else fallback

        options = s.get("model_options")
        if isinstance(options, dict):
            options = json.dumps(options, ensure_ascii=False)[1:-1]
        text = (base.replace('"@NORMALIZER@"', snippet("normalizer", "null"))
                .replace('"@PRE_TOKENIZER@"', snippet("pre_tokenizer", "null"))
                .replace('"@POST_PROCESSOR@"', snippet("post_processor", "null"))
                .replace('"@DECODER@"', snippet("decoder", "null"))
                .replace('"@ADDED_TOKENS@"', snippet("added_tokens", "[]"))
                .replace('"@MODEL_OPTIONS@": null,', options + "," if options else ""))
        write("tokenizer_json", "case-" + case["name"] + ".json", text)
    small = json.loads(read(os.path.join(models["small-gpt2"], "tokenizer.json")))
    bad = {
        "merge-unknown-token": dict(small, model=dict(small["model"], merges=["zz qq"])),
        "vocab-id-reused": dict(small, model=dict(small["model"],
                                                  vocab=dict(small["model"]["vocab"], extra=0))),
        "added-id-huge": dict(small, added_tokens=[{"id": 2**40, "content": "<x>",
                                                     "special": True}]),
        "unknown-model": dict(small, model={"type": "WordPiece", "vocab": {}}),
        "unknown-normalizer": dict(small, normalizer={"type": "Lowercase"}),
        "dropout": dict(small, model=dict(small["model"], dropout=0.5)),
    }
    for name, doc in bad.items():
        write("tokenizer_json", "bad-" + name + ".json", json.dumps(doc, ensure_ascii=False))
    write("tokenizer_json", "bad-truncated.json", json.dumps(small)[:300])


# --- SentencePiece models ---------------------------------------------------------------------

def sentencepiece_seeds(work):
    clear_seeds("sentencepiece_model")
    bpe = read(os.path.join(TESTDATA, "spm_bpe.model"))
    write("sentencepiece_model", "spm_bpe.model", bpe)
    write("sentencepiece_model", "bad-truncated.model", bpe[:len(bpe) // 2])
    write("sentencepiece_model", "bad-empty.model", b"")
    write("sentencepiece_model", "bad-text.model", b"not a model\n")
    if shutil.which("spm_train") is None:
        print("make_seeds: spm_train not found (apt-get install sentencepiece): "
              "skipping the trained SentencePiece seeds")
        return
    shutil.copy(os.path.join(ROOT, "tools", "spm_fixtures", "train.txt"), work)
    common = ["--input=train.txt", "--num_threads=1", "--random_seed=1", "--minloglevel=2",
              "--normalization_rule_name=identity"]
    # Rare characters are left out of the small vocabularies (coverage 0.98): they become <unk>.
    models = {
        "char": ["--model_type=char", "--vocab_size=60", "--character_coverage=0.98"],
        "word": ["--model_type=word", "--vocab_size=80", "--bos_id=-1", "--eos_id=-1",
                 "--character_coverage=0.98"],
        "unigram-bytes": ["--model_type=unigram", "--vocab_size=420", "--byte_fallback=true",
                          "--control_symbols=<ctl>", "--user_defined_symbols=<usr>"],
        "bpe-pad": ["--model_type=bpe", "--vocab_size=120", "--pad_id=3", "--unk_id=0",
                    "--bos_id=1", "--eos_id=2", "--character_coverage=0.98"],
    }
    for name, flags in models.items():
        subprocess.run(["spm_train", "--model_prefix=" + name] + common + flags, check=True,
                       cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        write("sentencepiece_model", name + ".model", read(os.path.join(work, name + ".model")))


# --- tokenize / detokenize ----------------------------------------------------------------------

TOKENIZERS = ("gpt2", "llama", "spm_bpe")  # fuzz/fixed_tokenizers.cc order


def tokenize_seeds():
    clear_seeds("tokenize")
    texts = {
        "ascii": b"Hello, world! The quick brown fox 12345.",
        "spaces": b"  leading\tand   trailing  \n\n",
        "multibyte": "caf\u00e9 \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627 \U0001F600\U0001F44D\U0001F3FD".encode(),
        "specials": b"<s>a</s><unk><|endoftext|><|im_start|>user<|im_end|>",
        "digits": b"3.14159 2024-01-01 1e10",
        "invalid-continuation": b"ab\x80cd",
        "invalid-truncated": b"emoji \xf0\x9f\x98",
        "invalid-overlong": b"\xc0\xaf and \xed\xa0\x80",
        "nul": b"a\x00b",
    }
    for i, tokenizer in enumerate(TOKENIZERS):
        for name, text in texts.items():
            for add_special in (0, 1):
                write("tokenize", f"{tokenizer}-{name}-{add_special}", bytes([i * 2 + add_special]) + text)


def byte_level_chars():
    """GPT-2's byte-to-unicode map (byte -> character)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def detokenize_seeds():
    clear_seeds("detokenize")
    data = os.path.join(HERE, "data")
    vocabs = {}
    for family in ("gpt2", "llama"):
        doc = json.loads(read(os.path.join(data, family + ".tokenizer.json")))
        vocab = dict(doc["model"]["vocab"])
        for added in doc.get("added_tokens", []):
            vocab[added["content"]] = added["id"]
        vocabs[family] = vocab
    b2u = byte_level_chars()

    def ids_for(family, text):
        """Byte-by-byte ids: every multi-byte character split over several tokens."""
        vocab = vocabs[family]
        if family == "llama":
            return [vocab["<0x%02X>" % b] for b in text]
        return [vocab[b2u[b]] for b in text]

    def seed(name, family_index, skip, stops, ids):
        out = bytes([family_index * 2 + skip, len(stops)])
        for stop in stops:
            out += bytes([len(stop)]) + stop
        for i in ids:
            out += struct.pack("<H", i)
        write("detokenize", name, out)

    text = "Hi \U0001F600 caf\u00e9 \u4e2d!".encode()
    for i, family in enumerate(("gpt2", "llama")):
        ids = ids_for(family, text)
        seed(f"{family}-split-bytes", i, 0, [], ids)
        seed(f"{family}-stop-emoji", i, 1, ["\U0001F600".encode()], ids)
        seed(f"{family}-stop-across", i, 0, [b"af", "\u4e2d!".encode(), b"zz"], ids)
        truncated = ids_for(family, "end \U0001F600".encode())[:-2]
        seed(f"{family}-ends-mid-char", i, 0, [], truncated)
        specials = [v for k, v in vocabs[family].items() if k.startswith("<") and k.endswith(">")
                    and not k.startswith("<0x")][:3]
        seed(f"{family}-specials", i, 1, [b"a"], specials + ids[:4] + specials)


# --- request protos -----------------------------------------------------------------------------

def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(number, value):
    """One proto field: int -> varint, float -> fixed32, bytes/str -> length-delimited."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(number << 3) + varint(int(value))
    if isinstance(value, float):
        return varint(number << 3 | 5) + struct.pack("<f", value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    return varint(number << 3 | 2) + varint(len(value)) + value


def sampling(**kw):
    numbers = {"temperature": 1, "top_k": 2, "top_p": 3, "min_p": 4, "repetition_penalty": 5,
               "presence_penalty": 6, "frequency_penalty": 7, "seed": 8}
    return b"".join(field(numbers[k], v) for k, v in kw.items())


def request(model=None, prompt=None, ids=None, samp=None, max_new=None, stops=(), ignore_eos=None,
            logprobs=None, top_logprobs=None, request_id=None):
    out = b""
    if model is not None:
        out += field(1, model)
    if prompt is not None:
        out += field(2, prompt)
    if ids is not None:
        out += field(3, b"".join(varint(i) for i in ids))
    if samp is not None:
        out += field(4, samp)
    if max_new is not None:
        out += field(5, max_new)
    for stop in stops:
        out += field(6, stop)
    if ignore_eos is not None:
        out += field(7, ignore_eos)
    if logprobs is not None:
        out += field(9, logprobs)
    if top_logprobs is not None:
        out += field(10, top_logprobs)
    if request_id is not None:
        out += field(12, request_id)
    return out


def request_seeds():
    clear_seeds("generate_request")
    nan, inf = float("nan"), float("inf")
    seeds = {
        "full": request("ember-fuzz", "Hello there", None,
                        sampling(temperature=0.7, top_k=40, top_p=0.9, min_p=0.05,
                                 repetition_penalty=1.1, presence_penalty=0.5,
                                 frequency_penalty=-0.5, seed=42),
                        64, ["\n\n", "END"], True, True, 5, "req-1"),
        "token-ids": request(ids=[1, 2, 999], max_new=8),
        "greedy": request(prompt="x", samp=sampling(temperature=0.0)),
        "bad-empty": b"",
        "bad-both-prompts": request(prompt="x", ids=[1]),
        "bad-id-range": request(ids=[5, 1000]),
        "bad-id-negative": request(ids=[-1]),
        "bad-max-new-negative": request(prompt="x", max_new=-1),
        "bad-max-new-huge": request(prompt="x", max_new=2**31 - 1),
        "bad-temperature-nan": request(prompt="x", samp=sampling(temperature=nan)),
        "bad-temperature-inf": request(prompt="x", samp=sampling(temperature=inf)),
        "bad-top-p-zero": request(prompt="x", samp=sampling(top_p=0.0)),
        "bad-top-k-negative": request(prompt="x", samp=sampling(top_k=-5)),
        "bad-min-p": request(prompt="x", samp=sampling(min_p=1.5)),
        "bad-repetition": request(prompt="x", samp=sampling(repetition_penalty=0.0)),
        "bad-presence": request(prompt="x", samp=sampling(presence_penalty=-inf)),
        "bad-top-logprobs": request(prompt="x", top_logprobs=21),
        "bad-too-many-stops": request(prompt="x", stops=["s%d" % i for i in range(17)]),
        "bad-empty-stop": request(prompt="x", stops=["a", ""]),
        "bad-long-stop": request(prompt="x", stops=["y" * 257]),
        "bad-request-id": request(prompt="x", request_id="tab\there"),
        "bad-long-request-id": request(prompt="x", request_id="r" * 129),
        "bad-unknown-model": request(model="other", prompt="x"),
    }
    for name, data in seeds.items():
        write("generate_request", name + ".pb", data)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-model", required=True, help="path of the ember_make_model binary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        models = generate(os.path.abspath(args.make_model), work)
        safetensors_seeds(models)
        index_seeds(models)
        config_seeds(models)
        tokenizer_json_seeds(models)
        sentencepiece_seeds(work)
    tokenize_seeds()
    detokenize_seeds()
    request_seeds()
    print("make_seeds: wrote", os.path.join(HERE, "corpus"), "and", os.path.join(HERE, "data"))


if __name__ == "__main__":
    main()
