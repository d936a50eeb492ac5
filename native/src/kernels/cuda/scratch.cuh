// Scratch memory of the CUDA launchers: one growable device buffer per (thread, device, slot) and
// one pinned host buffer per (thread, slot). Growing syncs the current stream first, so a buffer
// still read by queued kernels is never freed under them. During stream capture (CUDA graphs) a
// buffer cannot grow: scratch_device returns nullptr and the caller takes a path without it.
#pragma once
#include <cstddef>

namespace tpserve::cuda {

enum class ScratchSlot : int { AttentionSplits = 0, Sampler = 1, TokenMask = 2, Count = 3 };

// At least `bytes` of device memory on the current device, valid until the next call with the
// same slot on this thread; nullptr only while the current stream is capturing and too small.
void* scratch_device(ScratchSlot slot, size_t bytes);
// At least `bytes` of pinned host memory (same lifetime rule).
void* scratch_host(ScratchSlot slot, size_t bytes);

}  // namespace tpserve::cuda
