// LoRA at inference, row by row in a fixed order (lora.h).
#pragma STDC FP_CONTRACT OFF

#include "lora.h"

#include "kernel_common.h"

#include <math.h>
#include <stdlib.h>

// The lane sums of a 16-lane dot product, added in the order lora.h states.
static inline float reduce_lanes(const float p[16]) {
    float h[8], q[4], d[2];
    for (int l = 0; l < 8; l++) h[l] = p[l] + p[l + 8];
    for (int l = 0; l < 4; l++) q[l] = h[l] + h[l + 4];
    for (int l = 0; l < 2; l++) d[l] = q[l] + q[l + 2];
    return d[0] + d[1];
}

static void down_scalar(float *xa, const float *x, const float *a, int in, int r, int j0, int j1) {
    for (int j = j0; j < j1; j++) {
        const float *xj = x + (size_t)j * in;
        for (int i = 0; i < r; i++) {
            const float *ai = a + (size_t)i * in;
            float p[16] = {0};
            for (int k = 0; k < in; k++) p[k % 16] = fmaf(xj[k], ai[k], p[k % 16]);
            // the vector path's padded tail adds fma(0, 0, p) = p + 0 to the lanes past `in`
            for (int k = in; k % 16; k++) p[k % 16] = p[k % 16] + 0.0f;
            xa[(size_t)j * r + i] = reduce_lanes(p);
        }
    }
}

static void up_scalar(float *y, int ldy, const float *xa, const float *b, int r, float s, int j0, int j1, int o0, int o1) {
    for (int j = j0; j < j1; j++) {
        const float *xj = xa + (size_t)j * r;
        float *yj = y + (size_t)j * ldy;
        for (int o = o0; o < o1; o++) {
            float acc = 0;
            for (int i = 0; i < r; i++) acc = fmaf(xj[i], b[(size_t)o * r + i], acc);
            yj[o] = fmaf(s, acc, yj[o]);
        }
    }
}

#ifdef HT_X86
HT_VNNI static inline float reduce16(__m512 v) {
    float p[16];
    _mm512_storeu_ps(p, v);
    return reduce_lanes(p);
}

// Dot products of one row of x with rows i0 .. i0 + 3 of a (4 accumulators share each load of x).
#define DOT4(xj, out)                                                                                               \
    do {                                                                                                            \
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                                                 \
        int k = 0;                                                                                                  \
        for (; k < full; k += 16) {                                                                                 \
            __m512 v = _mm512_loadu_ps((xj) + k);                                                                   \
            s0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(a0 + k), s0);                                                   \
            s1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(a1 + k), s1);                                                   \
            s2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(a2 + k), s2);                                                   \
            s3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(a3 + k), s3);                                                   \
        }                                                                                                           \
        if (tail) {                                                                                                 \
            __m512 v = _mm512_maskz_loadu_ps(tail, (xj) + k);                                                       \
            s0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, a0 + k), s0);                                       \
            s1 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, a1 + k), s1);                                       \
            s2 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, a2 + k), s2);                                       \
            s3 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, a3 + k), s3);                                       \
        }                                                                                                           \
        (out)[0] = reduce16(s0); (out)[1] = reduce16(s1); (out)[2] = reduce16(s2); (out)[3] = reduce16(s3);         \
    } while (0)

HT_VNNI static void down_512(float *xa, const float *x, const float *a, int in, int r, int j0, int j1) {
    const int full = in / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (in - full)) - 1);
    int i = 0;
    // rows of a outer, rows of x inner: four rows of a (4 in floats each) stay in cache for every row of x
    for (; i + 4 <= r; i += 4) {
        const float *a0 = a + (size_t)i * in, *a1 = a0 + in, *a2 = a1 + in, *a3 = a2 + in;
        for (int j = j0; j < j1; j++) DOT4(x + (size_t)j * in, xa + (size_t)j * r + i);
    }
    for (; i < r; i++) {
        const float *ai = a + (size_t)i * in;
        for (int j = j0; j < j1; j++) {
            const float *xj = x + (size_t)j * in;
            __m512 s0 = _mm512_setzero_ps();
            int k = 0;
            for (; k < full; k += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(xj + k), _mm512_loadu_ps(ai + k), s0);
            if (tail) s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, xj + k), _mm512_maskz_loadu_ps(tail, ai + k), s0);
            xa[(size_t)j * r + i] = reduce16(s0);
        }
    }
}

