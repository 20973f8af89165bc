import CBLAS

/// Matrix products through OpenBLAS, run single-threaded inside the engine's own thread pool.
///
/// OpenBLAS's threads and the pool's would otherwise spin against each other on 2 cores (a
/// third of prefill time went to the scheduler); one pool for everything avoids that, and the
/// pool splits a product across its threads by output columns (or rows when it is narrow).
enum BLAS {
    /// Set once, before the first product.
    static let singleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Below this many multiply-adds a product stays on one thread: a fork costs more.
    static let parallelMinimum = 1 << 18
}

/// C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C, row-major.
/// Leading dimensions default to the packed widths.
@inline(__always)
package func gemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
          _ a: UnsafePointer<Float>, lda: Int? = nil, _ b: UnsafePointer<Float>, ldb: Int? = nil,
          beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int? = nil, parallel: Bool = true) {
    guard m > 0, n > 0 else { return }
    let ldc = ldc ?? n
    guard k > 0 else {
        if beta == 0 { for i in 0..<m { (c + i * ldc).initialize(repeating: 0, count: n) } }
        return
    }
    _ = BLAS.singleThreaded
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n)
    func run(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    guard parallel, m * n * k >= BLAS.parallelMinimum, Parallel.threadCount > 1 else {
        run(m, n, a, b, c)
        return
    }
    if n >= 64 * Parallel.threadCount {
        // split the columns of C: columns of op(B)
        Parallel.forRanges(n, granularity: 16) { s, e in
            run(m, e - s, a, transB ? b + s * ldb : b + s, c + s)
        }
    } else {
        // split the rows of C: rows of op(A)
        Parallel.forRanges(m, granularity: 4) { s, e in
            run(e - s, n, transA ? a + s : a + s * lda, b, c + s * ldc)
        }
    }
}
