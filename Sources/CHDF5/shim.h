#ifndef REVERIE_CHDF5_SHIM_H
#define REVERIE_CHDF5_SHIM_H

// Swift imports neither HDF5's object-like macros (H5T_NATIVE_FLOAT expands to `(H5OPEN H5T_NATIVE_FLOAT_g)`)
// nor, under Swift 6 concurrency checking, the mutable `_g` globals behind them. Each one Reverie needs is wrapped
// here as a `static inline` function; so are the few calls whose C signature changes between HDF5 1.10 and 1.12+.

#include <hdf5.h>
#include <string.h>

// MARK: - Property lists and selections

static inline hid_t reverie_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t reverie_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t reverie_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t reverie_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t reverie_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline H5Z_filter_t reverie_H5Z_FILTER_FLETCHER32(void) { return H5Z_FILTER_FLETCHER32; }

// MARK: - File access flags

static inline unsigned reverie_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned reverie_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline unsigned reverie_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }

// MARK: - Predefined datatypes

static inline hid_t reverie_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t reverie_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t reverie_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t reverie_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t reverie_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t reverie_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t reverie_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t reverie_H5T_C_S1(void) { return H5T_C_S1; }
static inline size_t reverie_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// A 16-bit little-endian float with the given layout, built the way h5py builds its half type (so h5py and
/// numpy read an IEEE half as `float16`). IEEE half: exponent 5 bits, mantissa 10, bias 15.
/// bfloat16: exponent 8 bits, mantissa 7, bias 127. Returns a negative id on failure; the caller closes it.
static inline hid_t reverie_create_float16_type(size_t exponent_bits, size_t mantissa_bits, size_t exponent_bias) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    // Fields first (they must fit the current 32-bit size), then shrink, then the bias.
    if (H5Tset_fields(t, 15, mantissa_bits, exponent_bits, 0, mantissa_bits) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_ebias(t, exponent_bias) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// MARK: - Errors

/// Turns off HDF5's automatic printing of its error stack to stderr: Reverie reports failures as typed errors
/// and pulls the detail out of the stack itself (`reverie_h5_error_message`).
static inline herr_t reverie_silence_hdf5_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
    char *buffer;
    size_t capacity;
    int found;
} reverie_error_walk_t;

static inline herr_t reverie_error_walk_cb(unsigned n, const H5E_error2_t *err, void *client) {
    (void)n;
    reverie_error_walk_t *walk = (reverie_error_walk_t *)client;
    if (walk->found || err == NULL || err->desc == NULL || err->desc[0] == '\0') return 0;
    strncpy(walk->buffer, err->desc, walk->capacity - 1);
    walk->buffer[walk->capacity - 1] = '\0';
    walk->found = 1;
    return 0;
}

/// Copies the description of the most specific error on the current HDF5 error stack (for example
/// "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 2048") into `buffer`.
/// Returns 1 if the stack held a message, 0 otherwise. Call it right after the failing call: the next HDF5 API
/// call clears the stack.
static inline int reverie_h5_error_message(char *buffer, size_t capacity) {
    if (buffer == NULL || capacity == 0) return 0;
    buffer[0] = '\0';
    reverie_error_walk_t walk = {buffer, capacity, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reverie_error_walk_cb, &walk);
    return walk.found;
}

// MARK: - Links and objects

/// 1 if `name` in `loc` is a hard link, 0 if it is a soft or external link, negative on failure.
/// Reverie follows hard links only: a soft link could point anywhere in the file, an external one into another file.
static inline int reverie_link_is_hard(hid_t loc, const char *name) {
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
    return info.type == H5L_TYPE_HARD ? 1 : 0;
}

/// Number of links in a group, or a negative value on failure.
static inline long long reverie_group_link_count(hid_t group) {
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0) return -1;
    return (long long)info.nlinks;
}

static inline herr_t reverie_count_attribute_cb(hid_t loc, const char *name, const H5A_info_t *info, void *count) {
    (void)loc;
    (void)name;
    (void)info;
    *(hsize_t *)count += 1;
    return 0;
}

/// Number of attributes attached to an object, or a negative value on failure. (H5Oget_info's struct and
/// signature differ between HDF5 1.10 and 1.12; iterating is stable across both.)
static inline long long reverie_attribute_count(hid_t object) {
    hsize_t count = 0;
    hsize_t index = 0;
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, reverie_count_attribute_cb, &count) < 0) return -1;
    return (long long)count;
}

#endif
