/*
 * extract-snapshot.groovy — one internal snapshot as a standalone image.
 *
 *   ./qcow2 run scripts/extract-snapshot.groovy IMAGE NAME OUT
 *
 * NAME is a snapshot ID or name. OUT ending in .qcow2 gets a qcow2 image (same cluster size,
 * no backing file: the snapshot as the guest saw it, backing data included; clusters that read
 * as zeros are left unallocated), as qemu-img convert -l NAME -O qcow2; any other name gets a
 * raw image (as qemu-img convert -l NAME -O raw). OUT is replaced if it exists. Exit status 0,
 * 1 on error (unknown snapshot: the known ones are listed).
 */
if (args.length != 3) fail 'usage: qcow2 run extract-snapshot.groovy IMAGE NAME OUT'
def (image, name, out) = args

open image
def r = export snapshot: name, to: out, overwrite: true
println "snapshot '$name' of $image → $out (${r.format}, ${r.size} bytes, ${r.data_bytes} of data)"
