#include "tests/core/tokenizer/tiny_tokenizer_json.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember::testing {
namespace {

// GPT-2's bytes_to_unicode: the printable character standing for byte `b` in byte-level vocabs.
std::string ByteLevelChar(unsigned char b) {
  const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  char32_t c = b;
  if (!printable) {
    c = 256;
    for (int other = 0; other < b; ++other) {
      if (!((other >= 33 && other <= 126) || (other >= 161 && other <= 172) || other >= 174)) ++c;
    }
  }
  std::string out;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return out;
}

std::string ByteLevelString(absl::string_view bytes) {
  std::string out;
  for (const char b : bytes) out += ByteLevelChar(static_cast<unsigned char>(b));
  return out;
}

}  // namespace

std::string TinyByteLevelTokenizerJson() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteLevelChar(static_cast<unsigned char>(b))] = b;
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [left, right] :
       std::vector<std::pair<std::string, std::string>>{{" ", "t"},
                                                        {"h", "e"},
                                                        {" t", "he"},
                                                        {"\xF0", "\x9F"},
                                                        {"\xF0\x9F", "\x98"},
                                                        {"\xE4", "\xB8"},
                                                        {"\xE4\xB8", "\xAD"},
                                                        {"\xC3", "\xA9"},
                                                        {" ", " "}}) {
    merges.push_back(ByteLevelString(left) + " " + ByteLevelString(right));
    vocab[ByteLevelString(left + right)] = static_cast<int>(vocab.size());
  }
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", true},
                                     {"use_regex", true}};
  return nlohmann::json{{"version", "1.0"},
                        {"added_tokens",
                         {{{"id", vocab.size()},
                           {"content", "<|endoftext|>"},
                           {"single_word", false},
                           {"lstrip", false},
                           {"rstrip", false},
                           {"normalized", false},
                           {"special", true}}}},
                        {"normalizer", nullptr},
                        {"pre_tokenizer", byte_level},
                        {"post_processor", byte_level},
                        {"decoder", byte_level},
                        {"model",
                         {{"type", "BPE"},
                          {"dropout", nullptr},
                          {"unk_token", nullptr},
                          {"continuing_subword_prefix", ""},
                          {"end_of_word_suffix", ""},
                          {"fuse_unk", false},
                          {"byte_fallback", false},
                          {"vocab", vocab},
                          {"merges", merges}}}}
      .dump();
}

std::string TinySentencePieceStyleTokenizerJson() {
  nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    vocab[absl::StrCat("<0x", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(b, absl::kZeroPad2))),
                       ">")] = static_cast<int>(vocab.size());
  }
  for (const char* piece : {"\xE2\x96\x81", "a", "b", "e", "h", "t", "x", "o", "r", "l", "d", "!",
                            "\xC3\xA9", "\xE4\xB8\xAD"}) {
    vocab[piece] = static_cast<int>(vocab.size());
  }
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [left, right] :
       std::vector<std::pair<std::string, std::string>>{{"\xE2\x96\x81", "t"},
                                                        {"h", "e"},
                                                        {"\xE2\x96\x81t", "he"},
                                                        {"\xE2\x96\x81", "\xE2\x96\x81"},
                                                        {"\xE2\x96\x81", "a"}}) {
    merges.push_back(left + " " + right);
    vocab[left + right] = static_cast<int>(vocab.size());
  }
  nlohmann::json added = nlohmann::json::array();
  for (int id = 0; id < 3; ++id) {
    added.push_back({{"id", id},
                     {"content", id == 0   ? "<unk>"
                                 : id == 1 ? "<s>"
                                           : "</s>"},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return nlohmann::json{
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", nlohmann::json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", merges}}}}
      .dump();
}

}  // namespace ember::testing
