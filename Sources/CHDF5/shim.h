#ifndef REVERIE_CHDF5_SHIM_H
#define REVERIE_CHDF5_SHIM_H
#include <hdf5.h>
#endif
