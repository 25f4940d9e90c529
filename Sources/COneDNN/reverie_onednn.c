#define _GNU_SOURCE  // RTLD_DEFAULT
// oneDNN's convolutions behind Reverie's conv2d. C, not Swift: oneDNN's API is C structs and status codes.
#include "reverie_onednn.h"

#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Every call runs on one thread: Reverie splits batches itself, so the result never depends on a thread count and
// OpenMP never starts a team beside Reverie's own workers. Debian's oneDNN runs on OpenMP, whose thread count is a
// per-thread setting; it is looked up at run time (libgomp comes loaded with libdnnl) rather than linked, so a oneDNN
// built on another runtime needs nothing here.
static void one_thread(void) {
    static void (*set_threads)(int) = NULL;
    static int looked = 0;
    if (!looked) {  // a benign race: every thread finds the same symbol
        set_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
        looked = 1;
    }
    if (set_threads) set_threads(1);
}

struct reverie_onednn_conv {
    dnnl_engine_t engine;
    dnnl_memory_desc_t x, w, bias, y;  // plain layouts
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
};

#define CHECK(call, what)                                                                            \
    do {                                                                                             \
        dnnl_status_t status_ = (call);                                                              \
        if (status_ != dnnl_success) {                                                               \
            snprintf(error, error_size, "oneDNN %s failed (status %d)", what, (int)status_);        \
            goto fail;                                                                               \
        }                                                                                            \
    } while (0)

static dnnl_status_t plain(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    return dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, tag);
}

static dnnl_status_t any(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims) {
    return dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, dnnl_format_tag_any);
}

static dnnl_status_t primitive_desc(
    dnnl_primitive_desc_t *pd, const void *op, dnnl_engine_t engine, const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_attr_t attr;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, op, attr, engine, hint);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

reverie_onednn_conv *reverie_onednn_conv_create(
    int n, int c, int h, int w, int k, int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w,
    int pad_bottom, int pad_right, char *error, size_t error_size) {
    one_thread();  // making primitives runs parallel loops too
    reverie_onednn_conv *conv = calloc(1, sizeof *conv);
    if (!conv) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    int oh = (h + pad_h + pad_bottom - kh) / stride_h + 1, ow = (w + pad_w + pad_right - kw) / stride_w + 1;
    dnnl_dims_t xd = {n, c, h, w}, wd = {k, c, kh, kw}, bd = {k}, yd = {n, k, oh, ow};
    dnnl_dims_t strides = {stride_h, stride_w}, pad_l = {pad_h, pad_w}, pad_r = {pad_bottom, pad_right};
    dnnl_memory_desc_t ax, aw, ay;
    dnnl_convolution_desc_t fd, dd, wdsc;
    CHECK(dnnl_engine_create(&conv->engine, dnnl_cpu, 0), "engine");
    CHECK(plain(&conv->x, 4, xd, dnnl_nchw), "memory desc");
    CHECK(plain(&conv->w, 4, wd, dnnl_oihw), "memory desc");
    CHECK(plain(&conv->bias, 1, bd, dnnl_x), "memory desc");
    CHECK(plain(&conv->y, 4, yd, dnnl_nchw), "memory desc");
    CHECK(any(&ax, 4, xd), "memory desc");
    CHECK(any(&aw, 4, wd), "memory desc");
    CHECK(any(&ay, 4, yd), "memory desc");
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &ax, &aw,
                                             &conv->bias, &ay, strides, pad_l, pad_r),
          "forward desc");
    CHECK(primitive_desc(&conv->fwd_pd, &fd, conv->engine, NULL), "forward primitive desc");
    CHECK(dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &ax, &aw, &ay, strides, pad_l,
                                                   pad_r),
          "backward data desc");
    CHECK(primitive_desc(&conv->bwd_data_pd, &dd, conv->engine, conv->fwd_pd), "backward data primitive desc");
    CHECK(dnnl_convolution_backward_weights_desc_init(&wdsc, dnnl_convolution_direct, &ax, &aw, NULL, &ay, strides,
                                                      pad_l, pad_r),
          "backward weights desc");
    CHECK(primitive_desc(&conv->bwd_weights_pd, &wdsc, conv->engine, conv->fwd_pd),
          "backward weights primitive desc");
    CHECK(dnnl_primitive_create(&conv->fwd, conv->fwd_pd), "forward primitive");
    CHECK(dnnl_primitive_create(&conv->bwd_data, conv->bwd_data_pd), "backward data primitive");
    CHECK(dnnl_primitive_create(&conv->bwd_weights, conv->bwd_weights_pd), "backward weights primitive");
    return conv;