// Outputs in blocks of 16: the block's rows of b, transposed once into `tile` (r, 16), serve every row of x.
HT_VNNI static void up_512(float *y, int ldy, const float *xa, const float *b, int r, float s, int j0, int j1, int o0,
                           int o1, float *tile) {
    const __m512 sv = _mm512_set1_ps(s);
    for (int o = o0; o < o1; o += 16) {
        const int width = o1 - o < 16 ? o1 - o : 16;
        const __mmask16 k = (__mmask16)((1u << width) - 1);
        // column i of the block: 16 floats r apart
        const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(r));
        const float *block = b + (size_t)o * r;
        for (int i = 0; i < r; i++)
            _mm512_storeu_ps(tile + i * 16, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, idx, block + i, 4));
        int j = j0;
        // four rows at a time: four independent chains of multiply-adds hide their latency
        for (; j + 4 <= j1; j += 4) {
            const float *x0 = xa + (size_t)j * r, *x1 = x0 + r, *x2 = x1 + r, *x3 = x2 + r;
            __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            for (int i = 0; i < r; i++) {
                __m512 t = _mm512_loadu_ps(tile + i * 16);
                c0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[i]), t, c0);
                c1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[i]), t, c1);
                c2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[i]), t, c2);
                c3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[i]), t, c3);
            }
            float *y0 = y + (size_t)j * ldy + o, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
            _mm512_mask_storeu_ps(y0, k, _mm512_fmadd_ps(sv, c0, _mm512_maskz_loadu_ps(k, y0)));
            _mm512_mask_storeu_ps(y1, k, _mm512_fmadd_ps(sv, c1, _mm512_maskz_loadu_ps(k, y1)));
            _mm512_mask_storeu_ps(y2, k, _mm512_fmadd_ps(sv, c2, _mm512_maskz_loadu_ps(k, y2)));
            _mm512_mask_storeu_ps(y3, k, _mm512_fmadd_ps(sv, c3, _mm512_maskz_loadu_ps(k, y3)));
        }
        for (; j < j1; j++) {
            const float *xj = xa + (size_t)j * r;
            __m512 acc = _mm512_setzero_ps();
            for (int i = 0; i < r; i++) acc = _mm512_fmadd_ps(_mm512_set1_ps(xj[i]), _mm512_loadu_ps(tile + i * 16), acc);
            float *yj = y + (size_t)j * ldy + o;
            _mm512_mask_storeu_ps(yj, k, _mm512_fmadd_ps(sv, acc, _mm512_maskz_loadu_ps(k, yj)));
        }
    }
}

static int g_lora_512 = 0;

__attribute__((constructor)) static void ht_lora_init(void) { g_lora_512 = cpu_has_vnni_set(); }
#endif

void ht_lora_down(float *xa, const float *x, const float *a, int in, int r, int j0, int j1) {
#ifdef HT_X86
    if (g_lora_512) { down_512(xa, x, a, in, r, j0, j1); return; }
#endif
    down_scalar(xa, x, a, in, r, j0, j1);
}

void ht_lora_up(float *y, int ldy, const float *xa, const float *b, int r, float s, int j0, int j1, int o0, int o1) {
#ifdef HT_X86
    if (g_lora_512) {
        float small[64 * 16];
        float *tile = r <= 64 ? small : malloc((size_t)r * 16 * sizeof(float));
        if (tile) {
            up_512(y, ldy, xa, b, r, s, j0, j1, o0, o1, tile);
            if (tile != small) free(tile);
            return;
        }
    }
#endif
    up_scalar(y, ldy, xa, b, r, s, j0, j1, o0, o1);
}
