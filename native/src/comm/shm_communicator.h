// Private options of the shared-memory communicator (tests and benchmarks tune them; the
// engine uses make_shm_communicator from tpserve/communicator.h with the defaults).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "tpserve/communicator.h"

namespace tpserve {

struct ShmOptions {
  int join_timeout_ms = 60000;
  // How long a collective waits for the slowest rank; 0: $TPSERVE_SHM_TIMEOUT_MS, else 30000.
  int collective_timeout_ms = 0;
  // Bytes per rank slot = the chunk size of every collective. The segment holds two sets of
  // (size + 1) slots, 2 MiB each by default: 36 MiB at tp 8, within Docker's 64 MiB /dev/shm.
  int64_t slot_bytes = int64_t(2) << 20;
};

std::unique_ptr<Communicator> make_shm_communicator(const std::string& unique_id, int rank, int size,
                                                    const ShmOptions& options);

}  // namespace tpserve
