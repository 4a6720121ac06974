#include "core/tokenizer/sentencepiece_bridge.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "core/tokenizer/sentencepiece_shim/sentencepiece_shim.h"

namespace ember::tokenizer_internal {
namespace {

// The shim's entry points, resolved once per process.
struct ShimApi {
  decltype(&ember_spm_load) load = nullptr;
  decltype(&ember_spm_free) free = nullptr;
  decltype(&ember_spm_piece_size) piece_size = nullptr;
  decltype(&ember_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&ember_spm_kind) kind = nullptr;
  decltype(&ember_spm_bos_id) bos_id = nullptr;
  decltype(&ember_spm_eos_id) eos_id = nullptr;
  decltype(&ember_spm_encode) encode = nullptr;
  decltype(&ember_spm_encode_pieces) encode_pieces = nullptr;
  decltype(&ember_spm_decode) decode = nullptr;
  std::string error;  // why loading failed; empty on success
};

constexpr char kShimName[] = "libember_sentencepiece_shim.so";

std::string ExecutableDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::vector<std::string> Candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("EMBER_SENTENCEPIECE_SHIM"); env != nullptr && *env != '\0') {
    paths.push_back(env);
  }
  const std::string dir = ExecutableDir();
  if (!dir.empty()) {
    paths.push_back(dir + "/" + kShimName);
    paths.push_back(dir + "/../lib/" + kShimName);
  }
#ifdef EMBER_SENTENCEPIECE_SHIM_BUILD_PATH
  paths.push_back(EMBER_SENTENCEPIECE_SHIM_BUILD_PATH);
#endif
  return paths;
}

const ShimApi& Shim() {
  static const ShimApi* api = [] {
    auto* a = new ShimApi();
    void* handle = nullptr;
    std::string tried;
    for (const std::string& path : Candidates()) {
      if (::access(path.c_str(), R_OK) != 0) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      handle = ::dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        const char* e = ::dlerror();
        a->error = "cannot load " + path + ": " + (e != nullptr ? e : "unknown error");
        return a;
      }
      break;
    }
    if (handle == nullptr) {
      a->error = std::string("SentencePiece support needs ") + kShimName + " (looked in: " + tried +
                 "; set EMBER_SENTENCEPIECE_SHIM)";
      return a;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
      if (fn == nullptr && a->error.empty()) a->error = std::string("shim lacks ") + name;
    };
    sym(a->load, "ember_spm_load");
    sym(a->free, "ember_spm_free");
    sym(a->piece_size, "ember_spm_piece_size");
    sym(a->id_to_piece, "ember_spm_id_to_piece");
    sym(a->kind, "ember_spm_kind");
    sym(a->bos_id, "ember_spm_bos_id");
    sym(a->eos_id, "ember_spm_eos_id");
    sym(a->encode, "ember_spm_encode");
    sym(a->encode_pieces, "ember_spm_encode_pieces");
    sym(a->decode, "ember_spm_decode");
    return a;
  }();
  return *api;
}

SpmPieceKind KindFromCode(int code) {
  switch (code) {
    case 1:
      return SpmPieceKind::kUnknown;
    case 2:
      return SpmPieceKind::kControl;
    case 3:
      return SpmPieceKind::kByte;
    case 4:
      return SpmPieceKind::kUnused;
    default:
      return SpmPieceKind::kNormal;
  }
}

}  // namespace

std::unique_ptr<SpmBridge> SpmBridge::Load(std::string_view serialized_model, std::string* error) {
  const ShimApi& shim = Shim();
  if (!shim.error.empty()) {
    *error = shim.error;
    return nullptr;
  }
  char err[512] = {0};
  void* model = shim.load(serialized_model.data(), serialized_model.size(), err, sizeof(err));
  if (model == nullptr) {
    *error = err;
    return nullptr;
  }
  auto bridge = std::unique_ptr<SpmBridge>(new SpmBridge(model));
  const int n = shim.piece_size(model);
  bridge->pieces_.reserve(static_cast<size_t>(n));
  bridge->kinds_.reserve(static_cast<size_t>(n));
  std::string piece(64, '\0');
  for (int id = 0; id < n; ++id) {
    size_t len = shim.id_to_piece(model, id, piece.data(), piece.size());
    if (len > piece.size()) {
      piece.resize(len);
      len = shim.id_to_piece(model, id, piece.data(), piece.size());
    }
    bridge->pieces_.emplace_back(piece.data(), len);
    bridge->kinds_.push_back(KindFromCode(shim.kind(model, id)));
    bridge->ids_.emplace(bridge->pieces_.back(), id);  // first id wins for duplicate strings
  }
  bridge->bos_ = shim.bos_id(model);
  bridge->eos_ = shim.eos_id(model);
  return bridge;
}

SpmBridge::SpmBridge(void* model) : model_(model) {}

SpmBridge::~SpmBridge() { Shim().free(model_); }

int SpmBridge::PieceSize() const { return static_cast<int>(pieces_.size()); }

const std::string& SpmBridge::IdToPiece(int id) const { return pieces_[static_cast<size_t>(id)]; }

int SpmBridge::PieceToId(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

SpmPieceKind SpmBridge::Kind(int id) const { return kinds_[static_cast<size_t>(id)]; }

int SpmBridge::BosId() const { return bos_; }

int SpmBridge::EosId() const { return eos_; }

bool SpmBridge::Encode(std::string_view text, std::vector<int>* ids, std::string* error) const {
  // At most one piece per byte, plus a dummy-prefix piece.
  ids->resize(text.size() + 8);
  char err[512] = {0};
  const long n =
      Shim().encode(model_, text.data(), text.size(), ids->data(), ids->size(), err, sizeof(err));
  if (n < 0) {
    *error = err;
    return false;
  }
  if (static_cast<size_t>(n) > ids->size()) {
    ids->resize(static_cast<size_t>(n));
    Shim().encode(model_, text.data(), text.size(), ids->data(), ids->size(), err, sizeof(err));
  }
  ids->resize(static_cast<size_t>(n));
  return true;
}

bool SpmBridge::EncodeAsPieces(std::string_view text, std::vector<std::string>* pieces,
                               std::string* error) const {
  std::string buffer(text.size() * 4 + 64, '\0');
  char err[512] = {0};
  long n = Shim().encode_pieces(model_, text.data(), text.size(), buffer.data(), buffer.size(), err,
                                sizeof(err));
  if (n >= 0 && static_cast<size_t>(n) > buffer.size()) {
    buffer.resize(static_cast<size_t>(n));
    n = Shim().encode_pieces(model_, text.data(), text.size(), buffer.data(), buffer.size(), err,
                             sizeof(err));
  }
  if (n < 0) {
    *error = err;
    return false;
  }
  pieces->clear();
  size_t start = 0;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (buffer[i] != '\0') continue;
    pieces->emplace_back(buffer.data() + start, i - start);
    start = i + 1;
  }
  return true;
}

bool SpmBridge::Decode(const std::vector<int>& ids, std::string* text, std::string* error) const {
  text->resize(ids.size() * 16 + 16);
  char err[512] = {0};
  long n =
      Shim().decode(model_, ids.data(), ids.size(), text->data(), text->size(), err, sizeof(err));
  if (n < 0) {
    *error = err;
    return false;
  }
  if (static_cast<size_t>(n) > text->size()) {
    text->resize(static_cast<size_t>(n));
    n = Shim().decode(model_, ids.data(), ids.size(), text->data(), text->size(), err, sizeof(err));
  }
  text->resize(static_cast<size_t>(n));
  return true;
}

}  // namespace ember::tokenizer_internal
