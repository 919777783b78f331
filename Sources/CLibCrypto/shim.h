#ifndef WEDIO_CLIBCRYPTO_SHIM_H
#define WEDIO_CLIBCRYPTO_SHIM_H
// SHA1_Init/Update/Final are deprecated in OpenSSL 3 but kept: their plain SHA_CTX can be copied, which
// lets an HMAC key's padded blocks be hashed once and reused for every message (HMACSHA1Key).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#endif
