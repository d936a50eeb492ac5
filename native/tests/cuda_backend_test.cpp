// CudaBackend: the clear "no CUDA GPU found" error where there is none; on a GPU, zeroed
// allocations, chunked uploads (with dtype conversion), 2-D copies, and the cuBLASLt linear
// against a double reference (bf16/f16/f32 weights, with and without bias, GEMV and GEMM
// shapes, NaN-poisoned outputs). GPU tests skip with "no CUDA GPU found". Run: ctest -R CudaBackend
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_util.h"
#include "tpserve/backend.h"

#ifdef TPSERVE_WITH_CUDA
#include "kernels/cuda/cublaslt.h"
#endif

namespace tpserve {
namespace {

// The backend, or the reason there is none.
std::unique_ptr<Backend> try_gpu(std::string* why) {
  try {
    return make_cuda_backend(0);
  } catch (const Error& e) {
    *why = e.what();
    return nullptr;
  }
}

#define GPU_OR_SKIP(be)                         \
  std::string why_;                             \
  auto be = try_gpu(&why_);                     \
  if (!be) GTEST_SKIP() << why_;

TEST(CudaBackend, MissingGpuOrCudaGivesAClearError) {
  std::string why;
  auto be = try_gpu(&why);
  if (be) GTEST_SKIP() << "a GPU is present: " << be->describe();
  if (cuda_compiled()) EXPECT_NE(why.find("no CUDA GPU found"), std::string::npos) << why;
  else EXPECT_NE(why.find("no CUDA support"), std::string::npos) << why;
}

TEST(CudaBackend, AllocIsZeroedAndCopiesRoundTrip) {
  GPU_OR_SKIP(be);
  EXPECT_NE(be->describe().find("cuda:0"), std::string::npos);
  EXPECT_GT(be->free_memory_bytes(), size_t{0});
  Tensor t = be->alloc(DType::F32, {3, 1001});
  std::vector<float> host(3 * 1001, 7.f);
  be->copy_to_host(host.data(), t.data(), host.size() * 4);
  for (float v : host) ASSERT_EQ(v, 0.f);
  auto src = test::random_floats(host.size(), 5);
  be->copy_to_device(t.data(), src.data(), src.size() * 4);
  // copy_2d: columns [10, 510) of each row into a packed [3, 500] buffer.
  Tensor packed = be->alloc(DType::F32, {3, 500});
  be->copy_2d(packed.data(), 500 * 4, t.ptr<float>() + 10, 1001 * 4, 500 * 4, 3);
  std::vector<float> got(3 * 500);
  be->copy_to_host(got.data(), packed.data(), got.size() * 4);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 500; c++) ASSERT_EQ(got[r * 500 + c], src[r * 1001 + 10 + c]);
}

TEST(CudaBackend, UploadConvertsAndCrossesStagingChunks) {
  GPU_OR_SKIP(be);
  // 40M bf16 elements: 80 MB, more than one 64 MiB staging chunk.
  const int64_t n = 40'000'000;
  auto vals = test::random_floats(static_cast<size_t>(n), 9);
  Tensor host_f32 = test::make_tensor(DType::F32, {n}, vals);
  Tensor dev = be->upload(host_f32, DType::BF16);
  EXPECT_EQ(dev.dtype(), DType::BF16);
  EXPECT_EQ(dev.device().kind, DeviceKind::Cuda);
  std::vector<uint16_t> back(static_cast<size_t>(n));
  be->copy_to_host(back.data(), dev.data(), back.size() * 2);
  for (int64_t i = 0; i < n; i += 9973) ASSERT_EQ(back[i], float_to_bf16(vals[i])) << i;
  ASSERT_EQ(back[n - 1], float_to_bf16(vals[n - 1]));
  Tensor same = be->upload(dev, DType::BF16);  // already on the device: same storage
  EXPECT_EQ(same.data(), dev.data());
}

TEST(CudaBackend, LinearMatchesDoubleReference) {
  GPU_OR_SKIP(be);
  bool has_cublaslt = false;
#ifdef TPSERVE_WITH_CUDA
  has_cublaslt = cuda::cublaslt_available();
  if (!has_cublaslt) std::printf("note: %s (testing the fallback kernel)\n", cuda::cublaslt_load_error().c_str());
#endif
  struct Shape {
    int64_t m, n, k;
  };
  uint32_t seed = 100;
  for (DType wdt : test::all_dtypes())
    for (Shape s : {Shape{1, 384, 256}, Shape{3, 1000, 264}, Shape{64, 512, 512}, Shape{300, 96, 1024}})
      for (bool with_bias : {false, true}) {
        auto x = test::random_floats(static_cast<size_t>(s.m * s.k), seed++);
        auto wv = test::random_floats(static_cast<size_t>(s.n * s.k), seed++);
        auto bv = test::random_floats(static_cast<size_t>(s.n), seed++);
        Tensor w = be->upload(test::make_tensor(wdt, {s.n, s.k}, wv), wdt);
        Tensor b = be->upload(test::make_tensor(DType::F32, {s.n}, bv), DType::F32);
        Tensor dx = be->alloc(DType::F32, {s.m, s.k});
        Tensor dy = be->alloc(DType::F32, {s.m, s.n});
        be->copy_to_device(dx.data(), x.data(), x.size() * 4);
        auto y = test::nan_filled(static_cast<size_t>(s.m * s.n));
        be->copy_to_device(dy.data(), y.data(), y.size() * 4);  // poison: unwritten rows stay NaN
        be->linear(dx.ptr<float>(), w, with_bias ? &b : nullptr, s.m, dy.ptr<float>());
        be->copy_to_host(y.data(), dy.data(), y.size() * 4);
        // 16-bit weights: the GPU rounds x to the weight's dtype first; compare against that.
        std::vector<float> xr = x;
        if (wdt != DType::F32)
          for (float& v : xr) v = test::round_to(wdt, v);
        double err = test::rel_error(y, test::linear_reference(xr, wv, with_bias ? &bv : nullptr, s.m, s.n, s.k));
        // fp32 accumulation in another order; the fallback kernel keeps x in fp32 (then the
        // rounded-x reference is off by the bf16 rounding of x).
        double tol = wdt == DType::F32 ? 1e-5 : has_cublaslt ? 1e-4 : 1e-2;
        EXPECT_LT(err, tol) << dtype_name(wdt) << " m=" << s.m << " n=" << s.n << " k=" << s.k << " bias=" << with_bias;
      }
}

}  // namespace
}  // namespace tpserve
