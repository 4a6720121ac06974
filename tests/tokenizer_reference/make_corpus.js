#!/usr/bin/env node
// Writes the tokenizer reference corpus: a deterministic list of strings chosen to hit the places
// where tokenizers disagree (scripts, emoji sequences, combining marks, odd whitespace, digits,
// code, very long words, contractions, special-token text). The same seed always gives the same
// corpus, byte for byte, so a failure names a string that every machine can reproduce.
//
// Usage: node make_corpus.js <out_dir>   -> <out_dir>/corpus.jsonl, one JSON object a line:
//   {"index": 0, "category": "edge", "text": "..."}
'use strict';

const fs = require('fs');
const path = require('path');

// mulberry32: a tiny, well-known 32-bit PRNG. Math.random is not seedable, and the corpus must not
// change between runs or Node versions.
function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),  // inclusive
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const rng = makeRng(20240611);
const cp = (...points) => String.fromCodePoint(...points);

// --- Word pools, one per script/language. ---------------------------------------------------
const WORDS = {
  english: ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'tokenizer', 'model',
    'server', 'stream', 'Hello', 'World', 'ember', 'inference', 'CPU', 'batch', 'cache', 'NASA',
    'iPhone', 'McDonald', 'naïve', 'café', 'résumé', 'coöperate', 'a', 'I', 'an', 'unbelievable'],
  french: ['élève', 'garçon', 'où', 'déjà', 'Noël', 'cœur', 'œuvre', 'français', 'à', 'hôpital',
    'façade', 'Ça', 'été', 'forêt', 'L\'homme', 'aujourd\'hui'],
  german: ['Straße', 'Grüße', 'Äpfel', 'Öl', 'Übermut', 'schön', 'Fußgängerübergänge', 'heißen',
    'Mädchen', 'Donaudampfschifffahrtsgesellschaft'],
  spanish: ['niño', 'mañana', 'señor', '¿Qué', 'pasó?', '¡Hola!', 'corazón', 'canción', 'pingüino'],
  polish: ['zażółć', 'gęślą', 'jaźń', 'Łódź', 'źdźbło', 'Śląsk'],
  vietnamese: ['Tiếng', 'Việt', 'người', 'được', 'những', 'trường', 'phở', 'Hà', 'Nội', 'ngữ'],
  turkish: ['İstanbul', 'ılık', 'şoför', 'çiğdem', 'ağaç', 'IĞDIR'],
  russian: ['Привет', 'мир', 'съешь', 'ещё', 'этих', 'мягких', 'французских', 'булок', 'да',
    'выпей', 'чаю', 'Ёлка', 'ЗДРАВСТВУЙТЕ'],
  ukrainian: ['Їжак', 'ґанок', 'європейський', 'інформація', 'щастя'],
  greek: ['Καλημέρα', 'κόσμε', 'ξεσκεπάζω', 'ψυχοφθόρα', 'βδελυγμία', 'ΑΘΗΝΑ', 'ἀρχή', 'λόγος',
    'ς', 'Σίσυφος'],
  arabic: ['مرحبا', 'بالعالم', 'اللغة', 'العربية', 'كتاب', 'مُحَمَّد', 'السَّلَامُ', 'عَلَيْكُمْ', 'ﷺ',
    'لا'],
  hebrew: ['שלום', 'עולם', 'עִבְרִית', 'ספר', 'ירושלים', 'תּוֹרָה'],
  hindi: ['नमस्ते', 'दुनिया', 'हिन्दी', 'भाषा', 'क्षत्रिय', 'ज्ञान', 'श्री', 'प्रधानमंत्री'],
  thai: ['สวัสดี', 'ภาษาไทย', 'ประเทศไทย', 'กรุงเทพมหานคร', 'ขอบคุณ', 'น้ำ', 'ผู้หญิง'],
  chinese: ['你好', '世界', '中文', '分词器', '人工智能', '北京', '龍', '𠀋', '𡈽', '今天', '天气',
    '很好', '鑫', '齉'],
  japanese: ['こんにちは', '世界', 'カタカナ', 'ひらがな', '東京', '日本語', 'ｶﾀｶﾅ', 'ヴ', 'ゐ', 'ー'],
  korean: ['안녕하세요', '세계', '한국어', '토크나이저', '똠방각하', '펲', '읽다', '각'],
  misc: ['ᏣᎳᎩ', 'ქართული', 'Հայերեն', 'ಕನ್ನಡ', 'தமிழ்', 'বাংলা', 'ᠮᠣᠩᠭᠣᠯ', 'ትግርኛ',
    'ꦧꦱꦗꦮ', '𓂀𓃠', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝐁𝐨𝐥𝐝', 'ℌ𝔢𝔩𝔩𝔬', 'Ⅻ', '½', '™', '℃', 'ﬁ', 'ﷲ'],
};
const LANGS = Object.keys(WORDS);

