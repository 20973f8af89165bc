// The feed-forward block's element-wise steps (activations.h). The plain loops they replace called glibc's expf
// once per element and were a tenth of a training step; here the exponential is glibc's own algorithm run on
// eight doubles at a time, so every value is the one expf returns.
#pragma STDC FP_CONTRACT OFF

#include "activations.h"

#include "kernel_common.h"

#include <math.h>

#ifdef HT_X86
// glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, the same since 2.28), as its FMA build evaluates it: with
// N = 32, z = x N / ln 2 = k + r, and expf(x) = 2^(k/N) 2^(r/N) ~ s (C0 r^3 + C1 r^2 + C2 r + 1) in double, rounded
// once to float. Inputs with |x| >= 88 (and NaN) take glibc's special cases, so those lanes call expf itself.
static const uint64_t expf_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define EXPF_INV_LN2_N 0x40471547652b82feULL   // 0x1.71547652b82fep+0 * 32
#define EXPF_C0 0x3ebc6af84b912394ULL           // 0x1.c6af84b912394p-5 / 32^3
#define EXPF_C1 0x3f2ebfce50fac4f3ULL           // 0x1.ebfce50fac4f3p-3 / 32^2
#define EXPF_C2 0x3f962e42ff0c52d6ULL           // 0x1.62e42ff0c52d6p-1 / 32
#define EXPF_SHIFT 0x4338000000000000ULL        // 0x1.8p+52
#define EXPF_SPECIAL_TOP 0x42b                  // top 12 bits of |88.0f|

HT_VNNI static inline __m512d pd_bits(uint64_t bits) { return _mm512_castsi512_pd(_mm512_set1_epi64((long long)bits)); }

// Eight lanes of glibc's main path, the fused steps where its FMA build fuses them.
HT_VNNI static inline __m256 expf_main8(__m256 x) {
    const __m512d inv = pd_bits(EXPF_INV_LN2_N), shift = pd_bits(EXPF_SHIFT);
    const __m512i t0 = _mm512_loadu_si512(expf_table), t1 = _mm512_loadu_si512(expf_table + 8);
    const __m512i t2 = _mm512_loadu_si512(expf_table + 16), t3 = _mm512_loadu_si512(expf_table + 24);
    __m512d xd = _mm512_cvtps_pd(x);
    __m512d kds = _mm512_fmadd_pd(inv, xd, shift);            // k + SHIFT, rounded: k in the low bits
    __m512i ki = _mm512_castpd_si512(kds);
    __m512d kd = _mm512_sub_pd(kds, shift);
    __m512d r = _mm512_fmsub_pd(inv, xd, kd);                 // z - k in one rounding
    // T[k % 32]: two 16-entry permutes, then bit 4 of k picks between them
    __m512i lo = _mm512_permutex2var_epi64(t0, ki, t1), hi = _mm512_permutex2var_epi64(t2, ki, t3);
    __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), lo, hi);
    __m512d s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(ki, 47)));
    __m512d z = _mm512_fmadd_pd(pd_bits(EXPF_C0), r, pd_bits(EXPF_C1));
    __m512d r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_fmadd_pd(r, pd_bits(EXPF_C2), _mm512_set1_pd(1.0));
    y = _mm512_fmadd_pd(z, r2, y);
    return _mm512_cvtpd_ps(_mm512_mul_pd(y, s));
}

// expf of the lanes of x in `valid`; the others are undefined.
HT_VNNI static inline __m512 expf16(__m512 x, __mmask16 valid) {
    __m512 y = _mm512_insertf32x8(_mm512_castps256_ps512(expf_main8(_mm512_castps512_ps256(x))),
                                  expf_main8(_mm512_extractf32x8_ps(x, 1)), 1);
    __m512i top = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 20), _mm512_set1_epi32(0x7ff));
    __mmask16 special = valid & _mm512_cmpge_epi32_mask(top, _mm512_set1_epi32(EXPF_SPECIAL_TOP));
    if (special) {
        float xs[16], ys[16];
        _mm512_storeu_ps(xs, x);
        _mm512_storeu_ps(ys, y);
        for (int i = 0; i < 16; i++) if (special >> i & 1) ys[i] = expf(xs[i]);
        y = _mm512_loadu_ps(ys);
    }
    return y;
}

