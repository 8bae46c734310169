#ifndef RUNTIME_SPAN_H
#define RUNTIME_SPAN_H

#include <stdint.h>

/* A run of bytes inside a buffer the caller owns: data[off .. off + len). */
struct span {
    uint32_t off, len;
};

#endif
