// Gloo communicator tests: 2-4 real processes forked inside the test meet over TCP on 127.0.0.1
// through a TcpStore; the same collective checks as the shared-memory communicator (odd sizes,
// many steps), the rank-0-hosted store of create_gloo_unique_id, missing and dead ranks.
//   ctest --test-dir native/build --output-on-failure -R Gloo
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "comm/gloo_communicator.h"
#include "comm/tcp_store.h"
#include "comm_test_util.h"
#include "tpserve/communicator.h"
#include "tpserve/error.h"

namespace tpserve {
namespace {

#define SKIP_WITHOUT_GLOO() \
  if (!gloo_compiled()) GTEST_SKIP() << "built without Gloo (libgloo-dev not found at configure time)"

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(TcpStoreTest, SetGetAndTimeout) {
  TcpStoreServer server("127.0.0.1", 0);
  TcpStoreClient a("127.0.0.1", server.port(), 2000), b("127.0.0.1", server.port(), 2000);
  a.set("k", {'x', 'y', '\0', 'z'});
  EXPECT_EQ(b.get("k", 1000), (std::vector<char>{'x', 'y', '\0', 'z'}));
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    a.set("late", {'1'});
  });
  EXPECT_EQ(b.get("late", 5000), (std::vector<char>{'1'}));  // get waits for the key
  later.join();
  try {
    b.get("never", 200);
    ADD_FAILURE() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "'never' did not appear within 200 ms")) << e.what();
  }
}

TEST(TcpStoreTest, ConnectFailsNamingTheAddress) {
  int port = 0;
  {
    TcpStoreServer probe("127.0.0.1", 0);  // a port that was free and is closed again
    port = probe.port();
  }
  try {
    TcpStoreClient c("127.0.0.1", port, 200);
    ADD_FAILURE() << "expected a connect error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "cannot connect to rank 0's store at 127.0.0.1:" + std::to_string(port))) << e.what();
  }
}

TEST(GlooCommunicatorTest, IdsNameTheStoreAndAreDistinct) {
  const std::string a = format_gloo_unique_id("10.1.2.3", 4567), b = format_gloo_unique_id("10.1.2.3", 4567);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("gloo-tcp://10.1.2.3:4567/", 0), 0u) << a;
  EXPECT_TRUE(is_gloo_unique_id(a));
  EXPECT_FALSE(is_gloo_unique_id(create_shm_unique_id()));
  EXPECT_EQ(format_gloo_unique_id("::1", 80).rfind("gloo-tcp://[::1]:80/", 0), 0u);
  SKIP_WITHOUT_GLOO();
  EXPECT_THROW(make_gloo_communicator("gloo-tcp://nohostport", 0, 2, 100), Error);
}

class GlooCollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(GlooCollectivesTest, MatchReferenceOnOddSizes) {
  SKIP_WITHOUT_GLOO();
  const int size = GetParam();
  const std::vector<int64_t> counts = {1, 7, 1000003};  // the last spans Gloo's 1 MiB segments
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  SharedFloats shared(size * total);
  TcpStoreServer store("127.0.0.1", 0);  // the parent hosts the store: children cannot share a thread
  const std::string id = format_gloo_unique_id("127.0.0.1", store.port());

  auto codes = run_ranks(size, [&](int rank) {
    auto comm = make_gloo_communicator(id, rank, size, 20000);
    if (comm->rank() != rank || comm->size() != size || std::strcmp(comm->kind(), "gloo") != 0) return 2;
    return check_collectives(*comm, rank, size, counts, shared.data() + rank * total);
  });

  for (int r = 0; r < size; r++) EXPECT_EQ(codes[r], 0) << "rank " << r;
  expect_all_reduce_results(shared.data(), size, counts);
}

INSTANTIATE_TEST_SUITE_P(Ranks, GlooCollectivesTest, ::testing::Values(2, 3, 4));

TEST(GlooCommunicatorTest, RankZeroHostsTheStoreOfItsId) {
  SKIP_WITHOUT_GLOO();
  SharedFloats id_bytes(64);  // rank 0 publishes its id to rank 1 through shared memory
  auto* id_text = reinterpret_cast<char*>(id_bytes.data());
  auto codes = run_ranks(2, [&](int rank) {
    std::string id;
    if (rank == 0) {
      id = create_gloo_unique_id("127.0.0.1");
      std::strncpy(id_text, id.c_str(), 255);
    } else {
      for (int i = 0; i < 2000 && id_text[0] == '\0'; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      id = id_text;
    }
    auto comm = make_gloo_communicator(id, rank, 2, 20000);
    float x = static_cast<float>(rank + 1);
    comm->all_reduce_sum(&x, 1);
    return x == 3.0f ? 0 : 2;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

TEST(GlooCommunicatorTest, MissingRankTimesOut) {
  SKIP_WITHOUT_GLOO();
  TcpStoreServer store("127.0.0.1", 0);
  const std::string id = format_gloo_unique_id("127.0.0.1", store.port());
  const auto start = std::chrono::steady_clock::now();
  auto codes = run_ranks(2, [&](int rank) {  // ranks 0 and 1 of a group of 3: rank 2 never comes
    try {
      make_gloo_communicator(id, rank, 3, 500);
    } catch (const Error& e) {
      return contains(e.what(), "could not join the group") || contains(e.what(), "did not appear") ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

TEST(GlooCommunicatorTest, DeadPeerFailsTheCollectiveAndBreaksTheGroup) {
  SKIP_WITHOUT_GLOO();
  TcpStoreServer store("127.0.0.1", 0);
  const std::string id = format_gloo_unique_id("127.0.0.1", store.port());
  const auto start = std::chrono::steady_clock::now();
  auto codes = run_ranks(2, [&](int rank) {
    GlooOptions options;
    options.collective_timeout_ms = 20000;
    auto comm = make_gloo_communicator(id, rank, 2, options);
    if (rank == 1) _exit(0);  // dies without a word: its sockets close
    float x = 1.0f;
    try {
      comm->all_reduce_sum(&x, 1);
    } catch (const Error& e) {
      if (!contains(e.what(), "gloo all_reduce failed on rank 0 of 2")) {
        fprintf(stderr, "unexpected message: %s\n", e.what());
        return 2;
      }
      try {
        comm->all_gather(&x, 1, &x);
      } catch (const Error& again) {
        return contains(again.what(), "the group is broken") ? 0 : 4;
      }
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));  // not the 20 s timeout
}

TEST(GlooCommunicatorTest, RankThatStopsCallingTimesOutTheCollective) {
  SKIP_WITHOUT_GLOO();
  TcpStoreServer store("127.0.0.1", 0);
  const std::string id = format_gloo_unique_id("127.0.0.1", store.port());
  auto codes = run_ranks(2, [&](int rank) {
    GlooOptions options;
    options.collective_timeout_ms = 400;
    auto comm = make_gloo_communicator(id, rank, 2, options);
    if (rank == 1) {  // alive but never arrives
      std::this_thread::sleep_for(std::chrono::milliseconds(2000));
      return 0;
    }
    float x = 1.0f;
    try {
      comm->all_reduce_sum(&x, 1);
    } catch (const Error& e) {
      return contains(e.what(), "gloo all_reduce failed on rank 0 of 2") ? 0 : 2;
    }
    return 3;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

}  // namespace
}  // namespace tpserve
