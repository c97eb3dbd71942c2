package io.sn11.gpunode.store;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
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
 *   <li>Every resolved path is checked to stay under the root, as a second line of defence.</li>
 * </ul>
 *
 * Concurrent {@link #ensure} calls for the same model in one JVM are serialised; several
 * processes sharing one store folder are not coordinated (each GPU node should own its store).
 */
public final class ModelStore {
    public static final String DEFAULT_REVISION = "main";
    static final String INCOMING = ".incoming";

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
            hub.fetch(namespace, name, revisionOrDefault(revision), incoming, progress);
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

    /** Removes a model folder from the store (for eviction); true if there was one. */
    public boolean delete(String namespace, String name, String revision) throws StoreException {
        Path p = pathFor(namespace, name, revision);
        if (!Files.exists(p)) {
            return false;
        }
        try {
            deleteRecursively(p);
            return true;
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
