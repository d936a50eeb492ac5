// OrderedTurns: threads take turns at one resource (the engine) strictly in the order they took
// a ticket, and each turn learns how long the resource sat idle before it. The binding takes a
// ticket on the JS thread when a step is called, so a step sent before the previous one ended
// (async scheduling) waits on its worker thread and starts the moment that one ends, without
// a round trip through the event loop. Tests: native/tests/ordered_turns_test.cpp.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tpserve {

class OrderedTurns {
 public:
  // The next ticket, in call order.
  uint64_t take_ticket() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_ticket_++;
  }

  // Blocks until `ticket` is served; returns the resource's idle time before this turn in
  // microseconds: from the end of the previous turn to now (0 for the first turn).
  double begin(uint64_t ticket) {
    std::unique_lock<std::mutex> lock(mu_);
    turn_.wait(lock, [&] { return serving_ == ticket; });
    const auto now = std::chrono::steady_clock::now();
    if (!has_ended_) return 0.0;
    return std::chrono::duration<double, std::micro>(now - last_end_).count();
  }

  // Ends the current turn (call exactly once per begin, also on errors); the next ticket goes.
  void end() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_end_ = std::chrono::steady_clock::now();
      has_ended_ = true;
      serving_++;
    }
    turn_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ = 0;
  bool has_ended_ = false;
  std::chrono::steady_clock::time_point last_end_;
};

}  // namespace tpserve
