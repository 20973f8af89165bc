#include "kernels.h"
#include "kquant.h"

#include "kernel_common.h"

#include <math.h>

// ---------------------------------------------------------------------------------------------
// Block layouts of the weight formats (ggml's, bit for bit).
// Q4_0: f16 d, 16 bytes of nibbles; x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
// Q4_1: f16 d, f16 m, 16 bytes of nibbles; x[j] = d * (qs[j] & 15) + m, x[j + 16] = d * (qs[j] >> 4) + m
// Q8_0: f16 d, 32 int8; x[j] = d * qs[j]


// ---------------------------------------------------------------------------------------------
// Activation columns (layout in kernels.h)

size_t ht_q8_column_bytes(int n) { return (size_t)n + (size_t)(n / 32) * 9 * sizeof(float); }

#ifdef HT_X86
static int g_avx512 = 0;
static void quantize_q8_512(void *y, const float *x, int n);
#endif

void ht_quantize_q8(void *y, const float *x, int n) {
#ifdef HT_X86
    if (g_avx512) { quantize_q8_512(y, x, n); return; }
#endif
    uint8_t *base = (uint8_t *)y;
    int8_t *q = (int8_t *)base;
    float *d8 = (float *)(base + n);
    float *s = d8 + (n / 32) * 8;
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; i++) { float a = fabsf(xb[i]); amax = a > amax ? a : amax; }
        float d = amax / 127.0f;
        float id = d > 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int v = (int)lrintf(xb[i] * id);
            q[b * 32 + i] = (int8_t)v;
            sum += v;
        }
        for (int i = 0; i < 8; i++) d8[b * 8 + i] = d;
        s[b] = d * (float)sum;
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar kernels (any CPU; also the reference the SIMD versions are tested against)

static float dot_scalar(uint32_t type, const uint8_t *w, q8_col x, int nb) {
    float acc = 0;
    for (int b = 0; b < nb; b++) {
        const int8_t *xq = x.q + b * 32;
        float xd = x.d8[b * 8];
        int isum = 0;
        switch (type) {
        case HT_TYPE_Q4_0: {
            const uint8_t *blk = w + b * 18;
            float d = half_to_float(load_u16(blk));
            for (int j = 0; j < 16; j++) isum += (blk[2 + j] & 15) * xq[j] + (blk[2 + j] >> 4) * xq[j + 16];
            acc += d * xd * (float)isum - 8.0f * d * x.s[b];
            break;
        }
        case HT_TYPE_Q4_1: {
            const uint8_t *blk = w + b * 20;
            float d = half_to_float(load_u16(blk)), m = half_to_float(load_u16(blk + 2));
            for (int j = 0; j < 16; j++) isum += (blk[4 + j] & 15) * xq[j] + (blk[4 + j] >> 4) * xq[j + 16];
            acc += d * xd * (float)isum + m * x.s[b];
            break;
        }
        case HT_TYPE_Q8_0: {
            const uint8_t *blk = w + b * 34;
            float d = half_to_float(load_u16(blk));
            const int8_t *qw = (const int8_t *)(blk + 2);
            for (int j = 0; j < 32; j++) isum += qw[j] * xq[j];
            acc += d * xd * (float)isum;
            break;
        }
        }
    }
    return acc;
}

static void matmul_scalar(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                          int r0, int r1, const void *x, int nx) {
    int nb = n / 32;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int j = 0; j < nx; j++) out[(size_t)j * out_stride + r] = dot_scalar(type, row, q8_column(x, n, j), nb);
    }
}

#ifdef HT_X86
// ---------------------------------------------------------------------------------------------
// AVX2: one block of 32 weights at a time, widened to unsigned bytes and multiplied with the
// signed activation bytes through maddubs + madd.

HT_AVX2 static inline __m256i q4_bytes_256(const uint8_t *qs) {
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(15));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15));
    return _mm256_set_m128i(hi, lo);  // element order: low nibbles are x[0..15], high x[16..31]
}

