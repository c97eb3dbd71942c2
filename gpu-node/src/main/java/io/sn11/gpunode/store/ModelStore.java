package io.sn11.gpunode.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder holding Hugging Face model folders at {@code <root>/<namespace>/<name>/<revision>}.
 *
 * <ul>
 *   <li>A submission that names no revision uses {@value #DEFAULT_REVISION}.</li>
 *   <li>Namespace and name follow the Hub's rule {@code [A-Za-z0-9][A-Za-z0-9._-]{0,95}} without
 *       {@code ..}; a revision is {@code [A-Za-z0-9._/-]{1,128}} without {@code ..}, and (as git
 *       refs) without empty path components or components starting with a dot.</li>
 *   <li>A revision containing {@code /} (e.g. {@code refs/pr/1}) is stored as ONE folder with each
 *       {@code /} written as {@code %2F} ({@code refs%2Fpr%2F1}): {@code %} cannot occur in a
 *       revision, so this never collides, and a revision folder never nests inside another.</li>
 *   <li>Only complete folders are visible: {@link #ensure} fetches into
 *       {@code <root>/.incoming/<namespace>/<name>/<revision>} (resumable) and moves the folder
 *       into place in one rename once every file is verified. A folder placed in the store by hand
 *       is taken as complete. {@code .incoming} cannot clash with a namespace (those start with a
 *       letter or digit).</li>
 *   <li>Every model in the store has a {@link FetchRecord} at
 *       {@code <root>/.fetched/<namespace>/<name>/<revision>.json}: the content hash and each loaded file's size and
 *       SHA-256 as they entered the store (fetched and verified; a demo model as written; a folder placed by hand as
 *       first found, "trust on first use"). It lies outside every model folder, so no repository can ship or
 *       overwrite it, and is written atomically (a temporary file moved into place).</li>
 *   <li>Every resolved path is checked to stay under the root, as a second line of defence.</li>
 * </ul>
 *
 * Concurrent {@link #ensure} calls for the same model in one JVM are serialised; several
 * processes sharing one store folder are not coordinated (each GPU node should own its store).
 */
public final class ModelStore {
    public static final String DEFAULT_REVISION = "main";
    static final String INCOMING = ".incoming";
    static final String FETCHED = ".fetched";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Pattern REPO_PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/-]{1,128}");

    private final Path root;
    private final ConcurrentHashMap<Path, Object> locks = new ConcurrentHashMap<>();

    public ModelStore(Path root) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** The revision a submission means: {@value #DEFAULT_REVISION} when it names none (null or blank). */
    public static String revisionOrDefault(String revision) {
        return revision == null || revision.isBlank() ? DEFAULT_REVISION : revision;
    }

    /** Validates a namespace (user or organisation) by the Hub's rule; a MINER failure otherwise. */
    public static void validateNamespace(String namespace) throws StoreException {
        validateRepoPart("namespace", namespace);
    }

    /** Validates a repository name by the Hub's rule; a MINER failure otherwise. */
    public static void validateName(String name) throws StoreException {
        validateRepoPart("repository name", name);
    }

    /** Validates a revision (branch, tag or commit); a MINER failure otherwise. Null is not valid here. */
    public static void validateRevision(String revision) throws StoreException {
        if (revision == null || !REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw StoreException.miner("invalid revision " + quote(revision)
                    + ": expected 1 to 128 characters of [A-Za-z0-9._/-] without '..'");
        }
        for (String segment : revision.split("/", -1)) {
            if (segment.isEmpty() || segment.startsWith(".")) {
                throw StoreException.miner("invalid revision " + quote(revision)
                        + ": empty path component or a component starting with '.'");
            }
        }
    }

    private static void validateRepoPart(String what, String value) throws StoreException {
        if (value == null || !REPO_PART.matcher(value).matches() || value.contains("..")) {
            throw StoreException.miner("invalid " + what + " " + quote(value)
                    + ": expected [A-Za-z0-9][A-Za-z0-9._-]{0,95} without '..'");
        }
    }

    private static String quote(String s) {
        if (s == null) {
            return "(none)";
        }
        String shown = s.length() > 140 ? s.substring(0, 140) + "..." : s;
        return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
    }

    /** The folder name a revision is stored under ({@code /} written as {@code %2F}). */
    static String revisionFolder(String revision) {
        return revision.replace("/", "%2F");
    }

    /**
     * Where the model lives (whether or not it is there). A null or blank revision means
     * {@value #DEFAULT_REVISION}.
     */
    public Path pathFor(String namespace, String name, String revision) throws StoreException {
        return resolve(root, namespace, name, revision);
    }

    /** The folder a fetch in progress for this model writes to. */
    Path incomingPathFor(String namespace, String name, String revision) throws StoreException {
        return resolve(root.resolve(INCOMING), namespace, name, revision);
    }

    /** Where the model's {@link FetchRecord} is kept: outside the model folder, under {@code <root>/.fetched}. */
    public Path recordPathFor(String namespace, String name, String revision) throws StoreException {
        Path folder = resolve(root.resolve(FETCHED), namespace, name, revision);
        return folder.resolveSibling(folder.getFileName() + ".json");
    }

    /** The model's fetch record, if it has one. An unreadable record is ours to repair: INFRASTRUCTURE. */
    public Optional<FetchRecord> record(String namespace, String name, String revision) throws StoreException {
        Path file = recordPathFor(namespace, name, revision);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), FetchRecord.class));
        } catch (IOException | RuntimeException e) {
            throw StoreException.infrastructure("cannot read the fetch record " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the model's fetch record atomically (a temporary file moved into place), replacing any earlier one. */
    public void writeRecord(String namespace, String name, String revision, FetchRecord record) throws StoreException {
        Path file = recordPathFor(namespace, name, revision);
        try {
            Files.createDirectories(file.getParent());
            Path temporary = Files.createTempFile(file.getParent(), ".record-", ".tmp");
            try {
                JSON.writerWithDefaultPrettyPrinter().writeValue(temporary.toFile(), record);
                try {
                    Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            throw StoreException.infrastructure("cannot write the fetch record " + file + ": " + e, e);
        }
    }

    /**
     * The record of a model in the store; one missing (a folder placed by hand, or in the store from before records)
     * is made now from the files as they are, {@link FetchRecord.Origin#FIRST_USE}: trust on first use.
     */
    public FetchRecord recordOrFirstUse(String namespace, String name, String revision) throws StoreException {
        Path target = pathFor(namespace, name, revision);
        synchronized (locks.computeIfAbsent(target, k -> new Object())) {
            Optional<FetchRecord> recorded = record(namespace, name, revision);
            if (recorded.isPresent()) {
                return recorded.get();
            }
            FetchRecord firstUse;
            try {
                firstUse = FetchRecord.of(target, FetchRecord.Origin.FIRST_USE, Map.of());
            } catch (IOException e) {
                throw StoreException.infrastructure("cannot record the model files of " + target + ": " + e, e);
            }
            writeRecord(namespace, name, revision, firstUse);
            return firstUse;
        }
    }

    private Path resolve(Path base, String namespace, String name, String revision) throws StoreException {
        validateNamespace(namespace);
        validateName(name);
        String rev = revisionOrDefault(revision);
        validateRevision(rev);
        Path p = base.resolve(namespace).resolve(name).resolve(revisionFolder(rev)).normalize();
        if (!p.startsWith(base) || p.getNameCount() != base.getNameCount() + 3) {
            // Cannot happen after validation; kept so that a future change to the rules cannot escape the root.
            throw StoreException.miner("model path escapes the store: " + namespace + "/" + name + "@" + rev);
        }
        return p;
    }

    /** The model folder if it is in the store (complete), else empty. */
    public Optional<Path> find(String namespace, String name, String revision) throws StoreException {
        Path p = pathFor(namespace, name, revision);
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }

    /**
     * The model folder: the store's, else fetched from {@code hub} (see {@link #ensure}). Missing with fetching off
     * ({@code hub} empty), it is the repository's failure: nothing here can evaluate it.
     */
    public Path locate(Optional<HubClient> hub, String namespace, String name, String revision,
                       HubClient.ProgressListener progress) throws StoreException {
        Optional<Path> present = find(namespace, name, revision);
        if (present.isPresent()) return present.get();
        if (hub.isEmpty()) {
            throw StoreException.miner("repository " + namespace + "/" + name + " at revision " + revisionOrDefault(revision)
                    + " is not in the model store " + pathFor(namespace, name, revision) + " (fetching from the Hub is off)");
        }
        return ensure(hub.get(), namespace, name, revision, progress);
    }

    /**
     * The model folder, fetched from the Hub first when it is not in the store. A fetch that fails
     * half-way leaves its files under {@code .incoming} and the next call resumes them.
     */
    public Path ensure(HubClient hub, String namespace, String name, String revision,
                       HubClient.ProgressListener progress) throws StoreException {
        Path target = pathFor(namespace, name, revision);
        Object lock = locks.computeIfAbsent(target, k -> new Object());
        synchronized (lock) {
            if (Files.isDirectory(target)) {
                return target;
            }
            Path incoming = incomingPathFor(namespace, name, revision);
            HubClient.FetchResult fetched = hub.fetch(namespace, name, revisionOrDefault(revision), incoming, progress);
            // Recorded before the folder becomes visible: a model in the store from a fetch always has its record.
            writeRecord(namespace, name, revision, recordOfFetch(incoming, fetched));
            try {
                Files.createDirectories(target.getParent());
                try {
                    Files.move(incoming, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(incoming, target);
                }
            } catch (IOException e) {
                if (Files.isDirectory(target)) { // another process put it in place meanwhile
                    try {
                        deleteRecursively(incoming);
                    } catch (IOException ignored) {
                        // a leftover under .incoming is harmless
                    }
                    return target;
                }
                throw StoreException.infrastructure("cannot move fetched model into the store at " + target + ": " + e, e);
            }
            return target;
        }
    }

    /** The record of a fetch: the files the Hub gave a SHA-256 for were verified against it while downloading. */
    private static FetchRecord recordOfFetch(Path incoming, HubClient.FetchResult fetched) throws StoreException {
        Map<String, String> verified = new HashMap<>();
        for (HubClient.RemoteFile file : fetched.files()) {
            if (file.sha256() != null) {
                verified.put(file.path(), file.sha256());
            }
        }
        try {
            return FetchRecord.of(incoming, FetchRecord.Origin.FETCHED, verified);
        } catch (IOException e) {
            throw StoreException.infrastructure("cannot record the fetched files of " + incoming + ": " + e, e);
        }
    }

    /** Removes a model folder and its fetch record from the store (for eviction); true if there was a folder. */
    public boolean delete(String namespace, String name, String revision) throws StoreException {
        Path p = pathFor(namespace, name, revision);
        Path record = recordPathFor(namespace, name, revision);
        try {
            // The folder first: a folder whose record were gone would be trusted on first use again.
            boolean present = Files.exists(p);
            deleteRecursively(p);
            Files.deleteIfExists(record);
            return present;
        } catch (IOException e) {
            throw StoreException.infrastructure("cannot delete " + p + ": " + e, e);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        }
    }
}
