// Element-wise steps of the feed-forward block and the residual stream, for inference and training.
//
// Each gives the numbers of the plain C loop it replaces, bit for bit: the exponential is the C library's expf
// (glibc's algorithm, evaluated 8 lanes at a time where the CPU has AVX-512 and a check at start-up agrees with
// this libm's expf; else expf itself), and no multiply-add is fused that the loop did not fuse.
#ifndef HT_ACTIVATIONS_H
#define HT_ACTIVATIONS_H

// out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + expf(-gate[i])) * up[i]; out may be gate.
void ht_swiglu(float *out, const float *gate, const float *up, long n);

// The gradient of ht_swiglu, given dAct = d loss / d out: with sig = 1 / (1 + expf(-g)),
// dUp[i] = dAct[i] * (g * sig) and dGate[i] = dAct[i] * up[i] * sig * (1 + g * (1 - sig)).
void ht_swiglu_backward(float *dGate, float *dUp, const float *dAct, const float *gate, const float *up, long n);

// y[i] = a[i] + b[i]; y may be a or b.
void ht_add(float *y, const float *a, const float *b, long n);

// expf(x[i]) into y[i], lane for lane the C library's (the kernels above use it); for the tests.
void ht_expf_array(float *y, const float *x, long n);

// 1 where the vector expf is in use (AVX-512 and it agreed with expf at start-up).
int ht_has_vector_expf(void);

#endif
