// The one translation unit that compiles the stb image decoder and encoder (image_codec.cpp is
// their only user).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "datasets/stb_include.h"