HT_AVX2 static float dot_avx2(uint32_t type, const uint8_t *w, q8_col x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    float extra = 0;
    for (int b = 0; b < nb; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x.q + b * 32));
        __m256i p;
        float d;
        if (type == HT_TYPE_Q4_1) {
            const uint8_t *blk = w + b * 20;
            d = _cvtsh_ss(load_u16(blk));
            extra += _cvtsh_ss(load_u16(blk + 2)) * x.s[b];
            p = idot_avx2(q4_bytes_256(blk + 4), xv);
        } else if (type == HT_TYPE_Q4_0) {
            const uint8_t *blk = w + b * 18;
            d = _cvtsh_ss(load_u16(blk));
            extra -= 8.0f * d * x.s[b];
            p = idot_avx2(q4_bytes_256(blk + 2), xv);
        } else {
            const uint8_t *blk = w + b * 34;
            d = _cvtsh_ss(load_u16(blk));
            __m256i qw = _mm256_loadu_si256((const __m256i *)(blk + 2));
            // signed x signed: move the weight's sign onto the activation
            p = idot_avx2(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(xv, qw));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * x.d8[b * 8]), acc);
    }
    return hsum256(acc) + extra;
}

HT_AVX2 static void matmul_avx2(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                                int r0, int r1, const void *x, int nx) {
    int nb = n / 32;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int j = 0; j < nx; j++) out[(size_t)j * out_stride + r] = dot_avx2(type, row, q8_column(x, n, j), nb);
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512 VNNI: two blocks per 512-bit register, and up to four activation columns per pass over
// a weight row, so each weight block is unpacked once for four dot products (batched decoding).

// Two blocks' weights as 64 unsigned bytes (Q4) in element order, and their scales per int32 lane.
HT_VNNI static inline __m512i q4_pair_bytes(const uint8_t *qs0, const uint8_t *qs1) {
    __m256i both = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)qs1), _mm_loadu_si128((const __m128i *)qs0));
    // lanes (128-bit): qs0 qs0 qs1 qs1; lanes 0 and 2 keep the low nibbles, 1 and 3 the high ones
    __m512i dup = _mm512_permutexvar_epi64(_mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0), _mm512_castsi256_si512(both));
    __m512i shifts = _mm512_set_epi64(0x0004000400040004LL, 0x0004000400040004LL, 0, 0,
                                      0x0004000400040004LL, 0x0004000400040004LL, 0, 0);
    return _mm512_and_si512(_mm512_srlv_epi16(dup, shifts), _mm512_set1_epi8(15));
}

