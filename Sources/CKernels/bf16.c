// bfloat16 products for training's input gradients (layouts in bf16.h). On Zen 4 and Sapphire Rapids,
// vdpbf16ps does two multiply-adds per float lane where an FMA does one, so dx = dy W runs at twice the
// float rate; each product still sums in float32, as mixed-precision training does.
#include "kernel_common.h"
#include "bf16.h"

#include <stdlib.h>
#include <string.h>

long ht_bf16_packed_bytes(int rows, int cols) { return (long)((rows + 1) / 2) * 2 * cols * 2; }

// Round to nearest even, as vcvtneps2bf16 does (weights and gradients here are finite).
static inline uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static void convert_rows_scalar(uint16_t *dst, const float *a, int lda, int T, int k) {
    int width = (k + 1) / 2 * 2;
    for (int t = 0; t < T; t++) {
        const float *src = a + (long)t * lda;
        uint16_t *out = dst + (long)t * width;
        for (int i = 0; i < k; i++) out[i] = to_bf16(src[i]);
        if (width > k) out[k] = 0;
    }
}

#ifdef HT_X86

#define HT_BF16 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

static int g_bf16 = 0;

// The output layer's gradient is (labelled tokens, vocabulary): millions of values per example.
HT_BF16 void ht_bf16_convert_rows(uint16_t *dst, const float *a, int lda, int T, int k) {
    if (!g_bf16) { convert_rows_scalar(dst, a, lda, T, k); return; }
    int width = (k + 1) / 2 * 2;
    for (int t = 0; t < T; t++) {
        const float *src = a + (long)t * lda;
        uint16_t *out = dst + (long)t * width;
        int i = 0;
        for (; i + 16 <= k; i += 16) _mm256_storeu_si256((__m256i *)(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
        for (; i < k; i++) out[i] = to_bf16(src[i]);
        if (width > k) out[k] = 0;
    }
}

__attribute__((constructor)) static void ht_bf16_init(void) {
    __builtin_cpu_init();
    const char *env = getenv("HELLOTUNE_BF16");
    g_bf16 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512bf16") && !(env && strcmp(env, "0") == 0);
}

int ht_has_bf16_kernel(void) { return g_bf16; }

HT_BF16 void ht_bf16_pack_pairs(uint16_t *dst, const float *w, int ld, int rows, int cols, int r0, int r1) {
    int pairs = (rows + 1) / 2;
    // lane i of the result takes element i / 2 of row 2p (even i) or of row 2p + 1 (odd i)
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int r = r0; r < r1; r += 2) {
        const float *even = w + (long)r * ld;
        const float *odd = r + 1 < rows ? even + ld : NULL;
        long p = r / 2;
        for (int jb = 0; jb < cols / 16; jb++) {
            __m512 e = _mm512_loadu_ps(even + jb * 16);
            __m512 o = odd ? _mm512_loadu_ps(odd + jb * 16) : _mm512_setzero_ps();
            // low 16 values: the even row, high 16: the odd row
            __m512i both = (__m512i)_mm512_cvtne2ps_pbh(o, e);
            _mm512_storeu_si512((void *)(dst + ((long)jb * pairs + p) * 32), _mm512_permutexvar_epi16(interleave, both));
        }
    }
}

// MR rows of C times 4 blocks of 16 columns: 4 MR accumulators, 4 loads of B and MR broadcasts of A per pair.
#define BF16_KERNEL(MR)                                                                                          \
    HT_BF16 static void kernel_##MR(float *c, int ldc, const uint16_t *a, int astride, const uint16_t *b,     \
                                    long bstride, int pairs, int accumulate) {                               \
        __m512 acc[MR][4];                                                                                    \
        for (int i = 0; i < MR; i++)                                                                          \
            for (int n = 0; n < 4; n++)                                                                       \
                acc[i][n] = accumulate ? _mm512_loadu_ps(c + (long)i * ldc + n * 16) : _mm512_setzero_ps();   \
        for (int p = 0; p < pairs; p++) {                                                                     \
            __m512bh bv[4];                                                                                   \
            for (int n = 0; n < 4; n++) bv[n] = (__m512bh)_mm512_loadu_si512((const void *)(b + n * bstride + (long)p * 32)); \
            for (int i = 0; i < MR; i++) {                                                                    \
                uint32_t word;                                                                                \
                memcpy(&word, a + (long)i * astride + 2 * p, 4);                                              \
                __m512bh av = (__m512bh)_mm512_set1_epi32((int)word);                                         \
                for (int n = 0; n < 4; n++) acc[i][n] = _mm512_dpbf16_ps(acc[i][n], av, bv[n]);              \
            }                                                                                                 \
        }                                                                                                     \
        for (int i = 0; i < MR; i++)                                                                          \
            for (int n = 0; n < 4; n++) _mm512_storeu_ps(c + (long)i * ldc + n * 16, acc[i][n]);              \
    }

BF16_KERNEL(6)
BF16_KERNEL(5)
BF16_KERNEL(4)
BF16_KERNEL(3)
BF16_KERNEL(2)
BF16_KERNEL(1)

void ht_bf16_gemm(float *c, int ldc, const uint16_t *a, const uint16_t *b, int T, int k, int cols, int c0, int c1,
                  int accumulate) {
    int pairs = (k + 1) / 2;
    int astride = 2 * pairs;
    long bstride = (long)pairs * 32;  // uint16 elements per 16-column block
    // Column groups outside, rows inside: a group's B stream (4 blocks, 256 bytes per pair) stays in L2 while
    // every row block of A passes over it.
    for (int j = c0; j < c1; j += 64) {
        const uint16_t *bj = b + (long)(j / 16) * bstride;
        int t = 0;
        for (; t + 6 <= T; t += 6) kernel_6(c + (long)t * ldc + j, ldc, a + (long)t * astride, astride, bj, bstride, pairs, accumulate);
        float *ct = c + (long)t * ldc + j;
        const uint16_t *at = a + (long)t * astride;
        switch (T - t) {
        case 5: kernel_5(ct, ldc, at, astride, bj, bstride, pairs, accumulate); break;
        case 4: kernel_4(ct, ldc, at, astride, bj, bstride, pairs, accumulate); break;
        case 3: kernel_3(ct, ldc, at, astride, bj, bstride, pairs, accumulate); break;
        case 2: kernel_2(ct, ldc, at, astride, bj, bstride, pairs, accumulate); break;
        case 1: kernel_1(ct, ldc, at, astride, bj, bstride, pairs, accumulate); break;
        default: break;
        }
    }
}

#else

int ht_has_bf16_kernel(void) { return 0; }
void ht_bf16_convert_rows(uint16_t *dst, const float *a, int lda, int T, int k) { convert_rows_scalar(dst, a, lda, T, k); }
void ht_bf16_pack_pairs(uint16_t *dst, const float *w, int ld, int rows, int cols, int r0, int r1) {
    (void)dst; (void)w; (void)ld; (void)rows; (void)cols; (void)r0; (void)r1;
}
void ht_bf16_gemm(float *c, int ldc, const uint16_t *a, const uint16_t *b, int T, int k, int cols, int c0, int c1,
                  int accumulate) {
    (void)c; (void)ldc; (void)a; (void)b; (void)T; (void)k; (void)cols; (void)c0; (void)c1; (void)accumulate;
}

#endif