fail:
    reverie_onednn_conv_destroy(conv);
    return NULL;
}

void reverie_onednn_conv_destroy(reverie_onednn_conv *conv) {
    if (!conv) return;
    if (conv->fwd) dnnl_primitive_destroy(conv->fwd);
    if (conv->bwd_data) dnnl_primitive_destroy(conv->bwd_data);
    if (conv->bwd_weights) dnnl_primitive_destroy(conv->bwd_weights);
    if (conv->fwd_pd) dnnl_primitive_desc_destroy(conv->fwd_pd);
    if (conv->bwd_data_pd) dnnl_primitive_desc_destroy(conv->bwd_data_pd);
    if (conv->bwd_weights_pd) dnnl_primitive_desc_destroy(conv->bwd_weights_pd);
    if (conv->engine) dnnl_engine_destroy(conv->engine);
    free(conv);
}

const char *reverie_onednn_conv_kernel(const reverie_onednn_conv *conv) {
    const char *name = NULL;
    dnnl_primitive_desc_query(conv->fwd_pd, dnnl_query_impl_info_str, 0, &name);
    return name ? name : "unknown";
}

/// Memory objects made during one call, released together.
typedef struct {
    dnnl_memory_t memory[24];
    void *buffers[24];
    int memories, allocations;
} call_state;

static void release(call_state *state) {
    for (int i = 0; i < state->memories; i++) dnnl_memory_destroy(state->memory[i]);
    for (int i = 0; i < state->allocations; i++) free(state->buffers[i]);
}

static dnnl_status_t wrap(call_state *state, dnnl_engine_t engine, const dnnl_memory_desc_t *md, void *data,
                          dnnl_memory_t *out) {
    if (state->memories == 24) return dnnl_out_of_memory;
    dnnl_status_t s = dnnl_memory_create(out, md, engine, data);
    if (s == dnnl_success) state->memory[state->memories++] = *out;
    return s;
}

/// A buffer of `md`'s size, 64-byte aligned, owned by `state`.
static void *buffer(call_state *state, const dnnl_memory_desc_t *md) {
    size_t size = dnnl_memory_desc_get_size(md);
    void *p = NULL;
    if (state->allocations == 24) return NULL;
    if (posix_memalign(&p, 64, size ? size : 64) != 0) return NULL;
    state->buffers[state->allocations++] = p;
    return p;
}

static dnnl_status_t run_reorder(dnnl_engine_t engine, dnnl_stream_t stream, dnnl_memory_t from,
                                 const dnnl_memory_desc_t *from_md, dnnl_memory_t to, const dnnl_memory_desc_t *to_md) {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t reorder;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from_md, engine, to_md, engine, NULL);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(&reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) return s;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    s = dnnl_primitive_execute(reorder, stream, 2, args);
    dnnl_primitive_destroy(reorder);
    return s;
}

/// `data` (plain layout `plain_md`) as memory of layout `want`: the data itself when the layouts agree, else a
/// reordered copy when `copy_in` (an input), or an empty buffer to reorder back from afterwards (an output).
static dnnl_status_t as_layout(call_state *state, dnnl_engine_t engine, dnnl_stream_t stream,
                               const dnnl_memory_desc_t *plain_md, void *data, const dnnl_memory_desc_t *want,
                               int copy_in, dnnl_memory_t *plain_out, dnnl_memory_t *out) {
    dnnl_status_t s = wrap(state, engine, plain_md, data, plain_out);
    if (s != dnnl_success) return s;
    if (dnnl_memory_desc_equal(plain_md, want)) {
        *out = *plain_out;
        return dnnl_success;
    }
    void *p = buffer(state, want);
    if (!p) return dnnl_out_of_memory;
    s = wrap(state, engine, want, p, out);
    if (s != dnnl_success || !copy_in) return s;
    return run_reorder(engine, stream, *plain_out, plain_md, *out, want);
}

static dnnl_status_t scratchpad(call_state *state, dnnl_engine_t engine, const_dnnl_primitive_desc_t pd,
                                dnnl_memory_t *out) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    void *p = buffer(state, md);
    if (!p) return dnnl_out_of_memory;
    return wrap(state, engine, md, p, out);
}

/// One tensor a pass reads or writes: Reverie's plain layout and data, and which of the primitive's tensors it is.
typedef struct {
    const dnnl_memory_desc_t *plain;
    void *data;
    dnnl_query_t query;
    int index, arg;
} operand;

