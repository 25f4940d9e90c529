// JPEG decode through libjpeg(-turbo), with errors returned instead of longjmp-ed into Swift.
#include "reverie_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;  // first, so the library's pointer is also ours
    jmp_buf jump;
    char *message;
} jpeg_error_state;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(state->message, REVERIE_CODEC_MESSAGE_SIZE, "%s", text);
    longjmp(state->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    // A premature end of data is an error (Pillow raises "image file is truncated" too, rather than return the
    // gray fill libjpeg would substitute). Other warnings, such as extraneous bytes before a marker, are tolerated
    // as Pillow tolerates them; a file too damaged to decode still fails through error_exit.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
        snprintf(state->message, REVERIE_CODEC_MESSAGE_SIZE, "file is truncated (premature end of JPEG data)");
        longjmp(state->jump, 1);
    }
}

static unsigned char muldiv255(int a, int b) {
    int t = a * b + 128;
    return (unsigned char)(((t >> 8) + t) >> 8);
}

int reverie_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels, reverie_decoded_image *out,
                        char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "missing JPEG signature");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_error_state state;
    state.message = message;
    cinfo.err = jpeg_std_error(&state.base);
    state.base.error_exit = on_jpeg_error;
    state.base.emit_message = on_jpeg_message;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile row = NULL;
    if (setjmp(state.jump)) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((size_t)cinfo.image_width * (size_t)cinfo.image_height > max_pixels) {
        out->width = (int)cinfo.image_width;
        out->height = (int)cinfo.image_height;
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    if (cinfo.image_width > (1 << 15) || cinfo.image_height > (1 << 15)) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "image too large (%ux%u)", cinfo.image_width,
                 cinfo.image_height);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        cinfo.out_color_space = JCS_RGB;
        break;
    }
    // libjpeg's defaults (JDCT_ISLOW, fancy upsampling) are what Pillow decodes with; leave them alone.
    jpeg_start_decompress(&cinfo);
    int width = (int)cinfo.output_width;
    int height = (int)cinfo.output_height;
    int components = cinfo.output_components;
    int channels = cmyk ? 3 : components;
    size_t row_bytes = (size_t)width * (size_t)components;
    pixels = malloc((size_t)width * (size_t)height * (size_t)channels);
    row = malloc(row_bytes);
    if (!pixels || !row) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "out of memory for %dx%d image", width, height);
        longjmp(state.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int)cinfo.output_scanline;
        JSAMPROW target = cmyk ? row : pixels + (size_t)y * row_bytes;
        jpeg_read_scanlines(&cinfo, &target, 1);
        if (cmyk) {
            // Adobe applications write inverted CMYK (Pillow's "CMYK;I"); then CMYK to RGB as Pillow converts it.
            unsigned char *dst = pixels + (size_t)y * (size_t)width * 3;
            for (int x = 0; x < width; x++) {
                int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (cinfo.saw_Adobe_marker) {
                    c = 255 - c;
                    m = 255 - m;
                    yy = 255 - yy;
                    k = 255 - k;
                }
                int nk = 255 - k;
                dst[3 * x] = (unsigned char)(nk - muldiv255(c, nk));
                dst[3 * x + 1] = (unsigned char)(nk - muldiv255(m, nk));
                dst[3 * x + 2] = (unsigned char)(nk - muldiv255(yy, nk));
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = pixels;
    return 0;
}
