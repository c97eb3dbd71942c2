package io.sn11.engine.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The tensors of a model folder: either one {@code model.safetensors} or shards listed by
 * {@code model.safetensors.index.json} ({@code weight_map}: tensor name to shard file). Each tensor name must
 * appear in exactly one file.
 */
public final class SafetensorsModel implements AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private SafetensorsModel(List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.files = files;
        this.byTensor = byTensor;
    }

    public static SafetensorsModel open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        List<Path> paths = new ArrayList<>();
        if (Files.isRegularFile(index)) {
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(index.toFile());
            } catch (IOException e) {
                throw new SafetensorsException(index + ": not valid JSON: " + e.getMessage(), e);
            }
            JsonNode map = root == null ? null : root.get("weight_map");
            if (map == null || !map.isObject()) throw new SafetensorsException(index + ": missing weight_map object");
            TreeSet<String> shardNames = new TreeSet<>();
            map.fields().forEachRemaining(f -> shardNames.add(f.getValue().asText()));
            for (String s : shardNames) {
                Path p = dir.resolve(s).normalize();
                if (!p.getParent().equals(dir.normalize()) || !s.endsWith(".safetensors")) {
                    throw new SafetensorsException(index + ": shard name '" + s + "' is not a .safetensors file in the model folder");
                }
                paths.add(p);
            }
        } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
            paths.add(dir.resolve(SINGLE));
        } else {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(paths::add);
            }
            if (paths.isEmpty()) throw new SafetensorsException(dir + ": no model.safetensors, index or *.safetensors file");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String name : f.entries().keySet()) {
                    SafetensorsFile prev = byTensor.put(name, f);
                    if (prev != null) {
                        throw new SafetensorsException("tensor " + name + " appears in both " + prev.path() + " and " + p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            for (SafetensorsFile f : files) f.close();
            throw e;
        }
        return new SafetensorsModel(files, byTensor);
    }

    public boolean contains(String name) { return byTensor.containsKey(name); }

    /** The files the tensors are read from, in the order they were opened. */
    public List<SafetensorsFile> files() { return Collections.unmodifiableList(files); }

    public java.util.Set<String> names() { return Collections.unmodifiableSet(byTensor.keySet()); }

    public Tensor tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new SafetensorsException("tensor " + name + " not found in the model's safetensors files");
        return f.tensor(name);
    }

    /** Total bytes of the safetensors files (the model size that scoring uses). */
    public long fileBytes() throws IOException {
        long n = 0;
        for (SafetensorsFile f : files) n += Files.size(f.path());
        return n;
    }

    @Override
    public void close() throws IOException {
        for (SafetensorsFile f : files) f.close();
    }
}