/// Runs `primitive` (of `pd`) on `inputs`, reordered into the layouts it chose, writing `output` (reordered back).
static dnnl_status_t run_pass(call_state *state, dnnl_engine_t engine, dnnl_stream_t stream,
                              const_dnnl_primitive_desc_t pd, const_dnnl_primitive_t primitive, const operand *inputs,
                              int count, operand output) {
    dnnl_exec_arg_t args[6];
    dnnl_memory_t plain_memory, out_plain, out_memory, pad;
    dnnl_status_t s;
    for (int i = 0; i < count; i++) {
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, inputs[i].query, inputs[i].index);
        s = as_layout(state, engine, stream, inputs[i].plain, inputs[i].data, want, 1, &plain_memory, &args[i].memory);
        if (s != dnnl_success) return s;
        args[i].arg = inputs[i].arg;
    }
    const dnnl_memory_desc_t *out_md = dnnl_primitive_desc_query_md(pd, output.query, output.index);
    s = as_layout(state, engine, stream, output.plain, output.data, out_md, 0, &out_plain, &out_memory);
    if (s != dnnl_success) return s;
    if ((s = scratchpad(state, engine, pd, &pad)) != dnnl_success) return s;
    args[count] = (dnnl_exec_arg_t){output.arg, out_memory};
    args[count + 1] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, pad};
    if ((s = dnnl_primitive_execute(primitive, stream, count + 2, args)) != dnnl_success) return s;
    if (out_memory != out_plain) s = run_reorder(engine, stream, out_memory, out_md, out_plain, output.plain);
    return s;
}

/// One primitive run of a call: its inputs and the output it writes.
typedef struct {
    const_dnnl_primitive_desc_t pd;
    const_dnnl_primitive_t primitive;
    operand inputs[3];
    int count;
    operand output;
    const char *what;
} pass;

/// Runs `passes` in order on one stream, then frees every buffer the call made. 0 on success.
static int run_call(const reverie_onednn_conv *conv, const pass *passes, int count, char *error, size_t error_size) {
    call_state state = {0};
    dnnl_stream_t stream = NULL;
    int result = 1;
    one_thread();
    CHECK(dnnl_stream_create(&stream, conv->engine, dnnl_stream_default_flags), "stream");
    for (int i = 0; i < count; i++) {
        const pass *p = &passes[i];
        CHECK(run_pass(&state, conv->engine, stream, p->pd, p->primitive, p->inputs, p->count, p->output), p->what);
    }
    CHECK(dnnl_stream_wait(stream), "stream wait");
    result = 0;
fail:
    if (stream) dnnl_stream_destroy(stream);
    release(&state);
    return result;
}

int reverie_onednn_conv_forward(const reverie_onednn_conv *conv, const float *x, const float *weight,
                                const float *bias, float *y, char *error, size_t error_size) {
    pass forward = {conv->fwd_pd, conv->fwd,
                    {{&conv->x, (void *)x, dnnl_query_src_md, 0, DNNL_ARG_SRC},
                     {&conv->w, (void *)weight, dnnl_query_weights_md, 0, DNNL_ARG_WEIGHTS},
                     {&conv->bias, (void *)bias, dnnl_query_weights_md, 1, DNNL_ARG_BIAS}},
                    bias ? 3 : 2, {&conv->y, y, dnnl_query_dst_md, 0, DNNL_ARG_DST}, "forward"};
    return run_call(conv, &forward, 1, error, error_size);
}

int reverie_onednn_conv_backward(const reverie_onednn_conv *conv, const float *x, const float *weight,
                                 const float *dy, float *dx, float *dw, char *error, size_t error_size) {
    operand grad_out = {&conv->y, (void *)dy, dnnl_query_diff_dst_md, 0, DNNL_ARG_DIFF_DST};
    pass passes[2];
    int count = 0;
    if (dx)
        passes[count++] = (pass){conv->bwd_data_pd, conv->bwd_data,
                                 {grad_out, {&conv->w, (void *)weight, dnnl_query_weights_md, 0, DNNL_ARG_WEIGHTS}},
                                 2, {&conv->x, dx, dnnl_query_diff_src_md, 0, DNNL_ARG_DIFF_SRC}, "backward data"};
    if (dw)
        passes[count++] = (pass){conv->bwd_weights_pd, conv->bwd_weights,
                                 {{&conv->x, (void *)x, dnnl_query_src_md, 0, DNNL_ARG_SRC}, grad_out},
                                 2, {&conv->w, dw, dnnl_query_diff_weights_md, 0, DNNL_ARG_DIFF_WEIGHTS},
                                 "backward weights"};
    return run_call(conv, passes, count, error, error_size);
}