// --- Emoji, including the sequences that split into many code points. -----------------------
const EMOJI = [
  '😀', '😂', '🥲', '🤖', '🔥', '❤️', '❤', '✨', '👍', '🎉', '🦀', '🐍', '🧠', '⚡', '☕',
  '👍🏻', '👍🏽', '👍🏿', '👋🏼', '🧑🏾‍🚀',  // skin tones
  '👨‍👩‍👧‍👦', '👩‍❤️‍💋‍👨', '🧑‍💻', '👩🏽‍🔬', '🏳️‍🌈', '🏴‍☠️', '🐕‍🦺', '😶‍🌫️',  // ZWJ sequences
  '🇺🇸', '🇯🇵', '🇩🇪', '🇺🇦', '🇧🇷', '🇪🇺',  // flags (regional-indicator pairs)
  '🏴󠁧󠁢󠁳󠁣󠁴󠁿',  // tag sequence (Scotland)
  '1️⃣', '#️⃣', '*️⃣',  // keycaps
  '☺️', '✌️', '©️', '™️',  // variation selector 16
  '🫠', '🫶', '🪿',  // newer code points
];

// --- Whitespace, including the characters where regex \s and Unicode White_Space differ. ----
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r', '\u00a0', '\u3000', '\u2028',
  '\u2029', '\u2009', '\u202f', '\u200b', '\u0085', '\u000b', '\u000c', '\u1680', '\u2000',
  '\u205f', '\ufeff', ' \n ', '\t\t', '\n \n', '    '];

const SPECIAL_TEXT = ['<s>', '</s>', '<unk>', '<pad>', '<|begin_of_text|>', '<|end_of_text|>',
  '<|endoftext|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>',
  '<|reserved_special_token_0|>', '<|reserved_special_token_250|>', '<|begin_of', '<|endoftext',
  'endoftext|>', '<s', 's>', '</s', '<|', '|>', '<', '>', '<0x0A>', '<0xE4>', '<<s>>', '<|<s>|>',
  '<|EOT_ID|>', '< s >'];

const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M",
  "'Ll", "'D", "'sT", "'rE", "’s", "’t"];

const COMBINING = [];
for (let c = 0x300; c <= 0x36f; ++c) COMBINING.push(cp(c));
COMBINING.push(cp(0x1ab0), cp(0x1dc0), cp(0x20d0), cp(0x20e3), cp(0xfe20), cp(0x0489));

const out = [];
function add(category, text) {
  out.push({index: out.length, category, text});
}

function randomCase(s) {
  let r = '';
  for (const ch of s) r += rng.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase();
  return r;
}

function sentence(lang, minWords, maxWords) {
  const n = rng.int(minWords, maxWords);
  const words = [];
  for (let i = 0; i < n; ++i) words.push(rng.pick(WORDS[lang]));
  // Thai, Chinese and Japanese are written without spaces between words.
  const sep = (lang === 'thai' || lang === 'chinese' || lang === 'japanese') && rng.chance(0.7) ?
      '' : ' ';
  let s = words.join(sep);
  if (rng.chance(0.5)) s += rng.pick(['.', '!', '?', '。', '！', '؟', '।', '…', ',', ';', ':']);
  return s;
}

