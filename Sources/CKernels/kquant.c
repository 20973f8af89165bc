// Row kernels and dequantisation of Q4_K and Q6_K (formats in kquant.h), against 8-bit activation
// columns (kernels.h). Written from the format as Dequantize.swift defines it.
#include "kquant.h"
#include "kernels.h"

#include "kernel_common.h"

int ht_is_kquant(uint32_t type) { return type == HT_TYPE_Q4_K || type == HT_TYPE_Q6_K; }

// The 6-bit scales and mins of a Q4_K block's 8 sub-blocks, from their 12 packed bytes.
static inline void q4k_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        m[j] = q[j + 4] & 63;
        sc[j + 4] = (q[j + 8] & 0x0F) | ((q[j] >> 6) << 4);
        m[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
    }
}

// The 6-bit value of weight l (0..31) of activation block k (0..3) in half h of a Q6_K block.
static inline int q6k_value(const uint8_t *blk, int h, int k, int l) {
    uint8_t lowsrc = blk[64 * h + (k & 1) * 32 + l];
    int low = k < 2 ? (lowsrc & 15) : (lowsrc >> 4);
    int high = (blk[128 + 32 * h + l] >> (2 * k)) & 3;
    return low | (high << 4);
}

// ---------------------------------------------------------------------------------------------
// Scalar (any CPU; the reference)

static float q4k_dot_scalar(const uint8_t *w, q8_col x, int nsb) {
    float acc = 0;
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)i * 144, *qs = blk + 16;
        float d = half_to_float(load_u16(blk)), dmin = half_to_float(load_u16(blk + 2));
        uint8_t sc[8], m[8];
        q4k_scales(blk + 4, sc, m);
        for (int j = 0; j < 8; j++) {
            int b = i * 8 + j, shift = (j & 1) * 4, isum = 0;
            const uint8_t *q = qs + 32 * (j / 2);
            const int8_t *xq = x.q + b * 32;
            for (int l = 0; l < 32; l++) isum += ((q[l] >> shift) & 15) * xq[l];
            acc += d * (float)sc[j] * x.d8[b * 8] * (float)isum - dmin * (float)m[j] * x.s[b];
        }
    }
    return acc;
}

static float q6k_dot_scalar(const uint8_t *w, q8_col x, int nsb) {
    float acc = 0;
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)i * 210;
        const int8_t *sc = (const int8_t *)(blk + 192);
        float d = half_to_float(load_u16(blk + 208));
        for (int h = 0; h < 2; h++) {
            for (int k = 0; k < 4; k++) {
                int b = i * 8 + 4 * h + k, half[2] = {0, 0};
                const int8_t *xq = x.q + b * 32;
                for (int l = 0; l < 32; l++) half[l / 16] += (q6k_value(blk, h, k, l) - 32) * xq[l];
                int isum = sc[8 * h + 2 * k] * half[0] + sc[8 * h + 2 * k + 1] * half[1];
                acc += d * x.d8[b * 8] * (float)isum;
            }
        }
    }
    return acc;
}

void ht_matmul_kquant_scalar(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes,
                             int n, int r0, int r1, const void *x, int nx) {
    int nsb = n / 256;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int j = 0; j < nx; j++) {
            q8_col c = q8_column(x, n, j);
            out[(size_t)j * out_stride + r] = type == HT_TYPE_Q4_K ? q4k_dot_scalar(row, c, nsb) : q6k_dot_scalar(row, c, nsb);
        }
    }
}

void ht_dequantize_kquant(uint32_t type, const void *src, float *dst, int n) {
    const uint8_t *w = (const uint8_t *)src;
    for (int i = 0; i < n / 256; i++, dst += 256) {
        if (type == HT_TYPE_Q4_K) {
            const uint8_t *blk = w + (size_t)i * 144, *qs = blk + 16;
            float d = half_to_float(load_u16(blk)), dmin = half_to_float(load_u16(blk + 2));
            uint8_t sc[8], m[8];
            q4k_scales(blk + 4, sc, m);
            for (int j = 0; j < 8; j++) {
                float dj = d * (float)sc[j], mj = dmin * (float)m[j];
                const uint8_t *q = qs + 32 * (j / 2);
                int shift = (j & 1) * 4;
                for (int l = 0; l < 32; l++) dst[32 * j + l] = dj * (float)((q[l] >> shift) & 15) - mj;
            }
        } else {
            const uint8_t *blk = w + (size_t)i * 210;
            const int8_t *sc = (const int8_t *)(blk + 192);
            float d = half_to_float(load_u16(blk + 208));
            for (int h = 0; h < 2; h++) {
                for (int k = 0; k < 4; k++) {
                    for (int l = 0; l < 32; l++) {
                        dst[128 * h + 32 * k + l] = d * (float)sc[8 * h + 2 * k + l / 16] * (float)(q6k_value(blk, h, k, l) - 32);
                    }
                }
            }
        }
    }
}

