// CUDA quantized linear against its CPU twin on the same quantized weights (int8, int4 g128 / g64
// with zero points, fp8 per channel; with and without an act-order permutation; odd n and k):
//   - upload to the device layout + dequantize_weight_bf16: bit-equal to the CPU dequantize_rows
//     rounded to bf16 (the same fp32 expression, rounded to nearest even);
//   - quantized_gemv (m = 1, 3, 8): within 1e-4 of cpu::linear_quantized (fp32, other sum order);
//   - the backend's linear (m = 1, 3, 19: GEMV slices; 64: dequantize + bf16 cuBLASLt GEMM): within 1e-4
//     of the CPU float GEMM on the bf16-rounded x and W it multiplies, and within 2e-2 of
//     cpu::linear_quantized (also in chunks of 128 rows writing their columns of y); without
//     cuBLASLt (GEMV over 8-row slices) within 1e-4.
//   - FP8 with one scale per tensor at m = 64: on sm_89+ the FP8 cuBLASLt GEMM, within 1e-3 of a
//     double GEMM on x rounded to e4m3 with the dynamic per-tensor scale (and not the bf16 path);
//     below sm_89 or with TPSERVE_CUDA_FP8_GEMM=0 the bf16 path; quantize_fp8_per_tensor
//     bit-equal to float_to_fp8_e4m3 with the same scale.
// Outputs are poisoned with NaN. Skips with "no CUDA GPU found" without a GPU. Run: ctest -R CudaQuantized
#ifdef TPSERVE_WITH_CUDA
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>

#include "engine/cuda_backend.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dequantize_weight.cuh"
#include "kernels/cuda/fp8_quantize.cuh"
#include "kernels/cuda/linear_quantized.cuh"
#include "kernels/cuda/quantized_gemv.cuh"
#include "test_util.h"
#include "tpserve/backend.h"

namespace tpserve {
namespace {

struct Case {
  WeightFormat format;
  int64_t n, k, group;
  bool perm;
};

std::string name_of(const Case& c) {
  return std::string(weight_format_name(c.format)) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " g=" + std::to_string(c.group) + (c.perm ? " perm" : "");
}

const Case kCases[] = {
    {WeightFormat::Int8, 37, 83, 0, false},  {WeightFormat::Int8, 45, 256, 0, true},
    {WeightFormat::Fp8, 37, 83, 0, false},   {WeightFormat::Fp8, 45, 256, 0, true},
    {WeightFormat::Int4, 37, 384, 128, false}, {WeightFormat::Int4, 45, 384, 128, true},
    {WeightFormat::Int4, 19, 192, 64, false}, {WeightFormat::Int8, 300, 1100, 0, false},
    {WeightFormat::Int4, 300, 1280, 128, false},
};

LinearWeight make_weight(const Case& c, uint32_t seed) {
  auto wv = test::random_floats(static_cast<size_t>(c.n * c.k), seed);
  LinearWeight w = quantize_weight(test::make_tensor(DType::F32, {c.n, c.k}, wv), c.format, c.group ? c.group : 128);
  if (c.perm) {  // a permutation of the input columns, as GPTQ act-order stores them
    w.perm = Tensor::empty_cpu(DType::I32, {c.k});
    std::iota(w.perm.ptr<int32_t>(), w.perm.ptr<int32_t>() + c.k, 0);
    for (int64_t i = 0; i < c.k; i++) std::swap(w.perm.ptr<int32_t>()[i], w.perm.ptr<int32_t>()[(i * 7 + 3) % c.k]);
  }
  return w;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

class CudaQuantized : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      be_ = make_cuda_backend(0);
    } catch (const Error& e) {
      GTEST_SKIP() << e.what();
    }
  }
  template <typename T>
  Tensor device(const std::vector<T>& host, DType dt, std::vector<int64_t> shape) {
    Tensor t = be_->alloc(dt, std::move(shape));
    be_->copy_to_device(t.data(), host.data(), host.size() * sizeof(T));
    return t;
  }
  std::vector<float> host(const Tensor& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    be_->copy_to_host(out.data(), t.data(), out.size() * 4);
    return out;
  }
  std::unique_ptr<Backend> be_;
};

TEST_F(CudaQuantized, DequantizeIsBitEqualToTheCpu) {
  for (const Case& c : kCases) {
    const LinearWeight w = make_weight(c, 3);
    const LinearWeight dw = be_->upload_quantized(w);
    EXPECT_FALSE(dw.per_tensor_scale) << name_of(c) << ": quantize_weight gives one scale per row";
    const int64_t r0 = 5, rows = c.n - 9;
    std::vector<float> want(static_cast<size_t>(rows * c.k));
    dequantize_rows(w, r0, r0 + rows, want.data());
    std::vector<uint16_t> poison(want.size(), 0x7fc0);  // bf16 NaN
    Tensor out = device(poison, DType::BF16, {rows, c.k});
    cuda::dequantize_weight_bf16(dw, r0, rows, out.data());
    std::vector<uint16_t> got(want.size());
    be_->copy_to_host(got.data(), out.data(), got.size() * 2);
    for (size_t i = 0; i < want.size(); i++)
      ASSERT_EQ(got[i], float_to_bf16(want[i])) << name_of(c) << " element " << i;
  }
}

