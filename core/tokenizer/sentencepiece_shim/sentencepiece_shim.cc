// libember_sentencepiece_shim.so: libsentencepiece behind a C interface (see the header for why).
// Deliberately free of Abseil (Debian's sentencepiece header clashes with absl::string_view) and
// of sanitizer instrumentation (it lives in its own link-map namespace without the sanitizer
// runtime).
#include "core/tokenizer/sentencepiece_shim/sentencepiece_shim.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

using Processor = sentencepiece::SentencePieceProcessor;

const Processor& P(const void* model) { return *static_cast<const Processor*>(model); }

void SetError(const std::string& message, char* err, size_t cap) {
  if (err == nullptr || cap == 0) return;
  const size_t n = std::min(message.size(), cap - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// libsentencepiece throws on some malformed models (e.g. darts_clone's "zero-length key" for an
// empty piece) instead of returning a status; an exception must not cross the C interface, where
// it would terminate the process. Call only inside a catch block: it rethrows to read the message.
std::string ExceptionMessage() {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string("libsentencepiece threw: ") + e.what();
  } catch (...) {
    return "libsentencepiece threw an unknown exception";
  }
}

}  // namespace

extern "C" {

void* ember_spm_load(const char* data, size_t size, char* err, size_t err_cap) {
  auto* processor = new Processor();
  sentencepiece::util::Status status;
  try {
    status = processor->LoadFromSerializedProto(std::string(data, size));
  } catch (...) {
    SetError(ExceptionMessage(), err, err_cap);
    delete processor;
    return nullptr;
  }
  if (!status.ok()) {
    SetError(status.ToString(), err, err_cap);
    delete processor;
    return nullptr;
  }
  if (processor->GetPieceSize() <= 0) {
    SetError("the model has no pieces", err, err_cap);
    delete processor;
    return nullptr;
  }
  return processor;
}

void ember_spm_free(void* model) { delete static_cast<Processor*>(model); }

int ember_spm_piece_size(const void* model) { return P(model).GetPieceSize(); }

size_t ember_spm_id_to_piece(const void* model, int id, char* buf, size_t cap) {
  const std::string& piece = P(model).IdToPiece(id);
  std::memcpy(buf, piece.data(), std::min(cap, piece.size()));
  return piece.size();
}

int ember_spm_kind(const void* model, int id) {
  const Processor& p = P(model);
  if (p.IsUnknown(id)) return 1;
  if (p.IsControl(id)) return 2;
  if (p.IsByte(id)) return 3;
  if (p.IsUnused(id)) return 4;
  return 0;
}

int ember_spm_bos_id(const void* model) { return P(model).bos_id(); }
int ember_spm_eos_id(const void* model) { return P(model).eos_id(); }

long ember_spm_encode(const void* model, const char* text, size_t size, int* ids, size_t cap,
                      char* err, size_t err_cap) {
  std::vector<int> out;
  sentencepiece::util::Status status;
  try {
    status = P(model).Encode(std::string(text, size), &out);
  } catch (...) {
    SetError(ExceptionMessage(), err, err_cap);
    return -1;
  }
  if (!status.ok()) {
    SetError(status.ToString(), err, err_cap);
    return -1;
  }
  std::memcpy(ids, out.data(), std::min(cap, out.size()) * sizeof(int));
  return static_cast<long>(out.size());
}

long ember_spm_encode_pieces(const void* model, const char* text, size_t size, char* out,
                             size_t cap, char* err, size_t err_cap) {
  std::vector<std::string> pieces;
  sentencepiece::util::Status status;
  try {
    status = P(model).Encode(std::string(text, size), &pieces);
  } catch (...) {
    SetError(ExceptionMessage(), err, err_cap);
    return -1;
  }
  if (!status.ok()) {
    SetError(status.ToString(), err, err_cap);
    return -1;
  }
  size_t bytes = 0;
  for (const std::string& piece : pieces) {
    for (size_t i = 0; i <= piece.size(); ++i, ++bytes) {
      if (bytes < cap) out[bytes] = i < piece.size() ? piece[i] : '\0';
    }
  }
  return static_cast<long>(bytes);
}

long ember_spm_decode(const void* model, const int* ids, size_t count, char* out, size_t cap,
                      char* err, size_t err_cap) {
  std::string text;
  sentencepiece::util::Status status;
  try {
    status = P(model).Decode(std::vector<int>(ids, ids + count), &text);
  } catch (...) {
    SetError(ExceptionMessage(), err, err_cap);
    return -1;
  }
  if (!status.ok()) {
    SetError(status.ToString(), err, err_cap);
    return -1;
  }
  std::memcpy(out, text.data(), std::min(cap, text.size()));
  return static_cast<long>(text.size());
}

}  // extern "C"
