package dev.qcow2.storage;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Prompt release of {@link FileStorage#map} mappings. The JDK unmaps a MappedByteBuffer only
 * when the garbage collector finds it unreachable, which a convert that allocates little may not
 * do for gigabytes of mappings (each one a kernel VMA, limited by vm.max_map_count). The JDK's
 * own release, {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported, the route Lucene
 * and Netty take), is used when present; otherwise release is left to the collector.
 *
 * <p>Invariant for callers: a buffer is unmapped only when no thread will touch it or any of its
 * slices again; an access after that faults the process.
 */
public final class Mappings {
    private static final MethodHandle INVOKE_CLEANER = lookup();

    private Mappings() { }

    private static MethodHandle lookup() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            Object unsafe = field.get(null);
            return MethodHandles.lookup()
                    .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                    .bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Whether {@link #unmap} releases at once (else it leaves the mapping to the collector). */
    public static boolean promptRelease() { return INVOKE_CLEANER != null; }

    /** Unmaps {@code buffer} now when possible (see the class invariant). */
    public static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null) return;
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
        } catch (Throwable e) {
            // not a releasable buffer (a slice or duplicate): the collector will do it
        }
    }
}
