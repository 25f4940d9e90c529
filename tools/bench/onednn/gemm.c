// Probe for docs/experiments/2026-12-07-onednn-convolutions.md: oneDNN sgemm against OpenBLAS on the LLM shapes.
#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int shapes[][3] = {{4096, 256, 256}, {4096, 1024, 256}, {4096, 256, 1024}, {256, 256, 4096}, {1024, 128, 128}, {1024, 256, 128}, {128, 128, 1024}};
  int reps = 20;
  for (int s = 0; s < 7; s++) {
    for (int t = 0; t < 3; t++) {  // NN, NT, TN
      int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      char ta = t == 2 ? 'T' : 'N', tb = t == 1 ? 'T' : 'N';
      float *A = malloc(4L * M * K), *B = malloc(4L * K * N), *C = malloc(4L * M * N);
      for (long i = 0; i < (long)M * K; i++) A[i] = rand() / (float)RAND_MAX;
      for (long i = 0; i < (long)K * N; i++) B[i] = rand() / (float)RAND_MAX;
      int lda = ta == 'N' ? K : M, ldb = tb == 'N' ? N : K;
      double best[2] = {1e9, 1e9};
      for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, ta == 'N' ? CblasNoTrans : CblasTrans, tb == 'N' ? CblasNoTrans : CblasTrans, M, N, K, 1, A, lda, B, ldb, 0, C, N);
        double t1 = now();
        dnnl_sgemm(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
        double t2 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
      }
      double f = 2.0 * M * N * K / 1e9;
      printf("M%5d N%5d K%5d %c%c  openblas %6.1f  onednn %6.1f GFLOP/s\n", M, N, K, ta, tb, f / best[0], f / best[1]);
      free(A); free(B); free(C);
    }
  }
}
