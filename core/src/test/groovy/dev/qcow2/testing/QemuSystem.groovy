package dev.qcow2.testing

import groovy.json.JsonOutput
import groovy.json.JsonSlurper

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A guest of qemu-system-x86_64 7.2 (TCG, stopped from the start with -S, no OS, no default
 * devices) whose RAM is the file {@code ram.bin}: what {@code savevm} stores of the block pc.ram
 * is exactly that file's content, and writing into it while the guest is stopped changes the
 * guest's memory. Driven over QMP on stdin/stdout (HMP commands through human-monitor-command).
 * A missing qemu-system-x86_64 is a test failure, never a skip: CI installs qemu-system-x86.
 */
class QemuSystem implements Closeable {
    static final String QEMU_SYSTEM = locate('qemu-system-x86_64')

    final Path disk
    final Path ram
    final long ramSize
    private final Process process
    private final BufferedReader replies
    private final Writer commands
    private final Thread stderrDrain
    private final StringBuffer stderr = new StringBuffer()

    private static String locate(String tool) {
        for (dir in (System.getenv('PATH') ?: '/usr/bin').split(':')) {
            def f = new File(dir, tool)
            if (f.canExecute()) return f.path
        }
        return null
    }

    /**
     * Starts a guest on {@code disk} (an existing qcow2 image attached as an IDE disk).
     *
     * @param machine    pc or q35, plus machine options ("pc,max-ram-below-4g=32M")
     * @param ramMiB     guest RAM; backed by {@code ram} (created zero-filled when missing)
     * @param pattern    bytes placed at guest-physical {@code patternAt} by the loader device, or null
     * @param objects    more command-line arguments before the drive (e.g. {@code --object secret,...})
     * @param driveOptions more -drive options (e.g. {@code encrypt.key-secret=sec0}), or null
     */
    static QemuSystem start(Path disk, Path ram, String machine = 'pc', int ramMiB = 64,
                            byte[] pattern = null, long patternAt = 0x100000,
                            List<String> objects = [], String driveOptions = null) {
        assert QEMU_SYSTEM != null: 'qemu-system-x86_64 not found on PATH: install qemu-system-x86 (apt-get install -y --no-install-recommends qemu-system-x86)'
        long size = ramMiB * 1024L * 1024L
        if (!Files.exists(ram)) {
            new RandomAccessFile(ram.toFile(), 'rw').withCloseable { it.setLength(size) }
        }
        def cmd = [QEMU_SYSTEM, '-machine', machine + ',accel=tcg', '-m', "${ramMiB}M".toString(), '-nodefaults',
                   '-display', 'none', '-S',
                   '-object', "memory-backend-file,id=pc.ram,size=${ramMiB}M,mem-path=${ram},share=on".toString(),
                   '-machine', 'memory-backend=pc.ram',
                   *objects,
                   '-drive', "file=${disk},if=none,id=d0,format=qcow2${driveOptions ? ',' + driveOptions : ''}".toString(), '-device', 'ide-hd,drive=d0',
                   '-qmp', 'stdio']
        if (pattern != null) {
            Path p = ram.resolveSibling(ram.fileName.toString() + '.pattern')
            Files.write(p, pattern)
            cmd += ['-device', "loader,file=${p},addr=0x${Long.toHexString(patternAt)},force-raw=on".toString()]
        }
        new QemuSystem(cmd, disk, ram, size)
    }

