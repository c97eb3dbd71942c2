/* Memory bandwidth of this machine, STREAM-triad style: a[i] = b[i] + s * c[i] over three arrays of doubles far
 * larger than any cache, on OMP_NUM_THREADS threads. Counts 3 arrays' bytes per pass (two reads, one write, as STREAM
 * does: the write-allocate read of a is not counted) and prints the best pass as JSON:
 *   {"array_mib": 256, "passes": 10, "threads": 2, "best_seconds": ..., "gb_per_second": ...}
 * Build: gcc -O3 -fopenmp -march=native -o triad triad.c   Usage: triad [ARRAY_MIB] [PASSES] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 256;
    int passes = argc > 2 ? atoi(argv[2]) : 10;
    if (mib < 1 || passes < 1) {
        fprintf(stderr, "usage: triad [ARRAY_MIB >= 1] [PASSES >= 1]\n");
        return 2;
    }
    long n = mib * 1024 * 1024 / sizeof(double);
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)), *c = malloc(n * sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "triad: cannot allocate 3 x %ld MiB\n", mib);
        return 1;
    }
    /* first touch on the threads that later use each page */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }

    const double s = 3.0;
    double best = 1e30;
    for (int p = 0; p < passes; p++) {
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        double t = omp_get_wtime() - t0;
        if (t < best) best = t;
    }
    /* reading a result keeps the compiler from dropping the passes */
    if (a[n / 2] != 7.0) {
        fprintf(stderr, "triad: wrong result %f\n", a[n / 2]);
        return 1;
    }
    double bytes = 3.0 * n * sizeof(double);
    printf("{\"array_mib\": %ld, \"passes\": %d, \"threads\": %d, \"best_seconds\": %.6f, \"gb_per_second\": %.3f}\n",
           mib, passes, omp_get_max_threads(), best, bytes / best / 1e9);
    free(a); free(b); free(c);
    return 0;
}