#ifdef HT_X86
// ---------------------------------------------------------------------------------------------
// AVX2: one activation block (32 weights) per step, unsigned weight bytes times signed activation
// bytes through maddubs + madd.

HT_AVX2 static float q4k_dot_avx2(const uint8_t *w, q8_col x, int nsb) {
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(15);
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)i * 144, *qs = blk + 16;
        float d = half_to_float(load_u16(blk)), dmin = half_to_float(load_u16(blk + 2));
        uint8_t sc[8], m[8];
        q4k_scales(blk + 4, sc, m);
        // the mins of all 8 sub-blocks against the 8 blocks' activation sums at once
        __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)m)));
        off = _mm256_fnmadd_ps(_mm256_mul_ps(mins, _mm256_set1_ps(dmin)), _mm256_loadu_ps(x.s + i * 8), off);
        for (int p = 0; p < 4; p++) {
            int b = i * 8 + 2 * p;
            __m256i raw = _mm256_loadu_si256((const __m256i *)(qs + 32 * p));
            __m256i lo = _mm256_and_si256(raw, low), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
            __m256i p0 = idot_avx2(lo, _mm256_loadu_si256((const __m256i *)(x.q + b * 32)));
            __m256i p1 = idot_avx2(hi, _mm256_loadu_si256((const __m256i *)(x.q + b * 32 + 32)));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d * (float)sc[2 * p] * x.d8[b * 8]), acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(d * (float)sc[2 * p + 1] * x.d8[b * 8 + 8]), acc);
        }
    }
    return hsum256(_mm256_add_ps(acc, off));
}

HT_AVX2 static float q6k_dot_avx2(const uint8_t *w, q8_col x, int nsb) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(15), three = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)i * 210;
        const int8_t *sc = (const int8_t *)(blk + 192);
        float d = half_to_float(load_u16(blk + 208));
        for (int h = 0; h < 2; h++) {
            __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32));
            for (int k = 0; k < 4; k++) {
                int b = i * 8 + 4 * h + k;
                __m256i ql = (k & 1) ? ql1 : ql0;
                __m256i lo = k < 2 ? _mm256_and_si256(ql, low) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three);
                __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
                __m256i xv = _mm256_loadu_si256((const __m256i *)(x.q + b * 32));
                // (u - 32) . x, exact in int32: lanes 0-3 hold weights 0-15 (one scale), 4-7 weights 16-31
                __m256i p = _mm256_sub_epi32(idot_avx2(u, xv), idot_avx2(bias, xv));
                float dx = d * x.d8[b * 8];
                __m256 scale = _mm256_set_m128(_mm_set1_ps(dx * (float)sc[8 * h + 2 * k + 1]),
                                               _mm_set1_ps(dx * (float)sc[8 * h + 2 * k]));
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), scale, acc);
            }
        }
    }
    return hsum256(acc);
}

HT_AVX2 static void matmul_avx2(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                                int r0, int r1, const void *x, int nx) {
    int nsb = n / 256;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int j = 0; j < nx; j++) {
            q8_col c = q8_column(x, n, j);
            out[(size_t)j * out_stride + r] = type == HT_TYPE_Q4_K ? q4k_dot_avx2(row, c, nsb) : q6k_dot_avx2(row, c, nsb);
        }
    }
}
#endif

void ht_matmul_kquant(int avx2, uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes,
                      int n, int r0, int r1, const void *x, int nx) {
#ifdef HT_X86
    if (avx2) { matmul_avx2(type, out, out_stride, w, row_bytes, n, r0, r1, x, nx); return; }
#endif
    (void)avx2;
    ht_matmul_kquant_scalar(type, out, out_stride, w, row_bytes, n, r0, r1, x, nx);
}
