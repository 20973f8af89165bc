// The two thin products of a LoRA adapter at inference, y += s (x A^T) B^T, row by row.
//
// Each row's numbers depend on that row alone: OpenBLAS picks its kernel (and so its order of sums) from the
// matrix sizes, so a tuned model's reply changed with the number of sequences decoding beside it. Here the
// order is fixed: a dot product sums in 16 lanes (lane l takes k = l mod 16, zero padded), then adds the lanes
// as (l, l + 8), (l, l + 4), (l, l + 2), (0, 1); the up-projection sums over the rank one fused multiply-add at a
// time, and y becomes fma(s, sum, y). The scalar path on other CPUs does the same arithmetic.
#ifndef HT_LORA_H
#define HT_LORA_H

// xa[j, i] = x[j, :] . a[i, :] for rows j in [j0, j1): x (n, in) row-major, a (r, in), xa (n, r).
void ht_lora_down(float *xa, const float *x, const float *a, int in, int r, int j0, int j1);

// y[j, o] = fma(s, sum_i xa[j, i] b[o, i], y[j, o]) for rows j in [j0, j1) and outputs o in [o0, o1):
// xa (n, r), b (out, r) row-major, y rows `ldy` floats apart.
void ht_lora_up(float *y, int ldy, const float *xa, const float *b, int r, float s, int j0, int j1, int o0, int o1);

#endif
