package io.sn11.engine.backend.cuda;

import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether this JVM can run the cuda backend, and if not why: the PTX must be packaged, the NVIDIA driver
 * ({@code libcuda.so.1}) loadable, a device present, and the driver must load a packaged module. {@link #system()}
 * probes once per JVM: after a failed {@code cuInit} the JCuda driver class is unusable (later calls throw
 * NoClassDefFoundError), so the answer is kept.
 */
public record CudaProbe(boolean available, String reason, String deviceName, long totalMemoryBytes,
                        int computeMajor, int computeMinor, int driverVersion) {

    public static CudaProbe unavailable(String reason) {
        return new CudaProbe(false, reason, "", 0, 0, 0, 0);
    }

    /** The probe of device 0, run on first use. */
    public static CudaProbe system() { return Holder.RESULT; }

    private static final class Holder {
        static final CudaProbe RESULT = probe();
    }

    private static CudaProbe probe() {
        var missing = CudaKernel.missingPtx();
        if (!missing.isEmpty()) {
            return unavailable("PTX not packaged in this build (built without nvcc): missing " + String.join(", ", missing));
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            if (count[0] == 0) return unavailable("no CUDA device: the driver reports 0 devices");
            CUdevice device = new CUdevice();
            JCudaDriver.cuDeviceGet(device, 0);
            byte[] name = new byte[256];
            JCudaDriver.cuDeviceGetName(name, name.length, device);
            long[] total = new long[1];
            JCudaDriver.cuDeviceTotalMem(total, device);
            int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            int[] driver = new int[1];
            JCudaDriver.cuDriverGetVersion(driver);
            String deviceName = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
            if (major < 8) {
                return new CudaProbe(false, "device " + deviceName + " has compute capability " + major + "." + minor
                        + "; the kernels need 8.0 or later (bf16 tensor cores)", deviceName, total[0], major, minor, driver[0]);
            }
            String refused = moduleLoadFailure(device, driver[0], major, minor);
            if (refused != null) return new CudaProbe(false, refused, deviceName, total[0], major, minor, driver[0]);
            return new CudaProbe(true, "device 0: " + deviceName, deviceName, total[0], major, minor, driver[0]);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return unavailable("no CUDA device: libcuda.so.1 not loadable (" + firstLine(e.getMessage()) + ")");
        } catch (RuntimeException e) {
            return unavailable("no CUDA device: " + e.getMessage());
        }
    }

    /**
     * Loads one packaged module in the device's primary context, as the backend does; null when the driver takes it.
     * A device can be present and still refuse every kernel: PTX from a newer nvcc than the driver knows (PTX ISA 9.0,
     * from CUDA 13, needs a driver for CUDA 13, Linux 580 or later) fails only here, and {@code auto} must not pick
     * a backend whose {@code open} would then throw.
     */
    private static String moduleLoadFailure(CUdevice device, int driverVersion, int major, int minor) {
        String module = CudaKernel.modules().get(0);
        CudaKernel.Image image;
        try {
            image = CudaKernel.image(module, major, minor);  // what the backend will load: this device's cubin, else the PTX
        } catch (IOException e) {
            return e.getMessage();
        }
        CUcontext context = new CUcontext();
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            CUmodule m = new CUmodule();
            try {
                JCudaDriver.cuModuleLoadData(m, image.bytes());
            } catch (CudaException e) {
                return moduleRefused(module, e.getMessage(), driverVersion, new String(image.bytes(), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            JCudaDriver.cuModuleUnload(m);
            return null;
        } finally {
            JCudaDriver.cuCtxSetCurrent(new CUcontext());  // leave no context current that the release may destroy
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }

    private static final Pattern PTX_ISA = Pattern.compile("^\\.version (\\S+)", Pattern.MULTILINE);
    private static final Pattern NVCC_RELEASE = Pattern.compile("Cuda compilation tools, release (\\S+),");

    /** The reason when the driver refuses a module: its error, its CUDA version, and the PTX's ISA and nvcc release. */
    static String moduleRefused(String module, String error, int driverVersion, String ptx) {
        Matcher isa = PTX_ISA.matcher(ptx), nvcc = NVCC_RELEASE.matcher(ptx);
        String built = (isa.find() ? "PTX ISA " + isa.group(1) : "PTX") + (nvcc.find() ? " from nvcc " + nvcc.group(1) : "");
        return "the CUDA driver cannot load the kernels: cuModuleLoadData(" + module + ".ptx) failed with " + error
                + "; the driver supports CUDA " + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ", the kernels are "
                + built + " (a driver for that CUDA release or later loads them)";
    }

    /** JCuda's link errors list every path it tried, one per line: the first says what failed. */
    private static String firstLine(String message) {
        if (message == null) return "no message";
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }
}
