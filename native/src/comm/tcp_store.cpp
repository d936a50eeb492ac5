// TcpStore server and client over plain POSIX sockets (see tcp_store.h for the wire format).
#include "comm/tcp_store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "tpserve/error.h"

namespace tpserve {
namespace {

addrinfo* resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &result);
  TPS_CHECK(rc == 0 && result, "tcp store: cannot resolve '", host, "': ", gai_strerror(rc));
  return result;
}

// One loop for both directions; false when the peer closed the connection (or it was shut down).
template <typename Io, typename Ptr>
bool transfer_all(Io io, Ptr data, size_t bytes) {
  while (bytes > 0) {
    ssize_t n = io(data, bytes);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    data += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t bytes) {
  return transfer_all([fd](char* p, size_t n) { return ::recv(fd, p, n, 0); }, static_cast<char*>(data), bytes);
}

bool write_all(int fd, const void* data, size_t bytes) {
  return transfer_all([fd](const char* p, size_t n) { return ::send(fd, p, n, MSG_NOSIGNAL); }, static_cast<const char*>(data), bytes);
}

bool read_u32(int fd, uint32_t& v) { return read_all(fd, &v, 4); }  // little-endian hosts only
bool read_bytes(int fd, uint32_t max, std::vector<char>& out) {
  uint32_t n = 0;
  if (!read_u32(fd, n) || n > max) return false;
  out.resize(n);
  return n == 0 || read_all(fd, out.data(), n);
}

constexpr uint32_t kMaxKey = 4096;
constexpr uint32_t kMaxValue = 1 << 20;

}  // namespace

TcpStoreServer::TcpStoreServer(const std::string& host, int port) {
  addrinfo* addrs = resolve(host, port, true);
  std::string why = "no address";
  for (addrinfo* a = addrs; a && listen_fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(addrs);
  TPS_CHECK(listen_fd_ >= 0, "tcp store: cannot listen on ", host, ":", port, ": ", why);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpStoreServer::~TcpStoreServer() {
  stopping_ = true;
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes the readers
  }
  changed_.notify_all();  // wakes the waiters
  for (auto& t : threads_) t.join();
  for (int fd : client_fds_) ::close(fd);
  ::close(listen_fd_);
}

void TcpStoreServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mutex_);
    client_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpStoreServer::serve(int fd) {
  for (;;) {
    char op = 0;
    std::vector<char> key_bytes, value;
    if (!read_all(fd, &op, 1) || !read_bytes(fd, kMaxKey, key_bytes)) return;
    const std::string key(key_bytes.begin(), key_bytes.end());
    if (op == 'S') {
      if (!read_bytes(fd, kMaxValue, value)) return;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        values_[key] = std::move(value);
      }
      changed_.notify_all();
      const char ok = 0;
      if (!write_all(fd, &ok, 1)) return;
    } else if (op == 'G') {
      uint32_t timeout_ms = 0;
      if (!read_u32(fd, timeout_ms)) return;
      std::unique_lock<std::mutex> lock(mutex_);
      bool found = changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                     [&] { return stopping_ || values_.count(key) > 0; });
      found = found && values_.count(key) > 0;
      if (found) value = values_[key];
      lock.unlock();
      const char status = found ? 0 : 1;
      const uint32_t n = static_cast<uint32_t>(value.size());
      if (!write_all(fd, &status, 1) || (found && (!write_all(fd, &n, 4) || !write_all(fd, value.data(), n)))) return;
    } else {
      return;  // not a store client: drop the connection
    }
  }
}

TcpStoreClient::TcpStoreClient(const std::string& host, int port, int connect_timeout_ms)
    : address_(host + ":" + std::to_string(port)) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(connect_timeout_ms);
  std::string why;
  while (fd_ < 0) {
    addrinfo* addrs = resolve(host, port, false);
    for (addrinfo* a = addrs; a && fd_ < 0; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        why = std::strerror(errno);
        ::close(fd);
      }
    }
    freeaddrinfo(addrs);
    if (fd_ >= 0) break;
    TPS_CHECK(std::chrono::steady_clock::now() < deadline, "tcp store: cannot connect to rank 0's store at ",
              address_, " within ", connect_timeout_ms, " ms: ", why);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

TcpStoreClient::~TcpStoreClient() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpStoreClient::set(const std::string& key, const std::vector<char>& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  const char op = 'S';
  const uint32_t nk = static_cast<uint32_t>(key.size()), nv = static_cast<uint32_t>(value.size());
  char ok = 1;
  bool sent = write_all(fd_, &op, 1) && write_all(fd_, &nk, 4) && write_all(fd_, key.data(), nk) &&
              write_all(fd_, &nv, 4) && write_all(fd_, value.data(), nv) && read_all(fd_, &ok, 1);
  TPS_CHECK(sent && ok == 0, "tcp store: lost the connection to ", address_, " while setting '", key, "'");
}

std::vector<char> TcpStoreClient::get(const std::string& key, int timeout_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const char op = 'G';
  const uint32_t nk = static_cast<uint32_t>(key.size()), t = static_cast<uint32_t>(timeout_ms);
  char status = 2;
  bool ok = write_all(fd_, &op, 1) && write_all(fd_, &nk, 4) && write_all(fd_, key.data(), nk) &&
            write_all(fd_, &t, 4) && read_all(fd_, &status, 1);
  TPS_CHECK(ok, "tcp store: lost the connection to ", address_, " while waiting for '", key, "'");
  TPS_CHECK(status == 0, "tcp store: '", key, "' did not appear within ", timeout_ms, " ms (a rank did not join?)");
  std::vector<char> value;
  TPS_CHECK(read_bytes(fd_, kMaxValue, value), "tcp store: lost the connection to ", address_, " reading '", key, "'");
  return value;
}

}  // namespace tpserve
