// Includes Debian's header-only stb image decoder and encoder (libstb-dev) with gstrain's
// settings, for image_codec.cpp (declarations) and stb_impl.cpp (which defines
// STB_IMAGE_IMPLEMENTATION / STB_IMAGE_WRITE_IMPLEMENTATION first). stb's own code is not
// warning-clean under -Wall -Wextra, so its warnings are silenced here, and only here.
#pragma once

#pragma GCC diagnostic push
// GCC 12 at -O0..-O3 flags only missing-field-initializers in stb v2.27 / v1.16; the others are
// what other compiler versions have been seen to flag.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"

// Nothing here reads or writes files: callers pass bytes, so errors can name the file.
#define STBI_NO_STDIO
#define STBI_WRITE_NO_STDIO
#include <stb_image.h>
#include <stb_image_write.h>

#pragma GCC diagnostic pop