// --- 1. Hand-written edge cases. ------------------------------------------------------------
const EDGE = ['', ' ', '  ', '   ', '\t', '\n', '\r\n', '\r', '\n\n\n', ' \n', '\n ', '\u00a0',
  '\u3000', '\u2028', '\u2029', '\u200b', '\ufeff', '\u0085', '\u000b\u000c', '   \n\n\t  ',
  ' \t \u3000 \u00a0 ', 'a', 'A', '.', '!', '?', '0', '00', '000', '0000', '1234567890', ' a',
  'a ', ' a ', '  a  ', 'a  b', 'a\tb', 'a\nb', 'a\r\nb', 'Hello world', ' Hello world',
  'Hello world ', 'Hello  world', 'Hello\u00a0world', 'Hello\u3000world', "I'm", "I'M", "i'm",
  "don't", "DON'T", "Don'T", "we've", "WE'VE", "you're", "YOU'RE", "they'll", "THEY'LL", "he'd",
  "HE'D", "it's", "IT'S", "it’s", "rock 'n' roll", "'''", "''", "'", 'x\'s\'s\'s',
  '<s>', '</s>', '<unk>', '<s><s>', '</s></s>', '<s> </s>', '<s>hello</s>', 'a<s>b', 'a <s> b',
  '<|begin_of_text|>', '<|end_of_text|>', '<|endoftext|>', '<|eot_id|>',
  '<|begin_of_text|><|begin_of_text|>', 'Hello<|endoftext|>world', 'Hello <|endoftext|> world',
  '<|endoftext|><|endoftext|>', '<|begin_of', '<|begin_of_text', 'begin_of_text|>', '<|endoftext',
  '<|', '|>', '<s', '</s', 's>', '<0x0A>', '<0x00>', '<0xFF>', '\u0000', 'a\u0000b', '\u0001\u001f',
  '\u007f', '\ufffd', '\ufffe\uffff', cp(0x10ffff), cp(0xe000), cp(0xf8ff), cp(0x1f600),
  'e\u0301', '\u00e9', 'e\u0301\u0301\u0301', '\u0301', '\u0301a', 'ﬁﬂ', '\u00c5', '\u212b', 'A\u030a', '\u03a9', '\u2126',
  '①②③', 'ＡＢＣ１２３', '㍿', '…', '—', '–', '«»', '„“', '‘’', '\u200d', '\u200c', '\u2060',
  '🇺', '🇺🇸🇯', '👨\u200d', '\u200d👨', '🏻', '️', 'a️', '⃣', '💩'.repeat(5), 'İ', 'ı', 'ß', 'ẞ',
  'ŉ', 'ǅ', 'ﬀ', 'Σ', 'ς', 'σ', '\u0345', 'ΐ', '\u1e9e', 'ǰ', '\u0130\u0307', '🧑‍🧑‍🧒‍🧒'];
for (const s of EDGE) add('edge', s);

// --- 2. Sentences in each script, and mixed-script sentences. -------------------------------
for (const lang of LANGS) {
  for (let i = 0; i < 70; ++i) add(`lang_${lang}`, sentence(lang, 1, 14));
}
for (let i = 0; i < 300; ++i) {
  const parts = [];
  const n = rng.int(2, 6);
  for (let j = 0; j < n; ++j) parts.push(sentence(rng.pick(LANGS), 1, 5));
  add('mixed_scripts', parts.join(rng.pick([' ', '', '\n', ', ', ' - '])));
}

// --- 3. Emoji. ------------------------------------------------------------------------------
for (let i = 0; i < 350; ++i) {
  let s = '';
  const n = rng.int(1, 8);
  for (let j = 0; j < n; ++j) {
    const r = rng.next();
    if (r < 0.5) s += rng.pick(EMOJI);
    else if (r < 0.7) s += rng.pick(WORDS.english);
    else if (r < 0.8) s += rng.pick(WORDS[rng.pick(LANGS)]);
    else s += rng.pick(SPACES);
    if (rng.chance(0.4)) s += ' ';
  }
  add('emoji', s);
}

