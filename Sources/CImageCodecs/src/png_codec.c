// PNG decode/encode through libpng, with errors returned instead of longjmp-ed into Swift.
#include "reverie_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jump;
    char *message;
} png_error_state;

static void on_png_error(png_structp png, png_const_charp text) {
    png_error_state *state = (png_error_state *)png_get_error_ptr(png);
    snprintf(state->message, REVERIE_CODEC_MESSAGE_SIZE, "%s", text);
    longjmp(state->jump, 1);
}

static void on_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // warnings (unknown chunks, bad CRC in ancillary chunks) do not stop decoding, as in Pillow
}

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
} png_memory_reader;

static void read_from_memory(png_structp png, png_bytep target, png_size_t length) {
    png_memory_reader *reader = (png_memory_reader *)png_get_io_ptr(png);
    if (reader->position + length > reader->size) {
        png_error(png, "file is truncated");
    }
    memcpy(target, reader->data + reader->position, length);
    reader->position += length;
}

int reverie_png_decode(const unsigned char *data, size_t size, size_t max_pixels, reverie_decoded_image *out,
                       char *message) {
    memset(out, 0, sizeof(*out));
    message[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "missing PNG signature");
        return 1;
    }
    png_error_state state;
    state.message = message;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
    if (!png) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "cannot create libpng reader");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    png_memory_reader reader = {data, size, 0};
    // volatile: modified between setjmp and a possible longjmp
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(state.jump)) {
        if (!message[0]) snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "cannot create libpng info");
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, read_from_memory);
    // Limits that keep a corrupt header from asking for gigabytes.
    png_set_user_limits(png, 1 << 15, 1 << 15);
    png_read_info(png, info);
    // A decompression bomb declares a huge canvas in a few bytes: refuse it before reserving any memory.
    if ((size_t)png_get_image_width(png, info) * (size_t)png_get_image_height(png, info) > max_pixels) {
        out->width = (int)png_get_image_width(png, info);
        out->height = (int)png_get_image_height(png, info);
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }

    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) {
        unsigned short probe = 1;
        if (*(unsigned char *)&probe == 1) png_set_swap(png);  // PNG is big-endian; hand back native order
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int width = (int)png_get_image_width(png, info);
    int height = (int)png_get_image_height(png, info);
    int channels = png_get_channels(png, info);
    int depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (depth != 8 && depth != 16) ||
        row_bytes != (size_t)width * (size_t)channels * (size_t)(depth / 8)) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "unsupported PNG layout (%d channels, %d bits)", channels, depth);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    pixels = malloc(row_bytes * (size_t)height);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!pixels || !rows) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "out of memory for %dx%d image", width, height);
        longjmp(state.jump, 1);
    }
    for (int y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);

    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = depth;
    out->pixels = pixels;
    return 0;
}

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
} png_memory_writer;

static void write_to_memory(png_structp png, png_bytep source, png_size_t length) {
    png_memory_writer *writer = (png_memory_writer *)png_get_io_ptr(png);
    if (writer->size + length > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 65536;
        while (capacity < writer->size + length) capacity *= 2;
        unsigned char *grown = realloc(writer->data, capacity);
        if (!grown) png_error(png, "out of memory while encoding");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, source, length);
    writer->size += length;
}

static void flush_memory(png_structp png) { (void)png; }

int reverie_png_encode(const unsigned char *pixels, int width, int height, int channels, int bit_depth,
                       unsigned char **out_data, size_t *out_size, char *message) {
    *out_data = NULL;
    *out_size = 0;
    message[0] = 0;
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "cannot encode %dx%d image with %d channels at %d bits", width,
                 height, channels, bit_depth);
        return 1;
    }
    png_error_state state;
    state.message = message;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
    if (!png) {
        snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "cannot create libpng writer");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    png_memory_writer writer = {NULL, 0, 0};
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(state.jump)) {
        if (!message[0]) snprintf(message, REVERIE_CODEC_MESSAGE_SIZE, "cannot create libpng info");
        free(writer.data);
        free(rows);
        png_destroy_write_struct(&png, info ? &info : NULL);
        return 1;
    }
    png_set_write_fn(png, &writer, write_to_memory, flush_memory);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) {
        unsigned short probe = 1;
        if (*(unsigned char *)&probe == 1) png_set_swap(png);
    }
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory while encoding");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out_data = writer.data;
    *out_size = writer.size;
    return 0;
}

void reverie_codec_free(void *pointer) { free(pointer); }
