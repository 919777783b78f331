#ifndef WEDIO_CLIBCRYPTO_SHIM_H
#define WEDIO_CLIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