// --- 4. Combining marks, NFC vs NFD forms. --------------------------------------------------
for (let i = 0; i < 250; ++i) {
  let s = '';
  const n = rng.int(1, 10);
  for (let j = 0; j < n; ++j) {
    s += rng.pick(['a', 'e', 'o', 'n', 'A', 'i', 'u', 'z', 'ا', 'א', 'क', 'ก', ' ', '1', '😀']);
    const marks = rng.int(0, rng.chance(0.1) ? 12 : 3);
    for (let k = 0; k < marks; ++k) s += rng.pick(COMBINING);
  }
  const r = rng.next();
  if (r < 0.25) s = s.normalize('NFC');
  else if (r < 0.5) s = s.normalize('NFD');
  else if (r < 0.6) s = s.normalize('NFKC');
  add('combining', s);
}
for (let i = 0; i < 60; ++i) {
  const w = sentence(rng.pick(['french', 'vietnamese', 'german', 'korean', 'greek']), 1, 6);
  add('normal_forms', rng.chance(0.5) ? w.normalize('NFD') : w.normalize('NFKD'));
}

// --- 5. Whitespace runs between words. ------------------------------------------------------
for (let i = 0; i < 450; ++i) {
  let s = rng.chance(0.3) ? rng.pick(SPACES) : '';
  const n = rng.int(1, 8);
  for (let j = 0; j < n; ++j) {
    s += rng.chance(0.8) ? rng.pick(WORDS[rng.pick(LANGS)]) : rng.pick(EMOJI);
    let run = '';
    const k = rng.int(1, 4);
    for (let m = 0; m < k; ++m) run += rng.pick(SPACES);
    s += run;
  }
  if (rng.chance(0.5)) s = s.trimEnd();
  add('whitespace', s);
}
for (let i = 0; i < 40; ++i) {
  let s = '';
  const n = rng.int(1, 30);
  for (let j = 0; j < n; ++j) s += rng.pick(SPACES);
  add('only_whitespace', s);
}

// --- 6. Digits and numbers. -----------------------------------------------------------------
const DIGIT_SETS = ['0123456789', '٠١٢٣٤٥٦٧٨٩', '０１２３４５６７８９', '०१२३४५६७८९', '๐๑๒๓๔๕๖๗๘๙',
  '𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗'];
function digits(n, set) {
  const chars = Array.from(set);
  let s = '';
  for (let i = 0; i < n; ++i) s += rng.pick(chars);
  return s;
}
for (let i = 0; i < 350; ++i) {
  const r = rng.next();
  let s;
  if (r < 0.35) s = digits(rng.int(1, 40), DIGIT_SETS[0]);
  else if (r < 0.5) s = digits(rng.int(1, 12), rng.pick(DIGIT_SETS));
  else if (r < 0.65) {
    s = `${digits(rng.int(1, 3), '123456789')},${digits(3, DIGIT_SETS[0])},` +
        `${digits(3, DIGIT_SETS[0])}.${digits(rng.int(1, 4), DIGIT_SETS[0])}`;
  } else if (r < 0.8) {
    s = `${rng.pick(['+1', '(555)', '$', '€', '-', '#', 'v'])}${digits(rng.int(1, 6), DIGIT_SETS[0])}` +
        `${rng.pick(['-', '.', ' ', '/', ':', 'e-', '%', 'px', 'x'])}${digits(rng.int(1, 9), DIGIT_SETS[0])}`;
  } else {
    s = `${rng.pick(WORDS.english)}${digits(rng.int(1, 7), DIGIT_SETS[0])}` +
        `${rng.pick([' ', '', 'th', 'rd', 'ms'])}${digits(rng.int(0, 5), DIGIT_SETS[0])}`;
  }
  add('digits', s);
}

// --- 7. Code snippets, URLs, paths. ---------------------------------------------------------
const IDENTS = ['x', 'i', 'n', 'foo', 'bar_baz', 'camelCase', 'HTTPServer', '__init__', 'vec3',
  'tokenizer_json', 'kMaxTokens', 'self', 'this', '_', '$el', 'données', 'переменная'];
