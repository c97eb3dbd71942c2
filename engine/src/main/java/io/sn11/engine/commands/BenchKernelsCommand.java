package io.sn11.engine.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sn11.engine.backend.Backend;
import io.sn11.engine.model.LayerWeights;
import io.sn11.engine.model.ModelConfig;
import io.sn11.engine.model.ModelWeights;
import io.sn11.engine.safetensors.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = {"Measure the backend's matmul on a model's weight shapes (layer 0's projections and the lm head): "
                + "TFLOP/s for a prefill of --rows rows, and GB/s of weights read for one row (decode).",
                "Make a model to bench with: make-tiny-model --out DIR --shape 8b --dtype bf16."})
public class BenchKernelsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin BackendOptions backendOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder.")
    Path model;

    @Option(names = "--rows", defaultValue = "1024", paramLabel = "N", description = "Rows of the prefill matmuls. Default: ${DEFAULT-VALUE}.")
    int rows;

    @Option(names = "--repeats", defaultValue = "20", paramLabel = "N",
            description = "Timed launches per shape after one warm-up; the mean is reported. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /** Seconds per matmul of {@code rows} rows against {@code w}, averaged over the repeats. */
    private double time(Backend be, Backend.WeightHandle w, int rows) {
        float[] x = new float[rows * w.cols()];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        try (Backend.Buffer xb = be.upload(x); Backend.Buffer out = be.allocate(rows * w.rows())) {
            be.matmul(xb, rows, w, null, out);
            be.synchronize();
            long t0 = System.nanoTime();
            for (int i = 0; i < repeats; i++) be.matmul(xb, rows, w, null, out);
            be.synchronize();
            return (System.nanoTime() - t0) / 1e9 / repeats;
        }
    }

    @Override
    public Integer call() throws Exception {
        ModelConfig c = ModelConfig.read(model);
        List<Map<String, Object>> shapes = new ArrayList<>();
        Map<String, Object> r = new LinkedHashMap<>();
        double flops = 0, prefillSeconds = 0, bytes = 0, decodeSeconds = 0;
        try (Backend be = backendOptions.create(); ModelWeights weights = ModelWeights.load(model, c)) {
            LayerWeights l = weights.layers().get(0);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("q_proj", l.wq());
            tensors.put("k_proj", l.wk());
            tensors.put("v_proj", l.wv());
            tensors.put("o_proj", l.wo());
            tensors.put("gate_proj", l.wGate());
            tensors.put("up_proj", l.wUp());
            tensors.put("down_proj", l.wDown());
            tensors.put("lm_head", weights.lmHead());
            for (var e : tensors.entrySet()) {
                try (Backend.WeightHandle w = be.upload(e.getValue())) {
                    double prefill = time(be, w, rows), decode = time(be, w, 1);
                    double f = 2.0 * rows * w.rows() * w.cols(), b = (double) w.rows() * w.cols() * w.dtype().bytes();
                    flops += f;
                    prefillSeconds += prefill;
                    bytes += b;
                    decodeSeconds += decode;
                    Map<String, Object> s = new LinkedHashMap<>();
                    s.put("name", e.getKey());
                    s.put("out", w.rows());
                    s.put("in", w.cols());
                    s.put("dtype", w.dtype().name());
                    s.put("prefill_tflops", f / prefill / 1e12);
                    s.put("decode_gb_per_second", b / decode / 1e9);
                    shapes.add(s);
                }
            }
            r.put("model", model.toString());
            r.put("backend", be.name());
            r.put("backend_settings", be.settings());
        }
        r.put("rows", rows);
        r.put("shapes", shapes);
        r.put("prefill_tflops", flops / prefillSeconds / 1e12);
        r.put("decode_gb_per_second", bytes / decodeSeconds / 1e9);
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
        } else {
            out.printf("matmul on %s (%s), %d rows%n", r.get("model"), r.get("backend"), rows);
            for (Map<String, Object> s : shapes) {
                out.printf("  %-10s %6d x %-6d %-5s %8.2f TFLOP/s   decode %8.1f GB/s%n", s.get("name"), s.get("out"),
                        s.get("in"), s.get("dtype"), s.get("prefill_tflops"), s.get("decode_gb_per_second"));
            }
            out.printf("  all        %8.2f TFLOP/s   decode %8.1f GB/s%n", r.get("prefill_tflops"), r.get("decode_gb_per_second"));
        }
        out.flush();
        return 0;
    }
}
