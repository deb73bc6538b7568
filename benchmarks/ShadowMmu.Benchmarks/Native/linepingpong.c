/* What one cache line costs to move between the two cores: two threads hand a flag back and forth. RESULTS.md quotes
 * it for the 2-vCPU fault benchmark, whose vCPUs share the mmu_lock's line and the shadow structures' lines.
 * Not part of the benchmark build:  gcc -O2 -pthread linepingpong.c -o /tmp/linepingpong && /tmp/linepingpong */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 2000000

static _Alignas(64) atomic_int flag;

static void *answer(void *unused)
{
    (void)unused;
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 1)
            ;
        atomic_store_explicit(&flag, 0, memory_order_release);
    }
    return NULL;
}

int main(void)
{
    pthread_t other;
    struct timespec start, end;
    pthread_create(&other, NULL, answer, NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&flag, 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 0)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(other, NULL);
    double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("round trip %.1f ns; one line transfer %.1f ns\n", ns / ROUNDS, ns / ROUNDS / 2);
    return 0;
}
