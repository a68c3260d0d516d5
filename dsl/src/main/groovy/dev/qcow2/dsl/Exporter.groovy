package dev.qcow2.dsl

import dev.qcow2.chain.Progress
import dev.qcow2.convert.Qcow2Convert
import dev.qcow2.convert.RawConvert
import dev.qcow2.create.CreateOptions
import dev.qcow2.create.OptionList
import dev.qcow2.image.BlockDevice
import dev.qcow2.image.ChainMap
import dev.qcow2.image.MapEntry
import dev.qcow2.image.Qcow2Image

import java.nio.channels.ClosedByInterruptException
import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.dsl.Column.Unit.BYTES

/**
 * {@code export}: the guest bytes of the active state or of a snapshot as a new image file,
 * written by the core's converter (the one {@code qcow2 convert} uses): raw as
 * {@code qemu-img convert -O raw [-l a]} writes it (sparse: ranges that read as zero stay holes),
 * or qcow2 as {@code qemu-img convert -O qcow2 [-c] [-o …]} does (standalone: no backing file,
 * backing data included; zero ranges left unallocated).
 * <pre>
 * export raw: 'out.raw'                                   // the active state
 * export qcow2: 'out.qcow2', from: snapshot('a')
 * export snapshot: 'a', to: 'a.qcow2', format: 'qcow2', compress: true, options: 'cluster_size=4k'
 * </pre>
 * Rules: an existing target is refused unless {@code overwrite: true}; the open image and the
 * files of its backing chain are never targets. A format not given is qcow2 for a name ending
 * in .qcow2, else raw. The qcow2 target gets the source's cluster size unless options say
 * otherwise. Progress: guest bytes; Ctrl-C stops between chunks. A failed or cancelled export
 * removes its partly written target.
 */
final class Exporter {
    static final List<String> OPTIONS = ['raw', 'qcow2', 'to', 'snapshot', 'from', 'format', 'overwrite', 'compress', 'options']

    private Exporter() { }

    static Record export(Session s, Map options) {
        Options.check(options, 'export', OPTIONS)
        def targets = ['raw', 'qcow2', 'to'].findAll { options[it] != null }
        if (targets.isEmpty() && options.snapshot != null) {
            throw new DslException("export snapshot: '${options.snapshot}' needs to: 'file.raw' or to: 'file.qcow2'")
        }
        if (targets.size() != 1) {
            throw new DslException("export: name one target: export raw: 'out.raw', export qcow2: 'out.qcow2' or export snapshot: 'a', to: 'a.qcow2'" +
                    (targets ? " (not ${targets.join(' and ')})" : ''))
        }
        String key = targets[0]
        if (key != 'to' && options.format != null && options.format.toString() != key) {
            throw new DslException("export: $key: writes $key, but format: '${options.format}' was given")
        }
        if (options.snapshot != null && options.from != null) throw new DslException('export: give snapshot: or from:, not both')
        View view = options.snapshot != null ? s.snapshot(options.snapshot.toString()) : s.source(options, 'export')
        Map rest = options.findAll { k, v -> !(k in ['raw', 'qcow2', 'to', 'snapshot', 'from']) }
        if (key != 'to') rest.format = key
        exportView(view, options[key], rest)
    }

