package dev.qcow2.amend

import dev.qcow2.testing.Qemu

import java.nio.file.Files
import java.nio.file.Path

/**
 * Twin images for amend specs: qemu-img builds one image from a recipe, it is copied, and each
 * side is then amended by its own tool. A recipe step is a qemu-io command, or
 * {@code snapshot NAME} for qemu-img snapshot -c, or {@code bitmap OPTIONS... NAME} for qemu-img bitmap.
 */
class AmendTwins {
    /** Images already built, by recipe: qemu runs are the slow part of these specs. */
    private static final Map<String, byte[]> BUILT = [:]

    /** Builds {@code name}.qcow2 in {@code dir} and a copy; returns [ours, twin]. */
    static List<Path> make(Path dir, String name, String options, String size, List<String> recipe, List<String> extra = []) {
        def ours = dir.resolve("${name}.qcow2")
        String key = [options, size, recipe, extra].toString()
        byte[] bytes = BUILT[key]
        if (bytes == null) {
            Qemu.create(ours, size, options, extra)
            List<String> batch = []
            recipe.each { step ->
                if (step.startsWith('snapshot ')) {
                    if (batch) Qemu.io(ours, batch)
                    batch = []
                    Qemu.img('snapshot', '-c', step.substring(9), ours.toString())
                } else if (step.startsWith('bitmap ')) {
                    if (batch) Qemu.io(ours, batch)
                    batch = []
                    List<String> words = step.substring(7).split(' ') as List<String>
                    Qemu.img(['bitmap'] + words.subList(0, words.size() - 1) + [ours.toString(), words.last()])
                } else {
                    batch << step
                }
            }
            if (batch) Qemu.io(ours, batch)
            BUILT[key] = Files.readAllBytes(ours)
        } else {
            Files.write(ours, bytes)
        }
        def twin = dir.resolve("${name}-twin.qcow2")
        Files.copy(ours, twin)
        [ours, twin]
    }

    /** The info fields amend changes: version, refcount width, lazy refcounts, backing, size, snapshots. */
    static Map infoFields(Path image) {
        def info = Qemu.img('info', '--output=json', image.toString()).json()
        def data = info['format-specific']['data']
        [compat: data['compat'], refcountBits: data['refcount-bits'], lazy: data['lazy-refcounts'],
         compression: data['compression-type'], corrupt: data['corrupt'], extendedL2: data['extended-l2'],
         backing: info['backing-filename'], backingFormat: info['backing-filename-format'],
         size: info['virtual-size'], dirty: info['dirty-flag'],
         snapshots: info['snapshots']?.collect { [it.id, it.name, it['vm-state-size']] }]
    }

    /** Names of the snapshots of an image. */
    static List<String> snapshots(Path image) {
        def info = Qemu.img('info', '--output=json', image.toString()).json()
        (info['snapshots'] ?: []).collect { it.name }
    }

    /** qemu-img check's exit status and its complaint, if any. */
    static Qemu.Run check(Path image) { Qemu.img(['check', image.toString()], false) }

    /** Each persistent bitmap as qemu-img info shows it, with its dirty ranges as our reader reads them (empty when inconsistent). */
    static List bitmaps(Path image) {
        def info = Qemu.img('info', '--output=json', image.toString()).json()
        def listed = info['format-specific']['data']['bitmaps'] ?: []
        dev.qcow2.image.Qcow2Image.open(image).withCloseable { img ->
            listed.collect { b ->
                def entry = img.bitmaps().find { it.name() == b.name }
                [b.name, b.flags, b.granularity, entry == null ? null : img.bitmap(entry).dirtyRanges().collect { it as List }]
            }
        }
    }
}
