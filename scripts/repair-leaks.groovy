/*
 * repair-leaks.groovy — frees leaked clusters (refcount higher than the references to them), as
 * qemu-img check -r leaks does, then checks again and says what changed.
 *
 *   ./qcow2 run scripts/repair-leaks.groovy IMAGE              repairs a copy, IMAGE-repaired.qcow2
 *   ./qcow2 run scripts/repair-leaks.groovy IMAGE --in-place   repairs IMAGE itself; the undo journal
 *                                                              IMAGE-undo is kept: `./qcow2 undo IMAGE`
 *                                                              puts every changed byte back
 *
 * The copy sits next to IMAGE, so a relative backing file name still resolves. Corruptions are
 * not touched (use `repair all` in the REPL, or qcow2 check -r all).
 * Exit status: 0 when no leaks and no corruptions are left, 2 corruptions remain, 3 leaks remain,
 * 1 the repair failed (or wrong usage).
 */
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

def inPlace = args.contains('--in-place')
def files = args.findAll { it != '--in-place' }
if (files.size() != 1 || args.any { it.startsWith('--') && it != '--in-place' }) fail 'usage: qcow2 run repair-leaks.groovy IMAGE [--in-place]'

Path source = Path.of(files[0])
if (!Files.isRegularFile(source)) fail "${source}: no such file"
Path target = source
if (!inPlace) {
    String name = source.fileName.toString().replaceFirst(/\.qcow2$/, '')
    target = source.resolveSibling(name + '-repaired.qcow2')
    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING)
}

open target.toString(), writable: true
def before = check
def leaked = refcounts.leaks
println "${target}: ${before.result} (${before.leaks} leaked, ${before.corruptions} corruptions)"
if (leaked) {
    println leaked
}

def r = repair leaks
def after = check
println "repair: ${r.leaks_fixed} leaked clusters freed; now ${after.result} (${after.leaks} leaked, ${after.corruptions} corruptions)"
if (r.fields.failure) fail "repair failed: ${r.fields.failure}"
close()

if (inPlace) {
    if (r.journal) println "undo journal kept: ${r.journal} (undo with: qcow2 undo ${target})"
} else {
    if (r.journal) Files.deleteIfExists(Path.of(r.journal))   // the untouched original is the way back
    println "repaired copy: ${target} (the original is unchanged)"
}
exit after.exit_code
