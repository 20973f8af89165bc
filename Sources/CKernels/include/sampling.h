// A sampler's passes over a row of logits (Sampler.swift): the best logit, the candidates near it as sort keys,
// and their sort. Each gives what the Swift loops gave, exactly: the evaluation spent a seventh of its time here
// (Swift's stable merge sort over the keys, and the scans).
#ifndef HT_SAMPLING_H
#define HT_SAMPLING_H

#include <stdint.h>

// The first index of the largest value, NaNs never chosen; 0 when no value is above -infinity.
int ht_argmax_first(const float *x, int n);

// keys[] = Sampler.sortKey(x[i] * inv_t, id: i) for each i, in order, with x[i] >= floor; returns how many.
// keys must have room for n.
int ht_candidate_keys(uint64_t *keys, const float *x, int n, float floor, float inv_t);

// Sorts keys ascending, given keys whose low 32 bits ascend (as ht_candidate_keys writes them): a radix sort,
// stable on the high 32 bits, so equal logits keep their ids' order; scratch has room for n. Sampler's keys are
// distinct, so this is the order any sort of them gives.
void ht_sort_keys(uint64_t *keys, int n, uint64_t *scratch);

#endif
