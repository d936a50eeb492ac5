// Scratch memory of the CUDA launchers: one growable device buffer and one pinned host buffer per
// (stream, slot). Work on one stream is ordered, so every thread that queues on the stream may
// share its buffers, and a CUDA graph captured from one thread replays correctly from another
// (a per-thread buffer would be pinned by the capturing thread and freed when it exits).
// Growing syncs the stream first, so a buffer still read by queued kernels is never freed under
// them, and bumps scratch_generation(stream): CUDA graphs captured before hold the old address
// and must be dropped. During stream capture a buffer cannot grow: scratch_device returns nullptr
// and the caller takes a path without it. release_scratch(stream) frees a stream's buffers (the
// backend calls it before destroying its stream).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace tpserve::cuda {

enum class ScratchSlot : int { AttentionSplits = 0, Sampler = 1, TokenMask = 2, DequantWeight = 3, Fp8Activations = 4, Count = 5 };

// At least `bytes` of device memory for current_stream() on the current device, valid until the
// next call that grows the same slot of that stream; nullptr only while the stream is capturing
// and the buffer is too small.
void* scratch_device(ScratchSlot slot, size_t bytes);
// At least `bytes` of pinned host memory for current_stream() (same lifetime rule).
void* scratch_host(ScratchSlot slot, size_t bytes);
// Bumped each time a device buffer of `stream` (on the current device) is reallocated.
uint64_t scratch_generation(cudaStream_t stream);
// Frees every buffer of `stream` on the current device (after syncing it).
void release_scratch(cudaStream_t stream);

}  // namespace tpserve::cuda
