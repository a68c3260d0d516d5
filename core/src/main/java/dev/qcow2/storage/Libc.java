package dev.qcow2.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The few libc calls Java's file API does not offer (open, close, lseek with SEEK_DATA/SEEK_HOLE,
 * fstat's st_blocks, fallocate, fcntl's open-file-description byte locks), bound once through java.lang.foreign. Everything here is
 * Linux/x86_64 glibc: on any other platform, or when the lookup fails, {@link #get()} is empty
 * and every caller uses its pure-Java fallback. System property {@code qcow2.native=false}
 * forces that fallback everywhere (the specs use it to compare both paths on the same files).
 *
 * <p>Each call captures errno ({@link Linker.Option#captureCallState}) and reports a failure as
 * {@link NativeCallException} carrying it, so callers can tell "not supported here" (EOPNOTSUPP,
 * ENOSYS, EINVAL) from a real I/O error.
 */
final class Libc {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    static final int EINVAL = 22;
    static final int ENXIO = 6;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int ENOLCK = 37;
    /** fcntl commands of Linux's open file description locks (asm-generic/fcntl.h) and lock types. */
    static final int F_OFD_GETLK = 36, F_OFD_SETLK = 37;
    static final short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    /** struct flock on x86_64: l_type (short) @0, l_whence (short) @2, l_start @8, l_len @16, l_pid (int) @24; sizeof 32. */
    static final long FLOCK_SIZE = 32;

    /** struct stat on x86_64 glibc 2.36 (sizeof 144): st_blocks (512-byte units) at offset 64, checked with offsetof. */
    static final long STAT_SIZE = 144;
    static final long ST_BLOCKS_OFFSET = 64;

    /** Bound on first use (class-initialisation holder): a JVM that never asks pays nothing. */
    private static final class Holder {
        static final Optional<Libc> INSTANCE = bind();
    }

    /**
     * The libc functions, each linked on its first call: creating a downcall handle generates
     * its stub class, which costs start-up time (`qcow2 info` needs only open, fstat and close).
     */
    private enum Fn {
        OPEN("open"), CLOSE("close"), LSEEK("lseek"), FSTAT("fstat"), FALLOCATE("fallocate"), FCNTL("fcntl");

        final String symbol;

        Fn(String symbol) { this.symbol = symbol; }
    }

    private final Linker linker;
    private final SymbolLookup lookup;
    private final Linker.Option errnoOption;
    private final StructLayout callState;
    private final VarHandle errno;
    private final MethodHandle[] handles = new MethodHandle[Fn.values().length];

    private Libc(Linker linker, SymbolLookup lookup, Linker.Option errnoOption, StructLayout callState) {
        this.linker = linker;
        this.lookup = lookup;
        this.errnoOption = errnoOption;
        this.callState = callState;
        this.errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    /** The bound libc, or empty when native calls are unavailable or switched off. */
    static Optional<Libc> get() {
        if ("false".equals(System.getProperty("qcow2.native"))) return Optional.empty();
        return Holder.INSTANCE;
    }

    private static Optional<Libc> bind() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) return Optional.empty();
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lookup = linker.defaultLookup();
            for (Fn f : Fn.values()) lookup.find(f.symbol).orElseThrow();   // all present, or none used
            return Optional.of(new Libc(linker, lookup, Linker.Option.captureCallState("errno"),
                    Linker.Option.captureStateLayout()));
        } catch (RuntimeException | LinkageError e) {
            // no libc symbol, native access refused (--enable-native-access=deny): pure Java only
            return Optional.empty();
        }
    }

    private MethodHandle handle(Fn f) {
        MethodHandle h = handles[f.ordinal()];   // MethodHandle is immutable: a plain read is safe
        return h != null ? h : link(f);
    }

    /**
     * Links {@code f} once: a thread that asks while another (the {@link #prelink} thread) is
     * linking it waits for that one instead of generating the same stub again.
     */
    private synchronized MethodHandle link(Fn f) {
        MethodHandle h = handles[f.ordinal()];
        if (h != null) return h;
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        MemorySegment symbol = lookup.find(f.symbol).orElseThrow();
        h = switch (f) {
            case OPEN -> linker.downcallHandle(symbol, FunctionDescriptor.of(i, ValueLayout.ADDRESS, i, i), errnoOption,
                    Linker.Option.firstVariadicArg(2));
            case CLOSE -> linker.downcallHandle(symbol, FunctionDescriptor.of(i, i), errnoOption);
            case LSEEK -> linker.downcallHandle(symbol, FunctionDescriptor.of(l, i, l, i), errnoOption);
            case FSTAT -> linker.downcallHandle(symbol, FunctionDescriptor.of(i, i, ValueLayout.ADDRESS), errnoOption);
            case FALLOCATE -> linker.downcallHandle(symbol, FunctionDescriptor.of(i, i, i, l, l), errnoOption);
            case FCNTL -> linker.downcallHandle(symbol, FunctionDescriptor.of(i, i, i, ValueLayout.ADDRESS), errnoOption,
                    Linker.Option.firstVariadicArg(2));
        };
        handles[f.ordinal()] = h;
        return h;
    }

    /**
     * Links the calls that opening an image makes (open, fstat, close) on a daemon thread, so
     * that their stub generation (the first downcall handle of a JVM costs ~25 ms) overlaps
     * whatever the caller does meanwhile (the CLI: parsing its command line). A call that needs
     * one of them before it is ready waits for it ({@link #link} is synchronized). Does nothing
     * when native calls are off or unavailable.
     */
    static void prelink() {
        if ("false".equals(System.getProperty("qcow2.native"))) return;
        Thread t = new Thread(() -> Holder.INSTANCE.ifPresent(libc -> {
            synchronized (libc) {
                libc.link(Fn.OPEN);
                libc.link(Fn.FSTAT);
                libc.link(Fn.CLOSE);
            }
        }), "qcow2-prelink");
        t.setDaemon(true);
        t.start();
    }

    /** A failed libc call: the function and its errno. */
    static final class NativeCallException extends java.io.IOException {
        final int errno;

        NativeCallException(String function, String path, int errno) {
            super(path + ": " + function + " failed (errno " + errno + ")");
            this.errno = errno;
        }

        /** The call is not supported by this file system or kernel: use the fallback. */
        boolean unsupported() { return errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL; }
    }

    int open(String path, int flags) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            int fd = (int) handle(Fn.OPEN).invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, 0);
            if (fd < 0) throw new NativeCallException("open", path, errno(state));
            return fd;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("open", t);
        }
    }

    void close(int fd, String path) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            int r = (int) handle(Fn.CLOSE).invokeExact(state, fd);
            if (r < 0) throw new NativeCallException("close", path, errno(state));
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("close", t);
        }
    }

    /** lseek(fd, offset, whence); ENXIO (no data / no hole after offset) is thrown like any errno. */
    long lseek(int fd, String path, long offset, int whence) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            long r = (long) handle(Fn.LSEEK).invokeExact(state, fd, offset, whence);
            if (r < 0) throw new NativeCallException("lseek", path, errno(state));
            return r;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("lseek", t);
        }
    }

    /** st_blocks (512-byte units) from fstat(fd). */
    long stBlocks(int fd, String path) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            int r = (int) handle(Fn.FSTAT).invokeExact(state, fd, stat);
            if (r < 0) throw new NativeCallException("fstat", path, errno(state));
            return stat.get(ValueLayout.JAVA_LONG, ST_BLOCKS_OFFSET);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fstat", t);
        }
    }

    void fallocate(int fd, String path, int mode, long offset, long length) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            int r = (int) handle(Fn.FALLOCATE).invokeExact(state, fd, mode, offset, length);
            if (r < 0) throw new NativeCallException("fallocate", path, errno(state));
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fallocate", t);
        }
    }

    /**
     * fcntl(fd, F_OFD_SETLK or F_OFD_GETLK, {type, SEEK_SET, start, len}): sets the lock, or
     * with GETLK returns the type of a conflicting lock held through another open file
     * description (F_UNLCK when none). A held conflicting lock on SETLK fails with EAGAIN/EACCES.
     */
    short ofdLock(int fd, String path, int cmd, short type, long start, long len) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            MemorySegment flock = arena.allocate(FLOCK_SIZE, 8);
            flock.set(ValueLayout.JAVA_SHORT, 0, type);
            flock.set(ValueLayout.JAVA_SHORT, 2, (short) 0);     // SEEK_SET
            flock.set(ValueLayout.JAVA_LONG, 8, start);
            flock.set(ValueLayout.JAVA_LONG, 16, len);
            flock.set(ValueLayout.JAVA_INT, 24, 0);              // l_pid must be 0 for OFD locks
            int r = (int) handle(Fn.FCNTL).invokeExact(state, fd, cmd, flock);
            if (r < 0) throw new NativeCallException("fcntl", path, errno(state));
            return flock.get(ValueLayout.JAVA_SHORT, 0);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl", t);
        }
    }

    private int errno(MemorySegment state) {
        return (int) errno.get(state, 0L);
    }
}
