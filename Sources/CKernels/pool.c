#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_THREADS = 64, SPIN_ROUNDS = 20000 };

static int g_threads = 2;
static int g_started = 0;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_run_lock = PTHREAD_MUTEX_INITIALIZER;

// The current fork. `generation` changes once per fork; workers watch it.
static ht_task_fn g_fn;
static void *g_ctx;
static int g_n;
static atomic_int g_next;
static atomic_int g_done;
static atomic_uint g_generation;
static atomic_int g_sleepers;
static pthread_mutex_t g_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_sleep_cond = PTHREAD_COND_INITIALIZER;

static void run_tasks(void) {
    for (;;) {
        int i = atomic_fetch_add_explicit(&g_next, 1, memory_order_acq_rel);
        if (i >= g_n) break;
        g_fn(g_ctx, i);
        atomic_fetch_add_explicit(&g_done, 1, memory_order_acq_rel);
    }
}

static void *worker(void *arg) {
    (void)arg;
    unsigned seen = atomic_load_explicit(&g_generation, memory_order_acquire);
    for (;;) {
        int spins = 0;
        unsigned now;
        while ((now = atomic_load_explicit(&g_generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ROUNDS) {
                if (spins % 256 == 0) sched_yield();  // let a runnable thread of this process have the core
                else CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&g_sleep_lock);
            atomic_fetch_add(&g_sleepers, 1);
            while (atomic_load_explicit(&g_generation, memory_order_acquire) == seen) {
                pthread_cond_wait(&g_sleep_cond, &g_sleep_lock);
            }
            atomic_fetch_sub(&g_sleepers, 1);
            pthread_mutex_unlock(&g_sleep_lock);
            spins = 0;
        }
        seen = now;
        run_tasks();
    }
    return NULL;
}

static void start_workers(void) {
    for (int t = 1; t < g_threads; t++) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        if (pthread_create(&th, &attr, worker, NULL) == 0) {
            pthread_detach(th);
        }
        pthread_attr_destroy(&attr);
    }
    g_started = 1;
}

void ht_parallel_set_threads(int threads) {
    if (g_started) return;
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    g_threads = threads;
}

int ht_parallel_threads(void) { return g_threads; }

void ht_parallel_run(int n, ht_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (n == 1 || g_threads == 1 || pthread_mutex_trylock(&g_run_lock) != 0) {
        for (int i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    pthread_once(&g_once, start_workers);
    g_fn = fn;
    g_ctx = ctx;
    g_n = n;
    atomic_store_explicit(&g_done, 0, memory_order_relaxed);
    atomic_store_explicit(&g_next, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_generation, 1, memory_order_acq_rel);
    if (atomic_load(&g_sleepers) > 0) {
        pthread_mutex_lock(&g_sleep_lock);
        pthread_cond_broadcast(&g_sleep_cond);
        pthread_mutex_unlock(&g_sleep_lock);
    }
    run_tasks();
    // A worker that took a task may have been descheduled on a busy machine: yield, don't burn its core.
    for (int spins = 0; atomic_load_explicit(&g_done, memory_order_acquire) < n; spins++) {
        if (spins < 2000) CPU_RELAX(); else sched_yield();
    }
    pthread_mutex_unlock(&g_run_lock);
}
