// OrderedTurns: turns run one at a time in ticket order whatever order the threads arrive in,
// a turn queued behind another starts right after it ends (idle ~0), and a turn that comes
// after a pause reports that pause. Run: ctest -R OrderedTurns
#include "core/ordered_turns.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tpserve {
namespace {

TEST(OrderedTurns, ServesTicketsInOrderOneAtATime) {
  OrderedTurns turns;
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 8; i++) tickets.push_back(turns.take_ticket());
  std::vector<int> order;
  std::atomic<int> inside{0};
  bool overlapped = false;
  std::vector<std::thread> threads;
  for (int i = 7; i >= 0; i--) {  // threads start in reverse ticket order
    threads.emplace_back([&, i] {
      turns.begin(tickets[i]);
      if (inside.fetch_add(1) != 0) overlapped = true;
      order.push_back(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      inside.fetch_sub(1);
      turns.end();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(OrderedTurns, ReportsTheIdleTimeBeforeEachTurn) {
  OrderedTurns turns;
  const uint64_t first = turns.take_ticket();
  EXPECT_EQ(turns.begin(first), 0.0);  // nothing ran before it
  const uint64_t queued = turns.take_ticket();
  double queued_idle = -1;
  std::thread waiter([&] {
    queued_idle = turns.begin(queued);
    turns.end();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // `queued` waits for `first`
  turns.end();
  waiter.join();
  const uint64_t late = turns.take_ticket();
  std::this_thread::sleep_for(std::chrono::milliseconds(40));  // the resource idles
  const double late_idle = turns.begin(late);
  turns.end();
  EXPECT_GE(queued_idle, 0.0);
  EXPECT_LT(queued_idle, 20000.0);  // a hand-over, not the 30 ms it waited (generous for loaded CI)
  EXPECT_GE(late_idle, 35000.0);
}

}  // namespace
}  // namespace tpserve