TEST_F(CudaQuantized, GemvMatchesTheCpuKernel) {
  for (const Case& c : kCases)
    for (int64_t m : {1, 3, 8}) {
      const LinearWeight w = make_weight(c, 5);
      const LinearWeight dw = be_->upload_quantized(w);
      auto x = test::random_floats(static_cast<size_t>(m * c.k), 6);
      auto bv = test::random_floats(static_cast<size_t>(c.n), 7);
      Tensor b = test::make_tensor(DType::F32, {c.n}, bv);
      std::vector<float> want(static_cast<size_t>(m * c.n));
      cpu::linear_quantized(x.data(), w, &b, m, want.data());
      Tensor dx = device(x, DType::F32, {m, c.k}), db = device(bv, DType::F32, {c.n});
      Tensor y = device(test::nan_filled(want.size()), DType::F32, {m, c.n});
      cuda::quantized_gemv(dx.ptr<float>(), dw, db.ptr<float>(), m, y.ptr<float>());
      EXPECT_LT(test::rel_error(host(y), to_double(want)), 1e-4) << name_of(c) << " m=" << m;
    }
}

// y = round_x(x) . round_w(W)^T + b in double, W dequantized by the CPU.
template <typename RoundX, typename RoundW>
std::vector<double> rounded_reference(const std::vector<float>& x, const LinearWeight& w, const std::vector<float>& b,
                                      int64_t m, RoundX round_x, RoundW round_w) {
  const int64_t n = w.out_features(), k = w.in_features();
  Tensor wf = dequantize_weight(w);
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t r = 0; r < n; r++) {
      double s = b[r];
      for (int64_t c = 0; c < k; c++) s += round_x(x[i * k + c]) * round_w(wf.ptr<float>()[r * k + c]);
      y[i * n + r] = s;
    }
  return y;
}

// The bf16-rounded x and W the dequantize + bf16 cuBLASLt path multiplies.
std::vector<double> bf16_reference(const std::vector<float>& x, const LinearWeight& w, const std::vector<float>& b,
                                   int64_t m) {
  auto bf16 = [](float v) { return static_cast<double>(test::round_to(DType::BF16, v)); };
  return rounded_reference(x, w, b, m, bf16, bf16);
}

TEST_F(CudaQuantized, BackendLinearMatchesTheCpuOnEveryPath) {
  cuda::CublasLt* blas = cuda::backend_cublaslt(*be_);
  for (const Case& c : kCases)
    for (int64_t m : {1, 3, 19, 64})
      for (DType bias_dtype : {DType::F32, DType::BF16}) {
        const LinearWeight w = make_weight(c, 9);
        const LinearWeight dw = be_->upload_quantized(w);
        auto x = test::random_floats(static_cast<size_t>(m * c.k), 10);
        auto bv = test::random_floats(static_cast<size_t>(c.n), 11);
        Tensor b = test::make_tensor(bias_dtype, {c.n}, bv);  // bv rounded to the bias dtype
        std::vector<float> want(static_cast<size_t>(m * c.n));
        cpu::linear_quantized(x.data(), w, &b, m, want.data());
        Tensor dx = device(x, DType::F32, {m, c.k});
        Tensor db = be_->upload(b, bias_dtype);
        const std::string what = name_of(c) + " m=" + std::to_string(m) + " bias " + dtype_name(bias_dtype);

        Tensor y = device(test::nan_filled(want.size()), DType::F32, {m, c.n});
        be_->linear(dx.ptr<float>(), dw, &db, m, y.ptr<float>());
        const std::vector<float> got = host(y);
        if (m >= cuda::kQuantGemmMinRows && blas) {
          EXPECT_LT(test::rel_error(got, bf16_reference(x, w, bv, m)), 1e-4) << what;
          EXPECT_LT(test::rel_error(got, to_double(want)), 2e-2) << what;
        } else {
          EXPECT_LT(test::rel_error(got, to_double(want)), 1e-4) << what;
        }
        if (m >= cuda::kQuantGemmMinRows && blas && c.n > 128) {  // chunks of 128 rows, each into its columns of y
          Tensor y3 = device(test::nan_filled(want.size()), DType::F32, {m, c.n});
          cuda::linear_quantized(dx.ptr<float>(), dw, &db, m, y3.ptr<float>(), blas, 128 * c.k);
          EXPECT_LT(test::rel_error(host(y3), bf16_reference(x, w, bv, m)), 1e-4) << what << " (chunks)";
        }
        Tensor y2 = device(test::nan_filled(want.size()), DType::F32, {m, c.n});
        cuda::linear_quantized(dx.ptr<float>(), dw, &db, m, y2.ptr<float>(), nullptr);  // no cuBLASLt: GEMV slices
        EXPECT_LT(test::rel_error(host(y2), to_double(want)), 1e-4) << what << " (no cuBLASLt)";
      }
}

