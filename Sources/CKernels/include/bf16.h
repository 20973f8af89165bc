// Products in bfloat16 with float32 accumulation, for training's backward pass through frozen weights:
// C (T, cols) (+)= A (T, k) B (k, cols), on CPUs with AVX-512 BF16 (vdpbf16ps: two multiply-adds per lane).
//
// Layouts:
// - A is row-major bf16, k padded to an even count (`pairs` = k / 2 rounded up), row stride 2 * pairs;
//   each 32-bit word holds the pair (A[t, 2p], A[t, 2p + 1]) that vdpbf16ps multiplies with one pair of B rows.
// - B is packed by ht_bf16_pack_pairs in blocks of 16 columns: block jb holds, for each pair p of rows, the
//   32 bf16 values B[2p, j], B[2p + 1, j] for the block's 16 columns j, interleaved; a missing odd row is zero.
//   So the kernel reads B as one stream per column block, and each 64-byte load feeds 16 lanes.
#ifndef HT_BF16_H
#define HT_BF16_H

#include <stdint.h>

// 1 where this CPU has AVX-512 BF16 (and HELLOTUNE_BF16 is not "0"); the products below need it.
int ht_has_bf16_kernel(void);

// Bytes of B packed for `rows` x `cols` (cols a multiple of 16).
long ht_bf16_packed_bytes(int rows, int cols);

// Packs float rows [r0, r1) of W (row stride `ld`) into dst's pairs starting at pair r0 / 2 (r0 even), for
// a matrix of `rows` rows in all: threads may pack disjoint row ranges of one matrix.
void ht_bf16_pack_pairs(uint16_t *dst, const float *w, int ld, int rows, int cols, int r0, int r1);

// A (T, k) float with row stride lda into bf16 rows of 2 * pairs values (zero padded), rounded to nearest even.
void ht_bf16_convert_rows(uint16_t *dst, const float *a, int lda, int T, int k);

// C[:, c0 .. c1) (T rows, stride ldc) = (accumulate ? C : 0) + A B, for columns c0, c1 multiples of 64.
void ht_bf16_gemm(float *c, int ldc, const uint16_t *a, const uint16_t *b, int T, int k, int cols, int c0, int c1,
                  int accumulate);

#endif
