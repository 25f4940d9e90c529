import Foundation
#if os(Linux)
import CMalloc
#endif

/// Process-level settings that must be in place before OpenBLAS initialises.
enum ProcessEnvironment {
    /// OpenBLAS reads `OPENBLAS_THREAD_TIMEOUT` once, when the library loads: by default its idle workers spin for
    /// about 2²⁸ cycles after each GEMM, competing with Reverie's own threads for the cores. When the variable is
    /// unset, set it to 4 (workers sleep almost at once) and re-execute this binary so OpenBLAS sees it.
    static func settleOpenBLAS() {
        #if os(Linux)
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure; carry on with OpenBLAS's default behaviour.
        #endif
    }

    /// glibc hands every allocation over its mmap threshold (128 KB at first, rising only as such blocks are freed)
    /// straight to the kernel and gives freed heap tops back once they pass the trim threshold, so a training step,
    /// which allocates and frees the same few-megabyte activations every pass, pays for fresh zeroed pages again and
    /// again (the kernel's page clearing was 3.9 % of a decoder step's samples under `perf`; 1.3 % with this).
    /// Keep blocks up to 32 MB (glibc's ceiling for the threshold) in the heap and keep freed memory for reuse.
    /// Results do not change: only where the memory comes from.
    static func keepFreedMemory() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
