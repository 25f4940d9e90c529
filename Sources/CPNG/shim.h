#ifndef REVERIE_CPNG_SHIM_H
#define REVERIE_CPNG_SHIM_H

// libpng reports errors by longjmp-ing out of the failing call, which Swift cannot catch. Reverie therefore never
// calls libpng from Swift: the decode/encode entry points live in the C target `CImageCodecs`, which sets up the
// jump buffer and returns an error code and message. This module only makes the library and its flags known
// to SwiftPM (pkg-config `libpng`, apt `libpng-dev`).
#include <png.h>

#endif
