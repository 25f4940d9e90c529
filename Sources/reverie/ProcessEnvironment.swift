import Foundation

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
}
