/*
 * extract-snapshot.groovy — one internal snapshot as a standalone image.
 *
 *   ./qcow2 run scripts/extract-snapshot.groovy IMAGE NAME OUT
 *
 * NAME is a snapshot ID or name. OUT ending in .qcow2 gets a qcow2 image (same cluster size,
 * no backing file: the snapshot as the guest saw it, backing data included; clusters that read
 * as zeros are left unallocated); any other name gets a raw image (as qemu-img convert -l NAME
 * -O raw). OUT is replaced if it exists. Exit status 0, 1 on error (unknown snapshot: the known
 * ones are listed).
 */
import dev.qcow2.create.ImageCreator
import dev.qcow2.create.OptionList
import dev.qcow2.image.ChainMap
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions

import java.nio.file.Path

if (args.length != 3) fail 'usage: qcow2 run extract-snapshot.groovy IMAGE NAME OUT'
def (image, name, out) = args

open image
def view = snapshot(name)
if (!out.endsWith('.qcow2')) {
    def r = export snapshot: name, to: out
    println "snapshot '$name' of $image → $out (raw, ${r.size} bytes, ${r.data_bytes} of data)"
    exit 0
}

def dev = view.device()
int cs = info.cluster_size as int
ImageCreator.create(Path.of(out), new OptionList().add("size=${dev.size()},cluster_size=$cs"), false)
long data = 0
Qcow2Writer.open(Path.of(out), WriteOptions.defaults()).withCloseable { w ->
    byte[] buf = new byte[cs]
    byte[] zeros = new byte[cs]
    for (e in ChainMap.walk(dev, 0, dev.size())) {
        if (e.zero()) continue
        for (long pos = e.start(); pos < e.end(); pos += cs - (pos % cs)) {
            int n = (int) Math.min(cs - (pos % cs), e.end() - pos)
            dev.read(pos, buf, 0, n)
            if (Arrays.equals(buf, 0, n, zeros, 0, n)) continue      // reads as zeros: leave unallocated
            w.write(pos, buf, 0, n)
            data += n
        }
    }
}
println "snapshot '$name' of $image → $out (qcow2, ${dev.size()} bytes, $data of data)"
