// Helpers every kernel file shares (private to CKernels): f16 decoding, unaligned loads, the 8-bit activation
// column (layout in kernels.h), and the AVX2 reductions. One copy, so that a fix to, say, f16 subnormals reaches
// Q4_0/Q4_1/Q8_0 and the K-quants alike.
#ifndef HT_KERNEL_COMMON_H
#define HT_KERNEL_COMMON_H

#include "kernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HT_X86 1
#endif

// Weight panels hold 16 rows: one int32 lane per row in a 512-bit register.
#define PANEL_ROWS 16

static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline int32_t load_i32(const int8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

// IEEE half to float without F16C (the scalar path runs on any CPU), subnormals and infinities included.
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

// One 8-bit activation column j of x: its int8 values, per-block scales d8, and per-block scaled sums s.
typedef struct {
    const int8_t *q;
    const float *d8;
    const float *s;
} q8_col;

static inline q8_col q8_column(const void *x, int n, int j) {
    const uint8_t *base = (const uint8_t *)x + (size_t)j * ht_q8_column_bytes(n);
    q8_col c;
    c.q = (const int8_t *)base;
    c.d8 = (const float *)(base + n);
    c.s = c.d8 + (n / 32) * 8;
    return c;
}

#ifdef HT_X86
#define HT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define HT_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

#ifdef HT_X86
// 1 where the CPU has every feature HT_VNNI lets the compiler use: the condition for any HT_VNNI path.
static inline int cpu_has_vnni_set(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
}
#endif

// Unsigned bytes times signed bytes, summed in fours into int32 lanes.
HT_AVX2 static inline __m256i idot_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

HT_AVX2 static inline float hsum256(__m256 acc) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#endif
