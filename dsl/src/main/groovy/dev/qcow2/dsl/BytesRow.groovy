package dev.qcow2.dsl

import groovy.transform.CompileStatic

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * A row that stands for bytes (a host cluster of {@code unreferenced}, the old bytes of an
 * {@code undoJournal} range): {@code row.bytes} gives them, {@code row.save(to: 'file')} writes
 * them to a file (or, given a directory, to a file named after the row inside it), refusing to
 * replace an existing file unless {@code overwrite: true}. The bytes are not part of the row's
 * columns, so text, HTML and JSON renderings stay small.
 */
@CompileStatic
class BytesRow extends Row {
    private final Closure<byte[]> reader
    private final String defaultName
    private final List<Path> sources

    /**
     * @param defaultName the file name {@code save} uses in a directory
     * @param sources files {@code save} never writes to (the image the bytes come from, its journal)
     * @param reader reads the bytes when asked
     */
    BytesRow(Map<String, ?> values, String defaultName, List<Path> sources, Closure<byte[]> reader) {
        super(values)
        this.reader = reader
        this.defaultName = defaultName
        this.sources = List.copyOf(sources)
    }

    /** The bytes this row stands for (read now). */
    byte[] getBytes() {
        Closure<byte[]> read = reader
        (byte[]) Guard.run { read.call() }
    }

    /** {@code row.bytes} is the bytes; other names are columns. */
    @Override
    Object getProperty(String name) {
        if (name == 'bytes') return getBytes()
        super.getProperty(name)
    }

    /** {@code row.save(to: 'out.bin')} / {@code row.save(to: 'carved/')}: writes the bytes; returns what was written. */
    Record save(Map options) {
        if (options == null) options = [:]
        Options.check(options, 'save', ['to', 'overwrite'])
        if (options.to == null || !(options.to instanceof CharSequence || options.to instanceof Path || options.to instanceof File)) {
            throw new DslException("save: use save(to: 'file.bin') or save(to: 'directory')")
        }
        Path to = options.to instanceof Path ? (Path) options.to
                : options.to instanceof File ? ((File) options.to).toPath() : Path.of(options.to.toString())
        if (Files.isDirectory(to)) to = to.resolve(defaultName)
        boolean overwrite = options.overwrite == true
        if (options.overwrite != null && !(options.overwrite instanceof Boolean)) throw new DslException("save: overwrite: takes true or false")
        Path target = to
        List<Path> protectedFiles = sources
        Guard.run {
            for (Path source : protectedFiles) {
                boolean same = Files.exists(target) && Files.exists(source) ? Files.isSameFile(target, source)
                        : target.toAbsolutePath().normalize() == source.toAbsolutePath().normalize()
                if (same) throw new DslException("save: $target is the file these bytes come from; save to another file")
            }
            if (Files.exists(target) && !overwrite) throw new DslException("save: $target exists; use overwrite: true to replace it")
            byte[] b = getBytes()
            Files.write(target, b, overwrite ? [StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE] as StandardOpenOption[]
                    : [StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE] as StandardOpenOption[])
            new Record("saved ${target.fileName}", [file: target.toString(), length: (long) b.length], [length: Column.Unit.BYTES])
        }
    }
}
