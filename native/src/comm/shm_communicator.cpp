// Shared-memory communicator: the CPU ranks of one host meet in a POSIX shm segment named by
// the unique id. Rank 0 creates and sizes it, every rank maps it and registers; the name is
// unlinked once all joined. Collectives go through per-rank slots, chunked to the slot size:
// all-reduce = copy in, barrier, each rank sums a disjoint 1/size of the chunk, barrier, copy out.
// Barriers count arrivals and bump a generation word (spin briefly, then futex-sleep) and throw
// after a timeout, or at once when a peer process is gone. Tests: tests/shm_communicator_test.cpp.
#include "comm/shm_communicator.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "core/cpu_relax.h"
#include "tpserve/error.h"

namespace tpserve {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRanks = 64;
constexpr uint64_t kMagic = 0x7470736572766531ull;  // "tpserve1"
constexpr int64_t kSpinNs = 20000;                  // spin this long before sleeping in a barrier
constexpr int kLivenessCheckMs = 100;
static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free);

enum OpId : uint64_t { kAllReduce = 1, kAllGather = 2, kBroadcast = 3 };
const char* op_name(uint64_t op) { return op == kAllReduce ? "all_reduce" : op == kAllGather ? "all_gather" : "broadcast"; }

struct alignas(64) RankInfo {
  std::atomic<uint32_t> joined;   // 1 once the rank registered
  std::atomic<uint32_t> arrived;  // number of barriers this rank has arrived at
  int32_t pid;
  uint64_t pid_ns;                // inode of /proc/self/ns/pid: pids compare only within one namespace
  uint64_t op_desc[2];            // (op << 56 | count) of the collective in flight, by buffer set
};

// Start of the segment; zero-filled by ftruncate, which is a valid state for these atomics.
struct Header {
  std::atomic<uint64_t> magic;  // stored last by rank 0
  int32_t size;
  int64_t slot_bytes;
  alignas(64) std::atomic<uint32_t> num_joined;
  alignas(64) std::atomic<uint32_t> num_arrived;   // in the current barrier
  alignas(64) std::atomic<uint32_t> generation;    // barriers completed; the futex word
  std::atomic<uint32_t> num_sleepers;
  RankInfo ranks[kMaxRanks];
};

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

