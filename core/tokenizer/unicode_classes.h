// Character-class bodies (the text between '[' and ']') in PCRE2 syntax that reproduce the Unicode
// classes Hugging Face `tokenizers` uses. PCRE2 10.42 carries Unicode 14 tables; the Oniguruma and
// Rust standard library inside tokenizers 0.23 carry Unicode 16, so each body adds the code points
// that became letters, numbers or word characters in Unicode 15 and 16. The added ranges were
// obtained by asking tokenizers 0.23.2 (npm) to classify every code point and keeping those PCRE2
// leaves unassigned. Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_UNICODE_CLASSES_H_
#define EMBER_CORE_TOKENIZER_UNICODE_CLASSES_H_

#include <string>

namespace ember::tokenizer_internal {

// \p{L} (letters).
const std::string& LetterClassBody();
// \p{N} (numbers: Nd, Nl, No); also Rust's `char::is_numeric`.
const std::string& NumberClassBody();
// \p{Nd} (decimal digits); Oniguruma's \d.
const std::string& DecimalDigitClassBody();
// Oniguruma's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation, and the
// Latin-1 superscripts and fractions (U+00B2, U+00B3, U+00B9, U+00BC-U+00BE).
const std::string& OnigWordClassBody();
// The Rust `regex` crate's Unicode \w (UTS #18 Annex C): Alphabetic, marks, decimal digits,
// connector punctuation, ZWNJ and ZWJ.
const std::string& RustWordClassBody();
// Rust's `char::is_whitespace` and Oniguruma's \s: the White_Space property. PCRE2's own \s also
// matches U+180E, which Unicode no longer counts as white space, so patterns never use it.
inline constexpr char kWhiteSpaceClassBody[] = "\\p{White_Space}";

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_UNICODE_CLASSES_H_
