package dev.qcow2.dsl

import dev.qcow2.image.ChainMap
import dev.qcow2.image.MapEntry

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Path
import java.nio.file.StandardOpenOption

import static dev.qcow2.dsl.Column.Unit.BYTES

/**
 * {@code export raw: 'out.raw'} (the active state, or {@code from: snapshot('a')}) and
 * {@code export snapshot: 'a', to: 'a.raw'}: the guest bytes as a raw image, as
 * {@code qemu-img convert -O raw [-l a]} writes it. Ranges that read as zeros are left as holes.
 * Progress: bytes of data copied; Ctrl-C stops between chunks (the file is left partly written).
 */
final class Exporter {
    private static final int CHUNK = 1 << 20

    private Exporter() { }

    static Record export(Session s, Map options) {
        Options.check(options, 'export', ['raw', 'snapshot', 'to', 'from'])
        if (options.snapshot != null) {
            if (options.to == null) throw new DslException("export snapshot: '${options.snapshot}' needs to: 'file.raw'")
            return exportView(s.snapshot(options.snapshot.toString()), options.to.toString())
        }
        if (options.raw == null) throw new DslException("export: use export raw: 'out.raw' or export snapshot: 'a', to: 'a.raw'")
        exportView(s.source(options, 'export'), options.raw.toString())
    }

    static Record exportView(View view, String to) {
        Path out = Path.of(to)
        Guard.run {
            def dev = view.device()
            long data = 0
            List<MapEntry> extents = ChainMap.walk(dev, 0, dev.size()).findAll { MapEntry e -> !e.zero() }
            def meter = Meter.start(view.session, 'export', (long) extents.sum(0L) { MapEntry e -> e.end() - e.start() })
            FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING).withCloseable { ch ->
                byte[] buf = new byte[CHUNK]
                for (MapEntry e : extents) {
                    for (long pos = e.start(); pos < e.end(); pos += CHUNK) {
                        Meter.cancelPoint()
                        int n = (int) Math.min(CHUNK, e.end() - pos)
                        dev.read(pos, buf, 0, n)
                        def bb = ByteBuffer.wrap(buf, 0, n)
                        while (bb.hasRemaining()) ch.write(bb, pos + bb.position())
                        data += n
                        meter.advance(n)
                    }
                }
                if (ch.size() < dev.size()) {
                    // a trailing hole: extend the file to the disk size without writing data
                    new RandomAccessFile(out.toFile(), 'rw').withCloseable { it.setLength(dev.size()) }
                }
            }
            meter.finish()
            new Record("export to ${out.fileName}", [file: out.toString(), from: view.space, size: dev.size(), data_bytes: data],
                    [size: BYTES, data_bytes: BYTES])
        }
    }
}