HT_VNNI static inline __m512 pair_scale(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

HT_VNNI static inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

#define NC_MAX 4
// The integer part of a row's dot products with up to NC_MAX columns: sum over blocks of
// d_w * d_x * (q_w . q_x). The formats' offsets (Q4_1's m, Q4_0's -8) are added by the caller,
// for all columns at once.
HT_VNNI __attribute__((always_inline)) static inline void row_vnni(uint32_t type, const uint8_t *w, const q8_col *xs,
                                                                   int nc, int nb, float *res) {
    __m512 acc[NC_MAX];
    for (int c = 0; c < NC_MAX; c++) acc[c] = _mm512_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i wv;
        __m512 dw;
        if (type == HT_TYPE_Q4_1) {
            const uint8_t *b0 = w + b * 20, *b1 = b0 + 20;
            wv = q4_pair_bytes(b0 + 4, b1 + 4);
            dw = pair_scale(_cvtsh_ss(load_u16(b0)), _cvtsh_ss(load_u16(b1)));
        } else if (type == HT_TYPE_Q4_0) {
            const uint8_t *b0 = w + b * 18, *b1 = b0 + 18;
            wv = q4_pair_bytes(b0 + 2, b1 + 2);
            dw = pair_scale(_cvtsh_ss(load_u16(b0)), _cvtsh_ss(load_u16(b1)));
        } else {
            const uint8_t *b0 = w + b * 34, *b1 = b0 + 34;
            wv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b0 + 2))),
                                    _mm256_loadu_si256((const __m256i *)(b1 + 2)), 1);
            dw = pair_scale(_cvtsh_ss(load_u16(b0)), _cvtsh_ss(load_u16(b1)));
        }
        if (type == HT_TYPE_Q8_0) {
            // signed x signed: |w| times x with w's sign
            __mmask64 neg = _mm512_movepi8_mask(wv);
            __m512i aw = _mm512_abs_epi8(wv);
            for (int c = 0; c < nc; c++) {
                __m512i xv = _mm512_loadu_si512((const void *)(xs[c].q + b * 32));
                xv = _mm512_mask_sub_epi8(xv, neg, _mm512_setzero_si512(), xv);
                __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, xv);
                __m512 sc = _mm512_mul_ps(dw, _mm512_loadu_ps(xs[c].d8 + b * 8));
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[c]);
            }
        } else {
            for (int c = 0; c < nc; c++) {
                __m512i xv = _mm512_loadu_si512((const void *)(xs[c].q + b * 32));
                __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, xv);
                __m512 sc = _mm512_mul_ps(dw, _mm512_loadu_ps(xs[c].d8 + b * 8));
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[c]);
            }
        }
    }
    for (int c = 0; c < nc; c++) {
        res[c] = hsum512(acc[c]);
        if (b < nb) {  // odd block count: the last block's integer part by hand
            const uint8_t *blk = w + (size_t)b * (type == HT_TYPE_Q4_1 ? 20 : type == HT_TYPE_Q4_0 ? 18 : 34);
            const int8_t *xq = xs[c].q + b * 32;
            int isum = 0;
            if (type == HT_TYPE_Q8_0) {
                for (int j = 0; j < 32; j++) isum += ((const int8_t *)(blk + 2))[j] * xq[j];
            } else {
                const uint8_t *qs = blk + (type == HT_TYPE_Q4_1 ? 4 : 2);
                for (int j = 0; j < 16; j++) isum += (qs[j] & 15) * xq[j] + (qs[j] >> 4) * xq[j + 16];
            }
            res[c] += _cvtsh_ss(load_u16(blk)) * xs[c].d8[b * 8] * (float)isum;
        }
    }
}

// The offset part of every column's dot product with one row: Q4_1 adds m_b * s_b per block,
// Q4_0 adds -8 d_b * s_b (s_b = d_x * sum of the block's q_x). One pass over the row's blocks
// serves all columns; sT is (nb, nx), the columns' s transposed.
HT_VNNI __attribute__((always_inline)) static inline void row_offsets(uint32_t type, const uint8_t *w, const float *sT,
                                                                      int nb, int nx, float *extra) {
    if (type == HT_TYPE_Q8_0) {
        for (int j = 0; j < nx; j++) extra[j] = 0;
        return;
    }
    if (nx == 1) {  // decoding: one column, two independent sums
        float e0 = 0, e1 = 0;
        int b = 0;
        if (type == HT_TYPE_Q4_1) {
            for (; b + 2 <= nb; b += 2) {
                e0 += _cvtsh_ss(load_u16(w + b * 20 + 2)) * sT[b];
                e1 += _cvtsh_ss(load_u16(w + b * 20 + 22)) * sT[b + 1];
            }
            if (b < nb) e0 += _cvtsh_ss(load_u16(w + b * 20 + 2)) * sT[b];
        } else {
            for (; b + 2 <= nb; b += 2) {
                e0 += _cvtsh_ss(load_u16(w + b * 18)) * sT[b];
                e1 += _cvtsh_ss(load_u16(w + b * 18 + 18)) * sT[b + 1];
            }
            if (b < nb) e0 += _cvtsh_ss(load_u16(w + b * 18)) * sT[b];
            e0 *= -8.0f;
            e1 *= -8.0f;
        }
        extra[0] = e0 + e1;
        return;
    }
    float coef[nb];
    for (int b = 0; b < nb; b++) {
        coef[b] = type == HT_TYPE_Q4_1 ? _cvtsh_ss(load_u16(w + b * 20 + 2)) : -8.0f * _cvtsh_ss(load_u16(w + b * 18));
    }
    // 16 columns per register, accumulated over the blocks without touching memory
    for (int j0 = 0; j0 < nx; j0 += 16) {
        __mmask16 k = nx - j0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nx - j0)) - 1);
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        int b = 0;
        for (; b + 2 <= nb; b += 2) {
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(coef[b]), _mm512_maskz_loadu_ps(k, sT + (size_t)b * nx + j0), a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(coef[b + 1]), _mm512_maskz_loadu_ps(k, sT + (size_t)(b + 1) * nx + j0), a1);
        }
        if (b < nb) a0 = _mm512_fmadd_ps(_mm512_set1_ps(coef[b]), _mm512_maskz_loadu_ps(k, sT + (size_t)b * nx + j0), a0);
        _mm512_mask_storeu_ps(extra + j0, k, _mm512_add_ps(a0, a1));
    }
}

