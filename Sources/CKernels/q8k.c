// The activation column of the K-quant panels (layout in kquant.h): int8 values with a scale per 256 as
// llama.cpp's Q8_K, so that a super-block's sub-block sums add up in integers, and a small integer factor per
// 32 on top of it. One scale for 256 values lets an outlier take most of their precision (Qwen2.5's
// activations have them: the 1.5B model's logits moved 3x further from the float path's than with a scale per
// 32); the factor k (1..HT_Q8K_KMAX) gives each block of 32 a step of k * d, about max|block| / 127, again.
// The sums kept are those the formats' offsets need: Q4_K's mins per 32, Q6_K's -32 per 16.
#include "kquant.h"

#include <math.h>
#include "kernel_common.h"

size_t ht_q8k_column_bytes(int n) {
    return (size_t)n + (size_t)(n / 256) * sizeof(float) + (size_t)(n / 32) * sizeof(int32_t) +
           (size_t)(n / 16) * sizeof(int32_t) + (size_t)(n / 32) * sizeof(int16_t);
}

// The factor of a block of 32 whose largest magnitude is amax, in a super-block whose largest is top: the
// smallest k with amax <= 127 * k * d, d = top / (127 * KMAX).
static inline int block_factor(float amax, float top) {
    float r = amax * (float)HT_Q8K_KMAX / top;
    if (!(r > 1)) return 1;  // NaN too (a zero or infinite super-block)
    return r >= HT_Q8K_KMAX ? HT_Q8K_KMAX : (int)ceilf(r);
}

// One value: rounded to the nearest int (ties to even, as lrintf and cvtps2dq under the default rounding mode),
// kept within +-127 against float rounding at the block's maximum; 0 for an infinite or NaN product.
static inline int8_t round_q(float p) {
    if (!(fabsf(p) < 2147483648.0f)) return 0;
    long r = lrintf(p);
    return (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
}

// What both paths store for block j of super-block b once its values are rounded: the factor and the sums.
static inline void put_block(int32_t *kf, int32_t *s16, int16_t *s32, int b, int j, int k, const int sums[2]) {
    kf[b * 8 + j] = k;
    s16[b * 16 + 2 * j] = 32 * sums[0];
    s16[b * 16 + 2 * j + 1] = 32 * sums[1];
    s32[b * 8 + j] = (int16_t)(k * (sums[0] + sums[1]));
}

// 1 / (k d), the block's reciprocal step (0 for a zero step), computed alike by both paths.
static inline float inverse_step(float db, int k) {
    float step = db * (float)k;
    return step > 0 ? 1.0f / step : 0.0f;
}

static void quantize_q8k_scalar(void *y, const float *x, int n) {
    int8_t *q = (int8_t *)y;
    float *d = (float *)(q + n);
    int32_t *kf = (int32_t *)(d + n / 256);
    int32_t *s16 = kf + n / 32;
    int16_t *s32 = (int16_t *)(s16 + n / 16);
    for (int b = 0; b < n / 256; b++) {
        const float *xb = x + b * 256;
        float amax[8], top = 0;
        for (int j = 0; j < 8; j++) {
            amax[j] = 0;
            for (int i = 0; i < 32; i++) { float a = fabsf(xb[32 * j + i]); amax[j] = a > amax[j] ? a : amax[j]; }
            top = amax[j] > top ? amax[j] : top;
        }
        float db = top / (127.0f * HT_Q8K_KMAX);
        d[b] = db;
        for (int j = 0; j < 8; j++) {
            int k = block_factor(amax[j], top);
            float id = inverse_step(db, k);
            int sums[2] = {0, 0};
            for (int i = 0; i < 32; i++) {
                int8_t v = round_q(xb[32 * j + i] * id);
                q[b * 256 + 32 * j + i] = v;
                sums[i / 16] += v;
            }
            put_block(kf, s16, s32, b, j, k, sums);
        }
    }
}

#ifdef HT_X86
static int g_q8k_512;
__attribute__((constructor)) static void ht_q8k_init(void) { g_q8k_512 = cpu_has_vnni_set(); }

// The scalar rule 16 values at a time: the same factors, division and reciprocals, the same rounding.
HT_VNNI static void quantize_q8k_512(void *y, const float *x, int n) {
    int8_t *q = (int8_t *)y;
    float *d = (float *)(q + n);
    int32_t *kf = (int32_t *)(d + n / 256);
    int32_t *s16 = kf + n / 32;
    int16_t *s32 = (int16_t *)(s16 + n / 16);
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff)), big = _mm512_set1_ps(2147483648.0f);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int b = 0; b < n / 256; b++) {
        const float *xb = x + b * 256;
        __m512 v[16];
        float amax[8], top = 0;
        for (int j = 0; j < 8; j++) {
            v[2 * j] = _mm512_loadu_ps(xb + 32 * j);
            v[2 * j + 1] = _mm512_loadu_ps(xb + 32 * j + 16);
            // a NaN never wins the max, in either path (max_ps returns its second operand)
            __m512 m = _mm512_max_ps(_mm512_and_ps(v[2 * j], sign), _mm512_setzero_ps());
            amax[j] = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v[2 * j + 1], sign), m));
            top = amax[j] > top ? amax[j] : top;
        }
        float db = top / (127.0f * HT_Q8K_KMAX);
        d[b] = db;
        for (int j = 0; j < 8; j++) {
            int k = block_factor(amax[j], top);
            __m512 iv = _mm512_set1_ps(inverse_step(db, k));
            int sums[2];
            for (int h = 0; h < 2; h++) {
                __m512 p = _mm512_mul_ps(v[2 * j + h], iv);
                __m512i r = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(_mm512_and_ps(p, sign), big, _CMP_LT_OQ), p);
                r = _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
                _mm_storeu_si128((__m128i *)(q + b * 256 + 32 * j + 16 * h), _mm512_cvtepi32_epi8(r));
                sums[h] = _mm512_reduce_add_epi32(r);
            }
            put_block(kf, s16, s32, b, j, k, sums);
        }
    }
}
#endif

void ht_quantize_q8k(void *y, const float *x, int n) {
#ifdef HT_X86
    if (g_q8k_512) { quantize_q8k_512(y, x, n); return; }
#endif
    quantize_q8k_scalar(y, x, n);
}
