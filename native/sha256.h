// SHA-256 for gamelayer-assemble: one streaming context, with the block function picked once at start-up
// (x86-64 SHA-NI, ARMv8 crypto extensions, or portable C).
#ifndef GAMELAYER_SHA256_H
#define GAMELAYER_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t state[8];
  uint64_t bytes;
  uint8_t block[64];
  size_t used;
} sha256_ctx;

/** Chooses the fastest block function this CPU runs (portable C only unless `allow_hw`); returns its name ("sha-ni",
 * "armv8-ce" or "c"). */
const char *sha256_select(int allow_hw);
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/** Writes the digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(sha256_ctx *c, char out[65]);
#endif