// Rows outer, columns inner: a weight row stays in L1 while every activation column passes over it.
#define MATMUL_VNNI_TYPE(TYPE)                                                                     \
    for (int r = r0; r < r1; r++) {                                                                \
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;                           \
        row_offsets(TYPE, row, sT, nb, nx, extra);                                                 \
        int j = 0;                                                                                 \
        for (; j + NC_MAX <= nx; j += NC_MAX) {                                                    \
            row_vnni(TYPE, row, cols + j, NC_MAX, nb, res);                                        \
            for (int c = 0; c < NC_MAX; c++) out[(size_t)(j + c) * out_stride + r] = res[c] + extra[j + c]; \
        }                                                                                          \
        for (; j < nx; j++) {                                                                      \
            row_vnni(TYPE, row, cols + j, 1, nb, res);                                             \
            out[(size_t)j * out_stride + r] = res[0] + extra[j];                                   \
        }                                                                                          \
    }

HT_VNNI static void matmul_vnni(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                                int r0, int r1, const void *x, int nx) {
    int nb = n / 32;
    q8_col cols[nx];
    float res[NC_MAX], extra[nx];
    float sT[nb * nx];
    for (int j = 0; j < nx; j++) {
        cols[j] = q8_column(x, n, j);
        for (int b = 0; b < nb; b++) sT[b * nx + j] = cols[j].s[b];
    }
    // one copy of the loop per format, so the format test is out of the inner loop
    switch (type) {
    case HT_TYPE_Q4_1: MATMUL_VNNI_TYPE(HT_TYPE_Q4_1) break;
    case HT_TYPE_Q4_0: MATMUL_VNNI_TYPE(HT_TYPE_Q4_0) break;
    default: MATMUL_VNNI_TYPE(HT_TYPE_Q8_0) break;
    }
}

HT_AVX2 static inline float dot_f32_avx2(const float *a, const float *b, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float r = _mm_cvtss_f32(s);
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

HT_AVX2 static inline void axpy_f32_avx2(float *y, float a, const float *x, int n) {
    __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

HT_AVX2 static int dequantize_avx2(uint32_t type, const void *src, float *dst, int n) {
    const uint8_t *p = (const uint8_t *)src;
    int nb = n / 32;
    switch (type) {
    case HT_TYPE_Q4_1:
        for (int b = 0; b < nb; b++, p += 20, dst += 32) {
            float d = _cvtsh_ss(load_u16(p)), m = _cvtsh_ss(load_u16(p + 2));
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)(p[4 + j] & 15) + m;
                dst[j + 16] = d * (float)(p[4 + j] >> 4) + m;
            }
        }
        return 1;
    case HT_TYPE_Q4_0:
        for (int b = 0; b < nb; b++, p += 18, dst += 32) {
            float d = _cvtsh_ss(load_u16(p));
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((p[2 + j] & 15) - 8);
                dst[j + 16] = d * (float)((p[2 + j] >> 4) - 8);
            }
        }
        return 1;
    case HT_TYPE_Q8_0:
        for (int b = 0; b < nb; b++, p += 34, dst += 32) {
            float d = _cvtsh_ss(load_u16(p));
            const int8_t *q = (const int8_t *)(p + 2);
            for (int j = 0; j < 32; j++) dst[j] = d * (float)q[j];
        }
        return 1;
    }
    return 0;
}
#endif

