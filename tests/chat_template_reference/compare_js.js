// Informational: renders every case of expected.json with Hugging Face's JavaScript Jinja
// (@huggingface/jinja, what transformers.js runs) and lists where it disagrees with Python's jinja2.
// Python is authoritative; ember is held to Python (reference_compare_test.cc).
// Usage: node compare_js.js <node_modules dir> <reference_out dir>
const fs = require("fs");
const path = require("path");
const [nodeModules, outDir] = process.argv.slice(2);
const { Template } = require(path.join(nodeModules, "@huggingface/jinja"));
const expected = JSON.parse(fs.readFileSync(path.join(outDir, "expected.json"), "utf8"));
const conversations = Object.fromEntries(
  JSON.parse(fs.readFileSync(path.join(__dirname, "conversations.json"), "utf8")).conversations.map((c) => [c.name, c]));
const SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];
const templates = {};
for (const name of expected.templates) {
  const dir = path.join(outDir, "models", name);
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  let source = config.chat_template;
  if (Array.isArray(source)) source = source.find((t) => t.name === "default").template;
  if (source == null) source = fs.readFileSync(path.join(dir, "chat_template.jinja"), "utf8");
  const special = {};
  for (const k of SPECIAL) {
    let v = config[k];
    if (v && typeof v === "object") v = v.content;
    if (v != null) special[k] = v;
  }
  try {
    templates[name] = { template: new Template(source), special };
  } catch (e) {
    templates[name] = { error: String(e), special };
  }
}
let agree = 0;
const disagreements = [];
for (const c of expected.cases) {
  const t = templates[c.template];
  const conv = conversations[c.conversation];
  let out = null, err = null;
  if (t.error) {
    err = t.error;
  } else {
    try {
      out = t.template.render({ messages: conv.messages, tools: null, documents: null,
        add_generation_prompt: c.add_generation_prompt,  // raise_exception is built in.
        ...t.special, ...(conv.extra || {}) });
    } catch (e) {
      err = String(e);
    }
  }
  const pyRaised = c.error_type !== null;
  if (pyRaised === (err !== null) && (pyRaised || out === c.output)) {
    agree++;
  } else {
    disagreements.push({ case: `${c.template} x ${c.conversation} agp=${c.add_generation_prompt}`,
      python: pyRaised ? `raises ${c.error_type}: ${c.error}` : c.output, js: err !== null ? `raises ${err}` : out });
  }
}
fs.writeFileSync(path.join(outDir, "js_disagreements.json"), JSON.stringify(disagreements, null, 1));
console.log(`@huggingface/jinja agrees with Python jinja2 on ${agree}/${expected.cases.length} cases; ` +
  `${disagreements.length} disagreements -> ${path.join(outDir, "js_disagreements.json")}`);
const byTemplate = {};
for (const d of disagreements) { const k = d.case.split(" x ")[0]; byTemplate[k] = (byTemplate[k] || 0) + 1; }
console.log(JSON.stringify(byTemplate));