uint64_t pid_namespace() {
  struct stat st;
  return stat("/proc/self/ns/pid", &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ms) {
  struct timespec ts{static_cast<time_t>(timeout_ms / 1000), static_cast<long>(timeout_ms % 1000) * 1000000};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

// out[i] = in[0][i] + in[1][i] + ... in rank order (the same order on every rank), in L1-sized blocks.
void sum_slots(float* __restrict out, const float* const* in, int num_in, int64_t n) {
  constexpr int64_t kBlock = 2048;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = std::min(kBlock, n - b);
    float* __restrict o = out + b;
    std::memcpy(o, in[0] + b, len * sizeof(float));
    for (int r = 1; r < num_in; r++) {
      const float* __restrict src = in[r] + b;
      for (int64_t i = 0; i < len; i++) o[i] += src[i];
    }
  }
}

class ShmCommunicator final : public Communicator {
 public:
  ShmCommunicator(const std::string& id, int rank, int size, const ShmOptions& options)
      : name_(id[0] == '/' ? id : "/" + id), rank_(rank), size_(size), slot_bytes_(options.slot_bytes) {
    TPS_CHECK(size >= 1 && size <= kMaxRanks, "shm communicator: size ", size, " outside [1, ", kMaxRanks, "]");
    TPS_CHECK(rank >= 0 && rank < size, "shm communicator: rank ", rank, " outside [0, ", size, ")");
    TPS_CHECK(name_.size() >= 2 && name_.size() < 250 && name_.find('/', 1) == std::string::npos,
              "shm communicator: bad unique id '", id, "'");
    TPS_CHECK(slot_bytes_ >= 64 && slot_bytes_ % 64 == 0, "shm communicator: slot_bytes ", slot_bytes_,
              " must be a positive multiple of 64");
    timeout_ms_ = options.collective_timeout_ms;
    if (timeout_ms_ <= 0) {
      const char* env = std::getenv("TPSERVE_SHM_TIMEOUT_MS");
      timeout_ms_ = env && std::atoi(env) > 0 ? std::atoi(env) : 30000;
    }
    data_offset_ = round_up(sizeof(Header), 4096);
    total_bytes_ = data_offset_ + 2 * static_cast<int64_t>(size + 1) * slot_bytes_;
    try {
      join(options.join_timeout_ms);
    } catch (...) {
      // the group cannot form: drop the name so /dev/shm does not keep it (rank 0 only if it
      // created it, so a clashing id never removes another group's segment)
      if (rank_ != 0 || is_named_) shm_unlink(name_.c_str());
      release();
      throw;
    }
  }

  ~ShmCommunicator() override {
    if (is_named_) shm_unlink(name_.c_str());
    release();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "shm"; }

  void all_reduce_sum(float* data, int64_t count) override {
    TPS_CHECK(count >= 0 && (count == 0 || data), "shm all_reduce: bad buffer (count ", count, ")");
    const int64_t chunk = slot_bytes_ / sizeof(float);
    const float* slots[kMaxRanks];
    for (int64_t off = 0; off < count; off += chunk) {
      const int64_t n = std::min(chunk, count - off);
      const int set = begin_chunk(kAllReduce, count, off == 0);
      std::memcpy(slot(set, rank_), data + off, n * sizeof(float));
      barrier(kAllReduce, off == 0);
      // reduce-scatter: this rank owns [lo, hi) of the chunk
      const int64_t lo = n * rank_ / size_, hi = n * (rank_ + 1) / size_;
      for (int r = 0; r < size_; r++) slots[r] = reinterpret_cast<const float*>(slot(set, r)) + lo;
      float* result = reinterpret_cast<float*>(slot(set, size_));  // [chunk] the result area
      sum_slots(result + lo, slots, size_, hi - lo);
      barrier(kAllReduce, false);
      std::memcpy(data + off, result, n * sizeof(float));
    }
  }

  void all_gather(const float* send, int64_t count, float* recv) override {
    TPS_CHECK(count >= 0 && (count == 0 || (send && recv)), "shm all_gather: bad buffers (count ", count, ")");
    const int64_t chunk = slot_bytes_ / sizeof(float);
    for (int64_t off = 0; off < count; off += chunk) {
      const int64_t n = std::min(chunk, count - off);
      const int set = begin_chunk(kAllGather, count, off == 0);
      std::memcpy(slot(set, rank_), send + off, n * sizeof(float));
      barrier(kAllGather, off == 0);
      for (int r = 0; r < size_; r++) std::memcpy(recv + r * count + off, slot(set, r), n * sizeof(float));
    }
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    TPS_CHECK(root >= 0 && root < size_, "shm broadcast: root ", root, " outside [0, ", size_, ")");
    TPS_CHECK(bytes >= 0 && (bytes == 0 || data), "shm broadcast: bad buffer (", bytes, " bytes)");
    auto* p = static_cast<char*>(data);
    for (int64_t off = 0; off < bytes; off += slot_bytes_) {
      const int64_t n = std::min(slot_bytes_, bytes - off);
      const int set = begin_chunk(kBroadcast, bytes, off == 0);
      if (rank_ == root) std::memcpy(slot(set, 0), p + off, n);
      barrier(kBroadcast, off == 0);
      if (rank_ != root) std::memcpy(p + off, slot(set, 0), n);
    }
  }

 private:
  void join(int join_timeout_ms) {
    const auto start = Clock::now();
    auto timed_out = [&] { return ms_since(start) >= join_timeout_ms; };
    if (rank_ == 0) {
      fd_ = shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
      TPS_CHECK(fd_ >= 0, "shm communicator: cannot create ", name_, ": ", std::strerror(errno));
      is_named_ = true;
      TPS_CHECK(ftruncate(fd_, total_bytes_) == 0, "shm communicator: ftruncate ", name_, ": ", std::strerror(errno));
      // reserve the pages now: a full /dev/shm fails here rather than with SIGBUS mid-step
      int rc = posix_fallocate(fd_, 0, total_bytes_);
      TPS_CHECK(rc == 0, "shm communicator: cannot reserve ", total_bytes_, " bytes in /dev/shm (", std::strerror(rc),
                "); enlarge /dev/shm (docker --shm-size) or lower the slot size");
    } else {
      // wait for rank 0 to create the segment and size it
      for (;;) {
        fd_ = shm_open(name_.c_str(), O_RDWR, 0600);
        if (fd_ >= 0) {
          struct stat st;
          TPS_CHECK(fstat(fd_, &st) == 0, "shm communicator: fstat ", name_, ": ", std::strerror(errno));
          if (st.st_size == total_bytes_) break;
          TPS_CHECK(st.st_size == 0, "shm communicator: segment ", name_, " has ", st.st_size, " bytes, expected ",
                    total_bytes_, " (ranks disagree on size or slot bytes)");
          close(fd_);
          fd_ = -1;
        } else {
          TPS_CHECK(errno == ENOENT, "shm communicator: cannot open ", name_, ": ", std::strerror(errno));
        }
        TPS_CHECK(!timed_out(), "shm communicator: rank 0 did not create ", name_, " within ", join_timeout_ms,
                  " ms (ranks missing: 0 at least)");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    void* base = mmap(nullptr, total_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    TPS_CHECK(base != MAP_FAILED, "shm communicator: mmap of ", total_bytes_, " bytes: ", std::strerror(errno));
    base_ = static_cast<char*>(base);
    hdr_ = reinterpret_cast<Header*>(base_);
    close(fd_);
    fd_ = -1;

    if (rank_ == 0) {
      hdr_->size = size_;
      hdr_->slot_bytes = slot_bytes_;
      hdr_->magic.store(kMagic, std::memory_order_release);
    }
    while (hdr_->magic.load(std::memory_order_acquire) != kMagic) {
      TPS_CHECK(!timed_out(), "shm communicator: segment ", name_, " never initialised by rank 0");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    TPS_CHECK(hdr_->size == size_ && hdr_->slot_bytes == slot_bytes_, "shm communicator: rank ", rank_,
              " expects size ", size_, " but the group was created with size ", hdr_->size);

    RankInfo& me = hdr_->ranks[rank_];
    me.pid = static_cast<int32_t>(getpid());
    me.pid_ns = pid_namespace();
    TPS_CHECK(me.joined.exchange(1) == 0, "shm communicator: rank ", rank_, " joined ", name_, " twice");
    hdr_->num_joined.fetch_add(1);
    while (hdr_->num_joined.load() < static_cast<uint32_t>(size_)) {
      if (timed_out()) {
        std::string missing;
        for (int r = 0; r < size_; r++)
          if (!hdr_->ranks[r].joined.load()) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        TPS_THROW("shm communicator: ranks ", missing, " of ", size_, " did not join ", name_, " within ",
                  join_timeout_ms, " ms");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // everyone has it mapped: drop the name, so a crash later leaks nothing in /dev/shm
    if (rank_ == 0) shm_unlink(name_.c_str());
    is_named_ = false;
  }

  void release() {
    if (base_) munmap(base_, total_bytes_);
    if (fd_ >= 0) close(fd_);
    base_ = nullptr;
    hdr_ = nullptr;
    fd_ = -1;
  }

  char* slot(int set, int index) { return base_ + data_offset_ + (set * (size_ + 1) + index) * slot_bytes_; }

  // Picks the buffer set of the next chunk (alternating, so a chunk never overwrites what a slower
  // rank may still read from the previous one) and publishes the op for the mismatch check.
  int begin_chunk(uint64_t op, int64_t count, bool is_first) {
    TPS_CHECK(!is_broken_, "shm ", op_name(op), ": communicator unusable after an earlier failure");
    const int set = static_cast<int>(num_chunks_++ & 1);
    if (is_first) hdr_->ranks[rank_].op_desc[set] = op << 56 | static_cast<uint64_t>(count);
    current_set_ = set;
    return set;
  }

  void barrier(uint64_t op, bool check_ops) {
    const uint32_t target = ++num_barriers_;
    hdr_->ranks[rank_].arrived.store(target, std::memory_order_release);
    if (hdr_->num_arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(size_)) {
      hdr_->num_arrived.store(0, std::memory_order_relaxed);  // published by the generation store
      hdr_->generation.store(target);
      if (hdr_->num_sleepers.load() > 0) futex_wake_all(&hdr_->generation);
    } else {
      wait_generation(op, target);
    }
    if (check_ops) check_same_op(op);
  }

  void wait_generation(uint64_t op, uint32_t target) {
    std::atomic<uint32_t>& gen = hdr_->generation;
    const auto start = Clock::now();
    for (int i = 0; gen.load(std::memory_order_acquire) != target; i++) {
      if ((i & 63) == 63 && Clock::now() - start > std::chrono::nanoseconds(kSpinNs)) break;
      cpu_relax();
    }
    auto next_liveness = start + std::chrono::milliseconds(kLivenessCheckMs);
    for (;;) {
      uint32_t seen = gen.load(std::memory_order_acquire);
      if (seen == target) return;
      const int64_t waited = ms_since(start);
      if (waited >= timeout_ms_) fail_barrier(op, target, " did not arrive within " + std::to_string(timeout_ms_) + " ms (peer dead?)");
      if (Clock::now() >= next_liveness) {
        check_peers_alive(op, target);
        next_liveness = Clock::now() + std::chrono::milliseconds(kLivenessCheckMs);
      }
      // sleepers count first, then recheck: the last arriver either sees us or we see its store
      hdr_->num_sleepers.fetch_add(1);
      seen = gen.load();
      if (seen != target) futex_wait(&gen, seen, std::min<int64_t>(timeout_ms_ - waited, kLivenessCheckMs));
      hdr_->num_sleepers.fetch_sub(1);
    }
  }

  void check_peers_alive(uint64_t op, uint32_t target) {
    const uint64_t my_ns = hdr_->ranks[rank_].pid_ns;
    for (int r = 0; r < size_; r++) {
      const RankInfo& info = hdr_->ranks[r];
      if (info.arrived.load() == target || info.pid <= 0 || info.pid_ns != my_ns || my_ns == 0) continue;
      if (kill(info.pid, 0) != 0 && errno == ESRCH)
        fail_barrier(op, target, " (pid " + std::to_string(info.pid) + ") exited while the others waited (peer dead)", r);
    }
  }

  [[noreturn]] void fail_barrier(uint64_t op, uint32_t target, const std::string& what, int only_rank = -1) {
    is_broken_ = true;
    std::string late;
    for (int r = 0; r < size_; r++) {
      if (only_rank >= 0 && r != only_rank) continue;
      if (static_cast<int32_t>(hdr_->ranks[r].arrived.load() - target) < 0)
        late += (late.empty() ? "" : ", ") + std::to_string(r);
    }
    TPS_THROW("shm ", op_name(op), ": rank ", late, what);
  }

  // After the first barrier of a collective every rank's descriptor is visible: all must match.
  void check_same_op(uint64_t op) {
    const uint64_t mine = hdr_->ranks[rank_].op_desc[current_set_];
    for (int r = 0; r < size_; r++) {
      const uint64_t theirs = hdr_->ranks[r].op_desc[current_set_];
      if (theirs == mine) continue;
      is_broken_ = true;
      TPS_THROW("shm ", op_name(op), ": ranks disagree: rank ", rank_, " runs ", op_name(mine >> 56), " of ",
                mine & ((1ull << 56) - 1), ", rank ", r, " runs ", op_name(theirs >> 56), " of ",
                theirs & ((1ull << 56) - 1));
    }
  }

  std::string name_;
  int rank_, size_;
  int64_t slot_bytes_;
  int timeout_ms_ = 30000;
  int64_t data_offset_ = 0, total_bytes_ = 0;
  int fd_ = -1;
  char* base_ = nullptr;  // [total_bytes_]: Header, then 2 sets x (size + 1) slots of slot_bytes_
  Header* hdr_ = nullptr;
  bool is_named_ = false;
  bool is_broken_ = false;
  uint32_t num_barriers_ = 0;
  uint64_t num_chunks_ = 0;
  int current_set_ = 0;
};

}  // namespace

std::string create_shm_unique_id() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string id = "tpserve-shm-";
  for (int i = 0; i < 32; i++) id += hex[rd() & 15];
  return id;
}

std::unique_ptr<Communicator> make_shm_communicator(const std::string& unique_id, int rank, int size,
                                                    const ShmOptions& options) {
  return std::make_unique<ShmCommunicator>(unique_id, rank, size, options);
}

std::unique_ptr<Communicator> make_shm_communicator(const std::string& unique_id, int rank, int size, int timeout_ms) {
  ShmOptions options;
  options.join_timeout_ms = timeout_ms;
  return make_shm_communicator(unique_id, rank, size, options);
}

}  // namespace tpserve
