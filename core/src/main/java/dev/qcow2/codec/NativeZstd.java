package dev.qcow2.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * zstd frames decoded by the system's libzstd (Debian's libzstd1, the library QEMU itself
 * decodes with), through java.lang.foreign, when it is installed: ~3x faster than the pure-Java
 * decoder, which stays the fallback (and is used until the library is linked: see
 * {@link #decoder()}). System property {@code qcow2.native=false} turns it off, as it turns off
 * every native call; {@code qcow2.zstd=java} turns off only this.
 *
 * <p>ZSTD_decompressDCtx is linked as a critical function with heap access: it reads and
 * writes the cluster arrays in place (no copy to native memory) and never blocks, which is
 * what critical linkage requires. Decompression contexts are pooled (one per concurrent decode).
 */
final class NativeZstd {
    /** ZSTD_decompressDCtx on a pooled context; safe from any thread. */
    interface FrameDecoder {
        /** Decodes exactly the frame(s) in {@code in[pos, pos + length)} into {@code out[at, at + room)}: bytes produced, or -1. */
        int decode(byte[] in, int pos, int length, byte[] out, int at, int room);
    }

    private enum State { NOT_STARTED, LINKING, READY, UNAVAILABLE }

    private static volatile State state = State.NOT_STARTED;
    private static MethodHandle createContext;     // ZSTD_DCtx* ZSTD_createDCtx(void)
    private static MethodHandle decompress;        // size_t ZSTD_decompressDCtx(ctx, dst, dstCapacity, src, srcSize)

    /**
     * Decompression contexts not in use. A decode takes one (or creates it) and gives it back:
     * there are never more than the threads that decoded at the same time, and none is lost
     * with a thread (a context per thread would leak ~100 KiB for every short-lived worker).
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<MemorySegment> IDLE_CONTEXTS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final FrameDecoder DECODER = NativeZstd::decode;

    private NativeZstd() { }

    /**
     * The native decoder, or null while the library is being linked (on a daemon
     * thread started by the first call: linking generates stub classes, tens of milliseconds a
     * short command need not wait for) or when it cannot be used.
     */
    static FrameDecoder decoder() {
        State s = state;
        if (s == State.READY) return DECODER;
        if (s == State.NOT_STARTED) startLinking();
        return null;
    }

    /** Links on the calling thread and reports whether the native decoder is usable (specs). */
    static boolean linkNow() {
        synchronized (NativeZstd.class) {
            if (state == State.NOT_STARTED || state == State.LINKING) link();
        }
        return state == State.READY;
    }

    private static synchronized void startLinking() {
        if (state != State.NOT_STARTED) return;
        if ("false".equals(System.getProperty("qcow2.native")) || "java".equals(System.getProperty("qcow2.zstd"))) {
            state = State.UNAVAILABLE;
            return;
        }
        state = State.LINKING;
        Thread t = new Thread(() -> {
            synchronized (NativeZstd.class) {
                if (state == State.LINKING) link();
            }
        }, "qcow2-zstd-link");
        t.setDaemon(true);
        t.start();
    }

    /** Called with the class lock held. */
    private static void link() {
        if ("false".equals(System.getProperty("qcow2.native")) || "java".equals(System.getProperty("qcow2.zstd"))) {
            state = State.UNAVAILABLE;
            return;
        }
        if (!System.getProperty("os.name", "").equals("Linux")) {   // the library's name is Linux's
            state = State.UNAVAILABLE;
            return;
        }
        try {
            SymbolLookup zstd = SymbolLookup.libraryLookup("libzstd.so.1", Arena.global());
            Linker linker = Linker.nativeLinker();
            ValueLayout.OfLong size = ValueLayout.JAVA_LONG;
            createContext = linker.downcallHandle(zstd.find("ZSTD_createDCtx").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            decompress = linker.downcallHandle(zstd.find("ZSTD_decompressDCtx").orElseThrow(),
                    FunctionDescriptor.of(size, ValueLayout.ADDRESS, ValueLayout.ADDRESS, size, ValueLayout.ADDRESS, size),
                    Linker.Option.critical(true));
            state = State.READY;
        } catch (RuntimeException | LinkageError e) {
            // no libzstd.so.1 (IllegalArgumentException), a symbol missing, native access refused
            state = State.UNAVAILABLE;
        }
    }

    private static int decode(byte[] in, int pos, int length, byte[] out, int at, int room) {
        MemorySegment context = IDLE_CONTEXTS.poll();
        if (context == null) context = newContext();
        try {
            long r = (long) decompress.invokeExact(context, MemorySegment.ofArray(out).asSlice(at, room), (long) room,
                    MemorySegment.ofArray(in).asSlice(pos, length), (long) length);
            // errors come back as (size_t) -code, code < 128 (ZSTD_isError)
            return r < 0 ? -1 : (int) r;
        } catch (Throwable t) {
            throw new IllegalStateException("ZSTD_decompressDCtx", t);
        } finally {
            IDLE_CONTEXTS.offer(context);
        }
    }

    private static MemorySegment newContext() {
        MemorySegment context;
        try {
            context = (MemorySegment) createContext.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("ZSTD_createDCtx", t);
        }
        if (context.equals(MemorySegment.NULL)) throw new OutOfMemoryError("ZSTD_createDCtx");
        return context;
    }
}
