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
 * The few system calls Java's file API does not offer (open, close, lseek with SEEK_DATA/SEEK_HOLE,
 * fstat's st_blocks, fallocate, fcntl's open-file-description byte locks), made through libc's
 * syscall(), bound once through java.lang.foreign. Everything here is
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
     * Linux x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). Every call goes
     * through libc's {@code syscall(long number, ...)}: ONE downcall handle for all of them,
     * because linking a handle generates its stub class, ~35 ms of start-up each on a 2-core
     * machine (six functions linked separately cost a short command a tenth of a second). The
     * raw calls take and fill the same structs as glibc's wrappers on x86_64 (struct stat,
     * struct flock), and glibc's syscall() sets errno on failure like the wrappers.
     */
    static final long SYS_LSEEK = 8, SYS_OPEN = 2, SYS_CLOSE = 3, SYS_FSTAT = 5, SYS_FCNTL = 72, SYS_FALLOCATE = 285;

    private final Linker linker;
    private final SymbolLookup lookup;
    private final Linker.Option errnoOption;
    private final StructLayout callState;
    private final VarHandle errno;
    /** syscall(nr, a, b, c, d) as (state, long, long, long, long, long) -> long; null until linked. */
    private volatile MethodHandle syscall;

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
            lookup.find("syscall").orElseThrow();
            return Optional.of(new Libc(linker, lookup, Linker.Option.captureCallState("errno"),
                    Linker.Option.captureStateLayout()));
        } catch (RuntimeException | LinkageError e) {
            // no libc symbol, native access refused (--enable-native-access=deny): pure Java only
            return Optional.empty();
        }
    }

    private MethodHandle handle() {
        MethodHandle h = syscall;
        return h != null ? h : link();
    }

    /**
     * Links syscall() once: a thread that asks while another (the {@link #prelink} thread) is
     * linking it waits for that one instead of generating the same stub again. Variadic from the
     * second argument (the x86_64 ABI then passes the number of vector registers in AL); every
     * argument is a long, as the kernel reads whole registers.
     */
    private synchronized MethodHandle link() {
        MethodHandle h = syscall;
        if (h != null) return h;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        h = linker.downcallHandle(lookup.find("syscall").orElseThrow(), FunctionDescriptor.of(l, l, l, l, l, l),
                errnoOption, Linker.Option.firstVariadicArg(1));
        syscall = h;
        return h;
    }

    /**
     * Links the system-call handle on a daemon thread, so that its stub generation (~35 ms)
     * overlaps whatever the caller does meanwhile (the CLI: building its command line). A call
     * that needs it before it is ready waits for it ({@link #link} is synchronized). Does nothing
     * when native calls are off or unavailable.
     */
    static void prelink() {
        if ("false".equals(System.getProperty("qcow2.native"))) return;
        Thread t = new Thread(() -> Holder.INSTANCE.ifPresent(Libc::handle), "qcow2-prelink");
        t.setDaemon(true);
        t.start();
    }

    /** One system call: its result, or NativeCallException with errno when it returns -1. */
    private long call(String function, String path, long nr, long a, long b, long c, long d) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            long r = (long) handle().invokeExact(state, nr, a, b, c, d);
            if (r == -1) throw new NativeCallException(function, path, errno(state));
            return r;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(function, t);
        }
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
            return (int) call("open", path, SYS_OPEN, arena.allocateFrom(path).address(), flags | O_CLOEXEC, 0, 0);
        }
    }

    void close(int fd, String path) throws NativeCallException {
        call("close", path, SYS_CLOSE, fd, 0, 0, 0);
    }

    /** lseek(fd, offset, whence); ENXIO (no data / no hole after offset) is thrown like any errno. */
    long lseek(int fd, String path, long offset, int whence) throws NativeCallException {
        return call("lseek", path, SYS_LSEEK, fd, offset, whence, 0);
    }

    /** st_blocks (512-byte units) from fstat(fd). */
    long stBlocks(int fd, String path) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            call("fstat", path, SYS_FSTAT, fd, stat.address(), 0, 0);
            return stat.get(ValueLayout.JAVA_LONG, ST_BLOCKS_OFFSET);
        }
    }

    void fallocate(int fd, String path, int mode, long offset, long length) throws NativeCallException {
        call("fallocate", path, SYS_FALLOCATE, fd, mode, offset, length);
    }

    /**
     * fcntl(fd, F_OFD_SETLK or F_OFD_GETLK, {type, SEEK_SET, start, len}): sets the lock, or
     * with GETLK returns the type of a conflicting lock held through another open file
     * description (F_UNLCK when none). A held conflicting lock on SETLK fails with EAGAIN/EACCES.
     */
    short ofdLock(int fd, String path, int cmd, short type, long start, long len) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flock = arena.allocate(FLOCK_SIZE, 8);
            flock.set(ValueLayout.JAVA_SHORT, 0, type);
            flock.set(ValueLayout.JAVA_SHORT, 2, (short) 0);     // SEEK_SET
            flock.set(ValueLayout.JAVA_LONG, 8, start);
            flock.set(ValueLayout.JAVA_LONG, 16, len);
            flock.set(ValueLayout.JAVA_INT, 24, 0);              // l_pid must be 0 for OFD locks
            call("fcntl", path, SYS_FCNTL, fd, cmd, flock.address(), 0);
            return flock.get(ValueLayout.JAVA_SHORT, 0);
        }
    }

    private int errno(MemorySegment state) {
        return (int) errno.get(state, 0L);
    }
}
