#include "panels.h"
#include "kernels.h"
#include "kquant.h"

#include "kernel_common.h"

static int block_bytes(uint32_t type) {
    switch (type) {
    case HT_TYPE_Q4_0:
    case HT_TYPE_Q4_1: return 4 * 64 + 2 * 32;
    case HT_TYPE_Q8_0: return 8 * 64 + 2 * 32;
    default: return 0;
    }
}

size_t ht_panel_bytes(uint32_t type, int rows, int n) {
    if (ht_is_kquant(type)) return ht_kpanel_bytes(type, rows, n);  // kquant_panels.c
    size_t panels = (size_t)(rows + PANEL_ROWS - 1) / PANEL_ROWS;
    return panels * (size_t)(n / 32) * (size_t)block_bytes(type);
}

#ifdef HT_X86

static int g_panels = 0;

__attribute__((constructor)) static void ht_panels_init(void) {
    __builtin_cpu_init();
    g_panels = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
}

int ht_has_panel_kernel(void) { return g_panels; }

HT_VNNI static inline float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

HT_VNNI void ht_repack_panels(uint32_t type, void *dst, const void *w, size_t row_bytes, int rows, int n) {
    if (ht_is_kquant(type)) {
        ht_repack_kpanels(type, dst, w, row_bytes, rows, n);
        return;
    }
    int nb = n / 32, bb = block_bytes(type);
    int vectors = type == HT_TYPE_Q8_0 ? 8 : 4;
    uint8_t *out = (uint8_t *)dst;
    memset(out, 0, ht_panel_bytes(type, rows, n));  // padding rows: zero weights and scales
    for (int p = 0; p * PANEL_ROWS < rows; p++) {
        for (int b = 0; b < nb; b++) {
            uint8_t *blk = out + ((size_t)p * nb + b) * bb;
            uint16_t *d = (uint16_t *)(blk + vectors * 64), *m = d + PANEL_ROWS;
            for (int i = 0; i < PANEL_ROWS && p * PANEL_ROWS + i < rows; i++) {
                const uint8_t *src = (const uint8_t *)w + (size_t)(p * PANEL_ROWS + i) * row_bytes;
                // Scales stay f16, as in the file: one sequence is bound by memory, and every byte counts.
                // -8 d and -128 d are exact in f16.
                switch (type) {
                case HT_TYPE_Q4_0: {
                    const uint8_t *s = src + b * 18;
                    memcpy(&d[i], s, 2);
                    m[i] = _cvtss_sh(-8.0f * f16(s), 0);
                    for (int v = 0; v < 4; v++) memcpy(blk + v * 64 + i * 4, s + 2 + 4 * v, 4);
                    break;
                }
                case HT_TYPE_Q4_1: {
                    const uint8_t *s = src + b * 20;
                    memcpy(&d[i], s, 2);
                    memcpy(&m[i], s + 2, 2);
                    for (int v = 0; v < 4; v++) memcpy(blk + v * 64 + i * 4, s + 4 + 4 * v, 4);
                    break;
                }
                default: {
                    const uint8_t *s = src + b * 34;
                    memcpy(&d[i], s, 2);
                    m[i] = _cvtss_sh(-128.0f * f16(s), 0);
                    for (int v = 0; v < 8; v++) {
                        for (int k = 0; k < 4; k++) blk[v * 64 + i * 4 + k] = (uint8_t)((int)(int8_t)s[2 + 4 * v + k] + 128);
                    }
                    break;
                }
                }
            }
        }
    }
}

