// Helpers of the communicator tests (shm, gloo): ranks as forked processes, and one check of
// every collective (all-reduce, all-gather, broadcast; odd sizes; many back-to-back steps) that
// each communicator must pass the same way.
#pragma once
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "tpserve/communicator.h"

namespace tpserve {

// Runs body(rank) in `size` forked processes; a child's exit code is body's return value (1 on
// an exception). Returns the exit codes; kills the children after timeout_s.
inline std::vector<int> run_ranks(int size, const std::function<int(int)>& body, int timeout_s = 60) {
  std::vector<pid_t> pids;
  for (int rank = 0; rank < size; rank++) {
    pid_t pid = fork();
    if (pid == 0) {
      int code = 1;
      try {
        code = body(rank);
      } catch (const std::exception& e) {
        fprintf(stderr, "rank %d: %s\n", rank, e.what());
      }
      _exit(code);  // skip gtest's exit handlers in the child
    }
    pids.push_back(pid);
  }
  std::vector<int> codes(size, -1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (int done = 0; done < size;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);  // reap in any order, so a dead child is no zombie
    if (pid > 0) {
      for (int r = 0; r < size; r++)
        if (pids[r] == pid) codes[r] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      done++;
    } else if (std::chrono::steady_clock::now() > deadline) {
      for (int r = 0; r < size; r++)
        if (codes[r] == -1) kill(pids[r], SIGKILL);
      ADD_FAILURE() << "ranks still running after " << timeout_s << " s (hang)";
      timeout_s = 1 << 20;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return codes;
}

// Floats the forked ranks write and the parent reads (a shared anonymous mapping).
class SharedFloats {
 public:
  explicit SharedFloats(int64_t count) : bytes_(count * sizeof(float)) {
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of the shared test results failed");
    data_ = static_cast<float*>(p);
  }
  ~SharedFloats() { munmap(data_, bytes_); }
  SharedFloats(const SharedFloats&) = delete;
  SharedFloats& operator=(const SharedFloats&) = delete;
  float* data() { return data_; }

 private:
  size_t bytes_;
  float* data_;
};

// Integer-valued floats, so every sum is exact whatever the order.
inline float value(int rank, int64_t i) { return static_cast<float>((rank + 1) * (i % 13) - (i % 7) + rank); }

// The collectives on each count (all-reduce results written to out for the parent to check with
// expect_all_reduce_results), then 200 small back-to-back steps. Returns 0, or the failed check.
inline int check_collectives(Communicator& comm, int rank, int size, const std::vector<int64_t>& counts, float* out) {
  for (int64_t count : counts) {
    std::vector<float> data(count);
    for (int64_t i = 0; i < count; i++) data[i] = value(rank, i);
    comm.all_reduce_sum(data.data(), count);
    std::copy(data.begin(), data.end(), out);
    out += count;

    std::vector<float> send(count), recv(size * count, -1.0f);
    for (int64_t i = 0; i < count; i++) send[i] = value(rank, i) * 0.5f;
    comm.all_gather(send.data(), count, recv.data());
    for (int r = 0; r < size; r++)
      for (int64_t i = 0; i < count; i++)
        if (recv[r * count + i] != value(r, i) * 0.5f) return 4;

    const int root = size - 1;
    std::vector<uint8_t> bytes(count * 4 + 3);  // odd byte count
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = rank == root ? static_cast<uint8_t>(i * 31 + 7) : 0;
    comm.broadcast(bytes.data(), static_cast<int64_t>(bytes.size()), root);
    for (size_t i = 0; i < bytes.size(); i++)
      if (bytes[i] != static_cast<uint8_t>(i * 31 + 7)) return 5;
  }
  // many small back-to-back collectives: buffers are reused while slower ranks still read
  for (int iter = 0; iter < 200; iter++) {
    std::vector<float> data(5120, static_cast<float>(rank + iter));
    comm.all_reduce_sum(data.data(), 5120);
    const float want = static_cast<float>(size * iter + size * (size - 1) / 2);
    if (data[0] != want || data[5119] != want) return 6;
    float one = static_cast<float>(rank * 1000 + iter), gathered[4];
    comm.all_gather(&one, 1, gathered);
    for (int r = 0; r < size; r++)
      if (gathered[r] != static_cast<float>(r * 1000 + iter)) return 7;
  }
  return 0;
}

// results: [size][sum of counts], what check_collectives wrote on each rank.
inline void expect_all_reduce_results(const float* results, int size, const std::vector<int64_t>& counts) {
  const float* got = results;
  for (int r = 0; r < size; r++) {
    for (int64_t count : counts) {
      int64_t num_wrong = 0;
      for (int64_t i = 0; i < count; i++) {
        float want = 0.0f;
        for (int q = 0; q < size; q++) want += value(q, i);
        num_wrong += got[i] != want;
      }
      EXPECT_EQ(num_wrong, 0) << "rank " << r << " count " << count;
      got += count;
    }
  }
}

}  // namespace tpserve
