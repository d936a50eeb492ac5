// NCCL communicator (GPU ranks): libnccl.so.2 opened with dlopen at run time, the few types and
// functions used declared here from NCCL's documented C API. Collectives run on the CUDA
// backend's current stream (kernels/cuda/stream.cuh), so they order with the forward pass and
// can be captured into CUDA graphs. The unique id travels as 256 hex characters.
// Without CUDA in the build, both entry points refuse clearly.
// Tested on GPUs by native/tests/nccl_communicator_test.cpp (needs two GPUs; skips otherwise).
#include "tpserve/communicator.h"
#include "tpserve/error.h"

#ifdef TPSERVE_WITH_NCCL
#include <cuda_runtime_api.h>

#include <cstring>
#include <mutex>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dl_library.h"
#include "kernels/cuda/stream.cuh"
#endif

namespace tpserve {

#ifndef TPSERVE_WITH_NCCL
std::string create_nccl_unique_id() {
  TPS_THROW("the NCCL communicator is not available in this build (CPU ranks use shared memory)");
}

std::unique_ptr<Communicator> make_nccl_communicator(const std::string&, int, int, int) {
  TPS_THROW("the NCCL communicator is not available in this build (CPU ranks use shared memory)");
}
#else
namespace {

// ---- The documented C API (nccl.h), as far as used here.
using NcclResult = int;  // ncclResult_t: 0 = ncclSuccess
using NcclComm = void*;  // ncclComm_t
struct NcclUniqueId {
  char internal[128];
};
constexpr int kNcclUint8 = 1;    // ncclDataType_t
constexpr int kNcclFloat32 = 7;
constexpr int kNcclSum = 0;      // ncclRedOp_t

struct NcclApi {
  NcclResult (*get_unique_id)(NcclUniqueId*);
  NcclResult (*comm_init_rank)(NcclComm*, int nranks, NcclUniqueId id, int rank);
  NcclResult (*all_reduce)(const void* send, void* recv, size_t count, int dtype, int op, NcclComm, cudaStream_t);
  NcclResult (*all_gather)(const void* send, void* recv, size_t send_count, int dtype, NcclComm, cudaStream_t);
  NcclResult (*broadcast)(const void* send, void* recv, size_t count, int dtype, int root, NcclComm, cudaStream_t);
  NcclResult (*comm_destroy)(NcclComm);
  NcclResult (*comm_abort)(NcclComm);
  const char* (*error_string)(NcclResult);
  NcclResult (*get_version)(int*);
};

const NcclApi& nccl() {
  static NcclApi api{};
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    cuda::DlLibrary lib;
    if (!lib.open("TPSERVE_NCCL_LIBRARY", {"libnccl.so.2", "libnccl.so"}, cuda::cuda_library_folders())) {
      error = "libnccl not found: install NCCL (libnccl2) or point TPSERVE_NCCL_LIBRARY at libnccl.so.2; tried: " +
              lib.tried();
      return;
    }
    bool ok = lib.sym(api.get_unique_id, "ncclGetUniqueId") & lib.sym(api.comm_init_rank, "ncclCommInitRank") &
              lib.sym(api.all_reduce, "ncclAllReduce") & lib.sym(api.all_gather, "ncclAllGather") &
              lib.sym(api.broadcast, "ncclBroadcast") & lib.sym(api.comm_destroy, "ncclCommDestroy") &
              lib.sym(api.comm_abort, "ncclCommAbort") & lib.sym(api.error_string, "ncclGetErrorString") &
              lib.sym(api.get_version, "ncclGetVersion");
    if (!ok) {
      error = "libnccl at " + lib.path() + " lacks " + lib.missing();
      api = NcclApi{};
    }
  });
  TPS_CHECK(api.get_unique_id != nullptr, error);
  return api;
}

#define TPS_NCCL_CHECK(call)                                                                      \
  do {                                                                                            \
    NcclResult tps_nccl_result_ = (call);                                                         \
    TPS_CHECK(tps_nccl_result_ == 0, "NCCL: ", #call, " failed: ", nccl().error_string(tps_nccl_result_), \
              " (", tps_nccl_result_, ")");                                                       \
  } while (0)