const CODE = [
  (a, b) => `def ${a}(${b}):\n    return ${b} * 2\n`,
  (a, b) => `for (int ${a} = 0; ${a} < ${b}; ++${a}) {\n\tsum += ${a};\n}`,
  (a, b) => `const ${a} = ${b}.map((v) => v + 1);  // TODO: fix`,
  (a, b) => `{"${a}": [1, 2.5, -3e10, true, null], "${b}": {"k": "v\\n"}}`,
  (a, b) => `<div class="${a}"><span>${b}</span>&nbsp;&amp;</div>`,
  (a, b) => `if ${a} != nil {\n\treturn fmt.Errorf("bad %s: %w", ${b}, err)\n}`,
  (a, b) => `SELECT ${a}, COUNT(*) FROM ${b} WHERE id >= 42 GROUP BY ${a};`,
  (a, b) => `$ ./build/${a} --${b}=3 2>&1 | grep -E '^[a-z]+$' > /tmp/out.txt`,
  (a, b) => `    ${a}  =   ${b}   # aligned\n\t\t${b}\t=\t${a}`,
  (a, b) => `#include <${a}.h>\nstd::vector<int> ${b}{1,2,3};`,
  (a, b) => `fn ${a}<'a>(${b}: &'a str) -> Result<(), Box<dyn Error>> { Ok(()) }`,
  (a, b) => `\`\`\`python\nprint(f"{${a}!r:>10}")  # ${b}\n\`\`\``,
  (a, b) => `${a}++; ${b}--; ${a} <<= 2; ${b} ||= ${a} ?? 0; x => x**2 !== y`,
];
for (let i = 0; i < 350; ++i) add('code', rng.pick(CODE)(rng.pick(IDENTS), rng.pick(IDENTS)));
const URLS = [
  () => `https://www.example.com/${rng.pick(IDENTS)}/${digits(4, DIGIT_SETS[0])}?q=${rng.pick(WORDS.english)}&lang=en#top`,
  () => `http://localhost:${digits(4, DIGIT_SETS[0])}/v1/models/${rng.pick(IDENTS)}:generate`,
  () => `mailto:${rng.pick(IDENTS)}.${rng.pick(IDENTS)}@example.org`,
  () => `/usr/local/lib/${rng.pick(IDENTS)}.so.${digits(1, DIGIT_SETS[0])}`,
  () => `C:\\Users\\${rng.pick(IDENTS)}\\Documents\\file (${digits(1, DIGIT_SETS[0])}).txt`,
  () => `https://例え.jp/パス?検索=${rng.pick(WORDS.japanese)}`,
  () => `https://en.wikipedia.org/wiki/${rng.pick(WORDS.english)}_(disambiguation)`,
  () => `git@github.com:${rng.pick(IDENTS)}/${rng.pick(IDENTS)}.git`,
  () => `ftp://user:p%40ss@host.example:21/~${rng.pick(IDENTS)}/`,
];
for (let i = 0; i < 150; ++i) add('url', rng.pick(URLS)());

// --- 8. Very long words (> 1000 characters). ------------------------------------------------
const LONG_UNITS = ['a', 'ab', 'abc', 'x', 'Z', '0', '12', '!', '-', '=', '_', '.', ' ', '\n', 'é',
  'e\u0301', '中', '한', 'ก', 'ع', 'ß', '😀', '👍🏽', '🇺🇸', 'ﬁ', '\u00a0', 'Ab'];
for (let i = 0; i < 40; ++i) {
  const unit = LONG_UNITS[i % LONG_UNITS.length];
  const count = Math.ceil(rng.int(1001, 3000) / Array.from(unit).length);
  let s = unit.repeat(count);
  if (rng.chance(0.3)) s = `${rng.pick(WORDS.english)} ${s} ${rng.pick(WORDS.english)}`;
  add('long_word', s);
}
for (let i = 0; i < 20; ++i) {
  let s = '';
  const letters = Array.from(rng.pick(['abcdefghijklmnopqrstuvwxyz', 'абвгдежзийклмнопрстуфхцчшщъыьэюя',
    'αβγδεζηθικλμνξοπρστυφχψω', 'あいうえおかきくけこ', 'אבגדהוזחטיכלמנסעפצקרשת']));
  const n = rng.int(1001, 2500);
  for (let j = 0; j < n; ++j) s += rng.pick(letters);
  add('long_word', s);
}

// --- 9. Contractions in mixed case. ---------------------------------------------------------
for (let i = 0; i < 250; ++i) {
  const parts = [];
  const n = rng.int(1, 6);
  for (let j = 0; j < n; ++j) {
    let w = rng.pick(['I', 'you', 'we', 'they', 'he', 'she', 'it', 'don', 'can', 'won', 'isn', 'John',
      'O', 'y', 'rock', '']);
    w = rng.chance(0.5) ? randomCase(w) : w;
    parts.push(w + rng.pick(CONTRACTIONS) + (rng.chance(0.2) ? rng.pick(CONTRACTIONS) : ''));
  }
  add('contractions', parts.join(rng.pick([' ', '  ', '', '\n', ', '])));
}

