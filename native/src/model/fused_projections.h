// Fused projections: the q/k/v and gate/up linear layers of a layer, which read the same input,
// stacked by output rows into one weight at load (per rank, after the tensor-parallel slice), so a
// decode step streams 4 weights a layer instead of 7 (fewer kernel launches and pool joins, longer
// streams). The decoder splits the fused output back (model/decoder.cpp).
// Tests: tests/fused_projections_test.cpp.
#pragma once
#include <vector>

#include "tpserve/linear_weight.h"
#include "tpserve/model_weights.h"

namespace tpserve {

// The rows of `parts` stacked in order into one CPU weight of their common format: float (same
// dtype), Int8/Fp8 (per-row scales stacked), Int4 (same group size; scales and zeros stacked). An
// act-order perm must be the same in every part. Returns an undefined LinearWeight when the parts
// cannot share one weight (formats, dtypes, in_features, group sizes or perms differ).
LinearWeight concat_weight_rows(const std::vector<const LinearWeight*>& parts);

// The biases of the stacked parts as one f32 [sum of out_features] tensor, zeros for a part
// without one; undefined when no part has a bias. rows[i]: out_features of part i.
Tensor concat_biases(const std::vector<const Tensor*>& biases, const std::vector<int64_t>& rows);

// Fills layer.qkv_proj / gate_up_proj (and their biases) from the separate host weights and
// empties those, where the parts can be fused; otherwise leaves the layer as it is.
void fuse_layer_projections(LayerWeights& layer);

}  // namespace tpserve
