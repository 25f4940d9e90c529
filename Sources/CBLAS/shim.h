#ifndef REVERIE_CBLAS_SHIM_H
#define REVERIE_CBLAS_SHIM_H
#include <cblas.h>
// openblas_set_num_threads / openblas_get_num_threads are declared by OpenBLAS's cblas.h.

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// Keeps large freed blocks in glibc's heap instead of returning them to the OS, so per-step activations reuse
/// memory rather than page-faulting fresh, zeroed mmaps: blocks up to 32 MB come from the heap (glibc refuses a
/// larger mmap threshold: asking for 1 GiB left it at its dynamic default), freed memory is trimmed only past
/// 1 GiB, and the heap grows 64 MB at a time. A no-op where the C library is not glibc.
static inline void reverie_keep_large_blocks(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}

/// Bytes the program holds from malloc (heap and mmapped blocks, not what glibc keeps free), or 0 where the C
/// library is not glibc 2.33 or newer.
static inline size_t reverie_heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}
#endif