// The scale and codes quantize_fp8_per_tensor must give for x.
float fp8_scale_of(const std::vector<float>& x) {
  float amax = 0.f;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  return amax > 0.f ? amax / 448.f : 1.f;
}

TEST_F(CudaQuantized, Fp8ActivationQuantizationIsBitEqualToTheCpu) {
  auto x = test::random_floats(1001, 41, -3.f, 2.f);
  const float scale = fp8_scale_of(x);
  Tensor dx = device(x, DType::F32, {1001});
  Tensor q = be_->alloc(DType::U8, {1001}), amax_scale = be_->alloc(DType::F32, {2});
  cuda::quantize_fp8_per_tensor(dx.ptr<float>(), 1001, q.data(), amax_scale.ptr<float>());
  std::vector<uint8_t> got(1001);
  be_->copy_to_host(got.data(), q.data(), got.size());
  const std::vector<float> s = host(amax_scale);
  EXPECT_EQ(s[1], scale);
  for (size_t i = 0; i < x.size(); i++) ASSERT_EQ(got[i], float_to_fp8_e4m3(x[i] / scale)) << "element " << i;
}

// x rounded to e4m3 with its dynamic per-tensor scale (what the FP8 GEMM path multiplies), W exact.
std::vector<double> fp8_activation_reference(const std::vector<float>& x, const LinearWeight& w,
                                             const std::vector<float>& b, int64_t m) {
  const float scale = fp8_scale_of(x);
  auto fp8 = [scale](float v) { return static_cast<double>(fp8_e4m3_to_float(float_to_fp8_e4m3(v / scale))) * scale; };
  return rounded_reference(x, w, b, m, fp8, [](float v) { return static_cast<double>(v); });
}

TEST_F(CudaQuantized, PerTensorFp8TakesTheFp8GemmOnSm89) {
  cuda::CublasLt* blas = cuda::backend_cublaslt(*be_);
  if (!blas) GTEST_SKIP() << cuda::cublaslt_load_error();
  const int64_t m = 64, n = 48, k = 256;
  LinearWeight w = make_weight(Case{WeightFormat::Fp8, n, k, 0, false}, 43);
  for (int64_t r = 0; r < n; r++) w.scales.ptr<float>()[r] = w.scales.ptr<float>()[0];  // one scale per tensor
  const LinearWeight dw = be_->upload_quantized(w);
  EXPECT_TRUE(dw.per_tensor_scale);
  auto x = test::random_floats(static_cast<size_t>(m * k), 44);
  auto bv = test::random_floats(static_cast<size_t>(n), 45);
  Tensor dx = device(x, DType::F32, {m, k}), db = device(bv, DType::F32, {n});
  auto run = [&] {
    Tensor y = device(test::nan_filled(static_cast<size_t>(m * n)), DType::F32, {m, n});
    be_->linear(dx.ptr<float>(), dw, &db, m, y.ptr<float>());
    return host(y);
  };
  int dev = 0, major = 0, minor = 0;
  TPS_CUDA_CHECK(cudaGetDevice(&dev));
  TPS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  TPS_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  const std::vector<float> got = run();
  if (major * 10 + minor >= 89) {
    EXPECT_LT(test::rel_error(got, fp8_activation_reference(x, w, bv, m)), 1e-3);
    EXPECT_GT(test::rel_error(got, bf16_reference(x, w, bv, m)), 1e-3) << "the bf16 path ran, not the FP8 GEMM";
  } else {
    EXPECT_LT(test::rel_error(got, bf16_reference(x, w, bv, m)), 1e-4);
  }
  ::setenv("TPSERVE_CUDA_FP8_GEMM", "0", 1);
  const std::vector<float> off = run();
  ::unsetenv("TPSERVE_CUDA_FP8_GEMM");
  EXPECT_LT(test::rel_error(off, bf16_reference(x, w, bv, m)), 1e-4) << "TPSERVE_CUDA_FP8_GEMM=0";
}

TEST_F(CudaQuantized, RejectsAWeightNotInTheDeviceLayout) {
  const LinearWeight w = make_weight(Case{WeightFormat::Int8, 8, 83, 0, false}, 1);
  LinearWeight dw = be_->upload_quantized(w);
  dw.weight = be_->upload(w.weight, DType::I8);  // the host layout (rows of 83 bytes), not the padded one
  Tensor x = be_->alloc(DType::F32, {1, 83}), y = be_->alloc(DType::F32, {1, 8});
  EXPECT_THROW(be_->linear(x.ptr<float>(), dw, nullptr, 1, y.ptr<float>()), Error);
}

}  // namespace
}  // namespace tpserve
#endif  // TPSERVE_WITH_CUDA
