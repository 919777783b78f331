#ifndef WEDIO_HEAP_H
#define WEDIO_HEAP_H

/// Gives the free pages of every thread's heap back to the system (glibc's malloc_trim). glibc keeps a
/// heap's free pages while anything above them lives, so how much a finished reading phase leaves mapped
/// depends on the order of its frees (5 MB either way on the same capture). Returns whether pages were
/// released; does nothing where the C library has no such call.
int wedio_heap_release_free_pages(void);

#endif
