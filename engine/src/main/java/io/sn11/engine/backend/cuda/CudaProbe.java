package io.sn11.engine.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;

/**
 * Whether this JVM can run the cuda backend, and if not why: the PTX must be packaged, the NVIDIA driver
 * ({@code libcuda.so.1}) loadable and a device present. {@link #system()} probes once per JVM: after a failed
 * {@code cuInit} the JCuda driver class is unusable (later calls throw NoClassDefFoundError), so the answer is kept.
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
            return new CudaProbe(true, "device 0: " + deviceName, deviceName, total[0], major, minor, driver[0]);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return unavailable("no CUDA device: libcuda.so.1 not loadable (" + firstLine(e.getMessage()) + ")");
        } catch (RuntimeException e) {
            return unavailable("no CUDA device: " + e.getMessage());
        }
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
