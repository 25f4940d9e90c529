#ifndef REVERIE_CJPEG_SHIM_H
#define REVERIE_CJPEG_SHIM_H

// libjpeg(-turbo) reports errors through `error_exit`, which must not return: the only way out is longjmp, which
// Swift cannot catch. Reverie calls libjpeg only from the C target `CImageCodecs`, which returns error codes
// instead. This module makes the library known to SwiftPM (pkg-config `libjpeg`, apt `libjpeg-dev`).
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>

#endif
