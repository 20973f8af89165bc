#include "kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HT_X86 1
#endif

// ---------------------------------------------------------------------------------------------
// Block layouts of the weight formats (ggml's, bit for bit).
// Q4_0: f16 d, 16 bytes of nibbles; x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
// Q4_1: f16 d, f16 m, 16 bytes of nibbles; x[j] = d * (qs[j] & 15) + m, x[j + 16] = d * (qs[j] >> 4) + m
// Q8_0: f16 d, 32 int8; x[j] = d * qs[j]

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

// ---------------------------------------------------------------------------------------------
// Activation quantisation

void ht_quantize_q8(ht_block_q8 *y, const float *x, int n) {
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; i++) { float a = fabsf(xb[i]); amax = a > amax ? a : amax; }
        float d = amax / 127.0f;
        float id = d > 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int q = (int)lrintf(xb[i] * id);
            y[b].qs[i] = (int8_t)q;
            sum += q;
        }
        y[b].d = d;
        y[b].s = d * (float)sum;
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar kernels (any CPU; also the reference the SIMD versions are tested against)

static float dot_scalar(uint32_t type, const uint8_t *w, const ht_block_q8 *x, int nb) {
    float acc = 0;
    for (int b = 0; b < nb; b++) {
        const ht_block_q8 *xb = x + b;
        int isum = 0;
        switch (type) {
        case HT_TYPE_Q4_0: {
            const uint8_t *blk = w + b * 18;
            float d = half_to_float(load_u16(blk));
            for (int j = 0; j < 16; j++) {
                isum += (blk[2 + j] & 15) * xb->qs[j] + (blk[2 + j] >> 4) * xb->qs[j + 16];
            }
            acc += d * xb->d * (float)isum - 8.0f * d * xb->s;
            break;
        }
        case HT_TYPE_Q4_1: {
            const uint8_t *blk = w + b * 20;
            float d = half_to_float(load_u16(blk)), m = half_to_float(load_u16(blk + 2));
            for (int j = 0; j < 16; j++) {
                isum += (blk[4 + j] & 15) * xb->qs[j] + (blk[4 + j] >> 4) * xb->qs[j + 16];
            }
            acc += d * xb->d * (float)isum + m * xb->s;
            break;
        }
        case HT_TYPE_Q8_0: {
            const uint8_t *blk = w + b * 34;
            float d = half_to_float(load_u16(blk));
            const int8_t *q = (const int8_t *)(blk + 2);
            for (int j = 0; j < 32; j++) isum += q[j] * xb->qs[j];
            acc += d * xb->d * (float)isum;
            break;
        }
        }
    }
    return acc;
}

static void matmul_scalar(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                          int r0, int r1, const ht_block_q8 *x, int nx) {
    int nb = n / 32;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int j = 0; j < nx; j++) out[(size_t)j * out_stride + r] = dot_scalar(type, row, x + (size_t)j * nb, nb);
    }
}

#ifdef HT_X86
// ---------------------------------------------------------------------------------------------
// SIMD kernels. One block of 32 weights is widened to 32 unsigned bytes and multiplied with the 32
// signed activation bytes: AVX2 through maddubs + madd, AVX-512 VNNI in one dpbusd.

#define HT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define HT_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

// Unsigned weight bytes of a Q4 block: [low nibbles | high nibbles], matching element order.
#define Q4_BYTES(qs)                                                                 \
    ({                                                                               \
        __m128i raw = _mm_loadu_si128((const __m128i *)(qs));                        \
        __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(15));                          \
        __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15));       \
        _mm256_set_m128i(hi, lo);                                                    \
    })