std::string to_hex(const NcclUniqueId& id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(256);
  for (unsigned char c : id.internal) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

NcclUniqueId from_hex(const std::string& hex) {
  TPS_CHECK(hex.size() == 256, "an NCCL unique id is 256 hex characters, got ", hex.size());
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    TPS_THROW("the NCCL unique id holds a non-hex character '", c, "'");
  };
  NcclUniqueId id{};
  for (size_t i = 0; i < 128; i++) id.internal[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return id;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const NcclUniqueId& id, int rank, int size, int device) : rank_(rank), size_(size), device_(device) {
    TPS_CHECK(size >= 1 && rank >= 0 && rank < size, "NCCL: invalid rank ", rank, " of ", size);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    TPS_CHECK(e == cudaSuccess && count > 0, "no CUDA GPU found for the NCCL communicator (",
              cudaGetErrorString(e), ")");
    TPS_CHECK(device >= 0 && device < count, "NCCL: device ", device, " out of range (", count, " GPUs visible)");
    TPS_CUDA_CHECK(cudaSetDevice(device));
    // Blocks until every rank has called it with the same id (NCCL's own bootstrap).
    TPS_NCCL_CHECK(nccl().comm_init_rank(&comm_, size, id, rank));
  }

  ~NcclCommunicator() override {
    if (!comm_) return;
    cudaSetDevice(device_);
    // After a failed collective the communicator may be wedged: abort instead of a blocking destroy.
    if (failed_) nccl().comm_abort(comm_);
    else nccl().comm_destroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "nccl"; }

  void all_reduce_sum(float* data, int64_t count) override {
    TPS_CHECK(count >= 0, "nccl all_reduce: negative count ", count);
    if (count == 0) return;
    run([&] {
      return nccl().all_reduce(data, data, static_cast<size_t>(count), kNcclFloat32, kNcclSum, comm_, stream());
    });
  }

  void all_gather(const float* send, int64_t count, float* recv) override {
    TPS_CHECK(count >= 0, "nccl all_gather: negative count ", count);
    if (count == 0) return;
    run([&] { return nccl().all_gather(send, recv, static_cast<size_t>(count), kNcclFloat32, comm_, stream()); });
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    TPS_CHECK(root >= 0 && root < size_, "nccl broadcast: root ", root, " out of range for size ", size_);
    TPS_CHECK(bytes >= 0, "nccl broadcast: negative byte count ", bytes);
    if (bytes == 0) return;
    run([&] {
      return nccl().broadcast(data, data, static_cast<size_t>(bytes), kNcclUint8, root, comm_, stream());
    });
  }

 private:
  static cudaStream_t stream() { return cuda::current_stream(); }

  template <typename Fn>
  void run(Fn&& fn) {
    // On the legacy stream the collective would not order with the backend's non-blocking one.
    TPS_CHECK(stream() != nullptr, "NCCL collective on a thread with no CUDA backend stream bound (run a backend op "
              "on this thread first)");
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess || current != device_) TPS_CUDA_CHECK(cudaSetDevice(device_));
    NcclResult r = fn();
    if (r != 0) failed_ = true;
    TPS_CHECK(r == 0, "NCCL collective failed on rank ", rank_, " of ", size_, ": ", nccl().error_string(r), " (", r,
              ")");
  }

  NcclComm comm_ = nullptr;
  int rank_, size_, device_;
  bool failed_ = false;
};

}  // namespace

std::string create_nccl_unique_id() {
  NcclUniqueId id{};
  TPS_NCCL_CHECK(nccl().get_unique_id(&id));
  return to_hex(id);
}

std::unique_ptr<Communicator> make_nccl_communicator(const std::string& unique_id, int rank, int size,
                                                     int device_index) {
  return std::make_unique<NcclCommunicator>(from_hex(unique_id), rank, size, device_index);
}
#endif

}  // namespace tpserve
