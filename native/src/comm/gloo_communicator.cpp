// Gloo communicator: CPU ranks on several hosts, over Gloo's TCP transport (Debian libgloo-dev).
// Rendezvous: rank 0 hosts a TcpStore (create_gloo_unique_id); every rank connects to it, and
// Gloo's connectFullMesh exchanges the pair addresses there. After a failed collective the group
// is broken: every later call fails at once (the coordinator rebuilds the group).
// Built only where CMake found Gloo; elsewhere selecting it throws a clear error.
#include "comm/gloo_communicator.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "comm/tcp_store.h"
#include "tpserve/error.h"

#if TPSERVE_WITH_GLOO
#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/common/error.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>
#endif

namespace tpserve {
namespace {

constexpr const char* kScheme = "gloo-tcp://";

struct GlooAddress {
  std::string host;  // without IPv6 brackets
  int port = 0;
  std::string prefix;  // the group's key prefix (the nonce)
};

[[maybe_unused]] GlooAddress parse_unique_id(const std::string& id) {
  TPS_CHECK(id.rfind(kScheme, 0) == 0, "not a Gloo communicator id: '", id, "' (expected ", kScheme, "HOST:PORT/NONCE)");
  std::string rest = id.substr(std::strlen(kScheme));
  const size_t slash = rest.find('/');
  const size_t colon = rest.rfind(':', slash);
  TPS_CHECK(slash != std::string::npos && colon != std::string::npos && colon > 0, "malformed Gloo communicator id '", id, "'");
  GlooAddress a;
  a.host = rest.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  a.port = std::atoi(rest.substr(colon + 1, slash - colon - 1).c_str());
  a.prefix = rest.substr(slash + 1);
  TPS_CHECK(a.port > 0 && a.port < 65536 && !a.prefix.empty(), "malformed Gloo communicator id '", id, "'");
  return a;
}

std::string random_nonce() {
  std::random_device rd;
  std::mt19937_64 gen((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(getpid()));
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

// Rank 0's stores, from create_gloo_unique_id until rank 0 joins its group (same process).
std::mutex g_stores_mutex;
std::map<std::string, std::unique_ptr<TcpStoreServer>> g_pending_stores;

[[maybe_unused]] std::unique_ptr<TcpStoreServer> claim_store(const std::string& id) {
  std::lock_guard<std::mutex> lock(g_stores_mutex);
  auto it = g_pending_stores.find(id);
  if (it == g_pending_stores.end()) return nullptr;
  auto server = std::move(it->second);
  g_pending_stores.erase(it);
  return server;
}

}  // namespace

std::string format_gloo_unique_id(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(kScheme) + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/tpserve-gloo-" + random_nonce();
}

bool is_gloo_unique_id(const std::string& id) { return id.rfind(kScheme, 0) == 0; }

#if TPSERVE_WITH_GLOO

bool gloo_compiled() { return true; }

std::string create_gloo_unique_id(const std::string& host) {
  TPS_CHECK(!host.empty(), "create_gloo_unique_id: the address other ranks reach this rank at is required");
  auto server = std::make_unique<TcpStoreServer>(host, 0);
  const std::string id = format_gloo_unique_id(host, server->port());
  std::lock_guard<std::mutex> lock(g_stores_mutex);
  g_pending_stores.clear();  // a rank is rank 0 of one group at a time: older ids are void
  g_pending_stores[id] = std::move(server);
  return id;
}

namespace {

// Gloo's Store interface over a TcpStoreClient, keys under the group's prefix.
class GlooStore : public gloo::rendezvous::Store {
 public:
  GlooStore(const GlooAddress& a, int timeout_ms) : client_(a.host, a.port, timeout_ms), prefix_(a.prefix + "/"), timeout_ms_(timeout_ms) {}
  void set(const std::string& key, const std::vector<char>& data) override { client_.set(prefix_ + key, data); }
  std::vector<char> get(const std::string& key) override { return client_.get(prefix_ + key, timeout_ms_); }
  void wait(const std::vector<std::string>& keys) override { wait(keys, std::chrono::milliseconds(timeout_ms_)); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    for (const auto& k : keys) client_.get(prefix_ + k, static_cast<int>(timeout.count()));
  }

 private:
  TcpStoreClient client_;
  std::string prefix_;
  int timeout_ms_;
};

// The local address of the route to host: the interface the other ranks reach this one by.
std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  TPS_CHECK(getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) == 0 && res,
            "gloo: cannot resolve the store host '", host, "'");
  int fd = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  bool ok = fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;  // UDP: no packet is sent
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  ok = ok && getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  TPS_CHECK(ok, "gloo: no route to the store host '", host, "'");
  char text[INET6_ADDRSTRLEN] = {0};
  const void* addr = local.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr)
                                                 : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr);
  inet_ntop(local.ss_family, addr, text, sizeof(text));
  return text;
}

