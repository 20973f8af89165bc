#ifndef HELLOTUNE_KERNELS_H
#define HELLOTUNE_KERNELS_H
// SIMD micro-kernels of the engine: integer dot products between quantised weight rows and
// activations quantised to 8 bits. Everything else (the model, the forward pass, training) is Swift.
// Each kernel has a scalar, an AVX2 and an AVX-512 VNNI version; the best one the CPU supports
// is picked once at load time (ht_kernel_name() says which).
#include <stddef.h>
#include <stdint.h>

/// A column of n activations quantised to int8 in blocks of 32 (x[i] ~= d_b * q[i]), stored as
/// struct-of-arrays so that SIMD loads cover two blocks at once:
///   int8_t q[n]; float d8[n / 32][8] (each block's scale repeated 8 times, one per int32 lane);
///   float s[n / 32] (d_b * sum of the block's q, for the formats with an offset).
/// ht_q8_column_bytes(n) is the size of one column; columns are laid out back to back.
size_t ht_q8_column_bytes(int n);

/// Weight formats with an integer kernel (numbers as in GGMLType; Q4_K and Q6_K in kquant.h).
enum {
    HT_TYPE_Q4_0 = 2,
    HT_TYPE_Q4_1 = 3,
    HT_TYPE_Q8_0 = 8,
};

/// "avx512vnni", "avx2" or "scalar".
const char *ht_kernel_name(void);

/// Whether `type` (a GGMLType raw value) has an integer kernel.
int ht_has_int8_kernel(uint32_t type);

/// Quantises n floats (n a multiple of 32) into one column at y.
void ht_quantize_q8(void *y, const float *x, int n);

/// out[j * out_stride + r] = dot(W row r, x_j) for rows r in [r0, r1) and columns j in [0, nx).
/// W holds rows of `n` elements of `type`, `row_bytes` apart; x holds nx quantised columns.
void ht_matmul_q8(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                  int r0, int r1, const void *x, int nx);

/// Float helpers used by attention.
float ht_dot_f32(const float *a, const float *b, int n);
/// y += a * x
void ht_axpy_f32(float *y, float a, const float *x, int n);
/// One attention head over n cached positions (rows `stride` floats apart), with the arithmetic of ht_dot_f32 and
/// ht_axpy_f32 position by position, so that the numbers are theirs, without a call per position:
/// p[t] = (q . keys[t]) * scale, and o = sum over t of p[t] * values[t] (o of d floats, overwritten).
void ht_attention_scores(float *p, const float *q, const float *keys, size_t stride, int n, int d, float scale);
void ht_attention_values(float *o, const float *p, const float *values, size_t stride, int n, int d);

/// Fast dequantisation of a Q4_0/Q4_1/Q8_0/Q4_K/Q6_K row (n elements) for the BLAS path; returns 0 when `type`
/// has no fast path (the caller then uses the general Swift dequantiser).
int ht_dequantize_row_fast(uint32_t type, const void *src, float *dst, int n);

/// In place over row[0..<span]: softmax of the first `visible` entries, zeros after them (the
/// causal mask).
void ht_softmax(float *row, int visible, int span);

/// -log softmax(row)[target], the exponentials summed in double. With `gradient`, row becomes d loss / d logits
/// times `scale` (softmax * scale, minus scale at target); otherwise its contents are left undefined. Vectorised:
/// a training step calls it once per labelled token over the whole vocabulary, and glibc's expf is slowest where a
/// confident model puts most of it, far below the best logit (the late epochs ran 10-15% slower).
double ht_cross_entropy(float *row, int n, int target, float scale, int gradient);

#endif
