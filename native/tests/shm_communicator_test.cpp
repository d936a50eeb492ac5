// Communicator tests: the single-rank no-op, and the shared-memory communicator with 2-4 real
// processes forked inside the test (collectives on odd sizes, chunking, missing and dead ranks).
//   ctest --test-dir native/build --output-on-failure -R 'Shm|Single'
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "comm/shm_communicator.h"
#include "comm_test_util.h"
#include "tpserve/communicator.h"
#include "tpserve/error.h"

namespace tpserve {
namespace {

bool shm_name_exists(const std::string& id) { return access(("/dev/shm/" + id).c_str(), F_OK) == 0; }

TEST(SingleCommunicatorTest, CollectivesAreNoOpsOrCopies) {
  auto comm = make_single_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_STREQ(comm->kind(), "single");
  std::vector<float> data = {1.5f, -2.0f, 3.0f};
  comm->all_reduce_sum(data.data(), 3);
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f, 3.0f}));
  std::vector<float> recv(3, 0.0f);
  comm->all_gather(data.data(), 3, recv.data());
  EXPECT_EQ(recv, data);
  comm->broadcast(data.data(), 12, 0);
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f, 3.0f}));
  EXPECT_THROW(comm->broadcast(data.data(), 12, 1), Error);
}

TEST(ShmCommunicatorTest, UniqueIdsArePrintableAndDistinct) {
  std::string a = create_shm_unique_id(), b = create_shm_unique_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("tpserve-shm-", 0), 0u);
  for (char c : a) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-') << a;
}

class ShmCollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(ShmCollectivesTest, MatchReferenceOnOddSizes) {
  const int size = GetParam();
  const std::vector<int64_t> counts = {1, 7, 1000003};  // the last spans two 2 MiB chunks
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  // the all-reduce results of every rank come back to the parent through a shared mapping
  SharedFloats shared(size * total);
  float* results = shared.data();  // [size][total]
  const std::string id = create_shm_unique_id();

  auto codes = run_ranks(size, [&](int rank) {
    auto comm = make_shm_communicator(id, rank, size, 20000);
    if (comm->rank() != rank || comm->size() != size || std::strcmp(comm->kind(), "shm") != 0) return 2;
    if (rank == 0 && shm_name_exists(id)) return 3;  // unlinked once everyone joined
    return check_collectives(*comm, rank, size, counts, results + rank * total);
  });

  for (int r = 0; r < size; r++) EXPECT_EQ(codes[r], 0) << "rank " << r;
  EXPECT_FALSE(shm_name_exists(id));
  expect_all_reduce_results(results, size, counts);
}

INSTANTIATE_TEST_SUITE_P(Ranks, ShmCollectivesTest, ::testing::Values(2, 3, 4));

TEST(ShmCommunicatorTest, SmallSlotsChunkEveryCollective) {
  const std::string id = create_shm_unique_id();
  auto codes = run_ranks(3, [&](int rank) {
    ShmOptions options;
    options.slot_bytes = 64;  // 16 floats per chunk
    auto comm = make_shm_communicator(id, rank, 3, options);
    std::vector<float> data(101);
    for (int i = 0; i < 101; i++) data[i] = value(rank, i);
    comm->all_reduce_sum(data.data(), 101);
    for (int i = 0; i < 101; i++)
      if (data[i] != value(0, i) + value(1, i) + value(2, i)) return 2;
    std::vector<float> recv(3 * 101);
    for (int i = 0; i < 101; i++) data[i] = value(rank, i);
    comm->all_gather(data.data(), 101, recv.data());
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 101; i++)
        if (recv[r * 101 + i] != value(r, i)) return 3;
    return 0;
  });
  for (int r = 0; r < 3; r++) EXPECT_EQ(codes[r], 0) << "rank " << r;
}

TEST(ShmCommunicatorTest, MissingRankTimesOutNamingIt) {
  const std::string id = create_shm_unique_id();
  const auto start = std::chrono::steady_clock::now();
  auto codes = run_ranks(2, [&](int rank) {  // ranks 0 and 1 of a group of 3: rank 2 never comes
    try {
      make_shm_communicator(id, rank, 3, 300);
    } catch (const Error& e) {
      return std::string(e.what()).find("ranks 2 of 3 did not join") != std::string::npos ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_FALSE(shm_name_exists(id));

  // rank 0 itself missing: the others give up too
  codes = run_ranks(1, [&](int) {
    try {
      make_shm_communicator(create_shm_unique_id(), 1, 2, 200);
    } catch (const Error& e) {
      return std::string(e.what()).find("rank 0 did not create") != std::string::npos ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0}));
}

TEST(ShmCommunicatorTest, RankThatStopsCallingTimesOutTheCollective) {
  const std::string id = create_shm_unique_id();
  auto codes = run_ranks(2, [&](int rank) {
    ShmOptions options;
    options.collective_timeout_ms = 400;
    auto comm = make_shm_communicator(id, rank, 2, options);
    if (rank == 1) {  // alive but never arrives
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      return 0;
    }
    float x = 1.0f;
    try {
      comm->all_reduce_sum(&x, 1);
    } catch (const Error& e) {
      std::string msg = e.what();
      bool ok = msg.find("shm all_reduce: rank 1 did not arrive within 400 ms (peer dead?)") != std::string::npos;
      if (!ok) fprintf(stderr, "unexpected message: %s\n", msg.c_str());
      // broken afterwards: fails fast instead of hanging
      try {
        comm->all_reduce_sum(&x, 1);
      } catch (const Error&) {
        return ok ? 0 : 2;
      }
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

TEST(ShmCommunicatorTest, DeadPeerIsDetectedBeforeTheTimeout) {
  const std::string id = create_shm_unique_id();
  const auto start = std::chrono::steady_clock::now();
  auto codes = run_ranks(2, [&](int rank) {
    ShmOptions options;
    options.collective_timeout_ms = 20000;
    auto comm = make_shm_communicator(id, rank, 2, options);
    if (rank == 1) _exit(0);  // dies without a word
    float x = 1.0f;
    try {
      comm->all_reduce_sum(&x, 1);
    } catch (const Error& e) {
      return std::string(e.what()).find("rank 1 (pid") != std::string::npos ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ShmCommunicatorTest, MismatchedCollectivesAreReported) {
  const std::string id = create_shm_unique_id();
  auto codes = run_ranks(2, [&](int rank) {
    ShmOptions options;
    options.collective_timeout_ms = 2000;
    auto comm = make_shm_communicator(id, rank, 2, options);
    std::vector<float> data(8, 1.0f);
    try {
      comm->all_reduce_sum(data.data(), rank == 0 ? 8 : 7);
    } catch (const Error& e) {
      return std::string(e.what()).find("ranks disagree") != std::string::npos ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

}  // namespace
}  // namespace tpserve