gloo::transport::tcp::attr device_attr(const GlooAddress& store) {
  gloo::transport::tcp::attr attr;
  if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface) {
    attr.iface = iface;
  } else if (const char* host = std::getenv("TPSERVE_GLOO_HOST"); host && *host) {
    attr.hostname = host;
  } else {
    attr.hostname = local_address_towards(store.host, store.port);
  }
  return attr;
}

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(const std::string& unique_id, int rank, int size, const GlooOptions& options) : rank_(rank), size_(size) {
    TPS_CHECK(size >= 1 && rank >= 0 && rank < size, "gloo: invalid rank ", rank, " of ", size);
    const GlooAddress address = parse_unique_id(unique_id);
    int timeout_ms = options.collective_timeout_ms;
    if (timeout_ms <= 0) {
      const char* env = std::getenv("TPSERVE_GLOO_TIMEOUT_MS");
      timeout_ms = env && std::atoi(env) > 0 ? std::atoi(env) : 30000;
    }
    timeout_ = std::chrono::milliseconds(timeout_ms);
    std::unique_ptr<TcpStoreServer> server = rank == 0 ? claim_store(unique_id) : nullptr;  // lives until all joined
    try {
      GlooStore store(address, options.join_timeout_ms);
      device_ = gloo::transport::tcp::CreateDevice(device_attr(address));
      auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
      context->setTimeout(std::chrono::milliseconds(options.join_timeout_ms));
      context->connectFullMesh(store, device_);
      context_ = context;
      // nobody reads the store after this barrier: rank 0 may stop it
      gloo::BarrierOptions barrier(context_);
      barrier.setTag(next_tag_++);
      gloo::barrier(barrier);
      context_->setTimeout(timeout_);
    } catch (const gloo::Exception& e) {
      TPS_THROW("gloo: rank ", rank, " of ", size, " could not join the group at ", address.host, ":", address.port, ": ", e.what());
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "gloo"; }

  void all_reduce_sum(float* data, int64_t count) override {
    run("all_reduce", [&] {
      gloo::AllreduceOptions opts(context_);
      opts.setOutput(data, static_cast<size_t>(count));
      opts.setReduceFunction(static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
      opts.setTag(next_tag_++);
      opts.setTimeout(timeout_);
      gloo::allreduce(opts);
    });
  }

  void all_gather(const float* send, int64_t count, float* recv) override {
    run("all_gather", [&] {
      gloo::AllgatherOptions opts(context_);
      opts.setInput(const_cast<float*>(send), static_cast<size_t>(count));
      opts.setOutput(recv, static_cast<size_t>(count * size_));
      opts.setTag(next_tag_++);
      opts.setTimeout(timeout_);
      gloo::allgather(opts);
    });
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    TPS_CHECK(root >= 0 && root < size_, "gloo broadcast: root ", root, " is not a rank of ", size_);
    run("broadcast", [&] {
      gloo::BroadcastOptions opts(context_);
      opts.setOutput(static_cast<uint8_t*>(data), static_cast<size_t>(bytes));
      opts.setRoot(root);
      opts.setTag(next_tag_++);
      opts.setTimeout(timeout_);
      gloo::broadcast(opts);
    });
  }

 private:
  template <typename Fn>
  void run(const char* what, Fn&& fn) {
    TPS_CHECK(broken_.empty(), "gloo ", what, ": the group is broken by an earlier failure (", broken_, ")");
    if (size_ == 1) return;
    try {
      fn();
    } catch (const std::exception& e) {  // gloo::IoException (peer gone), gloo::TimeoutException, ...
      broken_ = e.what();
      TPS_THROW("gloo ", what, " failed on rank ", rank_, " of ", size_, " (peer dead or unreachable?): ", e.what());
    }
  }

  int rank_, size_;
  std::chrono::milliseconds timeout_{30000};
  std::shared_ptr<gloo::transport::Device> device_;
  std::shared_ptr<gloo::Context> context_;
  uint32_t next_tag_ = 1;  // the same sequence on every rank: collectives run in the same order
  std::string broken_;
};

}  // namespace

std::unique_ptr<Communicator> make_gloo_communicator(const std::string& unique_id, int rank, int size,
                                                     const GlooOptions& options) {
  return std::make_unique<GlooCommunicator>(unique_id, rank, size, options);
}

#else  // built without Gloo

bool gloo_compiled() { return false; }

std::string create_gloo_unique_id(const std::string&) {
  TPS_THROW("this build has no Gloo communicator (install libgloo-dev and rebuild the native engine)");
}

std::unique_ptr<Communicator> make_gloo_communicator(const std::string&, int, int, const GlooOptions&) {
  TPS_THROW("this build has no Gloo communicator (install libgloo-dev and rebuild the native engine)");
}

#endif

std::unique_ptr<Communicator> make_gloo_communicator(const std::string& unique_id, int rank, int size, int timeout_ms) {
  GlooOptions options;
  options.join_timeout_ms = timeout_ms;
  return make_gloo_communicator(unique_id, rank, size, options);
}

}  // namespace tpserve
