#include "dropout.h"
#pragma STDC FP_CONTRACT OFF  // dx += dy * keep rounds twice, as the Swift loop it replaces did

#include "kernel_common.h"

static inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Whether draw i + 1 after `state` drops its element: the same double comparison as `nextUnit() < p`.
static inline int dropped(uint64_t state, long i, double p) {
    uint64_t z = splitmix(state + (uint64_t)(i + 1) * HT_SPLITMIX_GAMMA);
    return (double)(z >> 11) * 0x1.0p-53 < p;
}

static void dropout_scalar(float *y, const float *x, long i0, long n, uint64_t state, double p, float keep) {
    for (long i = i0; i < n; i++) y[i] = dropped(state, i, p) ? 0 : x[i] * keep;
}

static void dropout_backward_scalar(float *dx, const float *dy, long i0, long n, uint64_t state, double p, float keep) {
    for (long i = i0; i < n; i++) {
        if (!dropped(state, i, p)) dx[i] += dy[i] * keep;
    }
}

#ifdef HT_X86
static int g_dropout_512;
__attribute__((constructor)) static void ht_dropout_init(void) { g_dropout_512 = cpu_has_vnni_set(); }

// The drop mask of elements i..i+7: (z >> 11) < 2^53 converts to double exactly, as in the scalar path.
HT_VNNI static inline __mmask8 drop_mask8(__m512i s, __m512d pv) {
    __m512i z = s;
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94D049BB133111EBULL));
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
    __m512d u = _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(z, 11)), _mm512_set1_pd(0x1.0p-53));
    return _mm512_cmp_pd_mask(u, pv, _CMP_LT_OQ);
}

// The states of elements i..i+7 (draws i + 1..i + 8).
HT_VNNI static inline __m512i states8(uint64_t state, long i) {
    __m512i lane = _mm512_set_epi64(8, 7, 6, 5, 4, 3, 2, 1);
    __m512i k = _mm512_add_epi64(_mm512_set1_epi64(i), lane);
    return _mm512_add_epi64(_mm512_set1_epi64((long long)state), _mm512_mullo_epi64(k, _mm512_set1_epi64((long long)HT_SPLITMIX_GAMMA)));
}

HT_VNNI static void dropout_512(float *y, const float *x, long n, uint64_t state, double p, float keep) {
    __m512d pv = _mm512_set1_pd(p);
    __m256 kv = _mm256_set1_ps(keep);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __mmask8 drop = drop_mask8(states8(state, i), pv);
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), kv);
        _mm256_storeu_ps(y + i, _mm256_maskz_mov_ps((__mmask8)~drop, v));
    }
    dropout_scalar(y, x, i, n, state, p, keep);
}

HT_VNNI static void dropout_backward_512(float *dx, const float *dy, long n, uint64_t state, double p, float keep) {
    __m512d pv = _mm512_set1_pd(p);
    __m256 kv = _mm256_set1_ps(keep);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __mmask8 drop = drop_mask8(states8(state, i), pv);
        __m256 sum = _mm256_add_ps(_mm256_loadu_ps(dx + i), _mm256_mul_ps(_mm256_loadu_ps(dy + i), kv));
        _mm256_mask_storeu_ps(dx + i, (__mmask8)~drop, sum);
    }
    dropout_backward_scalar(dx, dy, i, n, state, p, keep);
}
#endif

void ht_dropout(float *y, const float *x, long n, uint64_t state, double p, float keep) {
#ifdef HT_X86
    if (g_dropout_512) { dropout_512(y, x, n, state, p, keep); return; }
#endif
    dropout_scalar(y, x, 0, n, state, p, keep);
}

void ht_dropout_backward(float *dx, const float *dy, long n, uint64_t state, double p, float keep) {
#ifdef HT_X86
    if (g_dropout_512) { dropout_backward_512(dx, dy, n, state, p, keep); return; }
#endif
    dropout_backward_scalar(dx, dy, 0, n, state, p, keep);
}
