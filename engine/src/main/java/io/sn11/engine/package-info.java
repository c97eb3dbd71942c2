/**
 * The inference engine, read top to bottom:
 * <ul>
 *   <li>{@code safetensors}: validated, memory-mapped reading (and streaming writing) of F32/F16/BF16 tensors;</li>
 *   <li>{@code model}: {@code config.json} and the weights by their Hugging Face names, shapes checked;</li>
 *   <li>{@code backend}: the {@code Backend} kernel interface and the plain-Java {@code ScalarBackend} reference;</li>
 *   <li>{@link io.sn11.engine.Transformer}: the one forward pass for Llama, Mistral and Qwen2
 *       (prefill of a batch, decode with a kv cache), {@link io.sn11.engine.Sampler} and
 *       {@link io.sn11.engine.Generator} for generation;</li>
 *   <li>{@code tokenizer}: HF tokenizers through DJL, each token's bytes, and the ten chat templates;</li>
 *   <li>{@code json}: constrained decoding, every reply a JSON document of a given shape;</li>
 *   <li>{@code scoring}: the eval score and creativity from the backend's per-position top-10 statistics;</li>
 *   <li>{@code data}, {@code eval}: the JSONL conversation dataset and a whole evaluation;</li>
 *   <li>{@code tiny}: random-weight model folders with a real byte-level BPE tokenizer, for tests and benches.</li>
 * </ul>
 */
package io.sn11.engine;
