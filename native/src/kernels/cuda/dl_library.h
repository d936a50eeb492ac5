// DlLibrary: dlopen of the first loadable candidate among names and folders (cuBLASLt, NCCL),
// with symbol lookup; remembers every dlerror so the failure message says what was tried.
// An environment variable may name the exact file to load first (e.g. TPSERVE_CUBLASLT_LIBRARY).
#pragma once
#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace tpserve::cuda {

class DlLibrary {
 public:
  // Tries env_var's file, then each name as given (the loader's search path: LD_LIBRARY_PATH,
  // ldconfig), then each name inside each folder.
  bool open(const char* env_var, const std::vector<std::string>& names, const std::vector<std::string>& folders) {
    std::vector<std::string> candidates;
    if (const char* p = std::getenv(env_var); p && *p) candidates.emplace_back(p);
    for (const auto& n : names) candidates.push_back(n);
    for (const auto& f : folders)
      for (const auto& n : names) candidates.push_back(f + "/" + n);
    for (const auto& c : candidates) {
      handle_ = ::dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_) {
        path_ = c;
        return true;
      }
      const char* e = ::dlerror();
      if (tried_.size() < 400) tried_ += (tried_.empty() ? "" : "; ") + std::string(e ? e : c.c_str());
    }
    return false;
  }

  // Resolves `name` into fn; records the missing symbol and returns false when absent.
  template <typename Fn>
  bool sym(Fn& fn, const char* name) {
    fn = reinterpret_cast<Fn>(::dlsym(handle_, name));
    if (!fn) missing_ += (missing_.empty() ? "" : ", ") + std::string(name);
    return fn != nullptr;
  }

  const std::string& path() const { return path_; }
  const std::string& tried() const { return tried_; }
  const std::string& missing() const { return missing_; }

 private:
  void* handle_ = nullptr;  // never closed: the library lives as long as the process
  std::string path_, tried_, missing_;
};

// Folders where the CUDA toolkit and NVIDIA's Python wheels usually put their libraries.
inline std::vector<std::string> cuda_library_folders() {
  std::vector<std::string> folders{"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                                   "/usr/lib/x86_64-linux-gnu"};
  if (const char* home = std::getenv("CUDA_HOME"); home && *home) folders.insert(folders.begin(), std::string(home) + "/lib64");
  return folders;
}

}  // namespace tpserve::cuda
