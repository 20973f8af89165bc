#ifndef HELLOTUNE_POOL_H
#define HELLOTUNE_POOL_H
// A small fork-join pool for the forward pass. Decoding one token forks ~150 times; waking a
// sleeping thread for each costs more than the work, so workers spin briefly between forks and
// only then sleep.

typedef void (*ht_task_fn)(void *ctx, int index);

/// Runs fn(ctx, i) for every i in [0, n), spread over the pool's threads and the caller.
/// If another thread is already running a fork, this one runs its tasks inline instead.
void ht_parallel_run(int n, ht_task_fn fn, void *ctx);

/// Threads the pool uses, the caller included (set once, before the first run; default 2).
void ht_parallel_set_threads(int threads);
int ht_parallel_threads(void);
#endif
