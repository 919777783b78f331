#ifndef WEDIO_PREFETCH_H
#define WEDIO_PREFETCH_H

/// Asks the processor to bring the cache line holding `address` closer, without waiting for it: a table
/// look-up a few messages ahead of its use then finds its line in cache instead of stalling on it. Only a
/// hint: an address that is not mapped is ignored, never dereferenced.
static inline void wedio_prefetch(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 3);
#else
    (void)address;
#endif
}

/// The same for a line about to be written.
static inline void wedio_prefetch_for_writing(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 1, 3);
#else
    (void)address;
#endif
}

#endif
