#ifndef HELLOTUNE_KERNELS_H
#define HELLOTUNE_KERNELS_H
// SIMD micro-kernels of the engine: integer dot products between quantised weight rows and
// activations quantised to 8 bits. Everything else (the model, the forward pass, training) is Swift.
// Each kernel has a scalar, an AVX2 and an AVX-512 VNNI version; the best one the CPU supports
// is picked once at load time (ht_kernel_name() says which).
#include <stddef.h>
#include <stdint.h>

/// 32 activations quantised to int8 with one scale: x[i] ~= d * qs[i]; s = d * sum(qs).
typedef struct {
    float d;
    float s;
    int8_t qs[32];
} ht_block_q8;

/// Weight formats with an integer kernel (numbers as in GGMLType).
enum {
    HT_TYPE_Q4_0 = 2,
    HT_TYPE_Q4_1 = 3,
    HT_TYPE_Q8_0 = 8,
};

/// "avx512vnni", "avx2" or "scalar".
const char *ht_kernel_name(void);

/// Whether `type` (a GGMLType raw value) has an integer kernel.
int ht_has_int8_kernel(uint32_t type);

/// Quantises n floats (n a multiple of 32) into n/32 blocks.
void ht_quantize_q8(ht_block_q8 *y, const float *x, int n);

/// out[j * out_stride + r] = dot(W row r, x_j) for rows r in [r0, r1) and columns j in [0, nx).
/// W holds rows of `n` elements of `type`, `row_bytes` apart; x_j = x + j * (n / 32).
void ht_matmul_q8(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                  int r0, int r1, const ht_block_q8 *x, int nx);

/// Float helpers used by attention.
float ht_dot_f32(const float *a, const float *b, int n);
/// y += a * x
void ht_axpy_f32(float *y, float a, const float *x, int n);

/// Fast dequantisation of a Q4_0/Q4_1/Q8_0 row (n elements) for the BLAS path; returns 0 when `type`
/// has no fast path (the caller then uses the general Swift dequantiser).
int ht_dequantize_row_fast(uint32_t type, const void *src, float *dst, int n);

#endif
