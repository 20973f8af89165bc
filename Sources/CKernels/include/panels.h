#ifndef HELLOTUNE_PANELS_H
#define HELLOTUNE_PANELS_H
// Weight panels: a copy of a Q4_0/Q4_1/Q8_0 matrix regrouped so that one AVX-512 VNNI instruction
// multiplies 16 rows at once by 4 bytes of one activation column (broadcast). The row-wise kernels
// in kernels.c need a horizontal sum and a float conversion per block and per row; here each lane
// is a row, so a block of 32 weights costs 8 integer dot instructions for 16 rows, and a float
// conversion and two FMAs per 16 rows. Used when the CPU has AVX-512 VNNI, at every batch size, so a
// sequence gets the same numbers alone or in a batch.
//
// Layout: panels of 16 rows (the last one padded with zero rows), each a run of blocks of 32
// columns. A block holds the weights as unsigned bytes u (w = d * u + m):
//   Q4_0/Q4_1: 4 x 64 bytes; vector v has, for each of the 16 rows, the row's nibble bytes
//              qs[4v..4v+3] (low nibbles: columns 4v..4v+3, high nibbles: 16+4v..16+4v+3);
//   Q8_0:      8 x 64 bytes; vector v has, for each row, bytes q[4v..4v+3] + 128;
// then f16 d[16] and f16 m[16] (Q4_0: m = -8 d; Q8_0: m = -128 d).
// Q4_K and Q6_K go through the same three functions to kquant_panels.c (layout in kquant.h), against
// activations with a scale per 256 values and an integer factor per 32 (q8k columns, kquant.h).
#include <stddef.h>
#include <stdint.h>

/// Whether this CPU runs the panel kernel (AVX-512 VNNI).
int ht_has_panel_kernel(void);

/// Bytes of the panel copy of a `rows` x `n` matrix of `type` (0 when the type has no panels).
size_t ht_panel_bytes(uint32_t type, int rows, int n);

/// Fills `dst` (ht_panel_bytes long) from the row-major matrix at `w` (rows `row_bytes` apart).
void ht_repack_panels(uint32_t type, void *dst, const void *w, size_t row_bytes, int rows, int n);

/// out[j * out_stride + r] = dot(W row r, x_j) for rows r in [r0, r1) and the nx q8 columns at x
/// (layout in kernels.h; for Q4_K and Q6_K q8k columns, layout in kquant.h), W given as panels.
void ht_matmul_panels(uint32_t type, float *out, size_t out_stride, const void *panels, int rows, int n,
                      int r0, int r1, const void *x, int nx);

#endif
