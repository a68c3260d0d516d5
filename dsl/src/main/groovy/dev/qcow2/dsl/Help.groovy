package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * What {@code help} shows: one line per word, with an example, what it does and where it applies.
 * The engine's commands ({@link Words}, read off {@link Session}) apply everywhere; a few words
 * belong to one front end ({@link FrontEnd}). Specs check that every command has its line here.
 */
@CompileStatic
final class Help {
    private Help() { }

    /** One word: its name, an example, what it does, and the front end it belongs to (null: every one). */
    static final class Entry {
        final String name, example, what
        final FrontEnd where

        Entry(String name, String example, String what, FrontEnd where = null) {
            this.name = name
            this.example = example
            this.what = what
            this.where = where
        }

        String getWhereLabel() { where == null ? 'everywhere' : where.label }
    }

    /** The engine's commands, then the front ends' own words. */
    static final List<Entry> ENTRIES = [
            new Entry('open', "open 'disk.qcow2'  /  open 'disk.qcow2', writable: true  /  open 'enc.qcow2', secret: 'pw'  /  secretFile: 'pw.txt'  /  secrets: [0: 'pw', 1: 'base-pw']  /  open 'bad.qcow2', tolerant: true  /  open 'x.qcow2', follow: '/dir' | 'any' | 'none'",
                    'open an image (read-only unless writable: true); an encrypted one with its passphrase (secrets: by depth in the backing chain; the REPL asks when none is given); tolerant: true reads a header that contradicts itself as evidence (info.ignored lists what was read past); backing and data files named inside the image are opened only inside its directory unless follow: allows more'),
            new Entry('close', 'close()', 'close the image'),
            new Entry('info', 'info', 'format, sizes, features, backing file, snapshot count'),
            new Entry('check', 'check', 'consistency check as qemu-img check (findings, leaks, corruptions)'),
            new Entry('map', 'map  /  map from: snapshot(\'a\')', 'guest ranges and where they live, as qemu-img map'),
            new Entry('header', 'header', 'every header field'),
            new Entry('extensions', 'extensions', 'header extensions'),
            new Entry('features', 'features', 'feature bits: set, known, named'),
            new Entry('bitmaps', 'bitmaps', 'persistent dirty bitmaps: granularity, flags, set bits (while writable: the writer\'s, stored on close)'),
            new Entry('bitmap', "bitmap('b0').dirty  /  bitmap('b0').add granularity: '4k'  /  .add disabled: true  /  .remove()  /  .clear()  /  .enable()  /  .disable()  /  .merge 'b1'",
                    'one persistent dirty bitmap: the guest ranges its bits mark; changes as qemu-img bitmap (writable; stored on close)'),
            new Entry('walk', 'walk l1  /  walk l2  /  walk l2, at: 0x10000000  /  walk(l2).findAll { it.compressed }', 'L1 or L2 table entries with host offsets, kinds, flags, refcounts'),
            new Entry('l1', 'walk l1', 'the L1 table level, for walk'),
            new Entry('l2', 'walk l2', 'the L2 table level, for walk'),
            new Entry('refcounts', 'refcounts  /  refcounts.leaks  /  .mismatches  /  .histogram  /  .of(5)  /  .table', 'refcounts against references; the refcount table'),
            new Entry('snapshot', "snapshot.list  /  snapshot.diff 'a', 'b'  /  snapshot.create 'x'  /  .apply  /  .delete  /  snapshot('a')", 'internal snapshots; snapshot(\'a\') is a read-only view'),
            new Entry('vmstate', "snapshot('s1').vmstate  /  snapshot('s1').vmstate.ram.read(0x100000, 64)  /  .vmstate.ram.find('text')  /  .vmstate.export(to: 'mem.lime', format: 'lime')",
                    'the VM state a savevm snapshot stores: machine, RAM blocks, devices, CPU registers; guest memory by physical address; raw/lime/elf/stream export'),
            new Entry('active', 'active.read 0, 16', 'the active state as a view (what commands read without from:)'),
            new Entry('read', 'read 0x10000, 512  /  read 1.5.MiB, 4.KiB  /  read 0x50000, 512, host: true', 'guest (or host) bytes as a hexdump'),
            new Entry('cluster', 'cluster 3  /  cluster 5, host: true', 'one guest (or host) cluster as a hexdump'),
            new Entry('find', "find 'text'  /  find ~/re+gex/  /  find([0x55, 0xaa], host: true)", 'search guest (or host) bytes'),
            new Entry('export', "export raw: 'out.raw'  /  export snapshot: 'a', to: 'a.qcow2', format: 'qcow2'  /  export qcow2: 'c.qcow2', compress: true, overwrite: true",
                    'the active state (or from: a snapshot) as a new raw or qcow2 image, as qemu-img convert; refuses an existing file unless overwrite: true'),
            new Entry('unreferenced', "unreferenced  /  unreferenced.findAll { it.nonzero_bytes > 0 }  /  unreferenced[0].bytes  /  unreferenced[0].save(to: 'carved')",
                    'host clusters nothing references or with refcount 0: refcount, contents (entropy, first bytes), owner; .bytes / .save(to:) on a row'),
            new Entry('clusters', "clusters.unreferenced  /  clusters.unreferenced.findAll { it.kind == 'l2-table' }  /  clusters.unreferenced[0].save(to: 'dir')",
                    'host clusters no live table references, in runs, with provenance: old L1/L2/refcount/snapshot tables (the guest range an L2 mapped), freed data (the deleted snapshot), compressed streams, zeros, unknown data'),
            new Entry('carve', "carve to: 'carved'",
                    'copy every unreferenced cluster run into a new or empty directory, named by host offset and kind, with manifest.json (as qcow2 carve); the image is only read'),
            new Entry('path', 'path', 'the open file'),
            new Entry('writable', 'writable', 'whether the image is open for writing'),
            new Entry('write', "write 0x10000, 'bytes'  /  write 0, from: 'file.bin'", 'write guest bytes (writable)'),
            new Entry('zero', "zero 0, '64k'  /  zero 0, 64.KiB  /  zero 1.5.MiB, 2.GiB", 'make a range read as zeros (writable); sizes: quoted (\'64k\') or number.unit (B, KiB, MiB, GiB, TiB, PiB, EiB)'),
            new Entry('discard', "discard '1M', '1M'", 'discard whole clusters (writable)'),
            new Entry('writeCompressed', "writeCompressed 0, from: 'cluster.bin'", 'write whole clusters compressed (writable)'),
            new Entry('repair', 'repair leaks  /  repair all', 'repair as qemu-img check -r, with an undo journal (writable)'),
            new Entry('leaks', 'repair leaks', 'repair mode: free leaked clusters'),
            new Entry('all', 'repair all', 'repair mode: leaks and corruptions'),
            new Entry('undo', 'undo()', 'restore what the last repair changed (writable)'),
            new Entry('undoJournal', 'undoJournal  /  undoJournal.committed  /  undoJournal[0].bytes  /  undoJournal[0].save(to: \'old.bin\')',
                    'the last repair\'s undo journal: each range it changed (file offset, length, old bytes digest, old and current first bytes)'),
            new Entry('fail', "fail 'message'", 'stop with this one-line error'),
            new Entry('help', "help  /  help 'walk'", 'this list, or one word'),
            new Entry(':help', ':help [word]', 'this list, or one word', FrontEnd.REPL),
            new Entry(':load', ':load FILE', 'run a script file in this session', FrontEnd.REPL),
            new Entry(':quit', ':quit [N]', 'leave (exit status N, default 0); also Ctrl-D on an empty line', FrontEnd.REPL),
            new Entry('args', 'args[0]', 'the arguments after SCRIPT (a String[])', FrontEnd.RUN),
            new Entry('exit', 'exit 3', 'stop the script with this exit status', FrontEnd.RUN),
            new Entry('display', 'display check', 'show a value now, before the cell\'s result', FrontEnd.NOTEBOOK),
            new Entry('charts', 'charts.hostMap()  /  charts.hostMap(path)', 'the charts (PNG): hostMap, guestMap, leaks, refcountHistogram, …', FrontEnd.NOTEBOOK),
            new Entry('dsl', 'dsl("refcounts.leaks")', 'run DSL text from Java in the session the %%dsl cells share (JShell: its own)', FrontEnd.JAVA),
            new Entry('share', 'share("disk", path)', 'make a Java value a variable of the %%dsl cells (notebooks only)', FrontEnd.JAVA),
    ].asImmutable()

    /** Every word's name, in help order. */
    static List<String> names() { ENTRIES*.name }

    /** The words of one front end (null: the engine's own, which apply everywhere). */
    static List<Entry> wordsOf(FrontEnd where) { ENTRIES.findAll { it.where == where } }

    static Entry entry(String name) { ENTRIES.find { it.name == name || (it.name.startsWith(':') && it.name.substring(1) == name) } }

    /** The usage line of {@code name}, or null. */
    static String usage(String name) { entry(name)?.example }

    static Table table() {
        def t = Table.of('commands', [Column.plain('command'), Column.plain('example'), Column.plain('what'), Column.plain('where')])
        ENTRIES.each { t.add(it.name, it.example, it.what, it.whereLabel) }
        t.build()
    }

    /** {@code help 'walk'}: one word's line, or a one-line error naming the words. */
    static Record one(String name) {
        Entry e = entry(name)
        if (e == null) throw new DslException("no command '$name'; commands: ${names().join(', ')}")
        Map<String, Object> fields = [command: (Object) e.name, example: (Object) e.example, what: (Object) e.what, where: (Object) e.whereLabel]
        new Record("help $e.name".toString(), fields, [:] as Map<String, Column.Unit>)
    }
}
