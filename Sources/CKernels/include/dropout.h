// Dropout on the LoRA inputs, drawn from the SplitMix64 stream of `SeededRandom` (Sampler.swift).
//
// SplitMix64's k-th draw after state s is mix(s + k * gamma), a function of k alone, so any stretch of the
// stream can be drawn without the ones before it: the mask is cut across cores and 8 lanes at a time, and is
// the same, bit for bit, as drawing element after element. Element i of a call with stream state `state`
// takes draw i + 1: u = (mix(state + (i + 1) * gamma) >> 11) * 2^-53, and is dropped when u < p.
#ifndef HT_DROPOUT_H
#define HT_DROPOUT_H

#include <stdint.h>

// The SplitMix64 increment (SeededRandom's).
#define HT_SPLITMIX_GAMMA 0x9E3779B97F4A7C15ULL

// y[i] = dropped(i) ? 0 : x[i] * keep, for i in 0..<n. y may be x.
void ht_dropout(float *y, const float *x, long n, uint64_t state, double p, float keep);

// The backward pass through the same mask: dx[i] += dy[i] * keep where element i was kept.
void ht_dropout_backward(float *dx, const float *dy, long n, uint64_t state, double p, float keep);

#endif
