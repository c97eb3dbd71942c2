package io.sn11.engine.model;

import io.sn11.engine.safetensors.Tensor;

/** The tensors of one decoder layer; biases are null when the config has no attention bias. */
public record LayerWeights(
        Tensor inputNorm, Tensor wq, Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv, Tensor wo,
        Tensor postAttentionNorm, Tensor wGate, Tensor wUp, Tensor wDown) {}
