package io.sn11.engine.backend.cuda;

/**
 * The engine's row-major {@code Y[rows x out] = X[rows x in] . W^T} (W stored {@code [out x in]}, as in Hugging Face
 * checkpoints) as cuBLASLt's column-major {@code D[m x n] = op(A)[m x k] . op(B)[k x n]}, without moving any data.
 *
 * <p>The trick: a row-major matrix read column-major is its transpose. So W's bytes are a column-major
 * {@code [in x out]} matrix (W^T, leading dimension in), X's bytes a column-major {@code [in x rows]} (X^T), and a
 * column-major {@code [out x rows]} result (Y^T, leading dimension out) has exactly Y's row-major bytes. Since
 * {@code Y^T = W . X^T = (W^T)^T . X^T}: A is W's bytes with op(A) = transpose, B is X's bytes as they are, and
 * m = out, n = rows, k = in. This "TN" form is also the one cuBLASLt's fastest bf16 kernels are built for, and its
 * bias epilogue (one value per row of D) adds one bias per output, as the model wants.
 *
 * @param transposeA cuBLAS's CUBLAS_OP_T for A (always true here; spelled out for the descriptor)
 */
record MatmulLayout(long m, long n, long k, boolean transposeA, Matrix a, Matrix b, Matrix d) {

    /** A matrix as cuBLASLt stores it: column-major, {@code rows x cols}, {@code ld} elements between columns. */
    record Matrix(long rows, long cols, long ld) {}

    static MatmulLayout rowMajor(int rows, int in, int out) {
        if (rows < 1 || in < 1 || out < 1) throw new IllegalArgumentException("empty matmul " + rows + "x" + in + "x" + out);
        return new MatmulLayout(out, rows, in, true,
                new Matrix(in, out, in),    // W [out x in] row-major
                new Matrix(in, rows, in),   // X [rows x in] row-major
                new Matrix(out, rows, out)  // Y [rows x out] row-major
        );
    }
}
