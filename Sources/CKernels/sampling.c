// A sampler's passes over a row of logits (sampling.h).
#include "sampling.h"

#include "kernel_common.h"

#include <math.h>
#include <string.h>

// Sampler.sortKey: ascending order of the key is descending order of the scaled logit, then ascending id;
// -0 ties with +0.
static inline uint64_t sort_key(float scaled, uint32_t id) {
    uint32_t bits;
    memcpy(&bits, &scaled, 4);
    if (scaled == 0) bits = 0;
    uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return (uint64_t)(~ascending) << 32 | id;
}

static int argmax_scalar(const float *x, int n) {
    int best = 0;
    float m = -INFINITY;
    for (int i = 0; i < n; i++) if (x[i] > m) { m = x[i]; best = i; }
    return best;
}

static int candidates_scalar(uint64_t *keys, const float *x, int n, float floor, float inv_t) {
    int count = 0;
    for (int i = 0; i < n; i++) if (x[i] >= floor) keys[count++] = sort_key(x[i] * inv_t, (uint32_t)i);
    return count;
}

#ifdef HT_X86
static int g_sampling_512 = 0;

__attribute__((constructor)) static void ht_sampling_init(void) { g_sampling_512 = cpu_has_vnni_set(); }

// The largest value (NaN lanes left out), then the first index holding it: the scalar loop's answer.
HT_VNNI static int argmax_512(const float *x, int n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        m = _mm512_mask_max_ps(m, _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), m, v);
    }
    float best = _mm512_reduce_max_ps(m);
    for (; i < n; i++) if (x[i] > best) best = x[i];
    if (!(best > -INFINITY)) return 0;
    const __m512 b = _mm512_set1_ps(best);
    for (i = 0; i + 16 <= n; i += 16) {
        __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), b, _CMP_EQ_OQ);
        if (hit) return i + __builtin_ctz(hit);
    }
    for (; i < n; i++) if (x[i] == best) return i;
    return 0;
}

// Most logits lie below the floor: sixteen at a time are compared, and only the lanes at or above it are keyed.
HT_VNNI static int candidates_512(uint64_t *keys, const float *x, int n, float floor, float inv_t) {
    const __m512 f = _mm512_set1_ps(floor);
    int count = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        __mmask16 keep = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), f, _CMP_GE_OQ);
        while (keep) {
            int l = __builtin_ctz(keep);
            keep &= keep - 1;
            keys[count++] = sort_key(x[i + l] * inv_t, (uint32_t)(i + l));
        }
    }
    for (; i < n; i++) if (x[i] >= floor) keys[count++] = sort_key(x[i] * inv_t, (uint32_t)i);
    return count;
}
#endif

int ht_argmax_first(const float *x, int n) {
#ifdef HT_X86
    if (g_sampling_512) return argmax_512(x, n);
#endif
    return argmax_scalar(x, n);
}

int ht_candidate_keys(uint64_t *keys, const float *x, int n, float floor, float inv_t) {
#ifdef HT_X86
    if (g_sampling_512) return candidates_512(keys, x, n, floor, inv_t);
#endif
    return candidates_scalar(keys, x, n, floor, inv_t);
}

// The keys come in ascending order of their low halves (ids in order), so a stable sort on the high halves
// alone gives the order of the whole keys: three passes of 11, 11 and 10 bits, least significant first, their
// counts taken in one read; a pass whose digit is the same in every key is skipped. Short runs go by insertion.
void ht_sort_keys(uint64_t *keys, int n, uint64_t *scratch) {
    if (n < 64) {
        for (int i = 1; i < n; i++) {
            uint64_t k = keys[i];
            int j = i - 1;
            while (j >= 0 && keys[j] > k) { keys[j + 1] = keys[j]; j--; }
            keys[j + 1] = k;
        }
        return;
    }
    static const int shifts[3] = {32, 43, 54};
    int counts[3][2048];
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < n; i++) {
        uint64_t k = keys[i];
        counts[0][(k >> 32) & 2047]++;
        counts[1][(k >> 43) & 2047]++;
        counts[2][k >> 54]++;
    }
    uint64_t *src = keys, *dst = scratch;
    for (int p = 0; p < 3; p++) {
        const int shift = shifts[p];
        int *c = counts[p];
        if (c[(src[0] >> shift) & 2047] == n) continue;
        int offset = 0;
        for (int b = 0; b < 2048; b++) { int t = c[b]; c[b] = offset; offset += t; }
        for (int i = 0; i < n; i++) dst[c[(src[i] >> shift) & 2047]++] = src[i];
        uint64_t *t = src; src = dst; dst = t;
    }
    if (src != keys) memcpy(keys, src, (size_t)n * sizeof(uint64_t));
}
