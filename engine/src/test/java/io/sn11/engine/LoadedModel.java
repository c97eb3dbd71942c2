package io.sn11.engine;

import io.sn11.engine.backend.ScalarBackend;
import io.sn11.engine.safetensors.DType;
import io.sn11.engine.tiny.TinyModels;
import io.sn11.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/** A tiny random-weight model written to a folder and loaded on a two-thread cpu backend, for tests. */
public record LoadedModel(ScalarBackend backend, Transformer model, Tokenizer tokenizer) implements AutoCloseable {

  public static LoadedModel write(Path dir, TinyModels.Arch arch, DType dtype, long seed) throws IOException {
    TinyModels.write(dir, arch, dtype, seed);
    ScalarBackend backend = new ScalarBackend(2);
    return new LoadedModel(backend, Transformer.load(dir, backend), Tokenizer.load(dir));
  }

  @Override
  public void close() throws IOException {
    tokenizer.close();
    model.close();
    backend.close();
  }
}
