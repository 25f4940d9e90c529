#ifndef REVERIE_ONEDNN_H
#define REVERIE_ONEDNN_H
#include <stddef.h>

/// One convolution geometry's oneDNN primitives (forward with bias, backward data, backward weights) and the
/// reorders between Reverie's plain NCHW / OIHW tensors and the blocked layouts oneDNN's kernels choose. Immutable
/// once made: several threads may run it at once (every call allocates its own blocked buffers and scratchpad).
typedef struct reverie_onednn_conv reverie_onednn_conv;

/// Makes the primitives for x [n, c, h, w] * weight [k, c, kh, kw] with the given stride and padding (top/left and
/// bottom/right: PyTorch's floor for the output size). NULL on failure, with oneDNN's reason in `error`.
reverie_onednn_conv *reverie_onednn_conv_create(
    int n, int c, int h, int w, int k, int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w,
    int pad_bottom, int pad_right, char *error, size_t error_size);

void reverie_onednn_conv_destroy(reverie_onednn_conv *conv);

/// y = conv(x, weight) + bias (bias may be NULL). 0 on success; else nonzero with the reason in `error`.
int reverie_onednn_conv_forward(
    const reverie_onednn_conv *conv, const float *x, const float *weight, const float *bias, float *y,
    char *error, size_t error_size);

/// dx and dw (either may be NULL) from dy: dx overwritten, dw overwritten. 0 on success.
int reverie_onednn_conv_backward(
    const reverie_onednn_conv *conv, const float *x, const float *weight, const float *dy, float *dx, float *dw,
    char *error, size_t error_size);

/// The kernel oneDNN chose for the forward pass ("jit:avx512_core", "gemm:jit", …).
const char *reverie_onednn_conv_kernel(const reverie_onednn_conv *conv);

#endif
