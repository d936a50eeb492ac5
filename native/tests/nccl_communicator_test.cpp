// NCCL communicator (dlopen of libnccl): the unique id is 256 hex characters, or a clear error
// where NCCL/CUDA is missing; on one GPU a one-rank communicator's collectives; on two or more
// GPUs, two ranks (one thread each) all-reduce, all-gather and broadcast. Run: ctest -R Nccl
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "test_util.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"

namespace tpserve {
namespace {

// The id, or "" with the reason in *why.
std::string try_unique_id(std::string* why) {
  try {
    return create_nccl_unique_id();
  } catch (const Error& e) {
    *why = e.what();
    return "";
  }
}

TEST(Nccl, UniqueIdIsHexOrAClearError) {
  std::string why;
  std::string id = try_unique_id(&why);
  if (id.empty()) {
    EXPECT_TRUE(why.find("libnccl not found") != std::string::npos || why.find("not available") != std::string::npos)
        << why;
    return;
  }
  ASSERT_EQ(id.size(), 256u);
  for (char c : id) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_THROW(make_nccl_communicator("zz", 0, 1, 0), Error);
}

// One rank's part of the checks: data = rank + 1 + i; sum over ranks; gather; broadcast from 0.
void run_rank(const std::string& id, int rank, int size, std::string* failure) {
  try {
    auto be = make_cuda_backend(rank);
    const int64_t n = 1000;
    Tensor buf = be->alloc(DType::F32, {n});
    Tensor gathered = be->alloc(DType::F32, {size * n});
    std::vector<float> host(n);
    for (int64_t i = 0; i < n; i++) host[i] = static_cast<float>(rank + 1 + i);
    be->copy_to_device(buf.data(), host.data(), n * 4);  // also binds the backend's stream here
    auto comm = make_nccl_communicator(id, rank, size, rank);
    EXPECT_STREQ(comm->kind(), "nccl");
    comm->all_gather(buf.ptr<float>(), n, gathered.ptr<float>());
    comm->all_reduce_sum(buf.ptr<float>(), n);
    std::vector<float> sum(n), all(size * n);
    be->copy_to_host(sum.data(), buf.data(), n * 4);
    be->copy_to_host(all.data(), gathered.data(), all.size() * 4);
    for (int64_t i = 0; i < n; i++) {
      float want = 0;
      for (int r = 0; r < size; r++) want += static_cast<float>(r + 1 + i);
      if (sum[i] != want) throw std::runtime_error("all_reduce wrong at " + std::to_string(i));
      for (int r = 0; r < size; r++)
        if (all[r * n + i] != static_cast<float>(r + 1 + i)) throw std::runtime_error("all_gather wrong");
    }
    int32_t token = rank == 0 ? 4242 : -1;
    Tensor tb = be->alloc(DType::F32, {1});
    be->copy_to_device(tb.data(), &token, 4);
    comm->broadcast(tb.data(), 4, 0);
    be->copy_to_host(&token, tb.data(), 4);
    if (token != 4242) throw std::runtime_error("broadcast wrong: " + std::to_string(token));
  } catch (const std::exception& e) {
    *failure = e.what();
  }
}

int count_gpus() {
  for (int i = 0; i < 16; i++) {
    try {
      make_cuda_backend(i);
    } catch (const Error&) {
      return i;
    }
  }
  return 16;
}

TEST(Nccl, CollectivesOnEveryGpu) {
  const int gpus = count_gpus();
  if (gpus == 0) GTEST_SKIP() << "no CUDA GPU found";
  std::string why;
  std::string id = try_unique_id(&why);
  if (id.empty()) GTEST_SKIP() << why;
  const int size = std::min(gpus, 2);  // one rank on one GPU, two ranks where there are two
  std::vector<std::string> failures(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; r++) threads.emplace_back(run_rank, id, r, size, &failures[r]);
  for (auto& t : threads) t.join();
  for (int r = 0; r < size; r++) EXPECT_EQ(failures[r], "") << "rank " << r;
}

}  // namespace
}  // namespace tpserve