HT_VNNI static inline __mmask16 tail_mask(long left) { return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1); }

HT_VNNI static void expf_array_512(float *y, const float *x, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, expf16(_mm512_maskz_loadu_ps(k, x + i), k));
    }
}

HT_VNNI static void swiglu_512(float *out, const float *gate, const float *up, long n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 g = _mm512_maskz_loadu_ps(k, gate + i);
        __m512 e = expf16(_mm512_xor_ps(g, _mm512_set1_ps(-0.0f)), k);
        __m512 a = _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(k, up + i));
        _mm512_mask_storeu_ps(out + i, k, a);
    }
}

HT_VNNI static void swiglu_backward_512(float *dGate, float *dUp, const float *dAct, const float *gate, const float *up,
                                        long n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 g = _mm512_maskz_loadu_ps(k, gate + i), d = _mm512_maskz_loadu_ps(k, dAct + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, expf16(_mm512_xor_ps(g, _mm512_set1_ps(-0.0f)), k)));
        _mm512_mask_storeu_ps(dUp + i, k, _mm512_mul_ps(d, _mm512_mul_ps(g, sig)));
        __m512 slope = _mm512_add_ps(one, _mm512_mul_ps(g, _mm512_sub_ps(one, sig)));
        __m512 dg = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(k, up + i)), sig), slope);
        _mm512_mask_storeu_ps(dGate + i, k, dg);
    }
}

static int g_vector_expf = 0;

// The vector path is used only where it returns this libm's expf on a spread of inputs: every range glibc
// treats apart (underflow, the |x| >= 88 cases, infinities, NaN) and a dense sweep of the ordinary one.
__attribute__((constructor)) static void ht_activations_init(void) {
    if (!cpu_has_vnni_set()) return;
    enum { count = 4096 + 16 };
    float x[count], y[count];
    uint32_t state = 12345;
    for (int i = 0; i < 4096; i++) {
        state = state * 1664525u + 1013904223u;
        // half a sweep over [-110, 95], half random bit patterns of moderate exponent
        if (i % 2) { uint32_t b = (state & 0x807fffff) | ((state >> 7 & 15) + 125u) << 23; memcpy(&x[i], &b, 4); }
        else x[i] = -110.0f + 205.0f * (float)i / 4096.0f;
    }
    const float edges[16] = {0.0f, -0.0f, 88.0f, -88.0f, 88.72f, 89.0f, -103.0f, -104.0f, -87.5f, 1e-30f, -1e-30f,
                             INFINITY, -INFINITY, NAN, 0x1.62e42ep6f, -0x1.9fe368p6f};
    memcpy(x + 4096, edges, sizeof edges);
    expf_array_512(y, x, count);
    for (int i = 0; i < count; i++) {
        float want = expf(x[i]);
        if (memcmp(&want, &y[i], 4) != 0 && !(isnan(want) && isnan(y[i]))) return;
    }
    g_vector_expf = 1;
}
#endif

int ht_has_vector_expf(void) {
#ifdef HT_X86
    return g_vector_expf;
#else
    return 0;
#endif
}

void ht_expf_array(float *y, const float *x, long n) {
#ifdef HT_X86
    if (g_vector_expf) { expf_array_512(y, x, n); return; }
#endif
    for (long i = 0; i < n; i++) y[i] = expf(x[i]);
}

void ht_swiglu(float *out, const float *gate, const float *up, long n) {
#ifdef HT_X86
    if (g_vector_expf) { swiglu_512(out, gate, up, n); return; }
#endif
    for (long i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1 + expf(-g)) * up[i];
    }
}

void ht_swiglu_backward(float *dGate, float *dUp, const float *dAct, const float *gate, const float *up, long n) {
#ifdef HT_X86
    if (g_vector_expf) { swiglu_backward_512(dGate, dUp, dAct, gate, up, n); return; }
#endif
    for (long i = 0; i < n; i++) {
        float g = gate[i];
        float sig = 1 / (1 + expf(-g));
        float silu = g * sig;
        dUp[i] = dAct[i] * silu;
        dGate[i] = dAct[i] * up[i] * sig * (1 + g * (1 - sig));
    }
}

void ht_add(float *y, const float *a, const float *b, long n) {
    for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}
