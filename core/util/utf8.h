// The one UTF-8 validator of ember. Request validation (core/engine/request_validation.cc), the
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

}  // namespace ember

#endif  // EMBER_CORE_UTIL_UTF8_H_
