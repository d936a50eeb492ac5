// TcpStore: the key-value rendezvous of a Gloo group, hosted by rank 0 (as PyTorch's TCPStore).
// Rank 0 starts a TcpStoreServer when the coordinator asks it for a communicator id; every rank
// (rank 0 included) connects a TcpStoreClient to it and exchanges its Gloo pair addresses there.
// Wire format, one request per message: op byte ('S' set, 'G' get), u32 key length, key, then for
// S: u32 value length + value (answered with one byte 0); for G: u32 timeout ms (answered with a
// status byte, 0 found / 1 timed out, then u32 length + value when found). Integers little-endian.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tpserve {

class TcpStoreServer {
 public:
  // Listens on host:port (port 0: any free port); throws naming the address when it cannot.
  TcpStoreServer(const std::string& host, int port);
  ~TcpStoreServer();
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;
  int port() const { return port_; }

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<char>> values_;
  std::vector<int> client_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

class TcpStoreClient {
 public:
  // Connects to host:port, retrying until connect_timeout_ms passes (rank 0 may start late).
  TcpStoreClient(const std::string& host, int port, int connect_timeout_ms);
  ~TcpStoreClient();
  TcpStoreClient(const TcpStoreClient&) = delete;
  TcpStoreClient& operator=(const TcpStoreClient&) = delete;
  void set(const std::string& key, const std::vector<char>& value);
  // Blocks until the key exists; throws naming the key after timeout_ms.
  std::vector<char> get(const std::string& key, int timeout_ms);

 private:
  int fd_ = -1;
  std::string address_;
  std::mutex mutex_;  // one request at a time on the socket
};

}  // namespace tpserve
