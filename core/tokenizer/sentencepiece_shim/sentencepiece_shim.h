/* The C interface of libember_sentencepiece_shim.so, the only code that links libsentencepiece.
 *
 * Why a separately loaded module: Debian's libsentencepiece embeds its own copy of protobuf-lite
 * 3.14 and exports it, and every process that also loads the system libprotobuf 3.21 (anything
 * using gRPC) crashes at start-up or aborts on a version check, whichever library wins symbol
 * resolution. The shim is therefore loaded with dlmopen() into a private link-map namespace where
 * its libsentencepiece cannot see, or be seen by, the process's libprotobuf. Only plain C types
 * cross the boundary, and all memory is owned by the caller, because the namespace has its own
 * copies of libc and libstdc++.
 *
 * Every function is safe to call concurrently on the same handle (libsentencepiece keeps no
 * mutable state during Encode/Decode). */
#ifndef EMBER_CORE_TOKENIZER_SENTENCEPIECE_SHIM_SENTENCEPIECE_SHIM_H_
#define EMBER_CORE_TOKENIZER_SENTENCEPIECE_SHIM_SENTENCEPIECE_SHIM_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a serialized ModelProto. NULL on failure, with the message in err (NUL-terminated). */
void* ember_spm_load(const char* data, size_t size, char* err, size_t err_cap);
void ember_spm_free(void* model);
int ember_spm_piece_size(const void* model);
/* Copies piece `id` into buf (not NUL-terminated) and returns its length; when that exceeds cap
 * only cap bytes were written. */
size_t ember_spm_id_to_piece(const void* model, int id, char* buf, size_t cap);
/* 0 normal or user-defined, 1 unknown, 2 control, 3 byte, 4 unused. */
int ember_spm_kind(const void* model, int id);
int ember_spm_bos_id(const void* model);
int ember_spm_eos_id(const void* model);
/* Encodes text; returns the number of ids (only min(count, cap) written) or -1 with err set. */
long ember_spm_encode(const void* model, const char* text, size_t size, int* ids, size_t cap,
                      char* err, size_t err_cap);
/* Encodes text into piece strings (unknown characters appear as their own text, as
 * sentencepiece's encode(out_type=str) gives them), each followed by a NUL byte in out; returns the
 * bytes that takes (only min(bytes, cap) written) or -1 with err set. */
long ember_spm_encode_pieces(const void* model, const char* text, size_t size, char* out,
                             size_t cap, char* err, size_t err_cap);
/* Decodes ids; returns the text length (only min(length, cap) bytes written) or -1 with err. */
long ember_spm_decode(const void* model, const int* ids, size_t count, char* out, size_t cap,
                      char* err, size_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_CORE_TOKENIZER_SENTENCEPIECE_SHIM_SENTENCEPIECE_SHIM_H_ */
