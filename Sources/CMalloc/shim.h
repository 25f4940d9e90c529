#ifndef REVERIE_CMALLOC_SHIM_H
#define REVERIE_CMALLOC_SHIM_H

// glibc's malloc tuning (`mallopt`), which Swift's Glibc module leaves out. Part of libc: nothing to link.
#if defined(__linux__)
#include <malloc.h>
#endif

#endif
