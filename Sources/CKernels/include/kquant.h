#ifndef HELLOTUNE_KQUANT_H
#define HELLOTUNE_KQUANT_H
// The super-block formats Q4_K and Q6_K against activations quantised to 8 bits in blocks of 32
// (the column layout of kernels.h). A Q4_K sub-block (32 weights, one 6-bit scale and min) lines
// up with one activation block; a Q6_K sub-block (16 weights, one signed 8-bit scale) is half of one.
// kernels.h and panels.h dispatch here by type; these are the implementations.
//
// Q4_K, 144 bytes per 256 weights: f16 d, f16 dmin, 12 bytes of packed 6-bit scales sc[8] and
//   mins m[8], 128 bytes of nibbles; weight = d * sc[j] * q - dmin * m[j] for sub-block j; each 64
//   weights take 32 bytes: low nibbles are the first 32, high nibbles the next 32.
// Q6_K, 210 bytes per 256 weights: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 sc[16], f16 d;
//   weight = d * sc[k] * (q - 32), q in 0..63, sub-block k of 16 weights (Dequantize.swift details
//   which bits go where).
#include <stddef.h>
#include <stdint.h>

enum {
    HT_TYPE_Q4_K = 12,
    HT_TYPE_Q6_K = 14,
};

/// Whether `type` is one of the super-block formats handled here.
int ht_is_kquant(uint32_t type);

/// Row kernels, as ht_matmul_q8 (kernels.h): `avx2` picks the AVX2 version, otherwise the scalar one.
/// n is a multiple of 256.
void ht_matmul_kquant(int avx2, uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes,
                      int n, int r0, int r1, const void *x, int nx);

/// The scalar row kernel alone (the reference the SIMD kernels are tested against).
void ht_matmul_kquant_scalar(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes,
                             int n, int r0, int r1, const void *x, int nx);

/// One row of n weights as floats (the sgemm path).
void ht_dequantize_kquant(uint32_t type, const void *src, float *dst, int n);

/// The activations the panels read (ht_matmul_kpanels), per column of n values (n a multiple of 256): int8
/// q[n]; f32 d[n / 256], one per 256 values; int32 k[n / 32], a factor 1..HT_Q8K_KMAX per 32 values (x[i] ~=
/// d[i / 256] * k[i / 32] * q[i], k the smallest with |x| <= 127 k d over the 32, d = max|x| / (127 KMAX) over
/// the 256); int32 32 * (sum of q over each 16 values) [n / 16]; int16 k * (sum of q over each 32) [n / 32].
/// ht_q8k_column_bytes(n) is the size of one column; columns are laid out back to back.
#define HT_Q8K_KMAX 8
size_t ht_q8k_column_bytes(int n);
void ht_quantize_q8k(void *y, const float *x, int n);

/// Panels (as in panels.h, AVX-512 VNNI only), against q8k columns. Layout per panel of 16 rows and per
/// super-block of 256 columns, sub-blocks of 32 columns j = 0..7 first, each with its weight vectors as in
/// panels.h (vector v: for each row, bytes holding columns 4v..4v+3 in the low nibbles and 16+4v..16+4v+3
/// in the high nibbles):
///   Q4_K: per j 4 x 64 bytes of nibbles; then uint8 sc[8][16], uint8 m[4][16][2] (the mins of sub-blocks
///         2k and 2k + 1 side by side per row), f16 d[16], f16 dmin[16] (2368 bytes);
///   Q6_K: per j 4 x 64 bytes of the low nibbles and 2 x 64 bytes of the top two bits (vector h of the
///         pair holds, at bits 2v..2v+1 of each byte, the top bits of weight vector 4h + v); then
///         int8 sc[16][16], f16 d[16] (3360 bytes).
size_t ht_kpanel_bytes(uint32_t type, int rows, int n);
void ht_repack_kpanels(uint32_t type, void *dst, const void *w, size_t row_bytes, int rows, int n);
/// Row r (n floats) of a matrix from its panels: exactly ht_dequantize_kquant of the row it was made from.
void ht_dequantize_kpanel_row(uint32_t type, const void *panels, int n, int r, float *dst);
void ht_matmul_kpanels(uint32_t type, float *out, size_t out_stride, const void *panels, int n, int r0, int r1,
                       const void *x, int nx);

#endif
