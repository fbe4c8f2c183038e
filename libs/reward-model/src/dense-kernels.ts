// Hot loops call `abs` through module-level bindings rather than `Math.…`: inside a vm context (jest's test
// environment) every global lookup goes through an interceptor, which made `abs` kernels 5× slower under test.
const abs = Math.abs;

/*
 * The dense kernels every forward and backward pass runs on. All take Float32Array only (one hidden class per call
 * site keeps V8's code monomorphic) and allocate nothing. The inner loops run over contiguous memory with a 2×4
 * register block: two rows of A against four rows of B share their loads, which is ~2.3× a plain dot-product loop.
 */

/**
 * C[i·ldc + j] = bias[j] + Σ_k A[i·lda + k] · B[j·ldb + k] for i < m, j < n (A is m×K, B is n×K, both row-major
 * with row strides lda and ldb), then max(·, 0) when `relu`. `bias` needs n entries (pass zeros for none).
 */
export function gemmNT(
  A: Float32Array,
  lda: number,
  m: number,
  B: Float32Array,
  ldb: number,
  n: number,
  K: number,
  C: Float32Array,
  ldc: number,
  bias: Float32Array,
  relu: boolean,
): void {
  const m2 = m - (m & 1);
  const n4 = n - (n & 3);
  for (let i = 0; i < m2; i += 2) {
    const a0 = i * lda;
    const a1 = a0 + lda;
    const c0 = i * ldc;
    const c1 = c0 + ldc;
    for (let j = 0; j < n4; j += 4) {
      const b0 = j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        const y = A[a1 + k];
        const w0 = B[b0 + k];
        const w1 = B[b1 + k];
        const w2 = B[b2 + k];
        const w3 = B[b3 + k];
        s00 += x * w0;
        s01 += x * w1;
        s02 += x * w2;
        s03 += x * w3;
        s10 += y * w0;
        s11 += y * w1;
        s12 += y * w2;
        s13 += y * w3;
      }
      const v00 = s00 + bias[j];
      const v01 = s01 + bias[j + 1];
      const v02 = s02 + bias[j + 2];
      const v03 = s03 + bias[j + 3];
      const v10 = s10 + bias[j];
      const v11 = s11 + bias[j + 1];
      const v12 = s12 + bias[j + 2];
      const v13 = s13 + bias[j + 3];
      // ReLU as (v + |v|)/2, which is exact and branch-free: a data-dependent branch here mispredicts half the
      // time and cost ~20% of the whole product.
      C[c0 + j] = relu ? (v00 + abs(v00)) * 0.5 : v00;
      C[c0 + j + 1] = relu ? (v01 + abs(v01)) * 0.5 : v01;
      C[c0 + j + 2] = relu ? (v02 + abs(v02)) * 0.5 : v02;
      C[c0 + j + 3] = relu ? (v03 + abs(v03)) * 0.5 : v03;
      C[c1 + j] = relu ? (v10 + abs(v10)) * 0.5 : v10;
      C[c1 + j + 1] = relu ? (v11 + abs(v11)) * 0.5 : v11;
      C[c1 + j + 2] = relu ? (v12 + abs(v12)) * 0.5 : v12;
      C[c1 + j + 3] = relu ? (v13 + abs(v13)) * 0.5 : v13;
    }
    for (let j = n4; j < n; j++) {
      const b0 = j * ldb;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < K; k++) {
        const w = B[b0 + k];
        s0 += A[a0 + k] * w;
        s1 += A[a1 + k] * w;
      }
      s0 += bias[j];
      s1 += bias[j];
      C[c0 + j] = relu ? (s0 + abs(s0)) * 0.5 : s0;
      C[c1 + j] = relu ? (s1 + abs(s1)) * 0.5 : s1;
    }
  }
  if (m2 < m) {
    const a0 = m2 * lda;
    const c0 = m2 * ldc;
    for (let j = 0; j < n; j++) {
      const b0 = j * ldb;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      s += bias[j];
      C[c0 + j] = relu ? (s + abs(s)) * 0.5 : s;
    }
  }
}

/**
 * Row stride for a transposed buffer of `rows` columns: ≡ 16 (mod 1024) floats, so the 64-byte lines of successive
 * rows fall in different L1 sets. A stride that is a multiple of 4 KiB maps every row to the same set and made the
 * transposes 5× slower.
 */
export function paddedStride(rows: number): number {
  return Math.ceil(rows / 1024) * 1024 + 16;
}

/** out[i] = Σ_k A[i·K + k] · w[k] + bias, for i < m. */
export function matVec(A: Float32Array, m: number, K: number, w: Float32Array, bias: number, out: Float32Array): void {
  const K4 = K - (K & 3);
  for (let i = 0; i < m; i++) {
    const a = i * K;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
    for (let k = 0; k < K4; k += 4) {
      s0 += A[a + k] * w[k];
      s1 += A[a + k + 1] * w[k + 1];
      s2 += A[a + k + 2] * w[k + 2];
      s3 += A[a + k + 3] * w[k + 3];
    }
    for (let k = K4; k < K; k++) s0 += A[a + k] * w[k];
    out[i] = s0 + s1 + s2 + s3 + bias;
  }
}

/** dst[c·ldd + r] = src[r·cols + c]: the transpose of a row-major rows × cols matrix, into rows of stride ldd. */
export function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array, ldd: number): void {
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    for (let c = 0; c < cols; c++) dst[c * ldd + r] = src[s + c];
  }
}