#ifdef HT_X86
// ht_quantize_q8, 32 values at a time, with the scalar loop's numbers: the same division and reciprocal, each
// product rounded to the nearest int as lrintf does under the default rounding mode, then truncated to a byte
// (the profile of a batched evaluation had the scalar loop at 6% of its samples).
// A NaN never wins the max there (`a > amax` is false), nor here (max_ps returns its second operand).
HT_VNNI static void quantize_q8_512(void *y, const float *x, int n) {
    uint8_t *base = (uint8_t *)y;
    int8_t *q = (int8_t *)base;
    float *d8 = (float *)(base + n);
    float *s = d8 + (n / 32) * 8;
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int b = 0; b < n / 32; b++) {
        __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
        __m512 m = _mm512_max_ps(_mm512_and_ps(x0, sign), _mm512_setzero_ps());
        m = _mm512_max_ps(_mm512_and_ps(x1, sign), m);
        float amax = _mm512_reduce_max_ps(m);
        float d = amax / 127.0f;
        float id = d > 0 ? 1.0f / d : 0.0f;
        __m512 iv = _mm512_set1_ps(id);
        __m512 p0 = _mm512_mul_ps(x0, iv), p1 = _mm512_mul_ps(x1, iv);
        // An infinite or NaN product (an infinite input, or a reciprocal that overflowed) is 0 in the scalar loop,
        // whose 64-bit lrintf gives 2^63, an int of 0; cvtps_epi32 would give -2^31.
        __m512 big = _mm512_set1_ps(2147483648.0f);
        __m512i v0 = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(_mm512_and_ps(p0, sign), big, _CMP_LT_OQ), p0);
        __m512i v1 = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(_mm512_and_ps(p1, sign), big, _CMP_LT_OQ), p1);
        _mm_storeu_si128((__m128i *)(q + b * 32), _mm512_cvtepi32_epi8(v0));
        _mm_storeu_si128((__m128i *)(q + b * 32 + 16), _mm512_cvtepi32_epi8(v1));
        int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(v0, v1));
        _mm256_storeu_ps(d8 + b * 8, _mm256_set1_ps(d));
        s[b] = d * (float)sum;
    }
}

// exp(x) for 16 floats: 2^n * p(r) with x = n ln2 + r, |r| <= ln2/2, p a degree-6 polynomial
// (relative error ~2e-7, like expf); inputs below -87 give 0.
HT_VNNI static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

HT_VNNI static void softmax_512(float *row, int visible, int span) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 16 <= visible; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(row + i));
    float m = _mm512_reduce_max_ps(mv);
    for (; i < visible; i++) m = row[i] > m ? row[i] : m;
    __m512 mb = _mm512_set1_ps(m), sv = _mm512_setzero_ps();
    for (i = 0; i + 16 <= visible; i += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + i), mb));
        _mm512_storeu_ps(row + i, e);
        sv = _mm512_add_ps(sv, e);
    }
    if (i < visible) {
        __mmask16 k = (__mmask16)((1u << (visible - i)) - 1);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, row + i), mb));
        _mm512_mask_storeu_ps(row + i, k, e);
        sv = _mm512_add_ps(sv, _mm512_maskz_mov_ps(k, e));
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sv));
    for (i = 0; i + 16 <= visible; i += 16) _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), inv));
    for (; i < visible; i++) row[i] *= _mm512_cvtss_f32(inv);
    for (i = visible; i < span; i++) row[i] = 0;
}

