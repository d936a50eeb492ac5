// Private options of the Gloo communicator (CPU ranks on several hosts; tests tune them; the
// engine uses make_gloo_communicator from tpserve/communicator.h with the defaults).
// Unique id: "gloo-tcp://HOST:PORT/NONCE", the address of rank 0's TcpStore and the group's
// key prefix. Each rank binds its Gloo TCP device to, in order: $GLOO_SOCKET_IFNAME (an
// interface, as PyTorch), $TPSERVE_GLOO_HOST (an address), else the local address of the route
// to the store host (the interface the other ranks reach).
#pragma once
#include <memory>
#include <string>

#include "tpserve/communicator.h"

namespace tpserve {

struct GlooOptions {
  // How long joining waits for every rank (store connect + full mesh).
  int join_timeout_ms = 60000;
  // How long a collective waits for the slowest rank; 0: $TPSERVE_GLOO_TIMEOUT_MS, else 30000.
  int collective_timeout_ms = 0;
};

// An id naming a store at host:port (for a store the caller runs itself, e.g. in tests).
std::string format_gloo_unique_id(const std::string& host, int port);

std::unique_ptr<Communicator> make_gloo_communicator(const std::string& unique_id, int rank, int size,
                                                     const GlooOptions& options);

}  // namespace tpserve
