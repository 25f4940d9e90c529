#ifndef REVERIE_CODECS_H
#define REVERIE_CODECS_H

// PNG and JPEG codecs behind a longjmp-free interface. libpng and libjpeg report errors by longjmp-ing out of the
// failing call; Swift cannot catch that, so every call into those libraries happens here, inside a function that
// owns the jump buffer, and failures come back as a non-zero return code with a message.

#include <stddef.h>

#define REVERIE_CODEC_MESSAGE_SIZE 256

/// A decoded image: `height` rows of `width` pixels of `channels` interleaved samples (1 gray, 2 gray+alpha, 3 RGB,
/// 4 RGBA). Samples are bytes when `bit_depth` is 8, native-endian `uint16_t` when it is 16. `pixels` is
/// allocated with malloc and released with `reverie_codec_free`.
typedef struct {
    int width;
    int height;
    int channels;
    int bit_depth;
    unsigned char *pixels;
} reverie_decoded_image;

/// Decodes a PNG held in memory. Palette images become RGB (RGBA with a tRNS chunk), tRNS on gray/RGB becomes an
/// alpha channel, 1/2/4-bit gray is scaled to 8 bits, 16-bit samples are kept. Interlaced files are supported.
/// Returns 0 on success; 2, before anything is decoded, when the header declares more than `max_pixels` pixels (with
/// `out->width` and `out->height` set to what it declares); otherwise writes a message into `message` and returns 1.
int reverie_png_decode(const unsigned char *data, size_t size, size_t max_pixels, reverie_decoded_image *out,
                       char *message);

/// Decodes a baseline or progressive JPEG held in memory with libjpeg's defaults (islow IDCT, fancy upsampling),
/// the settings Pillow uses. Gray stays gray, YCbCr becomes RGB, CMYK/YCCK becomes RGB with Pillow's formula.
/// Returns as `reverie_png_decode` does.
int reverie_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels, reverie_decoded_image *out,
                        char *message);

/// Encodes interleaved samples (8-bit bytes or native-endian 16-bit) as a PNG in memory. `*out_data` is allocated
/// with malloc and released with `reverie_codec_free`.
int reverie_png_encode(const unsigned char *pixels, int width, int height, int channels, int bit_depth,
                       unsigned char **out_data, size_t *out_size, char *message);

void reverie_codec_free(void *pointer);

#endif
