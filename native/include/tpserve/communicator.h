// Communicator: the collectives tensor parallelism needs inside the forward pass.
// Implementations: single rank (no-op), shared memory (CPU ranks of one host), Gloo (CPU ranks
// on several hosts, TCP), NCCL (GPUs, libnccl opened with dlopen). Buffers live on the device of the backend in use.
// Rendezvous: rank 0 creates a unique id (create_unique_id), the coordinator hands it to every
// rank, and each rank constructs its communicator from (id, rank, size).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace tpserve {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* kind() const = 0;  // "single", "shm", "gloo", "nccl"
  // data[i] = sum over ranks of data[i], in place, on every rank.
  virtual void all_reduce_sum(float* data, int64_t count) = 0;
  // recv = concat over ranks r of rank r's send[0..count); recv holds size() * count floats.
  virtual void all_gather(const float* send, int64_t count, float* recv) = 0;
  // Copies root's bytes to every rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
};

std::unique_ptr<Communicator> make_single_communicator();

// A new unique id for the shared-memory communicator (opaque printable string).
std::string create_shm_unique_id();
// Joins the shared-memory group named by id; blocks until all `size` ranks have joined or
// timeout_ms passes (then throws naming the ranks missing).
std::unique_ptr<Communicator> make_shm_communicator(const std::string& unique_id, int rank, int size,
                                                    int timeout_ms = 60000);

}  // namespace tpserve

namespace tpserve {
// NCCL (GPU ranks): libnccl is opened with dlopen at run time. The unique id is printable
// (hex of ncclUniqueId). Throws a clear error where NCCL or CUDA is unavailable.
std::string create_nccl_unique_id();
std::unique_ptr<Communicator> make_nccl_communicator(const std::string& unique_id, int rank, int size,
                                                     int device_index);
}  // namespace tpserve

namespace tpserve {
// Gloo (CPU ranks on several hosts, TCP transport). Rank 0 calls create_gloo_unique_id with the
// address the other ranks reach it at: it starts the group's rendezvous store there, which rank
// 0's make_gloo_communicator stops once everyone joined. The id reads "gloo-tcp://HOST:PORT/NONCE".
// Both throw a clear error in a build without Gloo (gloo_compiled() false).
bool gloo_compiled();
bool is_gloo_unique_id(const std::string& unique_id);
std::string create_gloo_unique_id(const std::string& host);
std::unique_ptr<Communicator> make_gloo_communicator(const std::string& unique_id, int rank, int size,
                                                     int timeout_ms = 60000);
}  // namespace tpserve