    /**
     * A NUMA guest as libvirt starts one: one file-backed memory backend per node, named
     * {@code ram-node<N>} (each its own RAM block in the stream), mapped one after the other in
     * node order. {@link #ramBytes} is the nodes' files concatenated in node order.
     */
    static QemuSystem startNuma(Path disk, Path dir, String machine, List<Integer> nodeMiB,
                                byte[] pattern = null, long patternAt = 0x100000) {
        assert QEMU_SYSTEM != null: 'qemu-system-x86_64 not found on PATH: install qemu-system-x86 (apt-get install -y --no-install-recommends qemu-system-x86)'
        int total = nodeMiB.sum() as int
        def cmd = [QEMU_SYSTEM, '-machine', machine + ',accel=tcg', '-m', "${total}M".toString(), '-nodefaults',
                   '-display', 'none', '-S']
        List<Path> files = []
        nodeMiB.eachWithIndex { int mib, int n ->
            Path f = dir.resolve("ram-node${n}.bin")
            new RandomAccessFile(f.toFile(), 'rw').withCloseable { it.setLength(mib * 1024L * 1024L) }
            files << f
            cmd += ['-object', "memory-backend-file,id=ram-node${n},size=${mib}M,mem-path=${f},share=on".toString(),
                    '-numa', "node,nodeid=${n},memdev=ram-node${n}".toString()]
        }
        cmd += ['-drive', "file=${disk},if=none,id=d0,format=qcow2".toString(), '-device', 'ide-hd,drive=d0', '-qmp', 'stdio']
        if (pattern != null) {
            Path p = dir.resolve('numa.pattern')
            Files.write(p, pattern)
            cmd += ['-device', "loader,file=${p},addr=0x${Long.toHexString(patternAt)},force-raw=on".toString()]
        }
        def q = new QemuSystem(cmd, disk, files[0], total * 1024L * 1024L)
        q.nodeFiles = files
        q
    }

    /** The node files of a NUMA guest, in node order (null for a one-block guest). */
    List<Path> nodeFiles

    private QemuSystem(List<String> cmd, Path disk, Path ram, long ramSize) {
        this.disk = disk
        this.ram = ram
        this.ramSize = ramSize
        process = new ProcessBuilder(cmd).start()
        replies = new BufferedReader(new InputStreamReader(process.inputStream, 'UTF-8'))
        commands = new OutputStreamWriter(process.outputStream, 'UTF-8')
        stderrDrain = Thread.start { process.errorStream.eachLine { stderr.append(it).append('\n') } }
        reply() // the greeting
        qmp('qmp_capabilities')
    }

    /** Sends one QMP command and returns its "return" value; a QMP error fails the test. */
    Object qmp(String command, Map arguments = null) {
        def msg = arguments == null ? [execute: command] : [execute: command, arguments: arguments]
        commands.write(JsonOutput.toJson(msg) + '\n')
        commands.flush()
        while (true) {
            def r = reply()
            if (r.containsKey('event')) continue
            assert !r.containsKey('error'): "QMP $command failed: ${r.error}; stderr: $stderr"
            return r['return']
        }
    }

    private Map reply() {
        String line = replies.readLine()
        assert line != null: "qemu-system-x86_64 ended early: exit ${process.waitFor()}; stderr: $stderr"
        (Map) new JsonSlurper().parseText(line)
    }

    /** An HMP command's output; HMP reports errors in its text, so any output of savevm fails. */
    String hmp(String commandLine) {
        qmp('human-monitor-command', ['command-line': commandLine]) as String
    }

    /** {@code savevm NAME}: a snapshot with the VM state, inside the disk image. */
    void savevm(String name) {
        String out = hmp("savevm $name")
        assert out.trim().isEmpty(): "savevm $name: $out"
    }

    /** {@code info ramblock}: block name to used length. */
    Map<String, Long> ramBlocks() {
        def blocks = [:] as LinkedHashMap<String, Long>
        hmp('info ramblock').readLines().drop(1).each { line ->
            def cols = line.trim().split(/\s+/)
            if (cols.length >= 6) blocks[cols[0]] = Long.decode(cols[4])
        }
        blocks
    }

    /** Writes {@code bytes} into the guest's RAM at block offset {@code offset} (the guest is stopped). */
    void poke(long offset, byte[] bytes) {
        new RandomAccessFile(ram.toFile(), 'rw').withCloseable { f -> f.seek(offset); f.write(bytes) }
    }

    /** The guest's RAM as the snapshot must store it now (a NUMA guest's nodes one after the other). */
    byte[] ramBytes() {
        if (nodeFiles == null) return Files.readAllBytes(ram)
        def out = new ByteArrayOutputStream()
        nodeFiles.each { out.write(Files.readAllBytes(it)) }
        out.toByteArray()
    }

    @Override
    void close() {
        try {
            if (process.alive) {
                try { qmp('quit') } catch (Throwable ignored) { }
            }
            if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
        } finally {
            stderrDrain.join(5000)
        }
    }
}
