#ifndef WEDIO_FUZZ_DRIVER_H
#define WEDIO_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>
/* libFuzzer's driver entry (LLVM ≥ 11). SwiftPM names each executable's entry point <Target>_main; the
   harnesses define that and hand control to libFuzzer through this. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