    /** {@code snapshot('a').export 'a.raw'} / {@code snapshot('a').export 'a.qcow2', format: 'qcow2'}. */
    static Record exportView(View view, Object to, Map options = [:]) {
        Options.check(options, 'export', ['format', 'overwrite', 'compress', 'options'])
        Path out = target(to)
        String format = options.format != null ? options.format.toString()
                : (out.fileName.toString().toLowerCase(Locale.ROOT).endsWith('.qcow2') ? 'qcow2' : 'raw')
        if (!(format in ['raw', 'qcow2'])) throw new DslException("export: format is 'raw' or 'qcow2', not '$format'")
        boolean compress = flag(options, 'compress')
        boolean overwrite = flag(options, 'overwrite')
        if (format == 'raw' && (compress || options.options != null)) {
            throw new DslException("export: ${compress ? 'compress:' : 'options:'} applies to format: 'qcow2' only")
        }
        Guard.run {
            BlockDevice dev = view.device()
            refuseSource(view.session, dev, out)
            if (Files.exists(out) && !overwrite) throw new DslException("export: $out exists; use overwrite: true to replace it")
            if (Files.isDirectory(out)) throw new DslException("export: $out is a directory")
            List created = format == 'qcow2' ? qcow2Options(view, options.options, dev.size()) : [null, null]
            long data = (long) ChainMap.walk(dev, 0, dev.size()).findAll { MapEntry e -> !e.zero() }
                    .sum(0L) { MapEntry e -> e.end() - e.start() }
            def meter = Meter.start(view.session, 'export', dev.size())
            Meter.cancelPoint()
            // told after each chunk is written, on this thread: stopping here leaves the workers to finish their reads
            Progress progress = { long done, long total -> meter.advanceTo(done); Meter.cancelPoint() } as Progress
            boolean finished = false
            try {
                if (format == 'qcow2') Qcow2Convert.convert(dev, out, (String) created[0], compress, progress)
                else RawConvert.toFile(dev, out, progress)
                finished = true
            } catch (InterruptedException | ClosedByInterruptException ignored) {
                // Ctrl-C while waiting for a chunk, or inside a write to the target
                Thread.interrupted()
                throw new DslException('cancelled')
            } finally {
                if (!finished) Files.deleteIfExists(out)
            }
            meter.finish()
            def f = [file: out.toString(), format: format, from: view.space, size: dev.size(), data_bytes: data]
            if (format == 'qcow2') {
                f.cluster_size = created[1]
                f.compressed = compress
                f.file_length = Files.size(out)
            }
            new Record("export to ${out.fileName}", f, [size: BYTES, data_bytes: BYTES, cluster_size: BYTES, file_length: BYTES])
        }
    }

    private static Path target(Object to) {
        if (to instanceof Path) return (Path) to
        if (to instanceof File) return ((File) to).toPath()
        if (to instanceof CharSequence && to.toString()) return Path.of(to.toString())
        throw new DslException("export: the target is a file name, not ${to == null ? 'null' : to.getClass().simpleName}")
    }

    private static boolean flag(Map options, String name) {
        def v = options[name]
        if (v == null) return false
        if (v instanceof Boolean) return v
        throw new DslException("export: $name: takes true or false, not '$v'")
    }

    /**
     * The -o options of the qcow2 target (qemu-img create syntax) and the cluster size they give:
     * the user's options, plus the source's cluster size unless they name one. Checked here, so
     * a wrong option fails before any file is touched.
     */
    private static List qcow2Options(View view, Object given, long size) {
        if (given != null && !(given instanceof CharSequence)) {
            throw new DslException("export: options: takes qemu-img create options as text, e.g. options: 'cluster_size=4k,compression_type=zstd'")
        }
        String text = given ? given.toString() : ''
        try {
            def list = new OptionList()
            if (text) list.add(text)
            if (list.has('size')) throw new DslException('export: options: size is the size of the exported disk and cannot be set')
            if (list.has('backing_file')) throw new DslException('export: options: backing_file is not supported (the export is standalone)')
            if (!list.has('cluster_size')) {
                String cs = Long.toString(view.session.image().header().clusterSize())
                list.set('cluster_size', cs)
                text = text ? "$text,cluster_size=$cs" : "cluster_size=$cs"
            }
            list.set('size', Long.toString(size))
            [text, (long) CreateOptions.of(list).clusterSize()]
        } catch (IllegalArgumentException e) {
            throw new DslException("export: options: ${e.message}")
        }
    }

    /** Never write into the open image or a file of its backing chain (nor the external data file). */
    private static void refuseSource(Session s, BlockDevice dev, Path out) {
        List<Path> sources = [s.path]
        s.image().header().externalDataFile().ifPresent { String name -> sources << s.path.resolveSibling(name) }
        for (Optional<BlockDevice> b = s.image().backing(); b.present; b = b.get().backing()) {
            sources << (b.get() instanceof Qcow2Image ? ((Qcow2Image) b.get()).path() : Path.of(b.get().describe()))
        }
        for (Path p : sources) {
            if (p == null) continue
            boolean same = Files.exists(out) && Files.exists(p) ? Files.isSameFile(out, p)
                    : out.toAbsolutePath().normalize() == p.toAbsolutePath().normalize()
            if (same) throw new DslException("export: $out is ${p == s.path ? 'the open image' : 'a file the open image reads from'}; export to another file")
        }
    }
}