#define DEFINE_DOT(SUFFIX, ATTR, IDOT)                                                              \
    ATTR static inline float dot_##SUFFIX(uint32_t type, const uint8_t *w, const ht_block_q8 *x, int nb) { \
        __m256 acc = _mm256_setzero_ps();                                                           \
        float extra = 0;                                                                            \
        if (type == HT_TYPE_Q4_1) {                                                                 \
            for (int b = 0; b < nb; b++) {                                                          \
                const uint8_t *blk = w + b * 20;                                                    \
                float d = _cvtsh_ss(load_u16(blk)), m = _cvtsh_ss(load_u16(blk + 2));               \
                __m256i q = Q4_BYTES(blk + 4);                                                      \
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);                          \
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(IDOT(q, xv)), _mm256_set1_ps(d * x[b].d), acc); \
                extra += m * x[b].s;                                                                \
            }                                                                                       \
        } else if (type == HT_TYPE_Q4_0) {                                                          \
            for (int b = 0; b < nb; b++) {                                                          \
                const uint8_t *blk = w + b * 18;                                                    \
                float d = _cvtsh_ss(load_u16(blk));                                                 \
                __m256i q = Q4_BYTES(blk + 2);                                                      \
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);                          \
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(IDOT(q, xv)), _mm256_set1_ps(d * x[b].d), acc); \
                extra -= 8.0f * d * x[b].s;                                                         \
            }                                                                                       \
        } else {                                                                                    \
            for (int b = 0; b < nb; b++) {                                                          \
                const uint8_t *blk = w + b * 34;                                                    \
                float d = _cvtsh_ss(load_u16(blk));                                                 \
                __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));                         \
                __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);                          \
                /* signed x signed: move the weight's sign onto the activation */                   \
                __m256i xs = _mm256_sign_epi8(xv, q);                                               \
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(IDOT(_mm256_sign_epi8(q, q), xs)),         \
                                      _mm256_set1_ps(d * x[b].d), acc);                             \
            }                                                                                       \
        }                                                                                           \
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));          \
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                     \
        s = _mm_add_ss(s, _mm_movehdup_ps(s));                                                      \
        return _mm_cvtss_f32(s) + extra;                                                            \
    }                                                                                               \
    ATTR static void matmul_##SUFFIX(uint32_t type, float *out, size_t out_stride, const void *w,   \
                                     size_t row_bytes, int n, int r0, int r1, const ht_block_q8 *x, int nx) { \
        int nb = n / 32;                                                                            \
        for (int r = r0; r < r1; r++) {                                                             \
            const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;                        \
            for (int j = 0; j < nx; j++)                                                            \
                out[(size_t)j * out_stride + r] = dot_##SUFFIX(type, row, x + (size_t)j * nb, nb);  \
        }                                                                                           \
    }

HT_AVX2 static inline __m256i idot_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
HT_VNNI static inline __m256i idot_vnni(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

DEFINE_DOT(avx2, HT_AVX2, idot_avx2)
DEFINE_DOT(vnni, HT_VNNI, idot_vnni)

HT_AVX2 static float dot_f32_avx2(const float *a, const float *b, int n) {
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

HT_AVX2 static void axpy_f32_avx2(float *y, float a, const float *x, int n) {
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

// ---------------------------------------------------------------------------------------------
// Dispatch: chosen once, from what the CPU reports.

typedef void (*matmul_fn)(uint32_t, float *, size_t, const void *, size_t, int, int, int, const ht_block_q8 *, int);
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
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
            g_matmul = matmul_vnni;
            g_name = "avx512vnni";
        }
    }
#endif
}

const char *ht_kernel_name(void) { return g_name; }

int ht_has_int8_kernel(uint32_t type) {
    return type == HT_TYPE_Q4_0 || type == HT_TYPE_Q4_1 || type == HT_TYPE_Q8_0;
}

void ht_matmul_q8(uint32_t type, float *out, size_t out_stride, const void *w, size_t row_bytes, int n,
                  int r0, int r1, const ht_block_q8 *x, int nx) {
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

int ht_dequantize_row_fast(uint32_t type, const void *src, float *dst, int n) {
#ifdef HT_X86
    if (g_avx2) return dequantize_avx2(type, src, dst, n);
#endif
    (void)type; (void)src; (void)dst; (void)n;
    return 0;
}
