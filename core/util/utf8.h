// The one UTF-8 validator of ember (and the one sequence check behind it, which the tokenizers'
// lossy decoding shares). Request validation (core/engine/request_validation.cc), the
// server's wire-level check of string fields (server/request_parsing.cc), the tokenizers and the
// strict JSON reader of model files all call it. Pure function; any thread.
#ifndef EMBER_CORE_UTIL_UTF8_H_
#define EMBER_CORE_UTIL_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ember {

// Byte offset of the first byte of `text` that does not begin a well-formed UTF-8 sequence
// (overlong encodings, surrogates, code points above U+10FFFF and truncated sequences are
// ill-formed), or absl::string_view::npos when all of `text` is well-formed.
size_t FindInvalidUtf8(absl::string_view text);

// The sequence starting at p[0] (n > 0 bytes available): its length when it is well-formed;
// otherwise 0, with *bad_len set to the length of its maximal ill-formed subpart (at least 1), as
// Unicode Table 3-7 and Rust's Utf8Chunks define it (lossy decoding replaces each such subpart).
size_t Utf8SequenceCheck(const unsigned char* p, size_t n, size_t* bad_len);

}  // namespace ember

#endif  // EMBER_CORE_UTIL_UTF8_H_