// The 8 weight vectors of a block: w[q] holds columns 4q..4q+3 of the 16 rows as unsigned bytes.
HT_VNNI __attribute__((always_inline)) static inline void load_block(uint32_t type, const uint8_t *blk, __m512i w[8]) {
    if (type == HT_TYPE_Q8_0) {
        for (int v = 0; v < 8; v++) w[v] = _mm512_loadu_si512((const void *)(blk + v * 64));
    } else {
        const __m512i low = _mm512_set1_epi8(15);
        for (int v = 0; v < 4; v++) {
            __m512i raw = _mm512_loadu_si512((const void *)(blk + v * 64));
            w[v] = _mm512_and_si512(raw, low);
            w[v + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
        }
    }
}

// One panel times NC columns (NC a compile-time constant after inlining, so the accumulators stay
// in registers). For every block: sum_k u * q_x exactly in int32, then
// acc += d * d_x * that + m * s_x, where s_x = d_x * sum of the block's q_x.
HT_VNNI __attribute__((always_inline)) static inline void panel_columns(uint32_t type, const uint8_t *panel, int nb,
                                                                         const uint8_t *x, size_t col_bytes, int n,
                                                                         int NC, float *out, size_t out_stride,
                                                                         __mmask16 keep) {
    const int bb = block_bytes(type), vectors = type == HT_TYPE_Q8_0 ? 8 : 4;
    __m512 acc[8], off[8];
    const int8_t *q[8];
    const float *dx[8], *sx[8];
    for (int c = 0; c < NC; c++) {
        acc[c] = _mm512_setzero_ps();
        off[c] = _mm512_setzero_ps();
        q[c] = (const int8_t *)(x + (size_t)c * col_bytes);
        dx[c] = (const float *)(x + (size_t)c * col_bytes + n);
        sx[c] = dx[c] + (n / 32) * 8;
    }
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = panel + (size_t)b * bb;
        __m512i w[8];
        load_block(type, blk, w);
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + vectors * 64)));
        __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + vectors * 64 + 32)));
        for (int c = 0; c < NC; c++) {
            const int8_t *xq = q[c] + b * 32;
            // two chains, so a single column is not bound by the latency of one
            __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], _mm512_set1_epi32(load_i32(xq)));
            __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], _mm512_set1_epi32(load_i32(xq + 4)));
            s0 = _mm512_dpbusd_epi32(s0, w[2], _mm512_set1_epi32(load_i32(xq + 8)));
            s1 = _mm512_dpbusd_epi32(s1, w[3], _mm512_set1_epi32(load_i32(xq + 12)));
            s0 = _mm512_dpbusd_epi32(s0, w[4], _mm512_set1_epi32(load_i32(xq + 16)));
            s1 = _mm512_dpbusd_epi32(s1, w[5], _mm512_set1_epi32(load_i32(xq + 20)));
            s0 = _mm512_dpbusd_epi32(s0, w[6], _mm512_set1_epi32(load_i32(xq + 24)));
            s1 = _mm512_dpbusd_epi32(s1, w[7], _mm512_set1_epi32(load_i32(xq + 28)));
            __m512 scale = _mm512_mul_ps(d, _mm512_set1_ps(dx[c][b * 8]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[c]);
            off[c] = _mm512_fmadd_ps(m, _mm512_set1_ps(sx[c][b]), off[c]);
        }
    }
    for (int c = 0; c < NC; c++) _mm512_mask_storeu_ps(out + (size_t)c * out_stride, keep, _mm512_add_ps(acc[c], off[c]));
}

#define PANEL_TYPE(TYPE)                                                                                          \
    for (int p = r0 / PANEL_ROWS; p * PANEL_ROWS < r1; p++) {                                                     \
        int first = p * PANEL_ROWS;                                                                               \
        int lo = r0 > first ? r0 - first : 0, hi = r1 - first < PANEL_ROWS ? r1 - first : PANEL_ROWS;             \
        __mmask16 keep = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));                                       \
        const uint8_t *panel = (const uint8_t *)panels + (size_t)p * nb * bb;                                     \
        float *o = out + first;                                                                                   \
        int j = 0;                                                                                                \
        for (; j + 8 <= nx; j += 8)                                                                               \
            panel_columns(TYPE, panel, nb, xb + (size_t)j * cb, cb, n, 8, o + (size_t)j * out_stride, out_stride, keep); \
        if (nx - j >= 4) {                                                                                        \
            panel_columns(TYPE, panel, nb, xb + (size_t)j * cb, cb, n, 4, o + (size_t)j * out_stride, out_stride, keep); \
            j += 4;                                                                                               \
        }                                                                                                         \
        if (nx - j >= 2) {                                                                                        \
            panel_columns(TYPE, panel, nb, xb + (size_t)j * cb, cb, n, 2, o + (size_t)j * out_stride, out_stride, keep); \
            j += 2;                                                                                               \
        }                                                                                                         \
        if (nx - j >= 1)                                                                                          \
            panel_columns(TYPE, panel, nb, xb + (size_t)j * cb, cb, n, 1, o + (size_t)j * out_stride, out_stride, keep); \
    }

HT_VNNI void ht_matmul_panels(uint32_t type, float *out, size_t out_stride, const void *panels, int rows, int n,
                               int r0, int r1, const void *x, int nx) {
    (void)rows;
    if (ht_is_kquant(type)) {
        ht_matmul_kpanels(type, out, out_stride, panels, n, r0, r1, x, nx);
        return;
    }
    const int nb = n / 32, bb = block_bytes(type);
    const size_t cb = ht_q8_column_bytes(n);
    const uint8_t *xb = (const uint8_t *)x;
    // one copy of the loop per format, so the format tests fold away
    switch (type) {
    case HT_TYPE_Q4_1: PANEL_TYPE(HT_TYPE_Q4_1) break;
    case HT_TYPE_Q4_0: PANEL_TYPE(HT_TYPE_Q4_0) break;
    default: PANEL_TYPE(HT_TYPE_Q8_0) break;
    }
}

#else
int ht_has_panel_kernel(void) { return 0; }
void ht_repack_panels(uint32_t type, void *dst, const void *w, size_t row_bytes, int rows, int n) {
    (void)type; (void)dst; (void)w; (void)row_bytes; (void)rows; (void)n;
}
void ht_matmul_panels(uint32_t type, float *out, size_t out_stride, const void *panels, int rows, int n,
                      int r0, int r1, const void *x, int nx) {
    (void)type; (void)out; (void)out_stride; (void)panels; (void)rows; (void)n; (void)r0; (void)r1; (void)x; (void)nx;
}
#endif