// Cross-entropy of one row of logits against `target`; the exponentials summed in double.
HT_VNNI static double cross_entropy_512(float *row, int n, int target, float scale, int gradient) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(row + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        mv = _mm512_max_ps(mv, v);
    }
    float m = _mm512_reduce_max_ps(mv);
    for (; i < n; i++) {
        if (row[i] != row[i]) nan = 1;
        m = row[i] > m ? row[i] : m;
    }
    // max and exp512's clamp would both hide a NaN, and the trainer stops on a loss that is not finite.
    if (nan) return NAN;
    const float zt = row[target] - m;
    __m512 mb = _mm512_set1_ps(m), floor = _mm512_set1_ps(-87.0f);
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 x = _mm512_sub_ps(_mm512_loadu_ps(row + i), mb);
        // below exp512's clamp: 0, as expf nearly gives, rather than e^-87 (a gradient of it would be subnormal)
        __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, floor, _CMP_GE_OQ), exp512(x));
        _mm512_storeu_ps(row + i, e);
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
    for (; i < n; i++) { row[i] = expf(row[i] - m); sum += row[i]; }
    if (gradient) {
        __m512 f = _mm512_set1_ps((float)(scale / sum));
        for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), f));
        for (; i < n; i++) row[i] *= _mm512_cvtss_f32(f);
        row[target] -= scale;
    }
    return log(sum) - zt;
}
#endif

double ht_cross_entropy(float *row, int n, int target, float scale, int gradient) {
#ifdef HT_X86
    if (g_avx512) return cross_entropy_512(row, n, target, scale, gradient);
#endif
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = row[i] > m ? row[i] : m;
    const float zt = row[target] - m;
    double sum = 0;
    for (int i = 0; i < n; i++) { row[i] = expf(row[i] - m); sum += row[i]; }
    if (gradient) {
        float f = (float)(scale / sum);
        for (int i = 0; i < n; i++) row[i] *= f;
        row[target] -= scale;
    }
    return log(sum) - zt;
}

void ht_softmax(float *row, int visible, int span) {
#ifdef HT_X86
    if (g_avx512) { softmax_512(row, visible, span); return; }
#endif
    float m = -INFINITY;
    for (int i = 0; i < visible; i++) m = row[i] > m ? row[i] : m;
    float sum = 0;
    for (int i = 0; i < visible; i++) { row[i] = expf(row[i] - m); sum += row[i]; }
    float inv = 1.0f / sum;
    for (int i = 0; i < visible; i++) row[i] *= inv;
    for (int i = visible; i < span; i++) row[i] = 0;
}

// ---------------------------------------------------------------------------------------------
// Dispatch: chosen once, from what the CPU reports.

typedef void (*matmul_fn)(uint32_t, float *, size_t, const void *, size_t, int, int, int, const void *, int);
static matmul_fn g_matmul = matmul_scalar;
static const char *g_name = "scalar";
static int g_avx2 = 0;

__attribute__((constructor)) static void ht_kernels_init(void) {
#ifdef HT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        g_avx2 = 1;
        g_matmul = matmul_avx2;
        g_name = "avx2";
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vnni")) {
            g_matmul = matmul_vnni;
            g_name = "avx512vnni";
            g_avx512 = 1;
        }
    }
#endif
}

const char *ht_kernel_name(void) { return g_name; }

int ht_has_int8_kernel(uint32_t type) {
    return type == HT_TYPE_Q4_0 || type == HT_TYPE_Q4_1 || type == HT_TYPE_Q8_0 || ht_is_kquant(type);
}

