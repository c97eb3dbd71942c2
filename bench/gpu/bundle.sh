#!/usr/bin/env bash
# Builds the GPU proof's self-contained bundle (the GPU machine has no JDK, no Maven and no internet) into one ignored
# folder under 48 MiB, which travels with a `run` call (carry: .gpu-bundle):
#   runtime.tar.xz  a jlink image of the JDK 25 the build uses: the modules the jars need (jdeps) and
#                   jdk.incubator.vector; `java` unpacks it on first use (runtime.id names it)
#   lib/            the engine's jar and its runtime dependencies, no Pekko: DJL tokenizers and JNA with their
#                   linux-x86_64 natives only, JCuda with its driver binding's linux native only, Jackson, picocli,
#                   SLF4J with its simple binding; and the engine's test jar with JUnit for the CUDA tests
#                   (io.sn11.engine.JUnitMain)
#   kernels/        io/sn11/engine/cuda/sm_90a/NAME.cubin (bench/gpu/cubins.sh), which CudaBackend loads instead of the
#                   PTX in the engine's jar on a compute capability 9.0 device; empty where nvcc is missing here, and
#                   then bench/gpu/run.sh compiles them with the GPU machine's nvcc
#   java            the bundle's JVM with the engine's options and class path: `java CLASS ARGS...`
#   BUNDLE.txt      what went in (commit, JDK, nvcc, modules, sizes)
# Prints the folder's size, then its path as the last line. Environment: BUNDLE_DIR (default .gpu-bundle in the
# repository root), MVN_ARGS (default -o: offline, the dependencies are in ~/.m2), NVCC (default: nvcc on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${BUNDLE_DIR:-$root/.gpu-bundle}"
limit_mib=48

# The JDK the build uses: JAVA_HOME where it is a JDK >= 25, else the newest JDK >= 25 under /usr/lib/jvm.
jdk=""
for candidate in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV); do
  version="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null || true)"
  if [[ -x "$candidate/bin/jlink" && -n "$version" && "$version" -ge 25 ]]; then jdk="$candidate"; break; fi
done
[[ -n "$jdk" ]] || { echo "bundle.sh: needs a JDK >= 25 with jlink (JAVA_HOME or /usr/lib/jvm)" >&2; exit 1; }
mvn() { (cd "$root" && JAVA_HOME="$jdk" command mvn -B -q ${MVN_ARGS:--o} -pl engine "$@"); }

echo "== build the engine (jar, test jar, PTX where nvcc is installed)" >&2
mvn package -DskipTests
rm -rf "$out"
mkdir -p "$out/lib" "$out/kernels"
mvn dependency:copy-dependencies -DincludeScope=test -DexcludeGroupIds=net.jqwik,ch.qos.logback -DoutputDirectory="$out/lib"
mvn dependency:copy -Dartifact=org.slf4j:slf4j-simple:2.0.17 -DoutputDirectory="$out/lib"
cp "$root"/engine/target/sn11-engine-*.jar "$out/lib/"
engine_jar="$(ls "$out"/lib/sn11-engine-*.jar | grep -v -- -tests.jar)"
unzip -Z1 "$engine_jar" | grep -q '\.ptx$' \
  || { echo "bundle.sh: the engine jar holds no PTX (built without nvcc: see engine/pom.xml's ptx profile)" >&2; exit 1; }

# Native libraries for other platforms are most of these jars' size: keep those under a linux-x86_64 folder only.
keep_natives() {
  local jar="$1" keep="$2" others
  others="$(unzip -Z1 "$jar" | grep -E '\.(so|dll|dylib|jnilib|a)$' | grep -v "/$keep/" || true)"
  if [[ -n "$others" ]]; then zip -q -d "$jar" $others >/dev/null; fi
}
keep_natives "$out"/lib/tokenizers-*.jar linux-x86_64
keep_natives "$out"/lib/jna-*.jar linux-x86-64
# The engine uses JCuda's driver API only: its runtime, NVRTC and PTX compiler bindings (24 MB of the 26) stay behind.
zip -q -d "$out"/lib/jcuda-natives-*.jar 'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' 'lib/libJCudaRuntime-*' >/dev/null

nvcc="${NVCC:-$(command -v nvcc || true)}"
if [[ -n "$nvcc" ]]; then
  echo "== sm_90a cubins with $nvcc" >&2
  nvcc_version="$("$here/cubins.sh" "$out/kernels" "$nvcc")"
else
  echo "bundle.sh: no nvcc here: bench/gpu/run.sh compiles the sm_90a cubins with the GPU machine's nvcc" >&2
  nvcc_version="none here (run.sh compiles the cubins on the GPU machine)"
fi

echo "== jlink runtime" >&2
# commons-compress (DJL's) declares a module that requires commons-lang3, which DJL's dependencies leave out: jdeps
# cannot resolve it as a module, so it is read as the class-path jar it is here.
jdeps() { "$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps "$@" | tr ',' '\n'; }
modules="$({ jdeps --multi-release 25 $(ls "$out"/lib/*.jar | grep -v /commons-compress-)
             jdeps --multi-release base "$out"/lib/commons-compress-*.jar
             echo jdk.incubator.vector; } | sort -u | paste -sd, -)"
# Packed, because any unpacked image is over the limit by itself (libjvm.so alone is 30 MB); xz over uncompressed
# modules (zip-0) comes out smaller than jlink's own zip-9.
image="$(mktemp -d)"
trap 'rm -rf "$image"' EXIT
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
  --output "$image/runtime"
XZ_OPT="-6 -T0" tar -C "$image" -cJf "$out/runtime.tar.xz" runtime
sha256sum "$out/runtime.tar.xz" | cut -c1-16 > "$out/runtime.id"
cp "$here/bundle-java" "$out/java"

{
  echo "commit: $(git -C "$root" rev-parse HEAD)$(git -C "$root" diff --quiet HEAD -- engine || echo ' (with uncommitted engine changes)')"
  echo "jdk: $("$jdk/bin/java" -version 2>&1 | head -1) ($jdk)"
  echo "modules: $modules"
  echo "nvcc: $nvcc_version"
  echo "kernels (io/sn11/engine/cuda/sm_90a): $(find "$out/kernels" -name '*.cubin' -printf '%f\n' | sort | tr '\n' ' ')"
  echo "sizes: $(cd "$out" && du -sh runtime.tar.xz lib kernels | awk '{print $2 "=" $1}' | tr '\n' ' ')"
} > "$out/BUNDLE.txt"
"$out/java" io.sn11.engine.commands.EngineCommands --help >/dev/null 2>&1 \
  || { echo "bundle.sh: the bundle's java does not run the engine" >&2; exit 1; }

size_bytes="$(du -sb "$out" | cut -f1)"
echo "bundle: $(awk -v b="$size_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (limit $limit_mib MiB), $(tail -1 "$out/BUNDLE.txt")"
if (( size_bytes > limit_mib * 1048576 )); then
  echo "bundle.sh: the bundle is over $limit_mib MiB" >&2
  exit 1
fi
echo "$out"
