package io.sn11.engine.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The raw device address of a JCuda pointer, for the native libraries called through the FFM API (cuBLASLt). JCuda
 * keeps it in two protected fields (the allocation's address and an offset added by {@code withByteOffset}); both
 * jars share the class path's unnamed module, so a private lookup may read them.
 */
final class DeviceAddress {
    private static final MethodHandle NATIVE_POINTER, BYTE_OFFSET;

    static {
        try {
            NATIVE_POINTER = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                    .findVirtual(NativePointerObject.class, "getNativePointer", MethodType.methodType(long.class));
            BYTE_OFFSET = MethodHandles.privateLookupIn(Pointer.class, MethodHandles.lookup())
                    .findVirtual(Pointer.class, "getByteOffset", MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private DeviceAddress() {}

    static long of(CUdeviceptr p) {
        try {
            return (long) NATIVE_POINTER.invoke(p) + (long) BYTE_OFFSET.invoke(p);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read a JCuda pointer's address", t);
        }
    }
}