void ht_matmul_q8(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                  int r0, int r1, const void *x, int nx) {
    if (ht_is_kquant(type)) {  // kquant.c; AVX-512 VNNI runs them on panels (kquant_panels.c)
        ht_matmul_kquant(g_avx2, type, out, out_stride, w, row_bytes, n, r0, r1, x, nx);
        return;
    }
    g_matmul(type, out, out_stride, w, row_bytes, n, r0, r1, x, nx);
}

float ht_dot_f32(const float *a, const float *b, int n) {
#ifdef HT_X86
    if (g_avx2) return dot_f32_avx2(a, b, n);
#endif
    float r = 0;
    for (int i = 0; i < n; i++) r += a[i] * b[i];
    return r;
}

void ht_axpy_f32(float *y, float a, const float *x, int n) {
#ifdef HT_X86
    if (g_avx2) { axpy_f32_avx2(y, a, x, n); return; }
#endif
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

#ifdef HT_X86
HT_AVX2 static void attention_scores_avx2(float *p, const float *q, const float *keys, size_t stride, int n, int d,
                                          float scale) {
    for (int t = 0; t < n; t++) p[t] = dot_f32_avx2(q, keys + (size_t)t * stride, d) * scale;
}

HT_AVX2 __attribute__((always_inline)) static inline void attention_values_nv(float *o, const float *p, const float *values,
                                                                            size_t stride, int n, int nv) {
    __m256 acc[16];
    for (int j = 0; j < nv; j++) acc[j] = _mm256_setzero_ps();
    for (int t = 0; t < n; t++) {
        const float *v = values + (size_t)t * stride;
        __m256 a = _mm256_set1_ps(p[t]);
        for (int j = 0; j < nv; j++) acc[j] = _mm256_fmadd_ps(a, _mm256_loadu_ps(v + 8 * j), acc[j]);
    }
    for (int j = 0; j < nv; j++) _mm256_storeu_ps(o + 8 * j, acc[j]);
}

// The sum kept in registers across positions (the whole head when it fits in 16 vectors); each element sees the
// same fused multiply-adds in the same order as ht_axpy_f32 position by position.
HT_AVX2 static void attention_values_avx2(float *o, const float *p, const float *values, size_t stride, int n, int d) {
    if (d % 8 != 0 || d > 128) {
        for (int i = 0; i < d; i++) o[i] = 0;
        for (int t = 0; t < n; t++) axpy_f32_avx2(o, p[t], values + (size_t)t * stride, d);
        return;
    }
    // The models' head sizes get a copy with the vector count fixed, so that the sums stay in registers.
    switch (d) {
    case 64: attention_values_nv(o, p, values, stride, n, 8); break;
    case 128: attention_values_nv(o, p, values, stride, n, 16); break;
    default: attention_values_nv(o, p, values, stride, n, d / 8); break;
    }
}
#endif

void ht_attention_scores(float *p, const float *q, const float *keys, size_t stride, int n, int d, float scale) {
#ifdef HT_X86
    if (g_avx2) { attention_scores_avx2(p, q, keys, stride, n, d, scale); return; }
#endif
    for (int t = 0; t < n; t++) p[t] = ht_dot_f32(q, keys + (size_t)t * stride, d) * scale;
}

void ht_attention_values(float *o, const float *p, const float *values, size_t stride, int n, int d) {
#ifdef HT_X86
    if (g_avx2) { attention_values_avx2(o, p, values, stride, n, d); return; }
#endif
    for (int i = 0; i < d; i++) o[i] = 0;
    for (int t = 0; t < n; t++) ht_axpy_f32(o, p[t], values + (size_t)t * stride, d);
}

int ht_dequantize_row_fast(uint32_t type, const void *src, float *dst, int n) {
    if (ht_is_kquant(type)) {
        ht_dequantize_kquant(type, src, dst, n);
        return 1;
    }
#ifdef HT_X86
    if (g_avx2) return dequantize_avx2(type, src, dst, n);
#endif
    (void)type; (void)src; (void)dst; (void)n;
    return 0;
}