// --- 10. Special-token text inside ordinary text. -------------------------------------------
for (let i = 0; i < 450; ++i) {
  let s = '';
  const n = rng.int(1, 6);
  for (let j = 0; j < n; ++j) {
    const r = rng.next();
    if (r < 0.45) s += rng.pick(SPECIAL_TEXT);
    else if (r < 0.8) s += sentence(rng.pick(LANGS), 1, 3);
    else if (r < 0.9) s += rng.pick(SPACES);
    else s += rng.pick(EMOJI);
    if (rng.chance(0.4)) s += rng.pick([' ', '\n', '  ']);
  }
  add('special_text', s);
}

// --- 11. Random code points from many blocks (no surrogates: the text must be valid UTF-8). ---
const BLOCKS = [[0x20, 0x7e], [0xa0, 0x24f], [0x250, 0x2ff], [0x370, 0x3ff], [0x400, 0x4ff],
  [0x530, 0x58f], [0x590, 0x5ff], [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x10a0, 0x10ff],
  [0x1100, 0x11ff], [0x1e00, 0x1eff], [0x2000, 0x206f], [0x2100, 0x22ff], [0x2500, 0x27bf],
  [0x3000, 0x30ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xf8ff],
  [0xf900, 0xfaff], [0xfb00, 0xfdff], [0xfe00, 0xfe6f], [0xff00, 0xffef], [0x10000, 0x1007f],
  [0x1d400, 0x1d7ff], [0x1f300, 0x1faff], [0x20000, 0x2a6df], [0xe0000, 0xe007f],
  [0xf0000, 0xf00ff]];
for (let i = 0; i < 500; ++i) {
  let s = '';
  const n = rng.int(1, 24);
  const focus = rng.chance(0.5) ? rng.pick(BLOCKS) : null;
  for (let j = 0; j < n; ++j) {
    const [lo, hi] = focus && rng.chance(0.8) ? focus : rng.pick(BLOCKS);
    s += cp(rng.int(lo, hi));
  }
  add('random_codepoints', s);
}
for (let i = 0; i < 100; ++i) {
  let s = '';
  const n = rng.int(1, 40);
  for (let j = 0; j < n; ++j) s += cp(rng.int(0x00, 0x7f));
  add('random_ascii', s);
}

// --- 12. Longer documents mixing everything above. ------------------------------------------
for (let i = 0; i < 150; ++i) {
  const pieces = [];
  const n = rng.int(5, 25);
  for (let j = 0; j < n; ++j) {
    const r = rng.next();
    if (r < 0.5) pieces.push(sentence(rng.pick(LANGS), 3, 12));
    else if (r < 0.6) pieces.push(rng.pick(CODE)(rng.pick(IDENTS), rng.pick(IDENTS)));
    else if (r < 0.7) pieces.push(rng.pick(EMOJI));
    else if (r < 0.8) pieces.push(digits(rng.int(1, 9), DIGIT_SETS[0]));
    else if (r < 0.85) pieces.push(rng.pick(SPECIAL_TEXT));
    else pieces.push(rng.pick(SPACES));
  }
  add('document', pieces.join(rng.pick([' ', '\n', '\n\n', ''])));
}

// Every string must survive UTF-8 and JSON unchanged: a lone surrogate would not.
for (const {index, text} of out) {
  if (Buffer.from(text, 'utf8').toString('utf8') !== text) {
    throw new Error(`corpus string ${index} is not valid Unicode`);
  }
}

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node make_corpus.js <out_dir>');
  process.exit(2);
}
fs.mkdirSync(outDir, {recursive: true});
fs.writeFileSync(path.join(outDir, 'corpus.jsonl'), out.map((r) => JSON.stringify(r)).join('\n') + '\n');
const counts = {};
for (const r of out) counts[r.category] = (counts[r.category] || 0) + 1;
console.log(`make_corpus: ${out.length} strings -> ${path.join(outDir, 'corpus.jsonl')}`);
console.log(`make_corpus: by category ${JSON.stringify(counts)}`);
